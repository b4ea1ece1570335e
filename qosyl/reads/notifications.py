"""Notifications and the header's counts.

Each query carries the eager loads its page needs.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.extensions import db
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.reads.conversations import _unread_count


def notifications_page(
    user_id: int, before_id: int | None = None, limit: int = 20, *, unread_only: bool = False
) -> tuple[list[Notification], int | None]:
    """Newest first (only unread ones with `unread_only`); returns the page and the cursor
    for the next one (None at the end)."""
    query = (
        select(Notification)
        # Every row shows its actor's name and avatar: load them in the same query.
        .options(joinedload(Notification.actor))
        .where(Notification.recipient_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


# The header shows "99+" past 99: counting further is work nobody sees.
HEADER_COUNT_CAP = 100


def header_counts(user_id: int) -> tuple[int, int]:
    """Unread notifications and unread messages, exactly (the API's count): one query."""
    row = db.session.execute(_header_counts_query(), {"user_id": user_id}).one()
    return int(row[0] or 0), int(row[1] or 0)


def header_badges(user_id: int) -> tuple[int, int]:
    """Unread notifications and unread messages for the header of every page, each counted
    up to HEADER_COUNT_CAP: one query whose work is bounded by the cap, not by how much is
    unread (a member of 2,000 conversations never opened made every page count 150,000
    messages: bench/scale.py)."""
    row = db.session.execute(_header_badges_query(), {"user_id": user_id}).one()
    return int(row[0] or 0), int(row[1] or 0)


@cache
def _header_badges_query() -> Select:
    user_id = bindparam("user_id")
    notifications = (
        select(Notification.id)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .limit(HEADER_COUNT_CAP)
        .subquery()
    )
    messages = (
        select(Message.id)
        .join(
            ConversationMember,
            (ConversationMember.conversation_id == Message.conversation_id)
            & (Message.id > ConversationMember.last_read_id),
        )
        .where(
            ConversationMember.user_id == user_id,
            ConversationMember.status == MemberStatus.ACTIVE,
            Message.author_id != user_id,
        )
        .limit(HEADER_COUNT_CAP)
        .subquery()
    )
    return select(
        select(func.count()).select_from(notifications).scalar_subquery(),
        select(func.count()).select_from(messages).scalar_subquery(),
    )


@cache
def _header_counts_query() -> Select:
    """Built once, the user id bound per call: every page runs it, and building the
    statement cost as much as running it (bench/pages.py --profile bare)."""
    user_id = bindparam("user_id")
    notifications = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    messages = (
        select(func.coalesce(func.sum(_unread_count(user_id)), 0))
        .where(
            ConversationMember.user_id == user_id,
            ConversationMember.status == MemberStatus.ACTIVE,
        )
        .scalar_subquery()
    )
    return select(notifications, messages)
