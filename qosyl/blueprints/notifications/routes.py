"""The notifications page, the bell, and marking read or deleting."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.access import access_notification
from qosyl.actions import notifications as actions
from qosyl.htmx import add_trigger
from qosyl.htmx import render
from qosyl.htmx import wants_fragment
from qosyl.inputs import query_int
from qosyl.queries import notifications_page

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
