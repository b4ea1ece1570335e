"""The settings pages: profile, password, email address, notifications, messages,
blocked people and account deletion, under one layout and one nav."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import logout_user

from qosyl.actions import accounts
from qosyl.actions import ActionError
from qosyl.actions import messages as message_actions
from qosyl.actions import notifications as notification_actions
from qosyl.actions import profiles
from qosyl.blueprints.settings.forms import ChangeEmailForm
from qosyl.blueprints.settings.forms import ChangePasswordForm
from qosyl.blueprints.settings.forms import DeleteAccountForm
from qosyl.blueprints.settings.forms import MessageSettingsForm
from qosyl.blueprints.settings.forms import NotificationSettingsForm
from qosyl.blueprints.settings.forms import ProfileForm
from qosyl.blueprints.settings.forms import TimeZoneForm
from qosyl.notification_kinds import KINDS
from qosyl.reads.people import blocked_people
from qosyl.reads.sign_ins import device
from qosyl.reads.sign_ins import sign_ins as reads_sign_ins
from qosyl.web.auth import sign_out
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment

bp = Blueprint("settings", __name__)


@bp.before_request
@login_required
def require_login():
    """Settings are for signed-in users."""


@bp.route("/settings/profile", methods=["GET", "POST"])
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            profiles.update_profile(
                current_user,
                form.profile_fields(),
                avatar=form.avatar.upload(),
                cover=form.cover.upload(),
                remove_avatar=form.remove_avatar.data,
                remove_cover=form.remove_cover.data,
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("profiles.show", username=current_user.username))
    return render("settings/profile.html", status=form_status(form), form=form)


@bp.route("/settings/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.password.data)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("settings.password"))
    return render("settings/password.html", status=form_status(form), form=form)


@bp.route("/settings/email", methods=["GET", "POST"])
def email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            accounts.request_email_change(current_user, form.email.data, form.password.data)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash(
                f"Open the link we sent to {current_user.pending_email} to confirm it. "
                f"Until then, {current_user.email} stays your address.",
                "success",
            )
            return redirect(url_for("settings.email"))
    return render("settings/email.html", status=form_status(form), form=form)


@bp.post("/settings/email/cancel")
def cancel_email():
    accounts.cancel_email_change(current_user)
    flash("The email change is cancelled.", "info")
    return redirect(url_for("settings.email"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
def notifications():
    form = NotificationSettingsForm()
    if form.validate_on_submit():
        muted = {kind for kind in KINDS if not form.data["kinds"].get(kind)}
        notification_actions.set_muted_kinds(current_user, muted)
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("settings.notifications"))
    if request.method == "GET":
        muted = notification_actions.muted_kinds(current_user.id)
        for kind in KINDS:
            form.kinds[kind].data = kind not in muted
    return render("settings/notifications.html", form=form, kinds=KINDS)


@bp.route("/settings/messages", methods=["GET", "POST"])
def messages():
    """Who may start a conversation with me (MSG-2)."""
    form = MessageSettingsForm(friends_only=current_user.messages_from_friends_only)
    if form.validate_on_submit():
        message_actions.set_friends_only(current_user, bool(form.friends_only.data))
        flash("Message settings saved.", "success")
        return redirect(url_for("settings.messages"))
    return render("settings/messages.html", status=form_status(form), form=form)


@bp.route("/settings/time-zone", methods=["GET", "POST"])
def time_zone():
    """The zone insights cut days in. The page's form posts here, and so does the insights
    page's script (HX-Request) with the browser's zone when none is stored: it gets 204, or
    400 and the reason, instead of a page."""
    form = TimeZoneForm(time_zone=current_user.time_zone or "UTC")
    if form.validate_on_submit():
        try:
            profiles.set_time_zone(current_user, form.time_zone.data)
        except ActionError as error:
            if wants_fragment():
                return error.message, 400, {"Content-Type": "text/plain; charset=utf-8"}
            apply_action_error(form, error)
        else:
            if wants_fragment():
                return "", 204
            flash("Your time zone is saved.", "success")
            return redirect(url_for("settings.time_zone"))
    return render("settings/time_zone.html", status=form_status(form), form=form)


@bp.get("/settings/blocked")
def blocked():
    return render("settings/blocked.html", people=blocked_people(current_user.id))


@bp.get("/settings/sign-ins")
def sign_ins():
    """Where I am signed in (browsers and apps using the API), each with Sign out."""
    return render(
        "settings/sign_ins.html",
        sign_ins=reads_sign_ins(current_user.id),
        current_id=current_user.login_id,
        device=device,
    )


@bp.post("/settings/sign-ins/<int:login_id>/end")
def end_sign_in(login_id: int):
    if login_id == current_user.login_id:
        # This browser: the ordinary sign-out, which also forgets the cookie.
        sign_out()
        flash("You are signed out.", "info")
        return redirect(url_for("main.home"))
    accounts.end_sign_in(current_user, login_id)
    flash("Signed out there. Its open pages and apps stop working at once.", "success")
    return redirect(url_for("settings.sign_ins"))


@bp.post("/settings/sign-ins/end-others")
def end_other_sign_ins():
    accounts.end_other_sign_ins(current_user)
    flash("Signed out everywhere else.", "success")
    return redirect(url_for("settings.sign_ins"))


@bp.route("/settings/delete", methods=["GET", "POST"])
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            accounts.delete_account(current_user, form.password.data)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            # The account's sign-ins went with it; only the cookie is left to forget.
            logout_user()
            flash("Your account is deleted. Goodbye!", "info")
            return redirect(url_for("main.home"))
    return render("settings/delete_account.html", status=form_status(form), form=form)
