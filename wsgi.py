"""Entry point. `python wsgi.py` serves Qosyl with Socket.IO on eventlet.

Under another server, import `app` from here (one eventlet worker per process).
"""

import gc
import os

# psycopg 3 must wait through select() to let eventlet's hub run other greenlets;
# it reads this before its first import.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

if __name__ == "__main__":
    import warnings

    # The design card picks eventlet; its deprecation banner says nothing new at each start.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

from qosyl import create_app  # noqa: E402
from qosyl import offload  # noqa: E402

app = create_app()
# Images decode in OS threads: their memory goes back to the system once they are stored.
offload.give_freed_memory_back()

# Everything loaded so far (modules, templates, SQLAlchemy's caches) lives as long as the
# process: kept out of the cyclic collector, its full passes stay short. Without this they
# stalled every green thread for tens of milliseconds, the chat's worst latencies
# (bench/chat_fanout.py: steady p99 218 ms -> 61 ms).
gc.collect()
gc.freeze()


def serving_capacity(sockets: int, http: int) -> int:
    """How many connections eventlet may serve at once: every live socket plus room for HTTP
    (its default, 1,024, let a crowd of sockets lock HTTP out). The process's open-file
    limit is raised to fit, as far as the hard limit allows."""
    import resource

    wanted = sockets + http
    # Each connection is a file descriptor; keep some for the database, logs and uploads.
    needed = wanted + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        if ceiling < needed:
            wanted = ceiling - 256
            app.logger.warning(
                "open-file limit %s: serving at most %s connections at once", hard, wanted
            )
    return wanted


if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    import eventlet.wsgi

    from qosyl.web.serving import listen
    from qosyl.web.serving import logging_escapes

    # What socketio.run() does under eventlet, on a listener with Nagle's algorithm off.
    eventlet.wsgi.server(
        listen(host, port),
        logging_escapes(app),
        log_output=os.environ.get("ACCESS_LOG") == "1",
        # An exception that escapes the app's handlers (one failing inside the error page, say)
        # is a plain 500 for the client: eventlet's default sends the traceback with it.
        debug=False,
        max_size=serving_capacity(
            app.config["SOCKETS_PER_PROCESS"], app.config["HTTP_CONNECTIONS"]
        ),
    )
