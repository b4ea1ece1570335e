"""Rooms: browsing by topic, search, membership, and the chat's HTTP side (sending, history)."""

from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.actions import ActionError
from qosyl.actions import meetings
from qosyl.actions import rooms as actions
from qosyl.blueprints.chat.views import older_messages
from qosyl.blueprints.rooms.forms import EditMessageForm
from qosyl.blueprints.rooms.forms import message_form
from qosyl.blueprints.rooms.forms import RoomForm
from qosyl.reads.access import access_hosted_room
from qosyl.reads.access import access_own_room_message
from qosyl.reads.access import access_participant
from qosyl.reads.access import access_removable_room_message
from qosyl.reads.access import access_room
from qosyl.reads.access import access_room_message
from qosyl.reads.meetings import running_meeting
from qosyl.reads.rooms import activity_page
from qosyl.reads.rooms import can_read_room
from qosyl.reads.rooms import participants
from qosyl.reads.rooms import participants_preview
from qosyl.reads.rooms import room_membership
from qosyl.reads.rooms import room_messages_page
from qosyl.reads.rooms import rooms_of
from qosyl.reads.rooms import rooms_page
from qosyl.reads.rooms import topics_in_use
from qosyl.reads.rooms import trending_now
from qosyl.reads.search import search_rooms
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.forms import refusal_status
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import page_number
from qosyl.web.inputs import query_int

bp = Blueprint("rooms", __name__)


@bp.before_request
@login_required
def require_login():
    """Rooms are for signed-in users."""


@bp.get("/rooms")
def index():
    query = request.args.get("q", "").strip()[:200]
    topic = request.args.get("topic", "").strip()[:50] or None
    page = page_number()
    if query:
        cards, has_more = search_rooms(query, page=page)
    else:
        cards, has_more = rooms_page(topic=topic, page=page)
    return render(
        "rooms/index.html",
        "results",
        cards=cards,
        has_more=has_more,
        page=page,
        query=query,
        topic=topic,
        topics=topics_in_use(),
        trending=trending_now(),
        mine=rooms_of(current_user.id),
    )


@bp.route("/rooms/new", methods=["GET", "POST"])
def create():
    form = RoomForm()
    if form.validate_on_submit():
        try:
            room = actions.create_room(
                current_user, form.name.data, form.topic.data, form.description.data or ""
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash("Your room is open. Invite people to join!", "success")
            return redirect(url_for("rooms.show", room_id=room.id))
    return render(
        "rooms/form.html", status=form_status(form), form=form, room=None, topics=topics_in_use()
    )


@bp.get("/rooms/<int:room_id>")
def show(room_id: int):
    room = access_room(current_user, room_id)
    member = room_membership(room, current_user.id)
    readable = can_read_room(room, current_user.id)
    messages, older = room_messages_page(room.id) if readable else ([], None)
    members, member_count = participants_preview(room)
    return render(
        "rooms/show.html",
        room=room,
        member=member,
        readable=readable,
        messages=messages,
        older=older,
        members=members,
        member_count=member_count,
        form=message_form(room.id),
        meeting=running_meeting(current_user.id, room_id=room.id) if readable else None,
    )


@bp.post("/rooms/<int:room_id>/meeting")
def start_meeting(room_id: int):
    """The room's host starts its meeting (or finds the one running) and goes to it. Anyone
    else who may read the room is refused by the action (Forbidden, a 403)."""
    room = access_room(current_user, room_id)
    if not can_read_room(room, current_user.id):
        abort(404)
    meeting = meetings.create_meeting(current_user, room=room)
    return redirect(url_for("meetings.show", public_id=meeting.public_id))


@bp.get("/rooms/<int:room_id>/messages")
def history(room_id: int):
    """Older messages, for scrolling up."""
    room = access_room(current_user, room_id)
    if not can_read_room(room, current_user.id):
        abort(404)
    page_url = url_for("rooms.show", room_id=room.id)
    return older_messages("room", room.id, room_messages_page, page_url)


@bp.post("/rooms/<int:room_id>/messages")
def send(room_id: int):
    room = access_room(current_user, room_id)
    if not can_read_room(room, current_user.id):
        abort(404)
    form = message_form(room.id, request.form)
    refusal = None
    if form.validate_on_submit():
        try:
            message = actions.send_message(
                current_user, room, form.body.data or "", form.client_id.data
            )
        except ActionError as error:
            apply_action_error(form, error)
            refusal = error
        else:
            if not wants_fragment():
                return redirect(
                    url_for("rooms.show", room_id=room.id, _anchor=f"message-{message.id}")
                )
            return render_template("components/_message.html", message=message)
    if wants_fragment():
        composer = render_template("components/_composer_chat.html", room=room, form=form)
        return composer, *refusal_status(refusal)
    flash(" ".join(form.body.errors or form.form_errors), "error")
    return redirect(url_for("rooms.show", room_id=room.id))


@bp.get("/rooms/<int:room_id>/messages/<int:message_id>")
def message(room_id: int, message_id: int):
    room = access_room(current_user, room_id)
    found = access_room_message(current_user, room, message_id)
    return render_template("components/_message.html", message=found)


@bp.route("/rooms/<int:room_id>/messages/<int:message_id>/edit", methods=["GET", "POST"])
def edit_message(room_id: int, message_id: int):
    room = access_room(current_user, room_id)
    found = access_own_room_message(current_user, room, message_id)
    form = EditMessageForm(
        formdata=request.form if request.method == "POST" else None,
        obj=found,
        prefix=f"message-{found.id}",
    )
    if form.validate_on_submit():
        try:
            actions.edit_message(found, room, form.body.data or "")
        except ActionError as error:
            apply_action_error(form, error)
        else:
            if wants_fragment():
                return render_template("components/_message.html", message=found)
            return redirect(url_for("rooms.show", room_id=room.id, _anchor=f"message-{found.id}"))
    return render(
        "rooms/edit_message.html",
        "edit_form",
        form_status(form),
        room=room,
        message=found,
        form=form,
    )


@bp.post("/rooms/<int:room_id>/messages/<int:message_id>/delete")
def delete_message(room_id: int, message_id: int):
    room = access_room(current_user, room_id)
    found = access_removable_room_message(current_user, room, message_id)
    actions.delete_message(found, room)
    if wants_fragment():
        return ""
    flash("The message is deleted.", "success")
    return redirect(url_for("rooms.show", room_id=room.id))


@bp.post("/rooms/<int:room_id>/join")
def join(room_id: int):
    room = access_room(current_user, room_id)
    try:
        actions.join(current_user, room)
    except ActionError as error:
        flash(error.message, "error")
    else:
        flash(f"You joined {room.name}.", "success")
    return redirect(url_for("rooms.show", room_id=room.id))


@bp.post("/rooms/<int:room_id>/leave")
def leave(room_id: int):
    room = access_room(current_user, room_id)
    actions.leave(current_user, room)
    flash(f"You left {room.name}.", "info")
    return redirect(url_for("rooms.index"))


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
def edit(room_id: int):
    room = access_hosted_room(current_user, room_id)
    form = RoomForm(obj=room) if request.method == "GET" else RoomForm()
    if request.method == "GET":
        form.topic.data = room.topic.name
    if form.validate_on_submit():
        try:
            actions.edit_room(room, form.name.data, form.topic.data, form.description.data or "")
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash("The room is updated.", "success")
            return redirect(url_for("rooms.show", room_id=room.id))
    return render(
        "rooms/form.html", status=form_status(form), form=form, room=room, topics=topics_in_use()
    )


@bp.post("/rooms/<int:room_id>/delete")
def delete(room_id: int):
    room = access_hosted_room(current_user, room_id)
    try:
        actions.delete_room(room)
    except ActionError as error:
        flash(error.message, "error")
        return redirect(url_for("rooms.show", room_id=room.id))
    flash(f"{room.name} is deleted.", "info")
    return redirect(url_for("rooms.index"))


@bp.get("/rooms/<int:room_id>/participants")
def people(room_id: int):
    room = access_room(current_user, room_id)
    members, removed = participants(room)
    return render(
        "rooms/participants.html",
        room=room,
        members=members,
        removed=removed if room.host_id == current_user.id else [],
    )


@bp.post("/rooms/<int:room_id>/participants/<username>/<any(remove, readmit):action>")
def change_participant(room_id: int, username: str, action: str):
    room = access_hosted_room(current_user, room_id)
    person = access_participant(room, username)
    try:
        if action == "remove":
            actions.remove_member(room, person)
            flash(
                f"{person.full_name} is removed and cannot come back until you let them.", "success"
            )
        else:
            actions.readmit_member(room, person)
            flash(f"{person.full_name} may take part again.", "success")
    except ActionError as error:
        flash(error.message, "error")
    return redirect(url_for("rooms.people", room_id=room.id))


@bp.get("/activity")
def activity():
    before = query_int("before")
    messages, cursor = activity_page(current_user.id, before=before)
    return render(
        "rooms/activity.html",
        "rows" if before else None,
        messages=messages,
        next_url=url_for("rooms.activity", before=cursor) if cursor else None,
    )
