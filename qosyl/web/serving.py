"""The listening socket `python wsgi.py` serves on: eventlet's, with Nagle's algorithm off
on every connection it accepts.

With Nagle on, a small write that follows another not yet acknowledged by the client (a chat
acknowledgement after the broadcast frame, the last part of a response) waits for the
client's delayed ACK: ~40 ms on Linux. bench/chat_fanout.py measured the acknowledgement
p50 at 45-55 ms on the app and on a bare relay alike before this.
"""

from __future__ import annotations

import socket


class NoDelayListener:
    """A listening green socket whose accepted connections send small writes at once."""

    def __init__(self, listener):
        self._listener = listener

    def accept(self):
        connection, address = self._listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def __getattr__(self, name: str):
        return getattr(self._listener, name)


def listen(host: str, port: int) -> NoDelayListener:
    """Listen as Flask-SocketIO's run() does under eventlet, with TCP_NODELAY."""
    import eventlet
    from eventlet.green import socket as green_socket

    addresses = green_socket.getaddrinfo(host, port)
    if not addresses:
        raise RuntimeError(f"Could not resolve {host!r}")
    family, address = addresses[0][0], addresses[0][4]
    return NoDelayListener(eventlet.listen(address, family))


def logging_escapes(app):
    """The WSGI app, logging with its traceback any error that escapes Flask's handlers (a
    failing teardown, say) before eventlet answers it with a bare 500. eventlet logs those only
    with its access log on (`log_output`), which `python wsgi.py` leaves off."""

    def serve(environ, start_response):
        try:
            return app(environ, start_response)
        except Exception:
            app.logger.exception("error escaped the app: %s %s", environ.get("REQUEST_METHOD"),
                                 environ.get("PATH_INFO"))  # fmt: skip
            raise

    return serve
