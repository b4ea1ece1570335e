"""The live channel: Socket.IO connections signed in by the page session (NOTE-2)."""

from __future__ import annotations

from qosyl.actions.notifications import notify
from qosyl.extensions import db
from qosyl.models import User
from tests import factories
from tests.helpers import connect_socket
from tests.helpers import post


def test_a_socket_without_a_session_is_refused(app, client):
    socket = connect_socket(app, client)
    assert not socket.is_connected()


def test_a_socket_of_an_unverified_account_is_refused(app, client, make_user):
    newbie = make_user(username="newbie", verified=False)
    factories.login(client, newbie)
    assert not connect_socket(app, client).is_connected()


def test_a_socket_of_a_revoked_session_is_refused(app, client, user):
    factories.login(client, user)
    with app.app_context():
        factories.end_sign_ins(user)
    assert not connect_socket(app, client).is_connected()


def test_every_tab_of_the_recipient_hears_a_notification_and_no_one_else(app, user, other_user):
    tabs = []
    for _ in range(2):
        tab = app.test_client()
        factories.login(tab, user)
        tabs.append(connect_socket(app, tab))
    stranger_client = app.test_client()
    factories.login(stranger_client, other_user)
    stranger = connect_socket(app, stranger_client)
    assert all(tab.is_connected() for tab in tabs) and stranger.is_connected()

    with app.test_request_context():
        notify(db.session.get(User, user.id), "welcome", target_url="/")
        db.session.commit()

    for tab in tabs:
        received = tab.get_received()
        assert [event["name"] for event in received] == ["notification"]
        assert received[0]["args"][0]["text"].startswith("Welcome to Qosyl!")
    assert stranger.get_received() == []


def test_changes_in_one_tab_are_heard_by_the_others(app, logged_in, user):
    other_tab = app.test_client()
    factories.login(other_tab, user)
    socket = connect_socket(app, other_tab)
    with app.test_request_context():
        notification = notify(db.session.get(User, user.id), "welcome")
        db.session.commit()
    socket.get_received()
    post(logged_in, f"/notifications/{notification.id}/read", htmx=True)
    received = socket.get_received()
    assert [(e["name"], e["args"][0]) for e in received] == [
        ("trigger", {"name": "notifications-changed"})
    ]


def test_session_endpoint_says_who_is_signed_in(app, client, user):
    assert client.get("/session").get_json() == {"user_id": None}
    factories.login(client, user)
    assert client.get("/session").get_json() == {"user_id": user.id}


def test_a_push_to_nobody_reaches_nobody(app, user):
    """python-socketio reads an empty audience as everyone; emit refuses it itself."""
    from qosyl.live.bus import publish
    from qosyl.live.events import Changed
    from qosyl.realtime import emit
    from qosyl.realtime import Push

    tab = app.test_client()
    factories.login(tab, user)
    socket = connect_socket(app, tab)
    with app.app_context():
        for audience in ([], ""):
            emit(Push("trigger", {"name": "secret-changed"}, audience))
        publish(Changed(what="secret-changed", to=()))
        db.session.commit()
    assert socket.get_received() == []
