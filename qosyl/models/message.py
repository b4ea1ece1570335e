"""Private and group conversations (MSG-1 to MSG-6): members, messages, attachments.

Read receipts are one number per member, the id of the last message they have seen:
"seen" in a one-to-one conversation and "seen by" in a group are both answered from it,
and so is the unread count.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from qosyl.models.base import db
from qosyl.models.base import utcnow
from qosyl.models.user import User


class ConversationKind(enum.StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class MemberStatus(enum.StrEnum):
    INVITED = "invited"  # asked to a group, not yet accepted: sees nothing
    ACTIVE = "active"
    LEFT = "left"
    REMOVED = "removed"  # by the group's admin


def _stored_as_value(enum_class: type[enum.Enum]) -> Enum:
    """A VARCHAR holding the member's value ("direct"), which SQL constraints can name."""
    return Enum(
        enum_class,
        native_enum=False,
        length=10,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Conversation(db.Model):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ConversationKind] = mapped_column(_stored_as_value(ConversationKind))
    # "<smaller user id>:<larger user id>" for one-to-one conversations: one per pair.
    direct_key: Mapped[str | None] = mapped_column(String(41))
    name: Mapped[str] = mapped_column(String(80), default="")
    # Groups only. None when the admin deleted their account and nobody was left to take over.
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the conversation list sorts by: the newest message, or creation until then.
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    admin: Mapped[User | None] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("uq_conversations_direct_key", "direct_key", unique=True),
        Index("ix_conversations_admin_id", "admin_id"),
        CheckConstraint(
            "(kind = 'direct') = (direct_key IS NOT NULL)", name="direct_key_for_direct"
        ),
    )


class ConversationMember(db.Model):
    __tablename__ = "conversation_members"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[MemberStatus] = mapped_column(_stored_as_value(MemberStatus))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest message this member has seen (0: none). Unread = messages after it.
    last_read_id: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise_on_sql")
    conversation: Mapped[Conversation] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("ix_conversation_members_user_id_status", "user_id", "status"),
        Index("ix_conversation_members_invited_by_id", "invited_by_id"),
    )


class Message(db.Model):
    __tablename__ = "messages"
    # Which kind of chat stream it belongs to (see actions/chat.py); not a column.
    kind: ClassVar[str] = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    # Rendered by markup.render() when written, like posts and room messages.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Chosen by the sending tab (kept in IndexedDB while offline): a resend is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(lazy="raise_on_sql")
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="raise_on_sql", order_by="Attachment.id"
    )

    __table_args__ = (
        Index("uq_messages_author_id_client_id", "author_id", "client_id", unique=True),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # Also a person's messages over a period (insights).
        Index("ix_messages_author_id_created_at", "author_id", "created_at"),
    )


class Attachment(db.Model):
    """A file sent with a message: an image (shown inline) or any other allowed file."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # The name the sender's file had, for the download; never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    # Decided from the content, not from the name or the browser's claim.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # Random names under the instance's upload folder.
    stored_name: Mapped[str] = mapped_column(String(64))
    thumbnail_name: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_attachments_message_id", "message_id"),)
