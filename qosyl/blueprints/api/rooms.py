"""Rooms: browse and search them by topic, host them, join and leave, moderate members,
and their chat (history, send, edit, delete), over the same reads and actions as the pages
(blueprints/rooms/routes.py) and the chat's socket events."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC

import marshmallow as ma
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import select

from qosyl.actions import NotFound
from qosyl.actions import rooms as actions
from qosyl.actions import unproxy
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import BAD_CURSOR
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import encode_cursor
from qosyl.blueprints.api.core import page
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import ChatMessageSchema
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.blueprints.api.schemas import With
from qosyl.models import Room
from qosyl.reads.access import access_hosted_room
from qosyl.reads.access import access_own_room_message
from qosyl.reads.access import access_participant
from qosyl.reads.access import access_removable_room_message
from qosyl.reads.access import access_room
from qosyl.reads.access import access_room_message
from qosyl.reads.rooms import can_read_room
from qosyl.reads.rooms import members_page
from qosyl.reads.rooms import participants
from qosyl.reads.rooms import room_cards
from qosyl.reads.rooms import room_membership
from qosyl.reads.rooms import room_messages_after
from qosyl.reads.rooms import room_messages_page
from qosyl.reads.rooms import rooms_after
from qosyl.reads.rooms import topics_in_use
from qosyl.reads.rooms import trending_now
from qosyl.reads.search import search_rooms
from qosyl.web.inputs import MAX_ID

bp = ApiBlueprint(
    "rooms", "/api", "Rooms by topic: host, join, moderate, and their chat history and messages."
)

# Generous bounds: the actions judge the lengths, with the messages the web forms show.
TEXT_BOUND = 20_000


# Shapes


class RoomSummary(ma.Schema):
    """A room as the rooms page's cards show it."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    topic = ma.fields.Function(
        lambda room: room.topic.name, required=True, metadata={"type": "string"}
    )
    description = ma.fields.String(required=True)
    is_lobby = ma.fields.Boolean(
        required=True, metadata={"description": "Open to everyone signed in; nobody joins it."}
    )
    host = ma.fields.Nested(UserSummary, required=True, allow_none=True)
    members = ma.fields.Integer(required=True, metadata={"description": "Not removed."})
    last_message_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class RoomViewerSchema(ma.Schema):
    """Where the caller stands in the room: decides which actions make sense."""

    is_host = ma.fields.Boolean(required=True)
    is_member = ma.fields.Boolean(required=True)
    removed = ma.fields.Boolean(
        required=True, metadata={"description": "The host removed the caller."}
    )
    can_read = ma.fields.Boolean(
        required=True, metadata={"description": "May read the history and write."}
    )


class RoomDetail(RoomSummary):
    viewer = ma.fields.Nested(RoomViewerSchema, required=True)


class TopicSchema(ma.Schema):
    name = ma.fields.String(required=True)
    rooms = ma.fields.Integer(required=True)


class TrendingTopicSchema(ma.Schema):
    name = ma.fields.String(required=True)
    messages = ma.fields.Integer(required=True, metadata={"description": "In the last day."})


class TopicList(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(TopicSchema),
        required=True,
        metadata={"description": "Every topic with rooms, by name (one page)."},
    )
    trending = ma.fields.List(
        ma.fields.Nested(TrendingTopicSchema),
        required=True,
        metadata={"description": "The busiest topics of the last 24 hours."},
    )


class RoomMemberSchema(ma.Schema):
    user = ma.fields.Nested(UserSummary, required=True)
    is_host = ma.fields.Boolean(required=True)
    joined_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "Null in the lobby."}
    )
    removed = ma.fields.Boolean(
        required=True, metadata={"description": "Removed by the host (only the host sees them)."}
    )


# Input


class RoomListArgs(PageArgs):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=200),
        metadata={"description": "Search names, descriptions and topics; best first, one page."},
    )
    topic = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=200),
        metadata={"description": "Only rooms of this topic (any case)."},
    )


class RoomFields(ma.Schema):
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_BOUND))
    topic = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=TEXT_BOUND),
        metadata={"description": "An existing topic's name, or a new one."},
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_BOUND))


# Editing: what is left out stays as it is.
RoomUpdate = ma.Schema.from_dict(
    {
        name: ma.fields.String(validate=ma.validate.Length(max=TEXT_BOUND))
        for name in ("name", "topic", "description")
    },
    name="RoomUpdate",
)


class RoomMemberArgs(PageArgs):
    removed = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The host only: include the people they removed."},
    )


class RoomHistoryArgs(PageArgs):
    after_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={
            "description": "Catch up: the messages after this id, oldest first (a client "
            "back from a drop passes the last id it has). Without it, the newest first."
        },
    )


class RoomMessageSend(ma.Schema):
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_BOUND))
    client_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The client's id for this message: a retry is stored once."},
    )


class RoomMessageEdit(ma.Schema):
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_BOUND))


RoomPage = page_schema(RoomSummary, "RoomPage")
RoomMemberPage = page_schema(RoomMemberSchema, "RoomMemberPage")
RoomMessagePage = page_schema(ChatMessageSchema, "RoomMessagePage")


# Helpers


def _card(card) -> With:
    return With(card.room, members=card.members, last_message_at=card.last_message_at)


def _detail(room_id: int) -> With:
    """A room with its counts and where the caller stands; two queries."""
    cards = room_cards(select(Room).where(Room.id == room_id))
    if not cards:
        raise NotFound()
    card = cards[0]
    member = room_membership(card.room, current_user.id)
    removed = member is not None and member.removed_at is not None
    viewer = {
        "is_host": card.room.host_id == current_user.id,
        "is_member": member is not None and not removed,
        "removed": removed,
        "can_read": can_read_room(card.room, current_user.id),
    }
    return With(_card(card), viewer=viewer)


def _readable_room(room_id: int) -> Room:
    """A room whose chat the caller may read, as the room's page decides; 404 otherwise."""
    room = access_room(current_user, room_id)
    if not can_read_room(room, current_user.id):
        raise NotFound()
    return room


def _moment(text: str) -> datetime:
    """The aware UTC time a members cursor holds; 400 for anything else."""
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(text)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        abort(400, message=BAD_CURSOR)


# Rooms and topics


@bp.route("/rooms/")
@bp.errors()
@bp.arguments(RoomListArgs, location="query")
@bp.response(200, RoomPage)
def list_rooms(args):
    """Rooms, those with the latest message first; `topic` keeps one topic's; with `q`,
    the rooms that match, best first."""
    query = args["q"].strip()
    if query:
        cards, _ = search_rooms(query, per_page=args["limit"])
        return {"items": [_card(card) for card in cards], "next": None}
    after = decode_cursor(args["cursor"], int, int)
    rows = rooms_after(args["topic"].strip() or None, after=after, limit=args["limit"])
    result = page(rows, args["limit"], key=lambda row: row[1])
    result["items"] = [_card(card) for card, _ in result["items"]]
    return result


@bp.route("/topics/")
@bp.errors()
@bp.response(200, TopicList)
def list_topics():
    """The topics rooms are filed under, with their room counts, and the trending ones."""
    return {
        "items": [{"name": name, "rooms": count} for name, count in topics_in_use()],
        "trending": [{"name": name, "messages": count} for name, count in trending_now()],
    }


@bp.route("/rooms/", methods=["POST"])
@bp.errors(422)
@bp.arguments(RoomFields)
@bp.response(201, RoomDetail)
def create_room(fields):
    """Open a room; the caller hosts it and is its first member."""
    room = actions.create_room(
        unproxy(current_user), fields["name"], fields["topic"], fields["description"]
    )
    return _detail(room.id)


@bp.route("/rooms/<int:room_id>/")
@bp.errors(404)
@bp.response(200, RoomDetail)
def show_room(room_id: int):
    """A room (any signed-in user may see one) and where the caller stands in it."""
    access_room(current_user, room_id)
    return _detail(room_id)


@bp.route("/rooms/<int:room_id>/", methods=["PUT", "PATCH"])
@bp.errors(403, 404, 422)
@bp.arguments(RoomUpdate)
@bp.response(200, RoomDetail)
def update_room(fields, room_id: int):
    """Edit a room the caller hosts: send the fields to change."""
    room = access_hosted_room(current_user, room_id)
    actions.edit_room(
        room,
        fields.get("name", room.name),
        fields.get("topic", room.topic.name),
        fields.get("description", room.description),
    )
    return _detail(room.id)


@bp.route("/rooms/<int:room_id>/", methods=["DELETE"])
@bp.errors(403, 404, 409)
@bp.response(204)
def delete_room(room_id: int):
    """Delete a room the caller hosts, with its messages (not the lobby)."""
    actions.delete_room(access_hosted_room(current_user, room_id))


# Membership


@bp.route("/rooms/<int:room_id>/join/", methods=["POST"])
@bp.errors(404, 409)
@bp.response(200, RoomDetail)
def join_room(room_id: int):
    """Join a room (the lobby needs no joining); refused to someone the host removed."""
    room = access_room(current_user, room_id)
    actions.join(unproxy(current_user), room)
    return _detail(room.id)


@bp.route("/rooms/<int:room_id>/leave/", methods=["POST"])
@bp.errors(404)
@bp.response(204)
def leave_room(room_id: int):
    """Leave a room. A host leaving hands it to the longest-standing member, or deletes it
    when alone in it."""
    actions.leave(unproxy(current_user), access_room(current_user, room_id))


@bp.route("/rooms/<int:room_id>/members/")
@bp.errors(404)
@bp.arguments(RoomMemberArgs, location="query")
@bp.response(200, RoomMemberPage)
def list_members(args, room_id: int):
    """A room's members by join time; the lobby's are its recent writers, most recent first
    (one page). The host may ask for the people they removed too."""
    room = access_room(current_user, room_id)
    with_removed = args["removed"] and room.host_id == current_user.id
    if room.is_lobby:
        members, removed = participants(room)
        people = [(person, False) for person in members]
        people += [(person, True) for person in removed] if with_removed else []
        items = [
            {
                "user": person,
                "is_host": person.id == room.host_id,
                "joined_at": None,
                "removed": gone,
            }
            for person, gone in people
        ]
        return {"items": items, "next": None}
    after = decode_cursor(args["cursor"], str, int)
    if after is not None:
        after = (_moment(after[0]), after[1])
    rows = members_page(room, after=after, limit=args["limit"], removed=with_removed)
    result = page(rows, args["limit"], key=lambda row: (row[1].joined_at.isoformat(), row[0].id))
    result["items"] = [
        {
            "user": person,
            "is_host": person.id == room.host_id,
            "joined_at": member.joined_at,
            "removed": member.removed_at is not None,
        }
        for person, member in result["items"]
    ]
    return result


@bp.route("/rooms/<int:room_id>/members/<int:user_id>/remove/", methods=["POST"])
@bp.errors(403, 404, 409)
@bp.response(204)
def remove_member(room_id: int, user_id: int):
    """The host removes a member (from the lobby, anyone signed in): they can neither read
    nor write the room until let back."""
    room = access_hosted_room(current_user, room_id)
    actions.remove_member(room, access_participant(room, user_id=user_id))


@bp.route("/rooms/<int:room_id>/members/<int:user_id>/readmit/", methods=["POST"])
@bp.errors(403, 404)
@bp.response(204)
def readmit_member(room_id: int, user_id: int):
    """The host lets a removed member back: they are a member again."""
    room = access_hosted_room(current_user, room_id)
    actions.readmit_member(room, access_participant(room, user_id=user_id))


# The chat


@bp.route("/rooms/<int:room_id>/messages/")
@bp.errors(404)
@bp.arguments(RoomHistoryArgs, location="query")
@bp.response(200, RoomMessagePage)
def history(args, room_id: int):
    """The room's messages, newest first, `next` going back in time; with `after_id`, those
    after it, oldest first, `next` going forward. Members only (the lobby: anyone the host
    has not removed)."""
    room = _readable_room(room_id)
    limit = args["limit"]
    # A cursor carries its direction; `after_id` starts a walk forward, nothing one back.
    cursor = decode_cursor(args["cursor"], str, int)
    if cursor is not None:
        direction, from_id = cursor
    elif args["after_id"] is not None:
        direction, from_id = "after", args["after_id"]
    else:
        direction, from_id = "before", None
    if direction == "after":
        rows = room_messages_after(room.id, from_id, limit)
        return page(rows, limit, key=lambda message: ("after", message.id))
    if direction != "before":
        abort(400, message=BAD_CURSOR)
    messages, older = room_messages_page(room.id, before=from_id, limit=limit)
    return {
        "items": list(reversed(messages)),
        "next": encode_cursor("before", older) if older is not None else None,
    }


@bp.route("/rooms/<int:room_id>/messages/", methods=["POST"])
@bp.errors(404, 409, 422)
@bp.arguments(RoomMessageSend)
@bp.response(201, ChatMessageSchema)
def send_message(fields, room_id: int):
    """Send a message, as the room's page and its socket do (same limits). A `client_id`
    sent again is stored once and answered with the message stored the first time."""
    room = _readable_room(room_id)
    return actions.send_message(unproxy(current_user), room, fields["body"], fields["client_id"])


@bp.route("/rooms/<int:room_id>/messages/<int:message_id>/")
@bp.errors(404)
@bp.response(200, ChatMessageSchema)
def show_message(room_id: int, message_id: int):
    """One message of a room the caller may read."""
    room = access_room(current_user, room_id)
    return access_room_message(current_user, room, message_id)


@bp.route("/rooms/<int:room_id>/messages/<int:message_id>/", methods=["PUT", "PATCH"])
@bp.errors(403, 404, 422)
@bp.arguments(RoomMessageEdit)
@bp.response(200, ChatMessageSchema)
def edit_message(fields, room_id: int, message_id: int):
    """Change the text of the caller's own message, within 15 minutes of sending it."""
    room = access_room(current_user, room_id)
    message = access_own_room_message(current_user, room, message_id)
    return actions.edit_message(message, room, fields["body"])


@bp.route("/rooms/<int:room_id>/messages/<int:message_id>/", methods=["DELETE"])
@bp.errors(403, 404)
@bp.response(204)
def delete_message(room_id: int, message_id: int):
    """Delete a message: its author may, and so may the room's host."""
    room = access_room(current_user, room_id)
    actions.delete_message(access_removable_room_message(current_user, room, message_id), room)
