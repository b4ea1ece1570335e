"""The API clients' subscriber: the same typed events the browser hears, as JSON data.

Token-authenticated sockets (apps, scripts) join their own Socket.IO rooms, the browser's
names behind API_ROOM_PREFIX ("api:user:5", "api:room:3:member:5" ...), so one event reaches
browsers as HTML (qosyl/live/web.py) and token clients as JSON, each formatted once per
broadcast. The event names and payloads are documented next to the HTTP API
(qosyl/blueprints/api/docs.py, LIVE_EVENTS).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from qosyl.live import events
from qosyl.live import realtime
from qosyl.live.bus import Delivery
from qosyl.live.realtime import Push

API_ROOM_PREFIX = "api:"

Wire = tuple[str, dict[str, Any]]
_formats: dict[type[events.Event], Callable[[Any], Wire | None]] = {}


def api_room(room: str) -> str:
    """The Socket.IO room token clients join where a browser tab joins `room`."""
    return API_ROOM_PREFIX + room


def _format(*kinds: type[events.Event]):
    def register(fn):
        for kind in kinds:
            _formats[kind] = fn
        return fn

    return register


def deliver(event: events.Event) -> Delivery | None:
    """Format now (inside the transaction, while rows are loaded), emit after the commit.
    Events with no JSON form here (refetch triggers, HTML regions) are the browser's."""
    fmt = _formats.get(type(event))
    if fmt is None or not event.to:
        return None
    wire = fmt(event)
    if wire is None:
        return None
    name, data = wire
    push = Push(name, data, [api_room(room) for room in event.to], event.skip)
    return lambda: realtime.emit(push)


@cache
def _chat_message_schema():
    # Imported late: the API's schemas import the app's models and helpers.
    from qosyl.blueprints.api.schemas import ChatMessageSchema

    return ChatMessageSchema()


def message_json(message) -> dict[str, Any]:
    """A chat message of any stream, as the history endpoints give it (one schema instance
    for all: schemas keep no state between dumps)."""
    return _chat_message_schema().dump(message)


@_format(events.ChatMessageSent)
def _sent(event: events.ChatMessageSent) -> Wire:
    return "chat_message", {
        "kind": event.kind,
        "stream_id": event.stream_id,
        "message": message_json(event.message),
    }


@_format(events.ChatMessageEdited)
def _edited(event: events.ChatMessageEdited) -> Wire:
    return "chat_message_edited", {
        "kind": event.kind,
        "stream_id": event.stream_id,
        "message": message_json(event.message),
    }


@_format(events.ChatMessageDeleted)
def _deleted(event: events.ChatMessageDeleted) -> Wire:
    return "chat_message_deleted", {
        "kind": event.kind,
        "stream_id": event.stream_id,
        "id": event.id,
    }


@_format(events.ConversationRead)
def _read(event: events.ConversationRead) -> Wire:
    return "read", {
        "conversation_id": event.conversation_id,
        "user_id": event.reader_id,
        "up_to_id": event.up_to_id,
    }


@_format(events.NotificationAdded)
def _notification(event: events.NotificationAdded) -> Wire:
    from qosyl.blueprints.api.schemas import absolute

    return "notification", {
        "id": event.id,
        "kind": event.kind,
        "text": event.text,
        "url": absolute(event.url),
    }


@_format(events.FriendRequestSent)
def _friend_request(event: events.FriendRequestSent) -> Wire:
    from qosyl.blueprints.api.schemas import UserSummary

    return "friend_request", {"id": event.id, "from": UserSummary().dump(event.sender)}


# Changes to a stream a client may be showing: their data as the browser gets it.
@_format(
    events.RoomClosed,
    events.RemovedFromRoom,
    events.ConversationMembersChanged,
    events.ConversationRenamed,
    events.RemovedFromConversation,
    events.MeetingStarted,
    events.MeetingEnded,
)
def _as_is(event: events.Event) -> Wire:
    return event.name, event.payload()
