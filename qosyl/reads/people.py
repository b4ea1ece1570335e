"""People and how they relate: blocks, friends, follows, suggestions.

Each query carries the eager loads its page needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all

from qosyl.extensions import db
from qosyl.models import Block
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import User


@dataclass(frozen=True)
class Relation:
    """Everything between the viewer and another person that decides which actions to offer."""

    is_self: bool = False
    friends: bool = False
    request_sent: bool = False  # the viewer asked them
    request_received: bool = False  # they asked the viewer
    following: bool = False  # the viewer follows them
    followed_by: bool = False  # they follow the viewer
    blocking: bool = False  # the viewer blocked them
    blocked_by: bool = False  # they blocked the viewer

    @property
    def blocked_either_way(self) -> bool:
        return self.blocking or self.blocked_by


def blocked_between(a_id: int, b_id: int):
    """SQL: is there a block between the two, either way?"""
    return exists().where(
        or_(
            and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
            and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
        )
    )


def _blocked_selects(user_id: int):
    return (
        select(Block.blocked_id).where(Block.blocker_id == user_id),
        select(Block.blocker_id).where(Block.blocked_id == user_id),
    )


def blocked_ids(user_id: int):
    """SQL: ids of everyone in a block with `user_id`, either way."""
    blocked, blockers = _blocked_selects(user_id)
    return blocked.union(blockers)


def relation(viewer_id: int, other_id: int) -> Relation:
    """All of it in one query."""
    if viewer_id == other_id:
        return Relation(is_self=True)

    def has(model, **columns):
        return exists().where(*(getattr(model, name) == value for name, value in columns.items()))

    row = db.session.execute(
        select(
            has(Friendship, user_id=viewer_id, friend_id=other_id),
            has(FriendRequest, sender_id=viewer_id, receiver_id=other_id),
            has(FriendRequest, sender_id=other_id, receiver_id=viewer_id),
            has(Follow, follower_id=viewer_id, followed_id=other_id),
            has(Follow, follower_id=other_id, followed_id=viewer_id),
            has(Block, blocker_id=viewer_id, blocked_id=other_id),
            has(Block, blocker_id=other_id, blocked_id=viewer_id),
        )
    ).one()
    return Relation(False, *row)


def relations_for(viewer_id: int, user_ids) -> dict[int, Relation]:
    """The viewer's relation to each of many people, in one query (for lists of people)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    facts = union_all(
        select(literal("friends"), Friendship.friend_id).where(
            Friendship.user_id == viewer_id, Friendship.friend_id.in_(ids)
        ),
        select(literal("request_sent"), FriendRequest.receiver_id).where(
            FriendRequest.sender_id == viewer_id, FriendRequest.receiver_id.in_(ids)
        ),
        select(literal("request_received"), FriendRequest.sender_id).where(
            FriendRequest.receiver_id == viewer_id, FriendRequest.sender_id.in_(ids)
        ),
        select(literal("following"), Follow.followed_id).where(
            Follow.follower_id == viewer_id, Follow.followed_id.in_(ids)
        ),
        select(literal("followed_by"), Follow.follower_id).where(
            Follow.followed_id == viewer_id, Follow.follower_id.in_(ids)
        ),
        select(literal("blocking"), Block.blocked_id).where(
            Block.blocker_id == viewer_id, Block.blocked_id.in_(ids)
        ),
        select(literal("blocked_by"), Block.blocker_id).where(
            Block.blocked_id == viewer_id, Block.blocker_id.in_(ids)
        ),
    )
    found: dict[int, dict[str, bool]] = {user_id: {} for user_id in ids}
    for name, user_id in db.session.execute(facts):
        found[user_id][name] = True
    return {
        user_id: Relation(is_self=user_id == viewer_id, **({} if user_id == viewer_id else flags))
        for user_id, flags in found.items()
    }


def profile_counts(user_id: int) -> dict[str, int]:
    """Posts, friends, followers and following of a profile: one row, whatever the numbers
    (stored on the user, kept by triggers: models/counters.py)."""
    row = db.session.execute(
        select(User.post_count, User.friend_count, User.follower_count, User.following_count).where(
            User.id == user_id
        )
    ).one()
    return dict(zip(("posts", "friends", "followers", "following"), row, strict=True))


PEOPLE_LISTS = {
    # name -> (relation table, column naming the profile, column naming the people listed)
    "friends": (Friendship, Friendship.user_id, Friendship.friend_id),
    "followers": (Follow, Follow.followed_id, Follow.follower_id),
    "following": (Follow, Follow.follower_id, Follow.followed_id),
}


def people_page(
    kind: str, user_id: int, viewer_id: int, before: int | None = None, limit: int = 30
) -> tuple[list[User], int | None]:
    """Friends, followers or following of `user_id`, newest relation first.

    The cursor is the id of the last person's account; people are ordered by it too,
    descending, which keeps the cursor exact without timestamps in URLs.
    """
    model, owner, listed = PEOPLE_LISTS[kind]
    query = (
        select(User)
        .join(model, listed == User.id)
        .where(owner == user_id, User.id.not_in(blocked_ids(viewer_id)))
        .order_by(User.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(User.id < before)
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def directory_page(viewer_id: int, before: int | None = None, limit: int = 20) -> list[User]:
    """Verified accounts, newest first, without anyone in a block with the viewer; up to
    `limit` + 1 rows (the extra one says there is a next page)."""
    query = (
        select(User)
        .where(User.email_verified_at.is_not(None), User.id.not_in(blocked_ids(viewer_id)))
        .order_by(User.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(User.id < before)
    return list(db.session.scalars(query))


def friend_requests(user_id: int) -> tuple[list[User], list[User]]:
    """(people who asked `user_id`, people `user_id` asked), newest first; two queries."""
    incoming = (
        select(User)
        .join(FriendRequest, FriendRequest.sender_id == User.id)
        .where(FriendRequest.receiver_id == user_id)
    )
    outgoing = (
        select(User)
        .join(FriendRequest, FriendRequest.receiver_id == User.id)
        .where(FriendRequest.sender_id == user_id)
    )
    newest = FriendRequest.id.desc()
    return (
        list(db.session.scalars(incoming.order_by(newest))),
        list(db.session.scalars(outgoing.order_by(newest))),
    )


def friend_request_page(
    user_id: int, direction: str | None = None, before: int | None = None, limit: int = 20
) -> list[tuple[FriendRequest, User]]:
    """Requests `user_id` received ("incoming") or sent ("outgoing"), or both (None), each
    with the other person, newest first; up to `limit` + 1 rows (the extra one says there is
    a next page), all in one query. The cursor is the request's id."""
    incoming = and_(FriendRequest.receiver_id == user_id, User.id == FriendRequest.sender_id)
    outgoing = and_(FriendRequest.sender_id == user_id, User.id == FriendRequest.receiver_id)
    which = {"incoming": incoming, "outgoing": outgoing, None: or_(incoming, outgoing)}
    query = (
        select(FriendRequest, User)
        .join(User, which[direction])
        .order_by(FriendRequest.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(FriendRequest.id < before)
    return [(request, person) for request, person in db.session.execute(query)]


def pending_request(sender_id: int, receiver_id: int) -> FriendRequest | None:
    """The request `sender_id` sent `receiver_id`, if it still waits for an answer."""
    return db.session.scalar(
        select(FriendRequest).where(
            FriendRequest.sender_id == sender_id, FriendRequest.receiver_id == receiver_id
        )
    )


def blocked_people(user_id: int) -> list[User]:
    query = (
        select(User)
        .join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id)
        .order_by(Block.created_at.desc())
    )
    return list(db.session.scalars(query))


def blocked_page(user_id: int, before: int | None = None, limit: int = 20) -> list[User]:
    """The people `user_id` blocked, by account id, newest account first (a cursor on the id
    stays exact when more people are blocked meanwhile); up to `limit` + 1 rows."""
    query = (
        select(User)
        .join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id)
        .order_by(User.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(User.id < before)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Suggestion:
    user: User
    mutual_friends: int
    shared_rooms: int


def suggestions(user_id: int, limit: int = 5) -> list[Suggestion]:
    """People to follow: friends of friends (worth 2) and members of shared rooms (worth 1),
    ranked by the sum. Never yourself, people you follow or befriended, or anyone in a block
    with you. With no such people (a newcomer), the most followed people instead."""
    my_friends = select(Friendship.friend_id).where(Friendship.user_id == user_id)
    my_rooms = (
        select(RoomMember.room_id)
        .join(Room, Room.id == RoomMember.room_id)
        .where(RoomMember.user_id == user_id, RoomMember.removed_at.is_(None), ~Room.is_lobby)
    )
    friend_of_friend = select(
        Friendship.friend_id.label("uid"), literal(1).label("mutual"), literal(0).label("room")
    ).where(Friendship.user_id.in_(my_friends))
    room_mate = select(
        RoomMember.user_id.label("uid"), literal(0).label("mutual"), literal(1).label("room")
    ).where(RoomMember.room_id.in_(my_rooms), RoomMember.removed_at.is_(None))
    candidates = union_all(friend_of_friend, room_mate).subquery()
    # One flat UNION: SQLite refuses a parenthesised UNION inside another.
    excluded = (
        select(Follow.followed_id)
        .where(Follow.follower_id == user_id)
        .union(my_friends, *_blocked_selects(user_id), select(literal(user_id)))
    )
    mutual = func.sum(candidates.c.mutual)
    rooms = func.sum(candidates.c.room)
    ranked = (
        select(candidates.c.uid, mutual.label("mutual"), rooms.label("rooms"))
        .where(candidates.c.uid.not_in(excluded))
        .group_by(candidates.c.uid)
        .order_by((2 * mutual + rooms).desc(), candidates.c.uid)
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        select(User, ranked.c.mutual, ranked.c.rooms)
        .join(ranked, ranked.c.uid == User.id)
        .where(User.email_verified_at.is_not(None))
        .order_by((2 * ranked.c.mutual + ranked.c.rooms).desc(), User.id)
    ).all()
    if rows:
        return [Suggestion(user, int(m), int(r)) for user, m, r in rows]
    followers = func.count(Follow.follower_id)
    popular = (
        select(User)
        .outerjoin(Follow, Follow.followed_id == User.id)
        .where(User.id.not_in(excluded), User.email_verified_at.is_not(None))
        .group_by(User.id)
        .order_by(followers.desc(), User.id)
        .limit(limit)
    )
    return [Suggestion(user, 0, 0) for user in db.session.scalars(popular)]
