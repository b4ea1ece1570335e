"""The server's listening socket (qosyl/web/serving.py): connections it accepts send small
writes at once (TCP_NODELAY), where eventlet's own listener leaves Nagle's algorithm on."""

from __future__ import annotations

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
