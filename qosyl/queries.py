"""Read-side queries, each with the eager loads its page needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from qosyl.extensions import db
from qosyl.models import Block
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import Hashtag
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User


def notifications_page(
    user_id: int, before_id: int | None = None, limit: int = 20
) -> tuple[list[Notification], int | None]:
    """Newest first; returns the page and the cursor for the next one (None at the end)."""
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
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def header_counts(user_id: int) -> tuple[int, int]:
    """Unread notifications and unread messages, for the header of every page: one query."""
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
    row = db.session.execute(select(notifications, messages)).one()
    return int(row[0] or 0), int(row[1] or 0)


# People


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
    """Posts, friends, followers and following of a profile, in one query."""

    def count(model, column):
        return select(func.count()).select_from(model).where(column == user_id).scalar_subquery()

    row = db.session.execute(
        select(
            count(Post, Post.author_id),
            count(Friendship, Friendship.user_id),
            count(Follow, Follow.followed_id),
            count(Follow, Follow.follower_id),
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


def blocked_people(user_id: int) -> list[User]:
    query = (
        select(User)
        .join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id)
        .order_by(Block.created_at.desc())
    )
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


# Posts


def _visible_posts(viewer_id: int):
    """Posts, minus those of anyone in a block with the viewer."""
    return select(Post).where(Post.author_id.not_in(blocked_ids(viewer_id)))


def _page(query, before: int | None, limit: int) -> tuple[list[Post], int | None]:
    """A page of posts newest first, with the cursor for the next page.

    The ids come first, from the (author_id, id) index alone; only the page's rows are then
    read with their authors. Reading and sorting every matching row with its author before
    cutting the page cost 3x more on a feed of 200 followed authors (bench/feed.py).
    """
    ids = query.with_only_columns(Post.id).order_by(Post.id.desc()).limit(limit + 1)
    if before is not None:
        ids = ids.where(Post.id < before)
    rows = list(
        db.session.scalars(
            select(Post)
            # Every card shows its author: load them in the same query.
            .options(joinedload(Post.author))
            .where(Post.id.in_(ids.scalar_subquery()))
            .order_by(Post.id.desc())
        ).unique()
    )
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def feed_page(viewer_id: int, before: int | None = None, limit: int = 20):
    """The viewer's own posts and those of people they follow or befriended, newest first."""
    authors = (
        select(Follow.followed_id)
        .where(Follow.follower_id == viewer_id)
        .union(
            select(Friendship.friend_id).where(Friendship.user_id == viewer_id),
            select(literal(viewer_id)),
        )
    )
    return _page(_visible_posts(viewer_id).where(Post.author_id.in_(authors)), before, limit)


def posts_by(author_id: int, viewer_id: int, before: int | None = None, limit: int = 20):
    return _page(_visible_posts(viewer_id).where(Post.author_id == author_id), before, limit)


def hashtag_posts(tag: str, viewer_id: int, before: int | None = None, limit: int = 20):
    tagged = (
        select(PostHashtag.post_id)
        .join(Hashtag, Hashtag.id == PostHashtag.hashtag_id)
        .where(Hashtag.name == tag.lower())
    )
    return _page(_visible_posts(viewer_id).where(Post.id.in_(tagged)), before, limit)


def liked_post_ids(viewer_id: int, post_ids: list[int]) -> set[int]:
    """Which of these posts the viewer likes: one query for a whole page."""
    if not post_ids:
        return set()
    return set(
        db.session.scalars(
            select(PostLike.post_id).where(
                PostLike.user_id == viewer_id, PostLike.post_id.in_(post_ids)
            )
        )
    )


def comment_thread(post_id: int, viewer_id: int) -> list[Comment]:
    """Top-level comments oldest first, each with `.replies` (oldest first); one query.

    Comments by anyone in a block with the viewer are left out, with their replies. A
    deleted comment kept for its replies (no author) stays.
    """
    rows = db.session.scalars(
        select(Comment)
        # Each comment shows its author.
        .options(joinedload(Comment.author))
        .where(
            Comment.post_id == post_id,
            or_(Comment.author_id.is_(None), Comment.author_id.not_in(blocked_ids(viewer_id))),
        )
        .order_by(Comment.id)
    ).all()
    top = [comment for comment in rows if comment.parent_id is None]
    by_id = {comment.id: comment for comment in top}
    for comment in top:
        comment.replies = []
    for comment in rows:
        if comment.parent_id in by_id:
            by_id[comment.parent_id].replies.append(comment)
    return top


def trending_hashtags(limit: int = 8) -> list[tuple[str, int]]:
    """Tags on the most of the latest 1,000 posts."""
    recent = select(Post.id).order_by(Post.id.desc()).limit(1000).subquery()
    uses = func.count(PostHashtag.post_id)
    return [
        (name, count)
        for name, count in db.session.execute(
            select(Hashtag.name, uses)
            .join(PostHashtag, PostHashtag.hashtag_id == Hashtag.id)
            .where(PostHashtag.post_id.in_(select(recent.c.id)))
            .group_by(Hashtag.name)
            .order_by(uses.desc(), Hashtag.name)
            .limit(limit)
        )
    ]


# Rooms


def lobby() -> Room | None:
    return db.session.scalar(
        # The lobby card shows its topic.
        select(Room).options(joinedload(Room.topic)).where(Room.is_lobby).order_by(Room.id)
    )


def _chat_page(query, model, before: int | None, limit: int):
    """The latest rows of a chat query (before `before`), oldest first, and the cursor for
    older ones: rooms and conversations page their history alike."""
    query = query.order_by(model.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(model.id < before)
    rows = list(db.session.scalars(query))
    older = rows[limit - 1].id if len(rows) > limit else None
    return list(reversed(rows[:limit])), older


def _chat_after(query, model, after_id: int, limit: int) -> list:
    """What a reconnecting tab missed, oldest first (at most `limit` + 1, to tell "too many")."""
    return list(
        db.session.scalars(query.where(model.id > after_id).order_by(model.id).limit(limit + 1))
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
    return _chat_page(_room_messages(room_id), RoomMessage, before, limit)


def room_messages_after(room_id: int, after_id: int, limit: int) -> list[RoomMessage]:
    return _chat_after(_room_messages(room_id), RoomMessage, after_id, limit)


@dataclass(frozen=True)
class RoomCard:
    room: Room
    members: int
    last_message_at: datetime | None


def room_cards(query) -> list[RoomCard]:
    """Rooms of a SELECT of Room, with their member count and last activity; one query."""
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
    return [RoomCard(room, count, at) for room, count, at in rows]


def rooms_page(topic: str | None = None, page: int = 1, per_page: int = 30):
    """Rooms, those with the latest activity first, optionally of one topic."""
    last_id = (
        select(func.max(RoomMessage.id))
        .where(RoomMessage.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    query = select(Room).order_by(func.coalesce(last_id, 0).desc(), Room.id.desc())
    if topic:
        query = query.join(Topic, Topic.id == Room.topic_id).where(
            func.lower(Topic.name) == topic.lower()
        )
    cards = room_cards(query.limit(per_page + 1).offset((page - 1) * per_page))
    return cards[:per_page], len(cards) > per_page


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


# Conversations


@dataclass(frozen=True)
class ConversationRow:
    """One line of the Messages page."""

    conversation: Conversation
    others: list[User]  # the other active members, by name
    last_message: Message | None
    unread: int


def _unread_count(user_id: int):
    """SQL per conversation row: messages by others after the viewer's read position."""
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == ConversationMember.conversation_id,
            Message.id > ConversationMember.last_read_id,
            Message.author_id != user_id,
        )
        .scalar_subquery()
    )


def conversation_rows(user_id: int, limit: int = 100) -> list[ConversationRow]:
    """The viewer's conversations, most recent first, in three queries whatever their number."""
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Conversation, newest, _unread_count(user_id))
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(
            ConversationMember.user_id == user_id,
            ConversationMember.status == MemberStatus.ACTIVE,
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    ).all()
    if not rows:
        return []
    conversation_ids = [conversation.id for conversation, _, _ in rows]
    last_ids = [last_id for _, last_id, _ in rows if last_id is not None]
    last_messages = {
        message.id: message
        for message in db.session.scalars(
            # Each line shows who wrote the last message.
            select(Message).options(joinedload(Message.author)).where(Message.id.in_(last_ids))
        )
    }
    others: dict[int, list[User]] = {conversation_id: [] for conversation_id in conversation_ids}
    for conversation_id, person in db.session.execute(
        select(ConversationMember.conversation_id, User)
        .join(User, User.id == ConversationMember.user_id)
        .where(
            ConversationMember.conversation_id.in_(conversation_ids),
            ConversationMember.status == MemberStatus.ACTIVE,
            ConversationMember.user_id != user_id,
        )
        .order_by(User.first_name, User.last_name)
    ):
        others[conversation_id].append(person)
    return [
        ConversationRow(conversation, others[conversation.id], last_messages.get(last_id), unread)
        for conversation, last_id, unread in rows
    ]


def conversation_members(conversation_id: int) -> list[tuple[ConversationMember, User]]:
    """Everyone active in a conversation with their read position, by name."""
    return list(
        db.session.execute(
            select(ConversationMember, User)
            .join(User, User.id == ConversationMember.user_id)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.status == MemberStatus.ACTIVE,
            )
            .order_by(User.first_name, User.last_name)
        )
    )


def _conversation_messages(conversation_id: int):
    # Every message shows its author and its files.
    return (
        select(Message)
        .options(joinedload(Message.author), selectinload(Message.attachments))
        .where(Message.conversation_id == conversation_id)
    )


def conversation_messages_page(
    conversation_id: int, before: int | None = None, limit: int = 50
) -> tuple[list[Message], int | None]:
    """The latest messages (before `before`), oldest first, and the cursor for older ones."""
    return _chat_page(_conversation_messages(conversation_id), Message, before, limit)


def conversation_messages_after(conversation_id: int, after_id: int, limit: int) -> list[Message]:
    return _chat_after(_conversation_messages(conversation_id), Message, after_id, limit)


def invite_candidates(
    user_id: int, exclude_conversation: int | None = None, *, readmit_removed: bool = False
) -> list[User]:
    """People the user might put in a group: friends and everyone they have a one-to-one
    conversation with (minus blocks either way, and anyone already in or invited to
    `exclude_conversation`, or removed from it unless `readmit_removed`: only its admin
    may ask them back), by name. One query."""
    mine = aliased(ConversationMember)
    theirs = aliased(ConversationMember)
    partners = (
        select(theirs.user_id)
        .join(mine, mine.conversation_id == theirs.conversation_id)
        .join(Conversation, Conversation.id == theirs.conversation_id)
        .where(
            mine.user_id == user_id,
            theirs.user_id != user_id,
            Conversation.kind == ConversationKind.DIRECT,
        )
    )
    friends = select(Friendship.friend_id).where(Friendship.user_id == user_id)
    query = (
        select(User)
        .where(
            or_(User.id.in_(partners), User.id.in_(friends)),
            User.id.not_in(blocked_ids(user_id)),
            User.email_verified_at.is_not(None),
        )
        .order_by(User.first_name, User.last_name)
        .limit(200)
    )
    if exclude_conversation is not None:
        taken = [MemberStatus.ACTIVE, MemberStatus.INVITED]
        if not readmit_removed:
            taken.append(MemberStatus.REMOVED)
        query = query.where(
            User.id.not_in(
                select(ConversationMember.user_id).where(
                    ConversationMember.conversation_id == exclude_conversation,
                    ConversationMember.status.in_(taken),
                )
            )
        )
    return list(db.session.scalars(query))
