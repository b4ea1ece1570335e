"""Video meetings' pages (issue 12): start one, join one by link or id, and the meeting
itself. What happens inside a meeting travels over Socket.IO (meetings/events.py) and
between the browsers (static/js/meeting/)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import exists
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import meetings as actions
from qosyl.actions import NotFound
from qosyl.blueprints.meetings.forms import JoinForm
from qosyl.blueprints.messages.routes import conversation_chat
from qosyl.blueprints.rooms.forms import message_form
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Room
from qosyl.reads.access import access_meeting
from qosyl.reads.access import PUBLIC_ID_LENGTH
from qosyl.reads.meetings import running_meetings_for
from qosyl.reads.rooms import room_messages_page
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.htmx import render
from qosyl.webrtc import ice_servers_for

bp = Blueprint("meetings", __name__)

NOT_A_MEETING = "That is not a meeting link or id."
NO_SUCH_MEETING = "No running meeting you can join has that link or id."
PUBLIC_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{PUBLIC_ID_LENGTH}}}")


@bp.before_request
@login_required
def require_login():
    """Meetings are for signed-in users."""


def public_id_in(text: str) -> str | None:
    """The meeting id in a pasted link (any host: links travel between deployments' names)
    or an id typed alone; None when it is neither. A link or path must end in
    /meetings/<id>: any other link is not a meeting's, whatever its last segment."""
    if "/" not in text:
        candidate = text
    else:
        try:
            path = urlsplit(text).path
        except ValueError:  # "https://[::1/...": no link at all
            return None
        parts = [part for part in path.split("/") if part]
        if len(parts) < 2 or parts[-2] != "meetings":
            return None
        candidate = parts[-1]
    return candidate if PUBLIC_ID.fullmatch(candidate) else None


def _index(form: JoinForm, status: int = 200):
    return render(
        "meetings/index.html",
        form=form,
        running=running_meetings_for(current_user.id),
        status=status,
    )


@bp.get("/meetings")
def index():
    return _index(JoinForm())


@bp.post("/meetings")
def create():
    meeting = actions.create_meeting(current_user)
    return redirect(url_for("meetings.show", public_id=meeting.public_id))


@bp.post("/meetings/join")
def find():
    form = JoinForm()
    if form.validate_on_submit():
        public_id = public_id_in(form.link.data)
        try:
            if public_id is None:
                raise ActionError(NOT_A_MEETING, "link")
            try:
                meeting = access_meeting(current_user, public_id)
            except NotFound:
                raise ActionError(NO_SUCH_MEETING, "link") from None
        except ActionError as error:
            apply_action_error(form, error)
        else:
            return redirect(url_for("meetings.show", public_id=meeting.public_id))
    return _index(form, form_status(form))


def _chat(meeting) -> dict:
    """The chat the meeting shows: its room's, its conversation's, or its own group's."""
    if meeting.room_id is not None:
        room = db.session.get(Room, meeting.room_id)
        messages, older = room_messages_page(room.id)
        return {
            "room": room,
            "messages": messages,
            "older": older,
            "form": message_form(room.id),
            "compact": True,
        }
    conversation = db.session.get(Conversation, meeting.chat_conversation_id)
    if conversation is None:
        return {}
    return conversation_chat(conversation)


def _in_chat(meeting) -> bool:
    """Whether the viewer reads the meeting's chat yet: a standalone meeting's is entered
    on joining (actions.admit). One query."""
    if meeting.chat_id is None:
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ConversationMember.conversation_id == meeting.chat_id,
                    ConversationMember.user_id == current_user.id,
                    ConversationMember.status == MemberStatus.ACTIVE,
                )
            )
        )
    )


@bp.get("/meetings/<public_id>")
def show(public_id: str):
    meeting = access_meeting(current_user, public_id)
    place = None
    heading = f"Meeting of {meeting.host.full_name}"
    if meeting.room_id is not None:
        place = db.session.get(Room, meeting.room_id)
        heading = f"Meeting in {place.name}"
    elif meeting.conversation_id is not None:
        place = db.session.get(Conversation, meeting.conversation_id)
        heading = f"Meeting in {place.name or 'your conversation'}"
    in_chat = _in_chat(meeting)
    return render(
        "meetings/show.html",
        meeting=meeting,
        place=place,
        heading=heading,
        link=url_for("meetings.show", public_id=meeting.public_id, _external=True),
        local_only=not ice_servers_for(current_user.id),
        max_participants=current_app.config["MEETING_MAX_PARTICIPANTS"],
        in_chat=in_chat,
        **(_chat(meeting) if in_chat else {}),
    )


@bp.post("/meetings/<public_id>/join")
def admit(public_id: str):
    """Joining: a standalone meeting's chat takes the newcomer in. Answers the chat panel,
    which the meeting page swaps in before it joins the call (static/js/meeting/)."""
    meeting = access_meeting(current_user, public_id)
    actions.admit(current_user, meeting)
    return render_template("meetings/_chat_panel.html", meeting=meeting, **_chat(meeting))
