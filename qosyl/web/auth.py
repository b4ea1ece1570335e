"""Signing in and out of the browser session, on top of Flask-Login.

Flask-Login keeps `user.get_id()` in the session cookie and the remember-me cookie. Here
that id is the random key of a LoginSession row, so the server decides on every request
whether a cookie still signs anyone in: signing out deletes the row, and so does a
password change or reset for the other sign-ins.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from flask import current_app
from flask import request
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user
from sqlalchemy import bindparam
from sqlalchemy import Select
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import LoginSession
from qosyl.models import User
from qosyl.models.base import utcnow

KEY_BYTES = 32
MAX_KEY_LENGTH = 64


def new_login_key() -> tuple[str, str]:
    """A fresh key for a cookie and the hash to store for it."""
    key = secrets.token_urlsafe(KEY_BYTES)
    return key, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_user(key: str) -> User | None:
    """The verified account a cookie's key signs in (Flask-Login's user_loader); one query."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    since = utcnow() - current_app.config["SIGN_IN_LIFETIME"]
    bound = {"key_hash": key_hash(key), "since": since}
    row = db.session.execute(_signed_in_query(), bound).first()
    if row is None:
        return None
    user, login_id = row
    user.login_id, user.login_key = login_id, key
    return user


@cache
def _signed_in_query() -> Select:
    """Built once, the key and the time bound per call: every request runs it, and building
    the statement cost as much as running it (bench/pages.py --profile bare)."""
    return (
        select(User, LoginSession.id)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.key_hash == bindparam("key_hash"),
            LoginSession.kind == "web",
            LoginSession.created_at > bindparam("since"),
            User.email_verified_at.is_not(None),
        )
    )


def sign_in(user: User, *, remember: bool = False) -> None:
    """Open a new sign-in for this browser and put its key in the session cookie."""
    from qosyl.actions.accounts import open_login_session

    open_login_session(user, request.user_agent.string)
    login_user(user, remember=remember)


def sign_out() -> None:
    """End this browser's sign-in on the server, then forget it in the cookies."""
    from qosyl.actions.accounts import close_login_session

    if current_user.is_authenticated:
        close_login_session(current_user._get_current_object())
    logout_user()
