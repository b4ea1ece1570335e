"""A conversation's Socket.IO side: a tab opening (or reopening) a conversation catches up
on what it missed. Messages themselves reach every tab of every member through their
`user:<id>` room (actions/messages.py), so there is nothing to join."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from qosyl import presence
from qosyl import realtime
from qosyl import viewing
from qosyl.actions import chat
from qosyl.actions import messages as actions
from qosyl.extensions import db
from qosyl.inputs import event_int
from qosyl.live.web import render_chat_message
from qosyl.models import Conversation
from qosyl.queries import conversation_messages_after
from qosyl.realtime import Push
from qosyl.realtime import user_room
from qosyl.sockets import signed_in_event

NOT_ALLOWED = {"error": "You are not in this conversation."}


def _conversation(data) -> Conversation | None:
    """The conversation an event names, if any (membership is the caller's to check)."""
    conversation_id = event_int(data.get("conversation_id")) if isinstance(data, dict) else None
    return db.session.get(Conversation, conversation_id) if conversation_id is not None else None


@signed_in_event("conversation:subscribe")
def subscribe(data=None):
    """With `after_id`, receive what was missed since it, in order."""
    conversation = _conversation(data)
    if conversation is None or not actions.can_read(conversation, current_user.id):
        return NOT_ALLOWED
    viewing.opened(current_user.id, request.sid, conversation.id)
    after_id = event_int(data.get("after_id"))
    if after_id is None:
        return {"ok": True, "messages": []}
    missed = conversation_messages_after(conversation.id, after_id, chat.CATCH_UP_LIMIT)
    if len(missed) > chat.CATCH_UP_LIMIT:
        return {"ok": True, "reload": True}
    return {
        "ok": True,
        "messages": [{"id": m.id, "html": render_chat_message("conversation", m)} for m in missed],
    }


@signed_in_event("conversation:unsubscribe")
def unsubscribe(data=None):
    """The tab left the conversation's page: new messages notify again."""
    viewing.closed(current_user.id, request.sid)
    return {"ok": True}


# One typing event per person and conversation a second is plenty: the indicator lasts a
# few seconds. Counted in the shared store (Redis when configured), so a typist whose tabs
# reach several processes is still heard once a second.
TYPING_INTERVAL = 1.0


@signed_in_event("conversation:typing")
def typing(data=None):
    """Tell the other members' tabs that this person is typing (no storage, no commit)."""
    conversation = _conversation(data)
    if conversation is None:
        return NOT_ALLOWED
    member_ids = actions.active_member_ids(conversation)
    if current_user.id not in member_ids:
        return NOT_ALLOWED
    key = f"{current_user.id}:{conversation.id}"
    if not presence.app_store("typing").first_within(key, TYPING_INTERVAL):
        return {"ok": True, "throttled": True}
    others = [user_room(member_id) for member_id in member_ids if member_id != current_user.id]
    if others and not actions.blocked_within(conversation, current_user.id, member_ids):
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
    return {"ok": True}
