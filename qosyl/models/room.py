"""Rooms gathered around topics, their members and their chat messages."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey
from sqlalchemy import func
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from qosyl.models.base import db
from qosyl.models.base import utcnow
from qosyl.models.user import User


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("uq_topics_name_lower", func.lower(name), unique=True),)


class Room(db.Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="RESTRICT"))
    # None only in the moment between a host deleting their account and the hand-over.
    host_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    # The lobby is open to every signed-in user without joining.
    is_lobby: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    topic: Mapped[Topic] = relationship(lazy="raise_on_sql")
    host: Mapped[User | None] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("ix_rooms_topic_id", "topic_id"),
        Index("ix_rooms_host_id", "host_id"),
    )


class RoomMember(db.Model):
    __tablename__ = "room_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the host removes the member: the room refuses them until cleared.
    removed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_room_members_user_id", "user_id"),)


class RoomMembershipEvent(db.Model):
    """Someone joined or left a room (a host's removal counts as leaving): the history the
    room's insights count, which room_members (the present) cannot tell."""

    __tablename__ = "room_membership_events"

    JOINED: ClassVar[str] = "joined"
    LEFT: ClassVar[str] = "left"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_room_membership_events_room_id_created_at", "room_id", "created_at"),
        Index("ix_room_membership_events_user_id_created_at", "user_id", "created_at"),
    )


class RoomMessage(db.Model):
    __tablename__ = "room_messages"
    # Which kind of chat stream it belongs to (see actions/chat.py); not a column.
    kind: ClassVar[str] = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    # Rendered by markup.render() when written, like posts.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Chosen by the sending tab: a message sent twice (a retry after a drop) is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="raise_on_sql")
    room: Mapped[Room] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("uq_room_messages_author_id_client_id", "author_id", "client_id", unique=True),
        Index("ix_room_messages_room_id_id", "room_id", "id"),
        # Also a person's messages over a period (insights).
        Index("ix_room_messages_author_id_created_at", "author_id", "created_at"),
        Index("ix_room_messages_created_at", "created_at"),
        # Insights count a room's active members and contributors over a period: the author
        # is in the index so that no message row is read.
        Index(
            "ix_room_messages_room_id_created_at_author_id", "room_id", "created_at", "author_id"
        ),
    )
