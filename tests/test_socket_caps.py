"""Caps on live connections: one account or one address cannot take a process's sockets,
and a full process refuses new sockets while HTTP keeps answering (issue 8, item 11)."""

from __future__ import annotations

import pytest

from qosyl.extensions import socketio
from qosyl.live import connections
from qosyl.live.sockets import TAB_CLOSED
from tests import factories


def tab(app, user, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    factories.login(client, user)
    return client, socketio.test_client(app, flask_test_client=client)


def recorded(app, user) -> list[str]:
    with app.app_context():
        return connections.sids(user.id)


@pytest.mark.app_config(SOCKETS_PER_ACCOUNT=2)
def test_an_account_holds_at_most_its_cap_of_tabs(app, user, other_user):
    tabs = [tab(app, user)[1] for _ in range(3)]
    assert [t.is_connected() for t in tabs] == [True, True, False]
    assert len(recorded(app, user)) == 2
    assert tab(app, other_user)[1].is_connected()  # others are not affected
    tabs[0].disconnect()
    assert tab(app, user)[1].is_connected()  # a closed tab frees its place


@pytest.mark.app_config(SOCKETS_PER_ADDRESS=2)
def test_an_address_holds_at_most_its_cap_of_tabs(app, user, other_user, make_user):
    carol = make_user(username="carol")
    first = tab(app, user, "10.0.0.7")[1]
    second = tab(app, other_user, "10.0.0.7")[1]
    third = tab(app, carol, "10.0.0.7")[1]
    assert (first.is_connected(), second.is_connected(), third.is_connected()) == (
        True,
        True,
        False,
    )
    assert recorded(app, carol) == []
    assert tab(app, carol, "10.0.0.8")[1].is_connected()


@pytest.mark.app_config(SOCKETS_PER_PROCESS=2)
def test_a_full_process_refuses_sockets_and_still_answers_http(app, user, other_user, make_user):
    carol = make_user(username="carol")
    assert tab(app, user, "10.0.0.1")[1].is_connected()
    assert tab(app, other_user, "10.0.0.2")[1].is_connected()
    client, refused = tab(app, carol, "10.0.0.3")
    assert not refused.is_connected()
    assert recorded(app, carol) == []
    assert client.get("/healthz").status_code == 200
    assert client.get("/messages").status_code == 200


def test_refusals_say_why(app, user):
    with app.app_context():
        app.config["SOCKETS_PER_ACCOUNT"] = 0
        with pytest.raises(connections.Refused, match="too many Qosyl tabs open"):
            connections.opened(user.id, "sid-1", 1, "127.0.0.1")
        app.config.update(SOCKETS_PER_ACCOUNT=5, SOCKETS_PER_ADDRESS=0)
        with pytest.raises(connections.Refused, match="from your network"):
            connections.opened(user.id, "sid-2", 1, "127.0.0.1")
        app.config.update(SOCKETS_PER_ADDRESS=5, SOCKETS_PER_PROCESS=0)
        with pytest.raises(connections.Refused, match="very busy"):
            connections.opened(user.id, "sid-3", 1, "127.0.0.1")
        assert connections.sids(user.id) == []


@pytest.mark.app_config(PROXY_COUNT=1)
def test_behind_a_proxy_sockets_see_the_clients_address(app):
    """ProxyFix wraps Socket.IO's middleware too: the per-address cap counts people, not the
    proxy (the test client above calls the socket server directly, so check the stack)."""
    from flask_socketio import _SocketIOMiddleware
    from werkzeug.middleware.proxy_fix import ProxyFix

    assert isinstance(app.wsgi_app, ProxyFix)
    assert isinstance(app.wsgi_app.app, _SocketIOMiddleware)


def test_an_event_from_a_tab_that_has_closed_is_refused_and_brings_nothing_back(app, user):
    """Handlers run on their own green threads, so a tab's last event can be handled after
    its disconnect: it must not record the tab again (it would count against the cap)."""
    _, socket = tab(app, user)
    with app.app_context():
        (sid,) = connections.sids(user.id)
        connections.closed(user.id, sid, "127.0.0.1")  # the disconnect, handled first
        from qosyl.live import presence

        presence.tab_disconnected(user.id, sid)
    assert socket.emit("presence:away", {"away": True}, callback=True) == TAB_CLOSED
    assert recorded(app, user) == []
    with app.app_context():
        assert presence.states([user.id]) == {user.id: "offline"}


def test_a_tab_that_closes_while_its_event_is_handled_leaves_nothing_behind(app, user, monkeypatch):
    """The disconnect lands while a handler waits on Redis or the database: whatever the
    handler records after it is cleared when the handler ends."""
    from qosyl.blueprints.main import events
    from qosyl.live import presence

    _, socket = tab(app, user)
    keep_alive = connections.kept_alive

    def disconnected_meanwhile(user_id, sid, login_id, address):
        events.disconnect()
        keep_alive(user_id, sid, login_id, address)

    monkeypatch.setattr(connections, "kept_alive", disconnected_meanwhile)
    socket.emit("presence:away", {"away": False}, callback=True)
    assert recorded(app, user) == []
    with app.app_context():
        assert presence.states([user.id]) == {user.id: "offline"}
