"""Notifications through the API: the list, the unread count, marking read, deleting, and
which kinds to receive (the notifications settings page's checkboxes).

The same reads and actions as the notifications page and its settings; a notification of
someone else is 404, as it is there.
"""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from qosyl.actions import notifications as actions
from qosyl.actions import unproxy
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import encode_cursor
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import absolute
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.notification_kinds import KINDS
from qosyl.notification_kinds import sentence_text
from qosyl.reads.access import access_notification
from qosyl.reads.notifications import header_counts
from qosyl.reads.notifications import notifications_page

bp = ApiBlueprint(
    "notifications",
    "/api/notifications",
    "What happened to the caller: friend requests, follows, likes, comments, messages ...",
)


class NotificationListArgs(PageArgs):
    unread = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only notifications not read yet."}
    )


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(KINDS)))
    text = ma.fields.Function(
        lambda n: sentence_text(n.kind, n.actor.full_name if n.actor else None),
        required=True,
        metadata={"type": "string", "description": "The sentence the page shows, plain text."},
    )
    excerpt = ma.fields.String(
        required=True, metadata={"description": "A plain-text quote of what it is about."}
    )
    url = ma.fields.Function(
        lambda n: absolute(n.target_url) if n.target_url else None,
        required=True,
        metadata={"type": ["string", "null"], "format": "uri", "description": "What it is about."},
    )
    read = ma.fields.Boolean(attribute="is_read", required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    actor = ma.fields.Nested(
        UserSummary,
        required=True,
        allow_none=True,
        metadata={"description": "Who did it; null for notices from Qosyl itself."},
    )


class UnreadCount(ma.Schema):
    count = ma.fields.Integer(required=True, metadata={"description": "Unread notifications."})


class MarkedCount(ma.Schema):
    marked = ma.fields.Integer(
        required=True, metadata={"description": "How many were unread and are read now."}
    )


# One optional boolean per kind, as the settings page's checkboxes: true receives, false
# mutes; a kind left out stays as it is. An unknown kind is refused on its own field.
Preferences = ma.Schema.from_dict(
    {
        kind.name: ma.fields.Boolean(required=True, metadata={"description": kind.label})
        for kind in KINDS.values()
    },
    name="NotificationPreferences",
)
PreferencesUpdate = ma.Schema.from_dict(
    {kind.name: ma.fields.Boolean(metadata={"description": kind.label}) for kind in KINDS.values()},
    name="NotificationPreferencesUpdate",
)
NotificationPage = page_schema(NotificationSchema, "NotificationPage")


def _preferences(muted: set[str]) -> dict[str, bool]:
    return {kind: kind not in muted for kind in KINDS}


@bp.route("/")
@bp.errors()
@bp.arguments(NotificationListArgs, location="query")
@bp.response(200, NotificationPage)
def list_notifications(args):
    """The caller's notifications, newest first (only unread ones with `unread=true`).
    Listing marks nothing read."""
    after = decode_cursor(args["cursor"], int)
    items, cursor = notifications_page(
        current_user.id,
        before_id=after[0] if after else None,
        limit=args["limit"],
        unread_only=args["unread"],
    )
    return {"items": items, "next": encode_cursor(cursor) if cursor else None}


@bp.route("/unread-count/")
@bp.errors()
@bp.response(200, UnreadCount)
def unread_count():
    """How many of the caller's notifications are unread (the bell's number)."""
    notifications, _messages = header_counts(current_user.id)
    return {"count": notifications}


@bp.route("/<int:notification_id>/read/", methods=["PUT"])
@bp.errors(404)
@bp.response(200, NotificationSchema)
def mark_read(notification_id: int):
    """Mark one notification read."""
    notification = access_notification(current_user, notification_id)
    actions.mark_read(unproxy(current_user), notification)
    return notification


@bp.route("/read-all/", methods=["POST"])
@bp.errors()
@bp.response(200, MarkedCount)
def mark_all_read():
    """Mark every notification of the caller read."""
    return {"marked": actions.mark_all_read(unproxy(current_user))}


@bp.route("/<int:notification_id>/", methods=["DELETE"])
@bp.errors(404)
@bp.response(204)
def delete(notification_id: int):
    """Delete one notification."""
    notification = access_notification(current_user, notification_id)
    actions.delete_notification(unproxy(current_user), notification)


@bp.route("/preferences/")
@bp.errors()
@bp.response(200, Preferences)
def preferences():
    """Which kinds of notification the caller receives: `true` for each kind received."""
    return _preferences(actions.muted_kinds(current_user.id))


@bp.route("/preferences/", methods=["PUT"])
@bp.errors()
@bp.arguments(PreferencesUpdate)
@bp.response(200, Preferences)
def update_preferences(choices):
    """Receive (`true`) or mute (`false`) kinds of notification; kinds left out stay as
    they are. Answers every kind's setting after the change."""
    return _preferences(actions.choose_kinds(unproxy(current_user), choices))
