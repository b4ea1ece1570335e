"""A conversation's Socket.IO side: a tab opening (or reopening) a conversation catches up
on what it missed. Messages themselves reach every tab of every member through their
`user:<id>` room (actions/messages.py), so there is nothing to join."""

from __future__ import annotations

from flask_login import current_user

from qosyl.actions import messages as actions
from qosyl.blueprints.rooms.events import CATCH_UP_LIMIT
from qosyl.blueprints.rooms.events import SIGNED_OUT
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import Conversation
from qosyl.queries import conversation_messages_after

NOT_ALLOWED = {"error": "You are not in this conversation."}


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@socketio.on("conversation:subscribe")
def subscribe(data):
    """With `after_id`, receive what was missed since it, in order."""
    if not current_user.is_authenticated:
        return SIGNED_OUT
    conversation_id = _int(data.get("conversation_id")) if isinstance(data, dict) else None
    conversation = (
        db.session.get(Conversation, conversation_id) if conversation_id is not None else None
    )
    if conversation is None or not actions.can_read(conversation, current_user.id):
        return NOT_ALLOWED
    after_id = _int(data.get("after_id"))
    if after_id is None:
        return {"ok": True, "messages": []}
    missed = conversation_messages_after(conversation.id, after_id, CATCH_UP_LIMIT)
    if len(missed) > CATCH_UP_LIMIT:
        return {"ok": True, "reload": True}
    return {
        "ok": True,
        "messages": [{"id": m.id, "html": actions.render_message(m)} for m in missed],
    }
