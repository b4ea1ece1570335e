"""API clients on Socket.IO: signed in by an access token, they hear the same events as
browser tabs, as JSON data (never HTML), and are told and disconnected when the token
expires or its sign-in is revoked."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from qosyl.actions import rooms as room_actions
from qosyl.actions import social
from qosyl.actions.accounts import open_api_session
from qosyl.blueprints.api.core import EXPIRED
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import User
from qosyl.models.base import utcnow
from tests import factories
from tests.factories import make_room
from tests.factories import say_in_room
from tests.factories import with_room
from tests.helpers import api_tokens
from tests.helpers import bearer
from tests.helpers import expired_access_token
from tests.helpers import signed_in_tab


def token_socket(app, person, token: str | None = None):
    token = token or api_tokens(app, person)["access_token"]
    return socketio.test_client(app, auth={"token": token})


def received(socket) -> list[tuple[str, dict]]:
    return [(event["name"], event["args"][0]) for event in socket.get_received()]


def named(socket, name: str) -> list[dict]:
    return [data for event, data in received(socket) if event == name]


def wait_for(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_an_access_token_signs_a_socket_in(app, user):
    socket = token_socket(app, user)
    assert socket.is_connected()
    reply = socket.emit("presence:away", {"away": True}, callback=True)
    assert reply == {"ok": True}


@pytest.mark.parametrize("kind", ["garbage", "expired", "refresh", "revoked", "not a string"])
def test_a_bad_token_is_refused(app, client, user, kind):
    tokens = api_tokens(app, user)
    token = {
        "garbage": "a.b.c",
        "expired": expired_access_token(app, user),
        "refresh": tokens["refresh_token"],
        "revoked": tokens["access_token"],
        "not a string": 12,
    }[kind]
    if kind == "revoked":
        client.post("/api/auth/logout/", headers=bearer(tokens["access_token"]))
    socket = socketio.test_client(app, auth={"token": token})
    assert not socket.is_connected()


def test_a_token_of_an_unverified_account_signs_nothing_in(app, make_user):
    person = make_user(username="newbie", verified=False)
    with app.test_request_context():
        person = db.session.get(User, person.id)
        person.email_verified_at = utcnow()
        login_id, _ = open_api_session(person)
        token = create_access_token(str(person.id), additional_claims={"sid": login_id})
        person.email_verified_at = None
        db.session.commit()
    assert not socketio.test_client(app, auth={"token": token}).is_connected()


def test_a_friend_request_and_its_notification_arrive_as_json(app, user, other_user):
    socket = token_socket(app, other_user)
    browser = signed_in_tab(app, other_user)
    with app.app_context():
        social.send_friend_request(
            db.session.get(User, user.id), db.session.get(User, other_user.id)
        )
    events = received(socket)
    (request,) = [data for name, data in events if name == "friend_request"]
    assert request["from"]["username"] == "alice" and isinstance(request["id"], int)
    (notification,) = [data for name, data in events if name == "notification"]
    assert notification["kind"] == "friend_request"
    assert notification["url"].startswith("http")
    # The browser tab hears its own pushes, not the API's.
    names = [name for name, _ in received(browser)]
    assert "friend_request" not in names and "notification" in names


def test_conversation_messages_arrive_as_json_without_subscribing(app, user, other_user):
    conversation = factories.start_conversation(app, user, other_user)
    socket = token_socket(app, other_user)
    message_id = factories.write_message(app, user, conversation, "**hello** <b>there</b>")
    (event,) = named(socket, "chat_message")
    assert event["kind"] == "conversation" and event["stream_id"] == conversation
    message = event["message"]
    assert message["id"] == message_id and message["body"] == "**hello** <b>there</b>"
    assert message["author"]["username"] == "alice"
    assert "html" not in event and "body_html" not in message
    assert not [name for name, _ in received(socket) if name.startswith("conversation:message")]


def test_room_messages_arrive_after_subscribing_with_a_catch_up(app, user, other_user):
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    first = say_in_room(app, user, room, "before")
    socket = token_socket(app, other_user)
    reply = socket.emit("room:subscribe", {"room_id": room, "after_id": 0}, callback=True)
    assert reply["ok"] and [m["id"] for m in reply["messages"]] == [first]
    assert reply["messages"][0]["body"] == "before"
    browser = signed_in_tab(app, other_user)
    browser.emit("room:subscribe", {"room_id": room}, callback=True)
    say_in_room(app, user, room, "live")
    (event,) = named(socket, "chat_message")
    assert event["message"]["body"] == "live" and event["kind"] == "room"
    (html_event,) = [data for name, data in received(browser) if name == "room:message"]
    assert "live" in html_event["html"]
    socket.emit("room:unsubscribe", {"room_id": room}, callback=True)
    say_in_room(app, user, room, "after")
    assert named(socket, "chat_message") == []


def test_a_room_that_does_not_exist_cannot_be_subscribed_to(app, user):
    socket = token_socket(app, user)
    reply = socket.emit("room:subscribe", {"room_id": 10**6}, callback=True)
    assert "error" in reply


def test_token_clients_send_chat_over_the_socket_and_get_json_back(app, user, other_user):
    conversation = factories.start_conversation(app, user, other_user)
    alice = token_socket(app, user)
    bob = token_socket(app, other_user)
    reply = alice.emit(
        "conversation:send",
        {"conversation_id": conversation, "body": "sent by socket", "client_id": "c-1"},
        callback=True,
    )
    assert reply["ok"] and isinstance(reply["id"], int)
    (event,) = named(bob, "chat_message")
    assert event["message"]["client_id"] == "c-1"


def test_typing_and_read_positions_reach_token_clients(app, user, other_user):
    conversation = factories.start_conversation(app, user, other_user)
    message_id = factories.write_message(app, user, conversation, "read me")
    alice = token_socket(app, user)
    bob_browser = signed_in_tab(app, other_user)
    bob_browser.emit("conversation:typing", {"conversation_id": conversation}, callback=True)
    (typing,) = named(alice, "typing")
    assert typing == {"kind": "conversation", "stream_id": conversation, "user_id": other_user.id}
    bob_api = token_socket(app, other_user)
    from qosyl.actions import messages as message_actions

    with app.test_request_context():
        from qosyl.reads.access import access_conversation

        bob = db.session.get(User, other_user.id)
        message_actions.mark_read(bob, access_conversation(bob, conversation), message_id)
    (read,) = named(alice, "read")
    assert read == {
        "conversation_id": conversation,
        "user_id": other_user.id,
        "up_to_id": message_id,
    }
    assert bob_api.is_connected()


def test_online_status_of_friends(app, user, other_user):
    factories.befriend(app, user, other_user)
    alice = token_socket(app, user)
    alice.get_received()
    bob = token_socket(app, other_user)
    assert {"user_id": other_user.id, "state": "online"} in named(alice, "online_status")
    bob.disconnect()
    assert {"user_id": other_user.id, "state": "offline"} in named(alice, "online_status")


def test_an_expiring_token_is_told_and_disconnected(app, user):
    with app.test_request_context():
        login_id, _ = open_api_session(db.session.get(User, user.id))
        token = create_access_token(
            str(user.id), additional_claims={"sid": login_id}, expires_delta=timedelta(seconds=1)
        )
    socket = token_socket(app, user, token)
    assert socket.is_connected()
    wait_for(lambda: not socket.is_connected(), timeout=5)
    # get_received() refuses once disconnected: read what arrived before from its queue.
    events = [(p["name"], p["args"][0]) for p in socket.queue]
    assert ("session_expired", {"message": EXPIRED}) in events


def test_signing_out_the_api_session_closes_its_sockets(app, client, user):
    tokens = api_tokens(app, user)
    socket = token_socket(app, user, tokens["access_token"])
    other = token_socket(app, user)
    assert (
        client.post("/api/auth/logout/", headers=bearer(tokens["access_token"])).status_code == 204
    )
    assert not socket.is_connected()
    assert other.is_connected()


def test_events_after_the_sign_in_ends_are_refused(app, user):
    tokens = api_tokens(app, user)
    socket = token_socket(app, user, tokens["access_token"])
    with app.app_context():
        from sqlalchemy import delete

        from qosyl.models import LoginSession

        db.session.execute(delete(LoginSession).where(LoginSession.kind == "api"))
        db.session.commit()
    reply = socket.emit("presence:away", {"away": False}, callback=True)
    assert "error" in reply
