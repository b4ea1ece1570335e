"""Accounts: registration, verification, sign-in checks, passwords, email, deletion."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import Enum

import email_validator
from flask import current_app
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from qosyl import paths
from qosyl.actions import ActionError
from qosyl.actions import check_storable
from qosyl.actions import Checks
from qosyl.actions import NotFound
from qosyl.actions.groups import member_going
from qosyl.actions.notifications import notify
from qosyl.actions.rooms import host_going
from qosyl.errors import Forbidden
from qosyl.errors import SignedOut
from qosyl.extensions import db
from qosyl.live import connections
from qosyl.live.oncommit import on_commit
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import LoginSession
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.passwords import hash_password
from qosyl.passwords import password_problem
from qosyl.passwords import verify_password
from qosyl.render import media
from qosyl.render.mail import send_email
from qosyl.tokens import make_token
from qosyl.tokens import read_token
from qosyl.tokens import TokenError
from qosyl.web.auth import KEY_BYTES
from qosyl.web.auth import key_hash
from qosyl.web.auth import new_login_key

VERIFY = "verify-email"
RESET = "reset-password"


NAME_LENGTH = 50
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254
_USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]+")
# Names that would read as the site speaking, or clash with paths.
RESERVED_USERNAMES = {
    "admin",
    "administrator",
    "api",
    "help",
    "login",
    "logout",
    "me",
    "moderator",
    "notifications",
    "qosyl",
    "register",
    "root",
    "settings",
    "staff",
    "support",
    "system",
    "welcome",
}
USERNAME_TAKEN = "This username is taken."
WRONG_SIGN_IN = "The username, email or password is not correct."
UNVERIFIED = "Verify your email address before signing in: open the link we mailed you."
REFRESH_REUSED = (
    "This refresh token was already used, so it may have been copied: every token of this "
    "sign-in is revoked. Sign in again."
)
EMAIL_TAKEN = "An account with this email already exists."


def normalise_email(email: str) -> str:
    return email.strip().lower()


# The rules for what people type: each raises ActionError on the field the forms call it,
# with the words the forms show, so every way in refuses the same input alike.


def check_name(value: str, field: str, label: str) -> str:
    """A first or last name, stripped."""
    value = check_storable((value or "").strip(), field)
    if not value:
        raise ActionError(f"Enter your {label}.", field)
    if len(value) > NAME_LENGTH:
        raise ActionError(f"Use at most {NAME_LENGTH} characters.", field)
    return value


def check_username(username: str, field: str = "username") -> str:
    """A new username, stripped: its shape, then whether it is reserved or taken."""
    username = (username or "").strip()
    if not username:
        raise ActionError("Choose a username.", field)
    if not USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH:
        raise ActionError(f"Use {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters.", field)
    if not _USERNAME_PATTERN.fullmatch(username):
        raise ActionError("Use only letters, digits and underscores.", field)
    if username.lower() in RESERVED_USERNAMES:
        raise ActionError("This username is reserved. Choose another.", field)
    if user_by_username(username) is not None:
        raise ActionError(USERNAME_TAKEN, field)
    return username


def check_email(email: str, field: str = "email") -> str:
    """A well-formed address, normalised (stripped, lower case); not whether it is in use."""
    email = (email or "").strip()
    if not email:
        raise ActionError("Enter your email address.", field)
    if len(email) > EMAIL_MAX_LENGTH:
        raise ActionError(f"Use at most {EMAIL_MAX_LENGTH} characters.", field)
    try:
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise ActionError("Enter a valid email address, like name@example.com.", field) from None
    return normalise_email(email)


def check_new_password(password: str, user_inputs: list[str], field: str = "password") -> None:
    """A new password strong enough (passwords.password_problem) and not made of the
    person's own name, username or address."""
    if not (password or "").strip():
        raise ActionError("Choose a password.", field)
    problem = password_problem(password, user_inputs)
    if problem:
        raise ActionError(problem, field)


def _unused_email(email: str) -> str:
    email = check_email(email)
    if email_in_use(email):
        raise ActionError(EMAIL_TAKEN, "email")
    return email


def _own_words(user: User) -> list[str]:
    return [user.username, user.email, user.first_name, user.last_name]


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


ADDRESS_TAKEN = "Another account now uses this address."


def email_in_use(email: str, *, except_user: User | None = None) -> bool:
    """True if an account has this address (verified or not).

    A change waiting for confirmation reserves nothing: several people may ask
    for one address, and the first to confirm it from its mailbox gets it.
    """
    email = normalise_email(email)
    query = select(User.id).where(func.lower(User.email) == email)
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return db.session.scalar(query.limit(1)) is not None


def register_user(
    *, first_name: str, last_name: str, username: str, email: str, password: str
) -> User:
    """Create an unverified account and mail its verification link.

    Every field is checked here; the problems found raise Invalid, each on its field. A
    username or address taken meanwhile (a race with another sign-up) raises ActionError
    on its field.
    """
    # The password may not contain what was typed, even into a field refused below.
    typed = [username, email, first_name, last_name]
    checks = Checks()
    first_name = checks.run(check_name, first_name, "first_name", "first name")
    last_name = checks.run(check_name, last_name, "last_name", "last name")
    username = checks.run(check_username, username)
    email = checks.run(_unused_email, email)
    checks.run(check_new_password, password, [(value or "").strip() for value in typed])
    checks.done()
    user = User(
        first_name=first_name,
        last_name=last_name,
        username=username,
        email=email,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if user_by_username(username) is not None:
            raise ActionError(USERNAME_TAKEN, "username") from None
        raise ActionError(EMAIL_TAKEN, "email") from None
    send_verification_email(user)
    db.session.commit()
    return user


def send_verification_email(user: User) -> None:
    """Mail a link proving `user` owns their new (or pending) address. Caller commits."""
    address = user.pending_email or user.email
    token = make_token(VERIFY, {"uid": user.id, "email": address})
    send_email(
        address,
        "confirm your email address",
        "verify_email",
        user=user,
        token=token,
        hours=int(current_app.config["VERIFY_TOKEN_MAX_AGE"].total_seconds() // 3600),
        changing=user.pending_email is not None,
    )


def resend_verification(email: str) -> None:
    """Mail a fresh link for each unverified account or pending change with this address.

    Says nothing either way, so the form cannot be used to probe for accounts; only a
    malformed address is refused (ActionError on "email").
    """
    email = check_email(email)
    waiting = db.session.scalars(
        select(User)
        .where(
            or_(
                (func.lower(User.email) == email) & User.email_verified_at.is_(None),
                func.lower(User.pending_email) == email,
            )
        )
        .order_by(User.id)
    )
    for user in waiting:
        send_verification_email(user)
    db.session.commit()


class Verified(Enum):
    FIRST_TIME = "first-time"  # a new account: go on to profile setup
    EMAIL_CHANGED = "email-changed"
    ALREADY = "already"  # the link was opened before


@dataclass
class VerifyResult:
    user: User
    outcome: Verified


def verify_email(token: str) -> VerifyResult:
    """Confirm an address from a mailed link. Raises ActionError for bad or stale links."""
    payload, error = read_token(VERIFY, token, current_app.config["VERIFY_TOKEN_MAX_AGE"])
    if error is TokenError.EXPIRED:
        raise ActionError("This link has expired. Ask for a new one below.")
    user = db.session.get(User, payload.get("uid")) if payload else None
    if user is None:
        raise ActionError("This link is not valid. Ask for a new one below.")
    email = payload.get("email")
    if user.pending_email and user.pending_email == email:
        owner = user_by_email(email)
        if owner is not None and owner.id != user.id:
            raise _email_change_lost(user)
        user.email, user.pending_email = email, None
        try:
            _withdraw_pending_changes_to(email, user)  # flushes the new address first
            db.session.commit()
        except IntegrityError:
            # Another confirmation (or sign-up) of this address committed first.
            db.session.rollback()
            raise _email_change_lost(user) from None
        return VerifyResult(user, Verified.EMAIL_CHANGED)
    if user.email != email:
        if user_by_email(email) is not None:
            raise ActionError(ADDRESS_TAKEN)
        raise ActionError("This link is for an address the account no longer uses.")
    if user.is_verified:
        return VerifyResult(user, Verified.ALREADY)
    user.email_verified_at = utcnow()
    _withdraw_pending_changes_to(email, user)
    db.session.commit()
    return VerifyResult(user, Verified.FIRST_TIME)


def _withdraw_pending_changes_to(email: str, owner: User) -> None:
    """`owner` has confirmed `email`: other people's changes to it are over. Caller commits."""
    db.session.execute(
        update(User)
        .where(func.lower(User.pending_email) == normalise_email(email), User.id != owner.id)
        .values(pending_email=None)
        .execution_options(synchronize_session=False)
    )


def _email_change_lost(user: User) -> ActionError:
    """The address `user` waited for went to someone else: drop the change (committed)
    and return the error to raise."""
    user.pending_email = None
    db.session.commit()
    return ActionError(ADDRESS_TAKEN)


def user_for_login(login: str) -> User | None:
    """The account a sign-in names, by username or email address."""
    login = login.strip()
    return user_by_email(login) if "@" in login else user_by_username(login)


def authenticate(login: str, password: str) -> User | None:
    """The account matching a username or email and password, or None."""
    user = user_for_login(login)
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def user_signing_in(login: str, password: str) -> User:
    """The verified account a sign-in names, for the browser and the API alike: SignedOut
    (WRONG_SIGN_IN) for a wrong login or password, Forbidden (UNVERIFIED) before the
    address is verified."""
    user = authenticate(login, password)
    if user is None:
        raise SignedOut(WRONG_SIGN_IN)
    if not user.is_verified:
        raise Forbidden(UNVERIFIED)
    return user


def complete_onboarding(user: User) -> None:
    """Mark profile setup done; the first time, send the welcome notification."""
    if user.onboarded_at is not None:
        return
    user.onboarded_at = utcnow()
    notify(user, "welcome", target_url=paths.home())
    db.session.commit()


def set_admin(user: User, admin: bool) -> bool:
    """Grant (True) or revoke (False) the site overview (`flask admin`); False when the
    account already stood so, True when it changed."""
    if user.is_admin == admin:
        return False
    user.is_admin = admin
    db.session.commit()
    return True


# Sign-ins


def _prune_lapsed_sessions(user: User) -> None:
    """The user's sign-ins that nothing can use any more go: a browser's SIGN_IN_LIFETIME
    after it began, an API client's that long after its last refresh."""
    expired = utcnow() - current_app.config["SIGN_IN_LIFETIME"]
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(
                and_(LoginSession.kind == "web", LoginSession.created_at <= expired),
                LoginSession.renewed_at <= expired,
            ),
        )
    )


def open_login_session(user: User, user_agent: str = "") -> str:
    """Start a sign-in of `user` and return the key its cookies carry (also set on `user`)."""
    _prune_lapsed_sessions(user)
    key, hashed = new_login_key()
    row = LoginSession(user_id=user.id, key_hash=hashed, user_agent=user_agent[:255])
    db.session.add(row)
    db.session.commit()
    user.login_id, user.login_key = row.id, key
    return key


def open_api_session(user: User, user_agent: str = "") -> tuple[int, str]:
    """Start an API sign-in (a token family) of a verified `user`: (its id, the id of its
    first refresh token). Only that refresh token may renew it."""
    if not user.is_verified:
        raise Forbidden(UNVERIFIED)
    _prune_lapsed_sessions(user)
    token_id = secrets.token_urlsafe(KEY_BYTES)
    row = LoginSession(
        user_id=user.id, kind="api", key_hash=key_hash(token_id), user_agent=user_agent[:255]
    )
    db.session.add(row)
    db.session.commit()
    user.login_id = row.id
    return row.id, token_id


def renew_api_session(user_id: int, login_id: int, token_id: str) -> tuple[User, str]:
    """Rotate an API sign-in's refresh token: `token_id` must be the one it last issued;
    returns the id of the next. A refresh token presented a second time means two clients
    hold it, one of them a thief: the whole sign-in ends (committed) and SignedOut is
    raised, as for one that already ended. Returns the user and the next token's id."""
    found = db.session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(
            LoginSession.id == login_id,
            LoginSession.user_id == user_id,
            LoginSession.kind == "api",
            User.email_verified_at.is_not(None),
        )
        .with_for_update(of=LoginSession)
    ).first()
    if found is None:
        raise SignedOut()
    row, user = found
    if not hmac.compare_digest(row.key_hash, key_hash(token_id)):
        _end_login_sessions(user_id, [row.id])
        db.session.commit()
        raise SignedOut(REFRESH_REUSED)
    next_id = secrets.token_urlsafe(KEY_BYTES)
    row.key_hash, row.renewed_at = key_hash(next_id), utcnow()
    db.session.commit()
    return user, next_id


def close_login_session(user: User) -> None:
    """Sign out: the sign-in `user` is under ends, and the tabs it opened close."""
    if user.login_id is not None:
        _end_login_sessions(user.id, [user.login_id])
    db.session.commit()


def _end_login_sessions(user_id: int, login_ids: list[int]) -> None:
    """Delete sign-ins; after commit their open tabs are disconnected. Caller commits."""
    if not login_ids:
        return
    db.session.execute(delete(LoginSession).where(LoginSession.id.in_(login_ids)))
    ended = set(login_ids)
    # Their tabs learn it by being disconnected (static/js/realtime.js then reloads them).
    on_commit(lambda: connections.disconnect(user_id, ended))


def end_sign_in(user: User, login_id: int) -> None:
    """Sign out one of the user's sign-ins (a browser or an API client), from another: its
    cookies or tokens stop working and its open sockets close. NotFound when it is not
    theirs, or has ended already."""
    owned = db.session.scalar(
        select(LoginSession.id).where(LoginSession.id == login_id, LoginSession.user_id == user.id)
    )
    if owned is None:
        raise NotFound("This sign-in has ended already.")
    _end_login_sessions(user.id, [owned])
    db.session.commit()


def end_other_sign_ins(user: User) -> None:
    """Sign out everywhere but the sign-in making the request."""
    _revoke_sessions(user, keep=user.login_id)
    db.session.commit()


def _revoke_sessions(user: User, keep: int | None = None) -> None:
    """Every sign-in of `user` but `keep` ends. Caller commits."""
    ended = select(LoginSession.id).where(LoginSession.user_id == user.id)
    if keep is not None:
        ended = ended.where(LoginSession.id != keep)
    _end_login_sessions(user.id, list(db.session.scalars(ended)))


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Other devices are signed out; the sign-in making the change stays. The new password
    is judged before the current one is checked (the cheap refusal first)."""
    check_new_password(new_password, _own_words(user))
    if not verify_password(user.password_hash, current_password):
        raise ActionError("Your current password is not correct.", "current_password")
    user.password_hash = hash_password(new_password)
    _revoke_sessions(user, keep=user.login_id)
    send_email(user.email, "your password was changed", "password_changed", user=user)
    db.session.commit()


def _password_fingerprint(user: User) -> str:
    # Part of the reset token: once the password changes, the link is spent.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Mail a reset link if an account has this address; silent either way. A malformed
    address is refused (ActionError on "email")."""
    user = user_by_email(check_email(email))
    if user is not None:
        token = make_token(RESET, {"uid": user.id, "pw": _password_fingerprint(user)})
        send_email(
            user.email,
            "reset your password",
            "reset_password",
            user=user,
            token=token,
            minutes=int(current_app.config["RESET_TOKEN_MAX_AGE"].total_seconds() // 60),
        )
    db.session.commit()


def user_for_reset_token(token: str) -> User:
    payload, error = read_token(RESET, token, current_app.config["RESET_TOKEN_MAX_AGE"])
    if error is TokenError.EXPIRED:
        raise ActionError("This reset link has expired. Ask for a new one.")
    user = db.session.get(User, payload.get("uid")) if payload else None
    if user is None or payload.get("pw") != _password_fingerprint(user):
        raise ActionError("This reset link is not valid or was already used. Ask for a new one.")
    return user


def reset_password(token: str, new_password: str) -> User:
    """A bad or spent link raises ActionError without a field; a weak password, on "password"."""
    user = user_for_reset_token(token)
    check_new_password(new_password, _own_words(user))
    user.password_hash = hash_password(new_password)
    # The link reached the mailbox, which proves the address as well as a verification would.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    # Whoever asked for the link may not be signed in here at all: every sign-in ends.
    _revoke_sessions(user)
    send_email(user.email, "your password was changed", "password_changed", user=user)
    db.session.commit()
    return user


def request_email_change(user: User, new_email: str, password: str) -> None:
    """Keep the old address until the new one is confirmed from its own mailbox."""
    new_email = check_email(new_email)
    if not verify_password(user.password_hash, password):
        raise ActionError("Your password is not correct.", "password")
    if new_email == user.email:
        raise ActionError("This is already your email address.", "email")
    if email_in_use(new_email, except_user=user):
        raise ActionError(EMAIL_TAKEN, "email")
    user.pending_email = new_email
    send_verification_email(user)
    send_email(
        user.email,
        "your email address is changing",
        "email_change_notice",
        user=user,
        new_email=new_email,
    )
    db.session.commit()


def cancel_email_change(user: User) -> None:
    user.pending_email = None
    db.session.commit()


def delete_account(user: User, password: str) -> None:
    """Delete the account and everything it owns, and nothing that others wrote.

    Rooms it hosted pass on as when the host leaves (the lobby stays, empty rooms go);
    groups it ran get a new admin as when the admin leaves. Its comments that others
    answered stay, emptied, as "deleted comment" above the replies; its other comments go.
    Like and comment counters of other people's posts are recounted, and every tab of the
    account is disconnected.
    """
    if not verify_password(user.password_hash, password):
        raise ActionError("Your password is not correct.", "password")
    user_id = user.id

    touched_posts = set(
        db.session.scalars(select(PostLike.post_id).where(PostLike.user_id == user_id))
    ) | set(db.session.scalars(select(Comment.post_id).where(Comment.author_id == user_id)))

    for room in db.session.scalars(select(Room).where(Room.host_id == user_id)):
        host_going(room, user_id)
    for conversation in db.session.scalars(
        select(Conversation).where(Conversation.admin_id == user_id)
    ):
        member_going(conversation, user_id)
    _keep_answered_comments(user_id)

    images = [("avatar", user.avatar_key), ("cover", user.cover_key)] + [
        ("post", key)
        for key in db.session.scalars(
            select(Post.image_key).where(Post.author_id == user_id, Post.image_key.is_not(None))
        )
    ]
    db.session.delete(user)
    db.session.flush()
    if touched_posts:
        recount_post_counters(touched_posts)
    on_commit(lambda: connections.disconnect(user_id))
    on_commit(lambda: [media.delete_stored(kind, key) for kind, key in images])
    db.session.commit()


def _keep_answered_comments(user_id: int) -> None:
    """Empty the user's comments that others replied to (the account's deletion then sets
    their author to NULL: a "deleted comment" holding the replies' place) and delete the
    rest of the user's comments. Caller commits."""
    answered = select(Comment.parent_id).where(
        Comment.parent_id.is_not(None), Comment.author_id != user_id
    )
    db.session.execute(
        update(Comment)
        .where(Comment.author_id == user_id, Comment.id.in_(answered))
        .values(body="", body_html="", edited_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Comment)
        .where(Comment.author_id == user_id, Comment.id.not_in(answered))
        .execution_options(synchronize_session=False)
    )


def recount_post_counters(post_ids: set[int]) -> None:
    likes = (
        select(func.count()).where(PostLike.post_id == Post.id).correlate(Post).scalar_subquery()
    )
    # A deleted comment kept for its replies is no comment to count.
    comments = (
        select(func.count())
        .where(Comment.post_id == Post.id, Comment.author_id.is_not(None))
        .correlate(Post)
        .scalar_subquery()
    )
    db.session.execute(
        update(Post)
        .where(Post.id.in_(post_ids))
        .values(like_count=likes, comment_count=comments)
        .execution_options(synchronize_session=False)
    )
