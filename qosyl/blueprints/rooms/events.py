"""The chat's Socket.IO side: subscribing to a room (and catching up), sending, deleting.

Every event checks who is asking against the database, as the HTTP routes do, and
answers with an acknowledgement: {"ok": True, ...} or {"error": "..."} for the sender.

The browser sends and deletes over HTTP (chat.js posts the form, so the page also works
without JavaScript); `room:send` and `room:delete` serve clients that only speak Socket.IO
(the JSON API's socket clients next), through the same action and access helpers.
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room
from flask_socketio import leave_room
from sqlalchemy import select

from qosyl.access import access_removable_room_message
from qosyl.access import access_room
from qosyl.access import NO_SUCH_MESSAGE
from qosyl.actions import ActionError
from qosyl.actions import chat
from qosyl.actions import NotFound
from qosyl.actions import RateLimited
from qosyl.actions import rooms as actions
from qosyl.extensions import db
from qosyl.inputs import event_int
from qosyl.live.web import render_chat_message
from qosyl.models import Room
from qosyl.models import RoomMessage
from qosyl.queries import room_messages_after
from qosyl.sockets import signed_in_event

NOT_ALLOWED = {"error": "You cannot read this room."}


def _readable_room(data) -> Room | None:
    room_id = event_int(data.get("room_id")) if isinstance(data, dict) else None
    room = db.session.get(Room, room_id) if room_id is not None else None
    if room is None or not actions.can_read(room, current_user.id):
        return None
    return room


@signed_in_event("room:subscribe")
def subscribe(data=None):
    """Start hearing a room; with `after_id`, first receive what was missed since it."""
    room = _readable_room(data)
    if room is None:
        return NOT_ALLOWED
    # Join before reading the missed messages: one sent in between comes both ways,
    # and the tab keeps one copy of each id.
    join_room(actions.subscription(room, current_user.id))
    after_id = event_int(data.get("after_id"))
    if after_id is None:
        return {"ok": True, "messages": []}
    missed = room_messages_after(room.id, after_id, chat.CATCH_UP_LIMIT)
    if len(missed) > chat.CATCH_UP_LIMIT:
        return {"ok": True, "reload": True}
    return {
        "ok": True,
        "messages": [{"id": m.id, "html": render_chat_message("room", m)} for m in missed],
    }


@signed_in_event("room:unsubscribe")
def unsubscribe(data=None):
    room_id = event_int(data.get("room_id")) if isinstance(data, dict) else None
    room = db.session.get(Room, room_id) if room_id is not None else None
    if room is not None:
        leave_room(actions.subscription(room, current_user.id))
    return {"ok": True}


@signed_in_event("room:send")
def send(data=None):
    """Send a message as the HTTP form does: same checks, same limits, same broadcast."""
    room_id = event_int(data.get("room_id")) if isinstance(data, dict) else None
    if room_id is None:
        return NOT_ALLOWED
    # send_message checks membership itself, with the query that finds the listeners.
    room = db.session.get(Room, room_id)
    if room is None:
        return NOT_ALLOWED
    body = data.get("body")
    client_id = data.get("client_id")
    if not isinstance(body, str) or (client_id is not None and not isinstance(client_id, str)):
        return {"error": "A message is text."}
    try:
        message = actions.send_message(current_user, room, body, client_id)
    except actions.NotAMember:
        return NOT_ALLOWED
    except RateLimited as error:
        return {"error": error.message, "retry_after": error.retry_after}
    except ActionError as error:
        return {"error": error.message}
    return {"ok": True, "id": message.id}


@signed_in_event("room:delete")
def delete(data=None):
    message_id = event_int(data.get("message_id")) if isinstance(data, dict) else None
    room_id = db.session.scalar(select(RoomMessage.room_id).where(RoomMessage.id == message_id))
    if room_id is None:
        raise NotFound(NO_SUCH_MESSAGE)
    # The route's rule, raised as NotFound or Forbidden and answered by errors.socket_error.
    room = access_room(current_user, room_id)
    message = access_removable_room_message(current_user, room, message_id)
    actions.delete_message(message, room)
    return {"ok": True}
