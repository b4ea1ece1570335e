"""Sign-up, verification, sign-in and password reset; the account settings pages are in
the settings blueprint."""

from __future__ import annotations

import math
from functools import wraps

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_login import current_user

from qosyl import ratelimits
from qosyl.actions import accounts
from qosyl.actions import ActionError
from qosyl.actions import Forbidden
from qosyl.blueprints.accounts.forms import EmailRequestForm
from qosyl.blueprints.accounts.forms import LoginForm
from qosyl.blueprints.accounts.forms import RegisterForm
from qosyl.blueprints.accounts.forms import ResetPasswordForm
from qosyl.extensions import limiter
from qosyl.web.auth import sign_in
from qosyl.web.auth import sign_out
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.htmx import render
from qosyl.web.urls import safe_local_path

bp = Blueprint("accounts", __name__)


def _limit(name: str):
    return lambda: current_app.config[name]


def _email_key() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()


def _sign_in_locked(wait_seconds: int):
    minutes = math.ceil(wait_seconds / 60)
    form = LoginForm()
    form.form_errors.append(
        "Too many failed sign-ins to this account from your network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or reset your password."
    )
    page, status = render("accounts/login.html", status=429, form=form, resend_form=None)
    return page, status, {"Retry-After": str(wait_seconds)}


def _limit_sign_in_failures(view):
    """Failed sign-ins count per client and account, so guessing from one place stops
    after a few tries while the owner, signing in from elsewhere, is not locked out."""

    @wraps(view)
    def limited(*args, **kwargs):
        if request.method != "POST" or current_user.is_authenticated:
            return view(*args, **kwargs)
        client = ratelimits.sign_in_client()
        account = ratelimits.sign_in_account(request.form.get("login") or "")
        wait = ratelimits.count_sign_in_attempt(client, account)
        if wait is not None:
            return _sign_in_locked(wait)
        response = view(*args, **kwargs)
        if current_user.is_authenticated:
            ratelimits.forget_sign_in_failures(client, account)
        return response

    return limited


def _safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in; anything pointing elsewhere is dropped."""
    return safe_local_path(target)


def _after_sign_in_path(user) -> str:
    if user.onboarded_at is None:
        return url_for("profiles.setup")
    return url_for("main.home")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_REGISTER"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_user(
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                username=form.username.data,
                email=form.email.data,
                password=form.password.data,
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            return redirect(url_for("accounts.check_inbox", email=user.email))
    return render("accounts/register.html", status=form_status(form), form=form)


@bp.get("/register/check-inbox")
def check_inbox():
    form = EmailRequestForm(email=request.args.get("email", ""))
    return render("accounts/check_inbox.html", form=form, email=request.args.get("email", ""))


@bp.route("/verify/resend", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_EMAIL_REQUESTS"), methods=["POST"])
@limiter.limit(_limit("RATELIMIT_EMAIL_REQUESTS"), key_func=_email_key, methods=["POST"])
def resend_verification():
    form = EmailRequestForm()
    if form.validate_on_submit():
        try:
            accounts.resend_verification(form.email.data)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash(
                f"If {form.email.data} is waiting for verification, a new link is on its way.",
                "success",
            )
            return redirect(url_for("accounts.check_inbox", email=form.email.data))
    return render("accounts/resend.html", status=form_status(form), form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        result = accounts.verify_email(token)
    except ActionError as error:
        return render(
            "accounts/verify_failed.html",
            status=400,
            message=error.message,
            form=EmailRequestForm(),
        )
    user = result.user
    if result.outcome is accounts.Verified.FIRST_TIME:
        # Opening the link proves the mailbox: sign the new user in and go to profile setup.
        sign_in(user)
        flash("Your email address is verified. Welcome to Qosyl!", "success")
        return redirect(url_for("profiles.setup"))
    if result.outcome is accounts.Verified.EMAIL_CHANGED:
        flash(f"Your email address is now {user.email}.", "success")
        if current_user.is_authenticated:
            return redirect(url_for("settings.email"))
        return redirect(url_for("accounts.login"))
    flash("This address is already verified.", "info")
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN_PER_IP"), methods=["POST"])
@_limit_sign_in_failures
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    unverified_email = None
    if form.validate_on_submit():
        try:
            user = accounts.user_signing_in(form.login.data, form.password.data)
        except Forbidden as refused:
            unverified_email = accounts.user_for_login(form.login.data).email
            form.form_errors.append(refused.message)
        except ActionError as refused:
            form.form_errors.append(refused.message)
        else:
            sign_in(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or _after_sign_in_path(user))
    resend_form = EmailRequestForm(email=unverified_email) if unverified_email else None
    return render(
        "accounts/login.html", status=form_status(form), form=form, resend_form=resend_form
    )


@bp.post("/logout")
def logout():
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_EMAIL_REQUESTS"), methods=["POST"])
@limiter.limit(_limit("RATELIMIT_EMAIL_REQUESTS"), key_func=_email_key, methods=["POST"])
def forgot_password():
    form = EmailRequestForm()
    if form.validate_on_submit():
        try:
            accounts.request_password_reset(form.email.data)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            flash(
                f"If an account uses {form.email.data}, a link to reset its password is on "
                "its way.",
                "success",
            )
            return redirect(url_for("accounts.login"))
    return render("accounts/forgot_password.html", status=form_status(form), form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        accounts.user_for_reset_token(token)
    except ActionError as error:
        return render("accounts/reset_failed.html", status=400, message=error.message)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except ActionError as error:
            if error.field is None:  # the link, not the password
                return render("accounts/reset_failed.html", status=400, message=error.message)
            apply_action_error(form, error)
        else:
            sign_out()
            flash("Your password is changed. Sign in with your new password.", "success")
            return redirect(url_for("accounts.login"))
    return render("accounts/reset_password.html", status=form_status(form), form=form, token=token)
