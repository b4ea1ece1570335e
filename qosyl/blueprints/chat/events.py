"""The chat's Socket.IO side, one for every kind of stream (rooms, the lobby, conversations).

Each event is `<kind>:<verb>` (`room:subscribe`, `conversation:send` ...), with the stream
named by `<kind>_id`, and answers with an acknowledgement: {"ok": True, ...} or, raised as a
domain error and translated by errors.socket_error, {"error": "..."}.

- subscribe: start hearing a stream; with `after_id`, first receive what was missed since;
  with `since` too (seconds since 1970), from the last message the tab held before that
  moment (a `live:resync` after a Redis outage, qosyl/live/queue.py).
  Rooms' tabs join a Socket.IO room per member (the audience rule of rooms); conversations
  reach every tab through `user:<id>` already, so subscribing marks the conversation as open
  in this tab (no notification while it is open, see qosyl/live/viewing.py).
- unsubscribe: the tab left the stream's page.
- send / delete: what the browser does over HTTP (js/chat/ posts forms, so pages also work
  without JavaScript), for clients that only speak Socket.IO (the JSON API's, next). The
  same actions and access helpers as the routes: the same refusals, word for word.
- typing (conversations): tell the other members' tabs, at most once a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import join_room
from flask_socketio import leave_room
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import chat
from qosyl.actions import messages
from qosyl.actions import NotFound
from qosyl.actions import rooms
from qosyl.actions.chat import NotAMember
from qosyl.extensions import db
from qosyl.live import presence
from qosyl.live import realtime
from qosyl.live import viewing
from qosyl.live.api import api_room
from qosyl.live.api import message_json
from qosyl.live.realtime import Push
from qosyl.live.realtime import user_room
from qosyl.live.sockets import audience_room
from qosyl.live.sockets import is_token_socket
from qosyl.live.sockets import signed_in_event
from qosyl.live.web import render_chat_message
from qosyl.models import Conversation
from qosyl.models import Room
from qosyl.models import RoomMessage
from qosyl.reads.access import access_conversation
from qosyl.reads.access import access_removable_room_message
from qosyl.reads.access import access_room
from qosyl.reads.access import NO_SUCH_MESSAGE
from qosyl.reads.conversations import active_member_ids
from qosyl.reads.conversations import blocked_within
from qosyl.reads.conversations import conversation_messages_after
from qosyl.reads.rooms import can_read_room
from qosyl.reads.rooms import room_messages_after
from qosyl.web.inputs import event_int
from qosyl.web.inputs import event_time


@dataclass(frozen=True)
class StreamKind:
    name: str
    # The stream the viewer may read, or NotFound / NotAMember.
    readable: Callable[[int], Any]
    # The stream by id, for an action that checks who may write itself (in the query that
    # also finds who hears: a send is kept to few round trips).
    find: Callable[[int], Any]
    # This tab starts or stops hearing the stream.
    opened: Callable[[Any], None]
    closed: Callable[[Any], None]
    messages_after: Callable[..., list]
    send: Callable[..., Any]


def _readable_room(room_id: int):
    room = access_room(current_user, room_id)
    if not can_read_room(room, current_user.id):
        raise NotAMember("You cannot read this room.")
    return room


def _room_opened(room) -> None:
    join_room(audience_room(rooms.subscription(room, current_user.id)))


def _room_closed(room) -> None:
    leave_room(audience_room(rooms.subscription(room, current_user.id)))


def _find_room(room_id: int):
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound()
    return room


def _find_conversation(conversation_id: int):
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        # As for an existing one the sender is not in: whether it exists is not theirs to know.
        raise NotAMember(messages.NOT_IN_CONVERSATION)
    return conversation


def _readable_conversation(conversation_id: int):
    try:
        return access_conversation(current_user, conversation_id)
    except NotFound:
        # Members and strangers alike: not a member, whether or not it exists.
        raise NotAMember(messages.NOT_IN_CONVERSATION) from None


KINDS = {
    "room": StreamKind(
        name="room",
        readable=_readable_room,
        find=_find_room,
        opened=_room_opened,
        closed=_room_closed,
        messages_after=room_messages_after,
        send=rooms.send_message,
    ),
    "conversation": StreamKind(
        name="conversation",
        readable=_readable_conversation,
        find=_find_conversation,
        opened=lambda conversation: viewing.opened(current_user.id, request.sid, conversation.id),
        closed=lambda conversation: viewing.closed(current_user.id, request.sid),
        messages_after=conversation_messages_after,
        send=messages.send_message,
    ),
}


def _stream_id(kind: StreamKind, data) -> int:
    stream_id = event_int(data.get(f"{kind.name}_id")) if isinstance(data, dict) else None
    if stream_id is None:
        raise ActionError(f"Name the {kind.name}.")
    return stream_id


def _stream(kind: StreamKind, data) -> Any:
    return kind.readable(_stream_id(kind, data))


def subscribe(kind: StreamKind, data):
    stream = _stream(kind, data)
    # Start hearing before reading what was missed: a message sent in between comes both
    # ways, and the tab keeps one copy of each id.
    kind.opened(stream)
    after_id = event_int(data.get("after_id"))
    since = event_time(data.get("since"))
    if since is None and data.get("since") is not None:
        raise ActionError("`since` is a moment in seconds since 1970, not in the future.")
    if after_id is None:
        return {"ok": True, "messages": []}
    missed = kind.messages_after(stream.id, after_id, chat.CATCH_UP_LIMIT, since)
    if len(missed) > chat.CATCH_UP_LIMIT:
        return {"ok": True, "reload": True}
    if is_token_socket():
        return {"ok": True, "messages": [message_json(m) for m in missed]}
    return {
        "ok": True,
        "messages": [{"id": m.id, "html": render_chat_message(m)} for m in missed],
    }


def unsubscribe(kind: StreamKind, data):
    """Stop hearing a stream. Leaving needs no permission: someone removed meanwhile leaves
    too."""
    try:
        stream = kind.find(_stream_id(kind, data))
    except ActionError:
        return {"ok": True}  # nothing to leave
    kind.closed(stream)
    return {"ok": True}


def send(kind: StreamKind, data):
    """Send as the HTTP form does: same checks, same limits, same broadcast."""
    stream = kind.find(_stream_id(kind, data))
    body, client_id = data.get("body"), data.get("client_id")
    if not isinstance(body, str) or (client_id is not None and not isinstance(client_id, str)):
        raise ActionError("A message is text.", "body")
    message = kind.send(current_user, stream, body, client_id)
    return {"ok": True, "id": message.id}


def _register(kind: StreamKind, verb: str, handler) -> None:
    signed_in_event(f"{kind.name}:{verb}")(lambda data=None: handler(kind, data))


for _kind in KINDS.values():
    _register(_kind, "subscribe", subscribe)
    _register(_kind, "unsubscribe", unsubscribe)
    _register(_kind, "send", send)


@signed_in_event("room:delete")
def delete_room_message(data=None):
    message_id = event_int(data.get("message_id")) if isinstance(data, dict) else None
    room_id = db.session.scalar(select(RoomMessage.room_id).where(RoomMessage.id == message_id))
    if room_id is None:
        raise NotFound(NO_SUCH_MESSAGE)
    # The route's rule, raised as NotFound or Forbidden and answered by errors.socket_error.
    room = access_room(current_user, room_id)
    message = access_removable_room_message(current_user, room, message_id)
    rooms.delete_message(message, room)
    return {"ok": True}


# One typing event per person and conversation a second is plenty: the indicator lasts a
# few seconds. Counted in the shared store (Redis when configured), so a typist whose tabs
# reach several processes is still heard once a second.
TYPING_INTERVAL = 1.0


@signed_in_event("conversation:typing")
def typing(data=None):
    """Tell the other members' tabs that this person is typing (no storage, no commit)."""
    conversation = _stream(KINDS["conversation"], data)
    member_ids = active_member_ids(conversation)
    key = f"{current_user.id}:{conversation.id}"
    if not presence.app_store("typing").first_within(key, TYPING_INTERVAL):
        return {"ok": True, "throttled": True}
    others = [user_room(member_id) for member_id in member_ids if member_id != current_user.id]
    if others and not blocked_within(conversation, current_user.id, member_ids):
        realtime.emit(
            Push(
                "conversation:typing",
                {
                    "conversation_id": conversation.id,
                    "user_id": current_user.id,
                    "name": current_user.first_name,
                },
                others,
            )
        )
        # API clients: the same, in the shape every chat stream's events share.
        realtime.emit(
            Push(
                "typing",
                {"kind": "conversation", "stream_id": conversation.id, "user_id": current_user.id},
                [api_room(room) for room in others],
            )
        )
    return {"ok": True}
