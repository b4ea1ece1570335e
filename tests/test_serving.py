"""How `python wsgi.py` serves (qosyl/web/serving.py): connections it accepts send small
writes at once (TCP_NODELAY), where eventlet's own listener leaves Nagle's algorithm on; an
error escaping the app is logged before eventlet answers it."""

from __future__ import annotations

import pytest

from tests.helpers import run_eventlet_probe

PROBE = """
import eventlet
eventlet.monkey_patch()
import json
import socket

from qosyl.web.serving import listen

def nodelay_of(listener):
    client = socket.create_connection(listener.getsockname()[:2])
    connection, _ = listener.accept()
    value = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    connection.close()
    client.close()
    return value

print(json.dumps({
    "ours": nodelay_of(listen("127.0.0.1", 0)),
    "eventlet": nodelay_of(eventlet.listen(("127.0.0.1", 0))),
}))
"""


def test_accepted_connections_have_nagle_off():
    found = run_eventlet_probe(PROBE)
    assert found["ours"] != 0
    # Why the wrapper exists: eventlet's listener alone leaves it on.
    assert found["eventlet"] == 0


def test_an_error_escaping_the_app_is_logged_with_its_traceback(app, monkeypatch, caplog):
    from werkzeug.test import create_environ

    from qosyl.web.serving import logging_escapes

    def failing(environ, start_response):
        raise RuntimeError("teardown failed")

    monkeypatch.setattr(app, "wsgi_app", failing)
    with pytest.raises(RuntimeError):
        logging_escapes(app)(create_environ("/rooms/1"), lambda *args: None)
    assert "error escaped the app: GET /rooms/1" in caplog.text
    assert "RuntimeError: teardown failed" in caplog.text
