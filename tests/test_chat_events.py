"""The chat's Socket.IO events, with Flask-SocketIO's test client: who may subscribe, send
and delete, what a removed member stops hearing, and catching up after a drop."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import RoomMessage
from tests import factories
from tests.factories import make_room
from tests.factories import say_in_room
from tests.factories import with_room
from tests.helpers import post


def tab(app, person):
    client = app.test_client()
    factories.login(client, person)
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    return client, socket


def chat_events(socket) -> list[tuple[str, dict]]:
    return [
        (e["name"], e["args"][0]) for e in socket.get_received() if e["name"].startswith("room")
    ]


def messages(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RoomMessage))


@pytest.fixture
def room_id(app, user, other_user):
    """Alice hosts it, Bob is a member."""
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    return room


def test_members_hear_messages_once_per_tab_and_others_nothing(
    app, user, other_user, make_user, room_id
):
    _, alice = tab(app, user)
    _, bob1 = tab(app, other_user)
    _, bob2 = tab(app, other_user)
    _, carol = tab(app, make_user(username="carol"))
    for socket in (alice, bob1, bob2):
        assert socket.emit("room:subscribe", {"room_id": room_id}, callback=True)["ok"]
    assert carol.emit("room:subscribe", {"room_id": room_id}, callback=True) == {
        "error": "You cannot read this room."
    }
    reply = alice.emit("room:send", {"room_id": room_id, "body": "tea time"}, callback=True)
    assert reply["ok"]
    for socket in (alice, bob1, bob2):
        [(name, data)] = chat_events(socket)
        assert name == "room:message" and data["id"] == reply["id"] and "tea time" in data["html"]
    assert chat_events(carol) == []


@pytest.mark.parametrize(
    ("event", "refusal"),
    [
        ("room:subscribe", "You cannot read this room."),
        # The action's own refusal, as the HTTP form gets it.
        ("room:send", "Join the room to write in it."),
    ],
)
def test_a_non_member_can_neither_listen_nor_send(app, make_user, room_id, event, refusal):
    _, carol = tab(app, make_user(username="carol"))
    reply = carol.emit(event, {"room_id": room_id, "body": "hi"}, callback=True)
    assert reply["error"] == refusal
    assert messages(app) == 0


@pytest.mark.parametrize("data", [None, "x", {"room_id": "1"}, {"room_id": True}, {}])
def test_malformed_events_are_refused(app, user, room_id, data):
    _, alice = tab(app, user)
    assert alice.emit("room:subscribe", data, callback=True)["error"]
    assert alice.emit("room:send", data, callback=True)["error"]
    assert alice.emit("room:delete", data, callback=True)["error"]


def test_events_of_a_session_that_ended_are_refused(app, user, room_id):
    _, alice = tab(app, user)
    with app.app_context():  # a password change elsewhere
        factories.end_sign_ins(user)
    for event in ("room:subscribe", "room:send", "room:delete", "room:unsubscribe"):
        reply = alice.emit(event, {"room_id": room_id, "body": "x", "message_id": 1}, callback=True)
        assert reply == {"error": "You are signed out. Reload the page."}
    assert messages(app) == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "Write a message first."),
        ("  \n ", "Write a message first."),
        ("x" * 4001, "Messages are at most 4,000 characters"),
        (42, "A message is text."),
    ],
)
def test_empty_oversized_or_odd_messages_are_refused(app, user, room_id, body, error):
    _, alice = tab(app, user)
    alice.emit("room:subscribe", {"room_id": room_id}, callback=True)
    reply = alice.emit("room:send", {"room_id": room_id, "body": body}, callback=True)
    assert error in reply["error"]
    assert messages(app) == 0
    assert chat_events(alice) == []


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2 per minute")
def test_the_same_limit_counts_socket_and_http_sends(app, user, room_id):
    client, alice = tab(app, user)
    assert alice.emit("room:send", {"room_id": room_id, "body": "one"}, callback=True)["ok"]
    post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": "two"}, htmx=True)
    reply = alice.emit("room:send", {"room_id": room_id, "body": "three"}, callback=True)
    assert reply["error"].startswith("You are sending messages too fast. Wait ")
    assert 1 <= reply["retry_after"] <= 60
    assert messages(app) == 2


def test_another_user_cannot_delete_a_message(app, user, other_user, room_id):
    message_id = say_in_room(app, user, room_id, "alice's")
    _, bob = tab(app, other_user)
    reply = bob.emit("room:delete", {"message_id": message_id}, callback=True)
    assert reply == {"error": "Only its author or the room's host can delete a message."}
    assert messages(app) == 1


def test_author_and_host_delete_and_every_tab_hears_it(app, user, other_user, room_id):
    bobs = say_in_room(app, other_user, room_id, "bob's")
    _, alice = tab(app, user)
    _, bob = tab(app, other_user)
    for socket in (alice, bob):
        socket.emit("room:subscribe", {"room_id": room_id}, callback=True)
    assert alice.emit("room:delete", {"message_id": bobs}, callback=True) == {"ok": True}
    for socket in (alice, bob):
        assert chat_events(socket) == [("room:message-deleted", {"room_id": room_id, "id": bobs})]
    assert messages(app) == 0


def test_a_removed_member_stops_hearing_at_once(app, user, other_user, room_id):
    host_client, alice = tab(app, user)
    _, bob = tab(app, other_user)
    bob.emit("room:subscribe", {"room_id": room_id}, callback=True)
    post(host_client, f"/rooms/{room_id}/participants/bob/remove")
    assert [e["name"] for e in bob.get_received()] == ["room:removed"]

    alice.emit("room:send", {"room_id": room_id, "body": "after bob left"}, callback=True)
    assert chat_events(bob) == []
    assert bob.emit("room:subscribe", {"room_id": room_id}, callback=True)["error"]
    assert bob.emit("room:send", {"room_id": room_id, "body": "x"}, callback=True)["error"]


def test_a_returning_tab_gets_exactly_what_it_missed_in_order(app, user, other_user, room_id):
    first = say_in_room(app, user, room_id, "before the drop")
    missed = [say_in_room(app, user, room_id, f"missed {n}") for n in range(3)]
    _, bob = tab(app, other_user)
    reply = bob.emit("room:subscribe", {"room_id": room_id, "after_id": first}, callback=True)
    assert [m["id"] for m in reply["messages"]] == missed
    assert "missed 0" in reply["messages"][0]["html"]
    up_to_date = bob.emit(
        "room:subscribe", {"room_id": room_id, "after_id": missed[-1]}, callback=True
    )
    assert up_to_date == {"ok": True, "messages": []}


def test_a_tab_that_missed_too_much_is_told_to_reload(app, user, other_user, room_id, monkeypatch):
    from qosyl.actions import chat

    monkeypatch.setattr(chat, "CATCH_UP_LIMIT", 2)
    for n in range(4):
        say_in_room(app, user, room_id, f"m{n}")
    _, bob = tab(app, other_user)
    reply = bob.emit("room:subscribe", {"room_id": room_id, "after_id": 0}, callback=True)
    assert reply == {"ok": True, "reload": True}


def test_the_lobby_is_heard_by_everyone_who_opens_it(app, user, make_user):
    with app.app_context():
        lobby_id = factories.lobby(user)
    _, stranger = tab(app, make_user(username="stranger"))
    assert stranger.emit("room:subscribe", {"room_id": lobby_id}, callback=True)["ok"]
    _, alice = tab(app, user)
    alice.emit("room:send", {"room_id": lobby_id, "body": "welcome!"}, callback=True)
    [(name, data)] = chat_events(stranger)
    assert name == "room:message" and "welcome!" in data["html"]


def test_one_rule_refuses_the_same_input_over_a_form_and_over_socket_io(
    app, user, other_user, room_id
):
    """The transports only translate: the same action and access helper refuse, with the
    same words, whether the request is an HTML form or a Socket.IO event."""
    client, bob = tab(app, other_user)
    form = post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": "  "}, htmx=True)
    event = bob.emit("room:send", {"room_id": room_id, "body": "  "}, callback=True)
    assert form.status_code == 422
    assert "Write a message first." in form.get_data(as_text=True)
    assert event == {"error": "Write a message first."}

    alices = say_in_room(app, user, room_id, "alice's")
    form = post(client, f"/rooms/{room_id}/messages/{alices}/delete", {}, htmx=True)
    event = bob.emit("room:delete", {"message_id": alices}, callback=True)
    refusal = "Only its author or the room's host can delete a message."
    assert form.status_code == 403 and form.headers["X-Qosyl-Message"] == refusal
    assert event == {"error": refusal}

    form = post(client, f"/rooms/{room_id}/messages/{alices + 99}/delete", {}, htmx=True)
    event = bob.emit("room:delete", {"message_id": alices + 99}, callback=True)
    assert (
        form.status_code == 404 and form.headers["X-Qosyl-Message"] == "There is no such message."
    )
    assert event == {"error": "There is no such message."}
    assert messages(app) == 1


def test_a_resync_catches_up_from_before_since_though_the_tab_holds_later_ones(
    app, user, other_user, room_id
):
    """After a Redis outage (live:resync, qosyl/live/queue.py) a tab holds its own process's
    messages of the outage but not the others': `since` takes the catch-up back to the last
    message before that moment."""
    from datetime import timedelta

    from qosyl.models.base import utcnow

    before = say_in_room(app, user, room_id, "before the outage")
    missed = say_in_room(app, user, room_id, "published by another process, lost")
    held = say_in_room(app, user, room_id, "sent through this process, held")
    now = utcnow()
    with app.app_context():
        for message_id, age in ((before, 60), (missed, 1), (held, 0)):
            db.session.get(RoomMessage, message_id).created_at = now - timedelta(seconds=age)
        db.session.commit()
    _, bob = tab(app, other_user)
    since = (now - timedelta(seconds=3)).timestamp()
    request = {"room_id": room_id, "after_id": held, "since": since}
    reply = bob.emit("room:subscribe", request, callback=True)
    assert [m["id"] for m in reply["messages"]] == [missed, held]
    # Without `since`, only what came after the last id: the gap stays.
    request = {"room_id": room_id, "after_id": held}
    assert bob.emit("room:subscribe", request, callback=True)["messages"] == []
    # Nothing held from before `since`: everything (within the catch-up limit).
    request = {"room_id": room_id, "after_id": held, "since": since - 3600}
    reply = bob.emit("room:subscribe", request, callback=True)
    assert [m["id"] for m in reply["messages"]] == [before, missed, held]


@pytest.mark.parametrize("since", ["yesterday", True, -1, 10**12, float("inf")])
def test_a_since_that_is_no_moment_is_refused(app, other_user, room_id, since):
    _, bob = tab(app, other_user)
    request = {"room_id": room_id, "after_id": 0, "since": since}
    reply = bob.emit("room:subscribe", request, callback=True)
    assert reply == {"error": "`since` is a moment in seconds since 1970, not in the future."}
