"""Private messages: the conversation list, starting a conversation, and a conversation's
HTTP side (history, sending, read position). Live delivery is in blueprints/chat/events.py
and static/js/chat/."""

from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from werkzeug.datastructures import CombinedMultiDict

from qosyl.actions import ActionError
from qosyl.actions import Forbidden
from qosyl.actions import groups
from qosyl.actions import meetings
from qosyl.actions import messages as actions
from qosyl.actions import NotFound
from qosyl.blueprints.chat.views import older_messages
from qosyl.blueprints.messages.forms import conversation_form
from qosyl.blueprints.messages.forms import GroupForm
from qosyl.blueprints.messages.forms import InviteForm
from qosyl.blueprints.messages.forms import RenameForm
from qosyl.extensions import db
from qosyl.live import presence
from qosyl.models import ConversationKind
from qosyl.models import User
from qosyl.reads.access import access_attachment
from qosyl.reads.access import access_conversation
from qosyl.reads.access import access_group
from qosyl.reads.access import access_invitation
from qosyl.reads.access import access_profile
from qosyl.reads.conversations import conversation_members
from qosyl.reads.conversations import conversation_messages_page
from qosyl.reads.conversations import conversation_rows
from qosyl.reads.conversations import invite_candidates
from qosyl.reads.conversations import pending_invites
from qosyl.reads.meetings import running_meeting
from qosyl.reads.search import search_people
from qosyl.render.attachments import send_attachment_view
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.forms import refusal_status
from qosyl.web.forms import upload_of
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import form_int
from qosyl.web.urls import local_referrer

bp = Blueprint("messages", __name__)


@bp.before_request
@login_required
def require_login():
    """Messages are for signed-in users."""


SHOW_CHOICES = ("all", "online", "offline")


@bp.get("/messages")
def index():
    query = request.args.get("q", "").strip()[:100]
    show = request.args.get("show", "all")
    show = show if show in SHOW_CHOICES else "all"
    people = search_people(current_user.id, query) if query else []
    rows = conversation_rows(current_user.id)
    states = presence.states(person.id for row in rows for person in row.others)
    if show != "all":
        # "Online" keeps conversations where someone else is online or away.
        rows = [
            row
            for row in rows
            if any(states[person.id] != presence.OFFLINE for person in row.others)
            == (show == "online")
        ]
    return render(
        "messages/index.html",
        "conversations",
        rows=rows,
        states=states,
        show=show,
        query=query,
        people=people,
    )


@bp.get("/messages/unread")
def unread_link():
    """The header's Messages link with its unread count, refetched when messages change."""
    return render_template("components/_messages_link.html")


@bp.post("/messages/with/<username>")
def start(username: str):
    """Open the one-to-one conversation with someone (started if new)."""
    other = access_profile(current_user, username)
    try:
        conversation = actions.direct_conversation(current_user, other)
    except ActionError as error:
        flash(error.message, "error")
        return redirect(local_referrer() or url_for("messages.index"))
    return redirect(url_for("messages.show", conversation_id=conversation.id))


def _title(members, viewer_id: int) -> str:
    names = [user.full_name for member, user in members if user.id != viewer_id]
    return ", ".join(names) or "Just you"


@bp.get("/messages/<int:conversation_id>")
def show(conversation_id: int):
    conversation = access_conversation(current_user, conversation_id)
    members = conversation_members(conversation.id)
    group = {}
    if conversation.kind == ConversationKind.GROUP:
        invite_form = InviteForm(prefix="invite")
        invite_form.invitee.choices = [("", "Choose someone…")] + _people_choices(
            invite_candidates(
                current_user.id, conversation.id, readmit_removed=_is_admin(conversation)
            )
        )
        group = {
            "rename_form": RenameForm(name=conversation.name, prefix="rename"),
            "invite_form": invite_form,
        }
    return render(
        "messages/show.html",
        **group,
        **conversation_chat(conversation, members),
        members=members,
        states=presence.states(user.id for _, user in members if user.id != current_user.id),
        meeting=running_meeting(current_user.id, conversation_id=conversation.id),
    )


def conversation_chat(conversation, members=None) -> dict:
    """What components/_conversation_chat.html shows of a conversation the viewer is an
    active member of (the conversation page's and a meeting's chat)."""
    if members is None:
        members = conversation_members(conversation.id)
    messages, older = conversation_messages_page(conversation.id)
    return {
        "conversation": conversation,
        "title": conversation.name or _title(members, current_user.id),
        "read_positions": {
            str(user.id): member.last_read_id
            for member, user in members
            if user.id != current_user.id
        },
        "member_names": {
            str(user.id): user.first_name for _, user in members if user.id != current_user.id
        },
        "messages": messages,
        "older": older,
        "form": conversation_form(conversation.id),
    }


@bp.post("/messages/<int:conversation_id>/meeting")
def start_meeting(conversation_id: int):
    """Any active member starts the conversation's meeting (or finds the one running) and
    goes to it. A block between the two of a one-to-one conversation refuses it: said on
    the conversation's page."""
    conversation = access_conversation(current_user, conversation_id)
    try:
        meeting = meetings.create_meeting(current_user, conversation=conversation)
    except (NotFound, Forbidden):
        raise  # translated once, for every route (errors.register_error_handlers)
    except ActionError as refused:
        return _back_with(refused, conversation.id)
    return redirect(url_for("meetings.show", public_id=meeting.public_id))


@bp.get("/messages/<int:conversation_id>/history")
def history(conversation_id: int):
    """Older messages, for scrolling up."""
    conversation = access_conversation(current_user, conversation_id)
    page_url = url_for("messages.show", conversation_id=conversation.id)
    return older_messages("conversation", conversation.id, conversation_messages_page, page_url)


@bp.post("/messages/<int:conversation_id>")
def send(conversation_id: int):
    conversation = access_conversation(current_user, conversation_id)
    form = conversation_form(conversation.id, CombinedMultiDict((request.files, request.form)))
    refusal = None
    if form.validate_on_submit():
        try:
            message = actions.send_message(
                current_user,
                conversation,
                form.body.data or "",
                form.client_id.data,
                upload_of(form.attachment),
            )
        except ActionError as error:
            apply_action_error(form, error)
            refusal = error
        else:
            if not wants_fragment():
                return redirect(
                    url_for(
                        "messages.show",
                        conversation_id=conversation.id,
                        _anchor=f"message-{message.id}",
                    )
                )
            return render_template("components/_message.html", message=message)
    if wants_fragment():
        composer = render_template(
            "components/_composer_conversation.html", conversation=conversation, form=form
        )
        return composer, *refusal_status(refusal)
    flash(" ".join(form.body.errors or form.form_errors), "error")
    return redirect(url_for("messages.show", conversation_id=conversation.id))


@bp.get("/messages/<int:conversation_id>/files/<int:attachment_id>")
def attachment(conversation_id: int, attachment_id: int):
    """A file of a message, for members only; ?view=thumb or ?view=inline for images."""
    found = access_attachment(current_user, attachment_id, conversation_id)
    return send_attachment_view(found, request.args.get("view"))


@bp.post("/messages/<int:conversation_id>/read")
def read(conversation_id: int):
    """The viewer has seen the conversation up to a message id (sent by js/chat/conversation.js)."""
    conversation = access_conversation(current_user, conversation_id)
    up_to = form_int("up_to_id")
    if up_to is None:
        abort(400)
    position = actions.mark_read(current_user, conversation, up_to)
    return jsonify(last_read_id=position)


# Groups


def _people_choices(people) -> list[tuple[str, str]]:
    return [(str(person.id), f"{person.full_name} (@{person.username})") for person in people]


@bp.route("/messages/groups/new", methods=["GET", "POST"])
def new_group():
    candidates = invite_candidates(current_user.id)
    form = GroupForm()
    form.invitees.choices = _people_choices(candidates)
    if form.validate_on_submit():
        chosen = set(form.invitees.data or [])
        try:
            conversation = groups.create_group(
                current_user,
                form.name.data or "",
                [person for person in candidates if str(person.id) in chosen],
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash("Your group is ready. People join when they accept.", "success")
            return redirect(url_for("messages.show", conversation_id=conversation.id))
    return render(
        "messages/new_group.html", status=form_status(form), form=form, candidates=candidates
    )


@bp.get("/messages/invites")
def invites():
    return render("messages/invites.html", invites=pending_invites(current_user))


@bp.post("/messages/<int:conversation_id>/<any(accept, decline):answer>")
def answer_invite(conversation_id: int, answer: str):
    """Accept or decline an invitation to a group (only its invitee can)."""
    conversation = access_invitation(current_user, conversation_id)
    if answer == "accept":
        groups.accept_invite(current_user, conversation)
        return redirect(url_for("messages.show", conversation_id=conversation.id))
    groups.decline_invite(current_user, conversation)
    flash("Invitation declined.", "info")
    return redirect(url_for("messages.invites"))


def _is_admin(conversation) -> bool:
    return conversation.admin_id == current_user.id


def _group_page(conversation_id: int):
    return access_group(current_user, conversation_id)


def _back_with(error: ActionError | None, conversation_id: int):
    if error is not None:
        flash(error.message, "error")
    return redirect(url_for("messages.show", conversation_id=conversation_id))


@bp.post("/messages/<int:conversation_id>/rename")
def rename(conversation_id: int):
    conversation = _group_page(conversation_id)
    form = RenameForm(prefix="rename")
    error = None
    if form.validate_on_submit():
        try:
            groups.rename(current_user, conversation, form.name.data or "")
        except ActionError as refused:
            error = refused
    return _back_with(error, conversation.id)


@bp.post("/messages/<int:conversation_id>/invite")
def invite(conversation_id: int):
    conversation = _group_page(conversation_id)
    form = InviteForm(prefix="invite")
    form.invitee.choices = []
    error = None
    if form.validate_on_submit():
        people = invite_candidates(
            current_user.id, conversation.id, readmit_removed=_is_admin(conversation)
        )
        candidates = {str(p.id): p for p in people}
        person = candidates.get(form.invitee.data or "")
        try:
            # Nobody chosen (or someone not offered): the action's "Choose someone to invite."
            groups.invite_many(current_user, conversation, [person] if person else [])
        except ActionError as refused:
            error = refused
        else:
            flash(f"{person.first_name} is invited.", "success")
    return _back_with(error, conversation.id)


@bp.post("/messages/<int:conversation_id>/leave")
def leave(conversation_id: int):
    conversation = _group_page(conversation_id)
    groups.leave(current_user, conversation)
    flash("You left the group.", "info")
    return redirect(url_for("messages.index"))


@bp.post("/messages/<int:conversation_id>/members/<int:user_id>/<any(remove, admin):action>")
def change_member(conversation_id: int, user_id: int, action: str):
    """The admin removes a member or hands them the admin role (the action checks who is
    the admin: Forbidden, a 403, for anyone else)."""
    conversation = _group_page(conversation_id)
    member = db.session.get(User, user_id)
    if member is None:
        raise NotFound()
    error = None
    try:
        if action == "remove":
            groups.remove_member(current_user, conversation, member)
            flash(f"{member.first_name} was removed from the group.", "success")
        else:
            groups.pass_admin(current_user, conversation, member)
            flash(f"{member.first_name} is now the admin.", "success")
    except (NotFound, Forbidden):
        raise  # translated once, for every route (errors.register_error_handlers)
    except ActionError as refused:
        error = refused
    return _back_with(error, conversation.id)
