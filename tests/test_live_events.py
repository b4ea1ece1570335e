"""Actions publish typed events (data); the web subscriber renders HTML at the edge.

Actions run here inside a bare app context, as `flask seed` and other non-web callers do:
no request context is pushed for them.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from qosyl.actions import accounts
from qosyl.actions import rooms
from qosyl.extensions import db
from qosyl.live import bus
from qosyl.live import events
from qosyl.models import Room
from qosyl.models import User


@pytest.fixture
def heard():
    """Every event published during the test, as a second subscriber (the API's, next)."""
    received: list[events.Event] = []

    def record(event):
        received.append(event)
        return None

    bus.subscribe(record)
    yield received
    bus.unsubscribe(record)


def _room_with(app, host, *members) -> int:
    with app.app_context():
        room = rooms.create_room(db.session.get(User, host.id), "Tea lovers", "Tea")
        for member in members:
            rooms.join(db.session.get(User, member.id), room)
        return room.id


def test_a_chat_message_is_one_typed_event_with_data_only(app, user, other_user, heard, pushes):
    room_id = _room_with(app, user, other_user)
    with app.app_context():
        message = rooms.send_message(
            db.session.get(User, user.id), db.session.get(Room, room_id), "Hello *there*"
        )
        message_id = message.id
    [sent] = [e for e in heard if isinstance(e, events.ChatMessageSent)]
    assert sent.payload() == {
        "kind": "room",
        "stream_id": room_id,
        "id": message_id,
        "author_id": user.id,
    }
    # The row the action held rides along for renderers, never in the payload or the repr.
    assert sent.message is not None and "message" not in repr(sent)
    assert "html" not in asdict(sent)
    # The browser's push is rendered from it once, with links that need no request.
    [push] = [p for p in pushes if p.event == "room:message"]
    assert push.data["id"] == message_id
    assert "<em>there</em>" in push.data["html"]
    assert f'href="/u/{user.username}"' in push.data["html"]
    assert set(push.audience) == {
        rooms.member_room(room_id, user.id),
        rooms.member_room(room_id, other_user.id),
    }


def test_nothing_is_published_for_a_rolled_back_change(app, user, heard, pushes):
    room_id = _room_with(app, user)
    heard.clear()
    pushes.clear()
    with app.app_context():
        room = db.session.get(Room, room_id)
        bus.publish(events.RoomClosed(room_id=room.id, to=rooms.audience(room)))
        db.session.rollback()
    assert [type(e) for e in heard] == [events.RoomClosed]  # subscribers saw it queued ...
    assert pushes == []  # ... and nothing left: the change never happened


def test_a_subscriber_is_told_before_commit_and_delivers_after(app, user, pushes):
    room_id = _room_with(app, user)
    pushes.clear()
    order: list[str] = []

    def subscriber(event):
        order.append("told")
        return lambda: order.append("delivered")

    bus.subscribe(subscriber)
    try:
        with app.app_context():
            room = db.session.get(Room, room_id)
            rooms.edit_room(room, "Green tea", "Tea", "")
            assert order == []  # edit_room publishes nothing
            bus.publish(events.RoomClosed(room_id=room_id, to=("nobody",)))
            assert order == ["told"]
            db.session.commit()
        assert order == ["told", "delivered"]
    finally:
        bus.unsubscribe(subscriber)


def test_mail_links_point_at_the_public_url_outside_a_request(app, user, outbox):
    app.config["PUBLIC_URL"] = "https://qosyl.example/"
    with app.app_context():
        accounts.request_password_reset(user.email)
    [mail] = outbox
    assert "https://qosyl.example/password/reset/" in mail.body


def test_notification_targets_are_paths_whoever_calls(app, user, other_user, heard):
    from qosyl.actions import social

    with app.app_context():
        social.send_friend_request(
            db.session.get(User, user.id), db.session.get(User, other_user.id)
        )
    [added] = [e for e in heard if isinstance(e, events.NotificationAdded)]
    assert added.url == "/friends/requests"
