"""Private and group conversations: the list, starting one, history, sending (with a file),
read positions, attachments, invitations and the group admin's actions.

Every view does what the Messages pages (blueprints/messages/routes.py) do, through the same
reads and actions; a conversation the caller is not an active member of is 404, as there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import marshmallow as ma
from flask import request
from flask_login import current_user
from flask_smorest import abort

from qosyl.actions import ActionError
from qosyl.actions import groups
from qosyl.actions import messages as actions
from qosyl.actions import NotFound
from qosyl.actions import unproxy
from qosyl.actions.uploads import Upload
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import BAD_CURSOR
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import encode_cursor
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import ChatMessageSchema
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.blueprints.api.schemas import With
from qosyl.extensions import db
from qosyl.models import User
from qosyl.reads.access import access_attachment
from qosyl.reads.access import access_conversation
from qosyl.reads.access import access_group
from qosyl.reads.access import access_invitation
from qosyl.reads.access import access_person
from qosyl.reads.conversations import conversation_members
from qosyl.reads.conversations import conversation_messages_after
from qosyl.reads.conversations import conversation_messages_page
from qosyl.reads.conversations import conversation_rows
from qosyl.reads.conversations import invite_candidates
from qosyl.reads.conversations import pending_invite_rows
from qosyl.render.attachments import send_attachment_view
from qosyl.render.markup import plain_text
from qosyl.web.inputs import MAX_ID

bp = ApiBlueprint(
    "conversations",
    "/api/conversations",
    "Private messages: one-to-one and group conversations, their history and files.",
)

PREVIEW_LENGTH = 80
AN_ID = ma.validate.Range(min=0, max=MAX_ID)


# Shapes


class LastMessage(ma.Schema):
    id = ma.fields.Integer(required=True)
    author = ma.fields.Nested(UserSummary, required=True)
    preview = ma.fields.Function(
        lambda message: _preview(message.body),
        required=True,
        metadata={"type": "string", "description": "Its words as plain text, shortened."},
    )
    created_at = ma.fields.AwareDateTime(required=True)


class ConversationItem(ma.Schema):
    """A line of the conversation list."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.Function(
        lambda row: row.kind.value,
        required=True,
        metadata={"type": "string", "enum": ["direct", "group"]},
    )
    name = ma.fields.String(required=True, metadata={"description": "A group's name; '' else."})
    title = ma.fields.String(
        required=True, metadata={"description": "The name, or the other members' names."}
    )
    admin_id = ma.fields.Integer(required=True, allow_none=True)
    members = ma.fields.List(
        ma.fields.Nested(UserSummary),
        required=True,
        metadata={"description": "The other active members, by name."},
    )
    unread = ma.fields.Integer(required=True, metadata={"description": "Messages not yet read."})
    last_message = ma.fields.Nested(LastMessage, required=True, allow_none=True)
    last_message_at = ma.fields.AwareDateTime(required=True)


class Member(ma.Schema):
    user = ma.fields.Nested(UserSummary, required=True)
    is_admin = ma.fields.Boolean(required=True)
    joined_at = ma.fields.AwareDateTime(required=True)
    last_read_id = ma.fields.Integer(
        required=True, metadata={"description": "The newest message they have seen (0: none)."}
    )


class ConversationSchema(ma.Schema):
    """A conversation with everyone active in it and their read positions."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.Function(
        lambda conversation: conversation.kind.value,
        required=True,
        metadata={"type": "string", "enum": ["direct", "group"]},
    )
    name = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    admin_id = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    members = ma.fields.List(ma.fields.Nested(Member), required=True)


class InvitationSchema(ma.Schema):
    """A group the caller is invited to."""

    conversation_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    invited_by = ma.fields.Nested(
        UserSummary,
        required=True,
        allow_none=True,
        metadata={"description": "Null when that account is gone."},
    )
    invited_at = ma.fields.AwareDateTime(required=True)


ConversationPage = page_schema(ConversationItem, "ConversationPage")
MessagePage = page_schema(ChatMessageSchema, "ChatMessagePage")
InvitationPage = page_schema(InvitationSchema, "InvitationPage")


# Input


class StartConversation(ma.Schema):
    user_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=AN_ID,
        metadata={"description": "One-to-one: the person to write to."},
    )
    name = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=1000),
        metadata={"description": "A group: its name."},
    )
    user_ids = ma.fields.List(
        ma.fields.Integer(validate=AN_ID),
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={"description": "A group: whom to invite (friends, people you write to)."},
    )

    @ma.validates_schema
    def one_kind(self, data, **kwargs):
        group = data["name"] is not None or data["user_ids"] is not None
        if (data["user_id"] is not None) != group:
            return
        raise ma.ValidationError(
            "Send `user_id` for a one-to-one conversation, or `name` and `user_ids` for a group.",
            "user_id",
        )


class HistoryArgs(PageArgs):
    after_id = ma.fields.Integer(
        load_default=None,
        validate=AN_ID,
        metadata={"description": "Catch up: the messages after this id, oldest first."},
    )


class MessageIn(ma.Schema):
    body = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100_000),
        metadata={"description": "Markdown; may be empty when a file is sent."},
    )
    client_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "Your id for this send: a retry with it is stored once."},
    )


MULTIPART_MESSAGE = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "body": {"type": "string"},
                        "client_id": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        }
    }
}


class AttachmentArgs(ma.Schema):
    view = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(["thumb", "inline"]),
        metadata={"description": "Images only: `thumb` (small) or `inline` (not a download)."},
    )


class ReadPosition(ma.Schema):
    up_to_id = ma.fields.Integer(required=True, validate=AN_ID)


class ReadPositionOut(ma.Schema):
    last_read_id = ma.fields.Integer(required=True)


class Invitees(ma.Schema):
    user_ids = ma.fields.List(
        ma.fields.Integer(validate=AN_ID),
        load_default=list,
        validate=ma.validate.Length(max=200),
        metadata={"description": "Friends and people you write to, not yet in the group."},
    )


class InvitationAnswer(ma.Schema):
    accept = ma.fields.Boolean(required=True)


class Rename(ma.Schema):
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))


# Helpers


def _preview(body: str) -> str:
    text = plain_text(body)
    if not text:
        return "Sent a file"
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1].rstrip() + "…"


def _title(name: str, others: list[User]) -> str:
    return name or ", ".join(person.full_name for person in others) or "Just you"


def _moment_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    keys = decode_cursor(cursor, str, int)
    if keys is None:
        return None
    try:
        moment = datetime.fromisoformat(keys[0])
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        abort(400, message=BAD_CURSOR)
    return moment, keys[1]


def _detail(conversation) -> With:
    members = conversation_members(conversation.id)
    others = [user for _, user in members if user.id != current_user.id]
    return With(
        conversation,
        title=_title(conversation.name, others),
        members=[
            {
                "user": user,
                "is_admin": user.id == conversation.admin_id,
                "joined_at": member.joined_at,
                "last_read_id": member.last_read_id,
            }
            for member, user in members
        ],
    )


@contextmanager
def _fields_named(**names: str) -> Iterator[None]:
    """An action's refusal on one of its field names, told under the API's name for it."""
    try:
        yield
    except ActionError as error:
        if error.field in names:
            error.field = names[error.field]
        raise


# The list and starting a conversation


@bp.route("/")
@bp.errors()
@bp.arguments(PageArgs, location="query")
@bp.response(200, ConversationPage)
def list_conversations(args):
    """The caller's conversations, the latest active first, with unread counts."""
    limit = args["limit"]
    rows = conversation_rows(current_user.id, limit + 1, after=_moment_cursor(args["cursor"]))
    more, rows = len(rows) > limit, rows[:limit]
    items = [
        With(
            row.conversation,
            title=_title(row.conversation.name, row.others),
            members=row.others,
            unread=row.unread,
            last_message=row.last_message,
        )
        for row in rows
    ]
    last = rows[-1].conversation if rows else None
    cursor = encode_cursor(last.last_message_at.isoformat(), last.id) if more and last else None
    return {"items": items, "next": cursor}


@bp.route("/", methods=["POST"])
@bp.errors(404, 409, 422)
@bp.arguments(StartConversation)
@bp.response(201, ConversationSchema)
def start(fields):
    """Open the one-to-one conversation with `user_id` (started if new, the same one
    otherwise), or start a group named `name` inviting `user_ids` (they join when they
    accept; people the group form would not offer are left out)."""
    me = unproxy(current_user)
    if fields["user_id"] is not None:
        other = access_person(current_user, fields["user_id"])
        return _detail(actions.direct_conversation(me, other))
    # As the group form: only the people it offers can be chosen; the others are left out.
    chosen = set(fields["user_ids"] or [])
    invitees = [person for person in invite_candidates(me.id) if person.id in chosen]
    with _fields_named(invitees="user_ids"):
        conversation = groups.create_group(me, fields["name"] or "", invitees)
    return _detail(conversation)


@bp.route("/invitations/")
@bp.errors()
@bp.arguments(PageArgs, location="query")
@bp.response(200, InvitationPage)
def invitations(args):
    """The groups the caller is invited to, newest invitation first."""
    limit = args["limit"]
    rows = pending_invite_rows(current_user, limit + 1, after=_moment_cursor(args["cursor"]))
    more, rows = len(rows) > limit, rows[:limit]
    items = [
        {
            "conversation_id": conversation.id,
            "name": conversation.name,
            "invited_by": inviter,
            "invited_at": invited_at,
        }
        for conversation, inviter, invited_at in rows
    ]
    cursor = None
    if more and rows:
        conversation, _, invited_at = rows[-1]
        cursor = encode_cursor(invited_at.isoformat(), conversation.id)
    return {"items": items, "next": cursor}


@bp.route("/attachments/<int:attachment_id>/")
@bp.errors(404)
@bp.arguments(AttachmentArgs, location="query")
@bp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    description="The file, with its own Content-Type; a download unless an image is viewed.",
)
def attachment(args, attachment_id: int):
    """Download a file sent in a conversation (members only)."""
    found = access_attachment(current_user, attachment_id)
    return send_attachment_view(found, args["view"])


# One conversation


@bp.route("/<int:conversation_id>/")
@bp.errors(404)
@bp.response(200, ConversationSchema)
def show(conversation_id: int):
    """A conversation with its active members and their read positions."""
    return _detail(access_conversation(current_user, conversation_id))


@bp.route("/<int:conversation_id>/", methods=["PATCH"])
@bp.errors(404, 409, 422)
@bp.arguments(Rename)
@bp.response(200, ConversationSchema)
def rename(fields, conversation_id: int):
    """Rename a group (any member can)."""
    conversation = access_group(current_user, conversation_id)
    groups.rename(unproxy(current_user), conversation, fields["name"])
    return _detail(conversation)


@bp.route("/<int:conversation_id>/messages/")
@bp.errors(404)
@bp.arguments(HistoryArgs, location="query")
@bp.response(200, MessagePage)
def history(args, conversation_id: int):
    """The history, oldest first within a page: the newest page first, `next` going back;
    with `after_id`, what came after that message (`next` going forward). A `cursor`
    keeps the direction it was given in."""
    conversation = access_conversation(current_user, conversation_id)
    limit = args["limit"]
    keys = decode_cursor(args["cursor"], str, int)
    if keys is not None and keys[0] not in ("before", "after"):
        abort(400, message=BAD_CURSOR)
    if keys is None:
        keys = ("before", None) if args["after_id"] is None else ("after", args["after_id"])
    direction, key = keys
    if direction == "after":
        rows = conversation_messages_after(conversation.id, key, limit)
        more, rows = len(rows) > limit, rows[:limit]
        return {"items": rows, "next": encode_cursor("after", rows[-1].id) if more else None}
    messages, older = conversation_messages_page(conversation.id, before=key, limit=limit)
    return {"items": messages, "next": encode_cursor("before", older) if older else None}


@bp.route("/<int:conversation_id>/messages/", methods=["POST"])
@bp.errors(404, 409, 413, 422)
@bp.arguments(MessageIn)
@bp.doc(**MULTIPART_MESSAGE)
@bp.response(201, ChatMessageSchema)
def send(fields, conversation_id: int):
    """Send a message: JSON `{"body", "client_id"}`, or multipart/form-data with `body`,
    `client_id` and a `file`. A retry with the same `client_id` is stored once."""
    conversation = access_conversation(current_user, conversation_id)
    upload = None
    if request.mimetype == "multipart/form-data":
        fields = bp.ARGUMENTS_PARSER.parse(MessageIn, location="form")
        file = request.files.get("file")
        if file is not None and file.filename:
            upload = Upload(file.stream, file.filename)
    with _fields_named(attachment="file"):
        return actions.send_message(
            unproxy(current_user), conversation, fields["body"], fields["client_id"], upload
        )


@bp.route("/<int:conversation_id>/read/", methods=["PUT"])
@bp.errors(404)
@bp.arguments(ReadPosition)
@bp.response(200, ReadPositionOut)
def read(fields, conversation_id: int):
    """The caller has read up to a message: their read position moves forward (never back)."""
    conversation = access_conversation(current_user, conversation_id)
    position = actions.mark_read(unproxy(current_user), conversation, fields["up_to_id"])
    return {"last_read_id": position}


# Groups


@bp.route("/<int:conversation_id>/members/", methods=["POST"])
@bp.errors(404, 409)
@bp.arguments(Invitees)
@bp.response(200, ConversationSchema)
def invite(fields, conversation_id: int):
    """Invite people to a group: all of them or, on a refusal, nobody. Someone the admin
    removed only the admin can invite back."""
    conversation = access_group(current_user, conversation_id)
    offered = {
        person.id: person
        for person in invite_candidates(
            current_user.id,
            conversation.id,
            readmit_removed=conversation.admin_id == current_user.id,
        )
    }
    wanted = set(fields["user_ids"])
    chosen = [offered[i] for i in wanted if i in offered]
    # Someone not offered (as in the web's choice list) is nobody chosen.
    if len(chosen) != len(wanted):
        chosen = []
    groups.invite_many(unproxy(current_user), conversation, chosen)
    return _detail(conversation)


@bp.route("/<int:conversation_id>/invitation/", methods=["POST"])
@bp.errors(404)
@bp.arguments(InvitationAnswer)
@bp.response(204)
def answer_invitation(fields, conversation_id: int):
    """Accept (join the group) or decline an invitation to a group."""
    conversation = access_invitation(current_user, conversation_id)
    if fields["accept"]:
        groups.accept_invite(unproxy(current_user), conversation)
    else:
        groups.decline_invite(unproxy(current_user), conversation)


@bp.route("/<int:conversation_id>/leave/", methods=["POST"])
@bp.errors(404)
@bp.response(204)
def leave(conversation_id: int):
    """Leave a group; an admin leaving hands the role to the longest-standing member."""
    groups.leave(unproxy(current_user), access_group(current_user, conversation_id))


@bp.route("/<int:conversation_id>/members/<int:user_id>/", methods=["DELETE"])
@bp.errors(403, 404, 409)
@bp.response(204)
def remove_member(conversation_id: int, user_id: int):
    """The admin removes a member, or cancels an invitation."""
    conversation = access_group(current_user, conversation_id)
    member = db.session.get(User, user_id)
    if member is None:
        raise NotFound()
    groups.remove_member(unproxy(current_user), conversation, member)


@bp.route("/<int:conversation_id>/members/<int:user_id>/admin/", methods=["POST"])
@bp.errors(403, 404, 409)
@bp.response(200, ConversationSchema)
def make_admin(conversation_id: int, user_id: int):
    """The admin hands the admin role to another member."""
    conversation = access_group(current_user, conversation_id)
    member = db.session.get(User, user_id)
    if member is None:
        raise NotFound()
    groups.pass_admin(unproxy(current_user), conversation, member)
    return _detail(conversation)
