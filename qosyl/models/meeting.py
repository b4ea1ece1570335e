"""Video meetings (VID-1, VID-2): who hosts one, what it belongs to, whether it still runs.

Media flows between browsers; Qosyl keeps only the meeting itself here. Who is in a
running meeting lives with presence (qosyl/live/meetings.py), not in the database.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from qosyl.models.base import db
from qosyl.models.base import utcnow
from qosyl.models.user import User


def new_public_id() -> str:
    """What links name a meeting by: 16 URL-safe characters, 96 random bits."""
    return secrets.token_urlsafe(12)


class Meeting(db.Model):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unguessable: knowing a link is never enough to join (see access_meeting), but it
    # keeps meetings from being found by counting.
    public_id: Mapped[str] = mapped_column(String(32), default=new_public_id)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A room's or a conversation's meeting (their members may join), or neither: a meeting
    # anyone signed in may join from its link.
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # A standalone meeting's text chat: a group conversation made with the meeting, which
    # everyone who joins from the link enters (actions.meetings.admit). A room's or a
    # conversation's meeting talks in the room's or the conversation's own chat.
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    host: Mapped[User] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("uq_meetings_public_id", "public_id", unique=True),
        Index("ix_meetings_host_id", "host_id"),
        Index("ix_meetings_room_id", "room_id"),
        Index("ix_meetings_conversation_id", "conversation_id"),
        Index("ix_meetings_chat_id", "chat_id"),
        # One running meeting per room and per conversation, even for two requests at once.
        Index(
            "uq_meetings_running_room_id",
            "room_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND room_id IS NOT NULL"),
            postgresql_where=text("ended_at IS NULL AND room_id IS NOT NULL"),
        ),
        Index(
            "uq_meetings_running_conversation_id",
            "conversation_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND conversation_id IS NOT NULL"),
            postgresql_where=text("ended_at IS NULL AND conversation_id IS NOT NULL"),
        ),
        CheckConstraint("room_id IS NULL OR conversation_id IS NULL", name="one_place_at_most"),
    )

    @property
    def chat_conversation_id(self) -> int | None:
        """The conversation whose chat the meeting shows, if it is not a room's."""
        return self.conversation_id or self.chat_id

    @property
    def is_standalone(self) -> bool:
        return self.room_id is None and self.conversation_id is None

    @property
    def is_running(self) -> bool:
        return self.ended_at is None
