"""Rooms, topics, the lobby and their chat history.

Each query carries the eager loads its page needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.actions import storable
from qosyl.cache import remember
from qosyl.extensions import db
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User
from qosyl.reads.chat import chat_after
from qosyl.reads.chat import chat_page


def lobby() -> Room | None:
    return db.session.scalar(
        # The lobby card shows its topic.
        select(Room).options(joinedload(Room.topic)).where(Room.is_lobby).order_by(Room.id)
    )


def _room_messages(room_id: int):
    # Every message shows its author.
    return (
        select(RoomMessage)
        .options(joinedload(RoomMessage.author))
        .where(RoomMessage.room_id == room_id)
    )


def room_messages_page(
    room_id: int, before: int | None = None, limit: int = 50
) -> tuple[list[RoomMessage], int | None]:
    """The latest messages (before `before`), oldest first, and the cursor for older ones."""
    return chat_page(_room_messages(room_id), RoomMessage, before, limit)


def room_messages_after(
    room_id: int, after_id: int, limit: int, since: datetime | None = None
) -> list[RoomMessage]:
    return chat_after(_room_messages(room_id), RoomMessage, after_id, limit, since)


@dataclass(frozen=True)
class RoomCard:
    room: Room
    members: int
    last_message_at: datetime | None


def room_cards(query, extra: int = 0) -> list:
    """Rooms of a SELECT of Room, with their member count and last activity; one query.
    With `extra` columns added to the SELECT, (card, *extras) rows."""
    members = (
        select(func.count())
        .where(RoomMember.room_id == Room.id, RoomMember.removed_at.is_(None))
        .correlate(Room)
        .scalar_subquery()
    )
    last = (
        select(func.max(RoomMessage.created_at))
        .where(RoomMessage.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    rows = db.session.execute(
        # Cards show the topic and the host.
        query.add_columns(members, last).options(joinedload(Room.topic), joinedload(Room.host))
    ).all()
    if not extra:
        return [RoomCard(room, count, at) for room, count, at in rows]
    return [(RoomCard(row[0], row[-2], row[-1]), *row[1 : 1 + extra]) for row in rows]


def _by_activity():
    """Rooms, those with the latest message first (rooms without messages last, newest
    first), and the sort key: (id of the latest message or 0, room id), both descending."""
    last_id = func.coalesce(
        select(func.max(RoomMessage.id))
        .where(RoomMessage.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery(),
        0,
    )
    return select(Room).order_by(last_id.desc(), Room.id.desc()), last_id


def _of_topic(query, topic: str | None):
    if not topic:
        return query
    if not storable(topic):  # no topic is named so (and the driver would refuse it)
        return query.where(false())
    return query.join(Topic, Topic.id == Room.topic_id).where(
        func.lower(Topic.name) == topic.lower()
    )


def rooms_page(topic: str | None = None, page: int = 1, per_page: int = 30):
    """Rooms, those with the latest activity first, optionally of one topic."""
    query, _ = _by_activity()
    query = _of_topic(query, topic)
    cards = room_cards(query.limit(per_page + 1).offset((page - 1) * per_page))
    return cards[:per_page], len(cards) > per_page


def rooms_after(
    topic: str | None = None, after: tuple[int, int] | None = None, limit: int = 30
) -> list[tuple[RoomCard, tuple[int, int]]]:
    """The rooms page's order by keyset (for the API's cursors): up to `limit` + 1 cards
    after the sort key `after`, each with its own key; one query."""
    query, last_id = _by_activity()
    query = _of_topic(query, topic).add_columns(last_id)
    if after is not None:
        query = query.where(or_(last_id < after[0], (last_id == after[0]) & (Room.id < after[1])))
    return [
        (card, (key, card.room.id)) for card, key in room_cards(query.limit(limit + 1), extra=1)
    ]


def rooms_of(user_id: int) -> list[Room]:
    """Rooms the user belongs to (not removed from), by name."""
    return list(
        db.session.scalars(
            select(Room)
            # The list shows each room's topic.
            .options(joinedload(Room.topic))
            .join(RoomMember, RoomMember.room_id == Room.id)
            .where(RoomMember.user_id == user_id, RoomMember.removed_at.is_(None))
            .order_by(func.lower(Room.name))
        )
    )


def topics_in_use() -> list[tuple[str, int]]:
    """Every topic with rooms, and how many, by name."""
    rooms = func.count(Room.id)
    return [
        (name, count)
        for name, count in db.session.execute(
            select(Topic.name, rooms)
            .join(Room, Room.topic_id == Topic.id)
            .group_by(Topic.name)
            .order_by(func.lower(Topic.name))
        )
    ]


def trending_topics(limit: int = 8, hours: int = 24) -> list[tuple[str, int]]:
    """Topics with the most messages in the last `hours`, busiest first."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    messages = func.count(RoomMessage.id)
    return [
        (name, count)
        for name, count in db.session.execute(
            select(Topic.name, messages)
            .join(Room, Room.topic_id == Topic.id)
            .join(RoomMessage, RoomMessage.room_id == Room.id)
            .where(RoomMessage.created_at >= since)
            .group_by(Topic.name)
            .order_by(messages.desc(), Topic.name)
            .limit(limit)
        )
    ]


def trending_now() -> list[tuple[str, int]]:
    """`trending_topics`, remembered for a minute: the rooms page and the API show it."""
    return remember("trending-topics", None, 60, trending_topics)


# The lobby's participants are who wrote among its latest messages.
LOBBY_RECENT_MESSAGES = 1000
LOBBY_PARTICIPANTS = 200


def participants(room: Room) -> tuple[list[User], list[User]]:
    """(members, removed members) of a room, each by join time; one query.

    Nobody joins the lobby: its members are the people who wrote among its latest messages,
    the most recent first, and its removed members those the host removed from it.
    """
    if room.is_lobby:
        return _lobby_participants(room.id)
    rows = db.session.execute(
        select(User, RoomMember.removed_at)
        .join(RoomMember, RoomMember.user_id == User.id)
        .where(RoomMember.room_id == room.id)
        .order_by(RoomMember.joined_at, User.id)
    ).all()
    return [u for u, gone in rows if gone is None], [u for u, gone in rows if gone is not None]


def participants_preview(room: Room, limit: int = 20) -> tuple[list[User], int]:
    """The first `limit` participants (by join time) and how many there are: what the room
    page's side card shows, in one query whatever the room's size: the first members sorted
    from room_members alone, then their users, and the count from room_members. (Loading
    every member, as `participants` does, was 2,000 User rows per view of a room of 2,000;
    a count window over the join still read all 100,000 users: 53 ms, bench/scale.py.)"""
    if room.is_lobby:
        members, _ = _lobby_participants(room.id)
        return members[:limit], len(members)
    present = (RoomMember.room_id == room.id) & RoomMember.removed_at.is_(None)
    first = (
        select(RoomMember.user_id, RoomMember.joined_at)
        .where(present)
        .order_by(RoomMember.joined_at, RoomMember.user_id)
        .limit(limit)
        .subquery()
    )
    count = select(func.count()).select_from(RoomMember).where(present).scalar_subquery()
    rows = db.session.execute(
        select(User, count)
        .join(first, first.c.user_id == User.id)
        .order_by(first.c.joined_at, User.id)
    ).all()
    return [user for user, _ in rows], (rows[0][1] if rows else 0)


def members_page(
    room: Room, after: tuple[datetime, int] | None = None, limit: int = 50, removed: bool = False
) -> list[tuple[User, RoomMember]]:
    """A room's members in the participants page's order (by join time), up to `limit` + 1
    after the key (joined_at, user id) `after`; with `removed`, those the host removed too.
    Not for the lobby, whose participants are its recent writers (`participants`). One query.
    """
    query = (
        select(User, RoomMember)
        .join(RoomMember, RoomMember.user_id == User.id)
        .where(RoomMember.room_id == room.id)
        .order_by(RoomMember.joined_at, User.id)
        .limit(limit + 1)
    )
    if not removed:
        query = query.where(RoomMember.removed_at.is_(None))
    if after is not None:
        query = query.where(
            or_(
                RoomMember.joined_at > after[0],
                (RoomMember.joined_at == after[0]) & (User.id > after[1]),
            )
        )
    return [(user, member) for user, member in db.session.execute(query).all()]


def _lobby_participants(room_id: int) -> tuple[list[User], list[User]]:
    latest = (
        select(RoomMessage.id, RoomMessage.author_id)
        .where(RoomMessage.room_id == room_id)
        .order_by(RoomMessage.id.desc())
        .limit(LOBBY_RECENT_MESSAGES)
        .subquery()
    )
    writers = (
        select(latest.c.author_id, func.max(latest.c.id).label("last_id"))
        .group_by(latest.c.author_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, RoomMember.removed_at)
        .outerjoin(writers, writers.c.author_id == User.id)
        .outerjoin(RoomMember, (RoomMember.user_id == User.id) & (RoomMember.room_id == room_id))
        .where(or_(writers.c.author_id.is_not(None), RoomMember.removed_at.is_not(None)))
        .order_by(writers.c.last_id.desc().nulls_last(), User.id)
        .limit(LOBBY_PARTICIPANTS)
    ).all()
    return [u for u, gone in rows if gone is None], [u for u, gone in rows if gone is not None]


def activity_page(
    user_id: int, before: int | None = None, limit: int = 30
) -> tuple[list[RoomMessage], int | None]:
    """Recent messages across the rooms the user belongs to, newest first."""
    mine = select(RoomMember.room_id).where(
        RoomMember.user_id == user_id, RoomMember.removed_at.is_(None)
    )
    query = (
        select(RoomMessage)
        # Each entry names its author and its room.
        .options(joinedload(RoomMessage.author), joinedload(RoomMessage.room))
        .where(RoomMessage.room_id.in_(mine))
        .order_by(RoomMessage.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(RoomMessage.id < before)
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


# Membership


def room_membership(room: Room, user_id: int) -> RoomMember | None:
    return db.session.get(RoomMember, (room.id, user_id))


def can_read_room(room: Room, user_id: int) -> bool:
    """Members may read and write; the lobby is open to every signed-in user the host has not
    removed from it."""
    member = room_membership(room, user_id)
    if room.is_lobby:
        return member is None or member.removed_at is None
    return member is not None and member.removed_at is None


def is_removed_from(room: Room, user_id: int) -> bool:
    member = room_membership(room, user_id)
    return member is not None and member.removed_at is not None
