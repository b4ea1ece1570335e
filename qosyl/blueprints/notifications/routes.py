"""The notifications page, the bell, and marking read or deleting.

Reading: the page shows unread notifications with their unread styling, then marks
what it showed as read with a POST it fires once loaded (`seen`), as Mastodon's
client moves its read marker; nothing changes on a GET a third site can cause.
Opening a notification follows a signed link (`open`): the signature ties it to
the notification, so another site cannot mark anything read by linking here; it
marks the notification read and redirects to what it is about.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.actions import notifications as actions
from qosyl.models import Notification
from qosyl.reads.access import access_notification
from qosyl.reads.notifications import notifications_page
from qosyl.tokens import make_token
from qosyl.tokens import read_token
from qosyl.web.htmx import add_trigger
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import form_int
from qosyl.web.inputs import query_int
from qosyl.web.urls import safe_local_path

OPEN_TOKEN = "notification-open"
OPEN_TOKEN_AGE = timedelta(days=366)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def require_login():
    """Every notifications route is for the signed-in recipient."""


@bp.get("")
def index():
    before = query_int("before")
    items, next_cursor = notifications_page(current_user.id, before_id=before)
    # "Load more" wants the next rows only; a live refresh wants the whole list block.
    block = "rows" if before is not None else "list"
    return render("notifications/index.html", block, items=items, next_cursor=next_cursor)


@bp.app_template_global()
def notification_open_url(notification: Notification) -> str:
    token = make_token(OPEN_TOKEN, {"id": notification.id, "user": notification.recipient_id})
    return url_for("notifications.open_notification", notification_id=notification.id, token=token)


@bp.get("/<int:notification_id>/open")
def open_notification(notification_id: int):
    notification = access_notification(current_user, notification_id)
    payload, _error = read_token(OPEN_TOKEN, request.args.get("token", ""), OPEN_TOKEN_AGE)
    if payload == {"id": notification.id, "user": current_user.id}:
        actions.mark_read(current_user, notification)
    # Without a good signature the link still leads on; it only marks nothing read.
    return redirect(safe_local_path(notification.target_url) or url_for("notifications.index"))


@bp.post("/seen")
def seen():
    """The page showed notifications up to `up_to`: they are read now (see the docstring)."""
    up_to = form_int("up_to")
    if up_to is not None:
        actions.mark_seen(current_user, up_to)
    # This tab's bell refreshes at once; the others hear it over the live channel.
    return add_trigger(make_response("", 204), actions.SEEN_EVENT)


@bp.get("/bell")
def bell():
    return render_template("components/_bell.html")


def _changed(fragment: str, message: str):
    """The changed fragment for HTMX (plus a bell refresh); back to the page for plain forms."""
    if wants_fragment():
        return add_trigger(make_response(fragment), actions.CHANGED_EVENT)
    flash(message, "success")
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
def mark_read(notification_id: int):
    notification = access_notification(current_user, notification_id)
    actions.mark_read(current_user, notification)
    fragment = render_template("components/_notification.html", notification=notification)
    return _changed(fragment, "Marked as read.")


@bp.post("/read-all")
def mark_all_read():
    actions.mark_all_read(current_user)
    # The page's list refreshes itself on the trigger; nothing to swap here.
    return _changed("", "All notifications are marked as read.")


@bp.post("/<int:notification_id>/delete")
def delete(notification_id: int):
    notification = access_notification(current_user, notification_id)
    actions.delete_notification(current_user, notification)
    return _changed("", "Notification deleted.")
