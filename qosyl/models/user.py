"""Accounts and the profile fields shown on a user's page."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import false
from sqlalchemy import ForeignKey
from sqlalchemy import func
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from qosyl.links import LinkError
from qosyl.links import normalise_link
from qosyl.models.base import db
from qosyl.models.base import utcnow

# Social links a profile may carry: (column, label, allowed hosts; empty = any host).
SOCIAL_LINKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("website", "Website", ()),
    ("github", "GitHub", ("github.com",)),
    ("twitter", "X (Twitter)", ("x.com", "twitter.com")),
    ("linkedin", "LinkedIn", ("linkedin.com",)),
    ("instagram", "Instagram", ("instagram.com",)),
    ("facebook", "Facebook", ("facebook.com",)),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Stored lower-cased; the unique index on lower() guards against old rows too.
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))

    email_verified_at: Mapped[datetime | None]
    # A new address waiting for its verification link to be opened.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    # Set when the profile-setup step is finished or skipped.
    onboarded_at: Mapped[datetime | None]
    # Settings: only friends may start a conversation with this user (MSG-2).
    messages_from_friends_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The IANA zone insights cut days in (sent by the browser, checked); None: not known yet.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Sees the site overview; set with `flask admin grant USERNAME`.
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The counts the profile shows, kept by database triggers (models/counters.py), not here.
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    friend_count: Mapped[int] = mapped_column(default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    bio: Mapped[str] = mapped_column(String(160), default="")
    about: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    github: Mapped[str] = mapped_column(String(255), default="")
    twitter: Mapped[str] = mapped_column(String(255), default="")
    linkedin: Mapped[str] = mapped_column(String(255), default="")
    instagram: Mapped[str] = mapped_column(String(255), default="")
    facebook: Mapped[str] = mapped_column(String(255), default="")
    # Random names of the stored image sets (see media.py); None = no image.
    avatar_key: Mapped[str | None] = mapped_column(String(64))
    cover_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
        # The people list orders by sign-up time.
        Index("ix_users_created_at", "created_at"),
    )

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self) -> str:
        return (self.first_name[:1] + self.last_name[:1]).upper() or self.username[:1].upper()

    @property
    def social_links(self) -> list[tuple[str, str]]:
        """(label, url) of every link the user filled in, in display order.

        Checked again here: a link saved before the check existed (or by other
        means) is left out rather than sending readers somewhere else.
        """
        links = []
        for name, label, hosts in SOCIAL_LINKS:
            try:
                url = normalise_link(getattr(self, name), label=label, hosts=hosts)
            except LinkError:
                continue
            if url:
                links.append((label, url))
        return links

    # The sign-in (LoginSession) this request runs under, set by the session loader; not a
    # column. Cookies carry its key, not the user id: deleting the row ends the sign-in.
    login_id = None  # int
    login_key = None  # str

    def get_id(self) -> str:
        if self.login_key is None:
            raise RuntimeError(
                "sign users in through qosyl.web.auth.sign_in, which opens a session"
            )
        return self.login_key

    def __repr__(self) -> str:
        return f"<User {self.id} @{self.username}>"


class LoginSession(db.Model):
    """One sign-in: of one browser, or of one API client (a token family).

    A browser's cookie (and remember-me cookie) carries a random key whose hash is stored
    here. An API client holds JWTs naming the row; `key_hash` is then the hash of the one
    refresh token that may still be used, so a refresh token presented twice is noticed.
    Signing out, a password change, a reset or deleting the account deletes rows, and a
    cookie or token naming no row signs nobody in, however it was copied."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # SHA-256 of the key: the table alone cannot be turned into cookies or tokens.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "web" (cookies) or "api" (tokens): a key of one kind never opens the other.
    kind: Mapped[str] = mapped_column(String(8), default="web", server_default="web")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last use of the sign-in's refresh token (API), or its start (web): it lapses after
    # SIGN_IN_LIFETIME without one.
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    __table_args__ = (Index("ix_login_sessions_user_id", "user_id"),)
