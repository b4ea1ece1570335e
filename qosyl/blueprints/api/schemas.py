"""Shapes the API shares between resources: people and their relation to the caller.

A resource module keeps its own schemas; what several of them nest lives here.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask import has_request_context
from flask import request
from flask import url_for

from qosyl.render import media


def absolute(path: str | None) -> str | None:
    """A site path as a full URL, for clients that are not on our pages (PUBLIC_URL outside
    a request)."""
    if path is None:
        return None
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


class With:
    """`obj` with extra attributes for a schema to dump (the caller's relation, counts ...)."""

    def __init__(self, obj, **extra):
        self._obj = obj
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._obj, name)


def with_relations(people: list) -> list[With]:
    """People as UserWithRelation dumps them: each with the caller's relation (one query)."""
    from flask_login import current_user

    from qosyl.reads.people import relations_for

    relations = relations_for(current_user.id, [person.id for person in people])
    return [With(person, relation=relations[person.id]) for person in people]


class ImageUrl(ma.fields.Field):
    """The full URL of a stored image, from its key column; null when there is none."""

    def __init__(self, kind: str, variant: str, **kwargs):
        metadata = {"type": "string", "format": "uri", **kwargs.pop("metadata", {})}
        super().__init__(required=True, allow_none=True, metadata=metadata, **kwargs)
        self.kind, self.variant = kind, variant

    def _serialize(self, value, attr, obj, **kwargs):
        return absolute(media.image_url(self.kind, value, self.variant))


class UserSummary(ma.Schema):
    """A person as lists show them."""

    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    first_name = ma.fields.String(required=True)
    last_name = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    avatar_url = ImageUrl("avatar", "thumb", attribute="avatar_key")


class RelationSchema(ma.Schema):
    """How the caller and a person relate: decides which actions make sense."""

    is_self = ma.fields.Boolean(required=True)
    friends = ma.fields.Boolean(required=True)
    request_sent = ma.fields.Boolean(required=True, metadata={"description": "The caller asked."})
    request_received = ma.fields.Boolean(
        required=True, metadata={"description": "They asked the caller."}
    )
    following = ma.fields.Boolean(required=True)
    followed_by = ma.fields.Boolean(required=True)
    blocking = ma.fields.Boolean(required=True)


class UserWithRelation(UserSummary):
    relation = ma.fields.Nested(RelationSchema, required=True)


class AttachmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes."})
    width = ma.fields.Integer(required=True, allow_none=True)
    height = ma.fields.Integer(required=True, allow_none=True)
    url = ma.fields.Function(
        lambda attachment: absolute(
            url_for("api_conversations.attachment", attachment_id=attachment.id)
        ),
        required=True,
        metadata={"type": "string", "format": "uri", "description": "Download (with the token)."},
    )


# Schemas keep no state between dumps: one instance serves every message (building one
# per message was ~8% of a chat send's CPU, cProfile).
_ATTACHMENTS = AttachmentSchema(many=True)


class ChatMessageSchema(ma.Schema):
    """A message of any chat stream (one chat): a room's, the lobby's or a conversation's.
    The HTTP history endpoints and the live `chat_message` event share this shape."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["room", "conversation"]))
    stream_id = ma.fields.Function(
        lambda message: message.room_id if message.kind == "room" else message.conversation_id,
        required=True,
        metadata={"type": "integer", "description": "The room's or the conversation's id."},
    )
    author = ma.fields.Nested(UserSummary, required=True)
    body = ma.fields.String(required=True, metadata={"description": "Markdown, as written."})
    client_id = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    edited_at = ma.fields.Function(
        lambda message: _iso(getattr(message, "edited_at", None)),
        required=True,
        metadata={"type": ["string", "null"], "format": "date-time"},
    )
    attachments = ma.fields.Function(
        lambda message: _ATTACHMENTS.dump(
            message.attachments if message.kind == "conversation" else []
        ),
        required=True,
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
    )


def _iso(moment) -> str | None:
    return ma.fields.AwareDateTime()._serialize(moment, None, None) if moment else None
