"""Conversations, their members and their history.

Each query carries the eager loads its page needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Friendship
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import User
from qosyl.reads.chat import chat_after
from qosyl.reads.chat import chat_page
from qosyl.reads.people import blocked_between
from qosyl.reads.people import blocked_ids


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


def conversation_rows(
    user_id: int, limit: int = 100, after: tuple[datetime, int] | None = None
) -> list[ConversationRow]:
    """The viewer's conversations, most recent first, in three queries whatever their number;
    with `after` (a row's last_message_at and id), those that come after that row."""
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    query = (
        select(Conversation, newest, _unread_count(user_id))
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(
            ConversationMember.user_id == user_id,
            ConversationMember.status == MemberStatus.ACTIVE,
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(_before(Conversation.last_message_at, Conversation.id, *after))
    rows = db.session.execute(query).all()
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
    return chat_page(_conversation_messages(conversation_id), Message, before, limit)


def conversation_messages_after(
    conversation_id: int, after_id: int, limit: int, since: datetime | None = None
) -> list[Message]:
    return chat_after(_conversation_messages(conversation_id), Message, after_id, limit, since)


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


# Membership


def active_member_ids(conversation: Conversation) -> list[int]:
    return list(
        db.session.scalars(
            select(ConversationMember.user_id).where(
                ConversationMember.conversation_id == conversation.id,
                ConversationMember.status == MemberStatus.ACTIVE,
            )
        )
    )


def blocked_within(conversation: Conversation, user_id: int, member_ids: list[int]) -> bool:
    """In a one-to-one conversation: does a block stand between the two (either way)?
    A group goes on; blocks there only keep people from inviting each other."""
    if conversation.kind != ConversationKind.DIRECT:
        return False
    other_id = next((i for i in member_ids if i != user_id), None)
    return other_id is None or bool(db.session.scalar(select(blocked_between(user_id, other_id))))


def pending_invites(user: User) -> list[tuple[Conversation, User | None]]:
    """The groups `user` is invited to, newest invitation first, each with who invited them
    (None when that account is gone). One query."""
    return [(conversation, inviter) for conversation, inviter, _ in pending_invite_rows(user)]


def pending_invite_rows(
    user: User, limit: int | None = None, after: tuple[datetime, int] | None = None
) -> list[tuple[Conversation, User | None, datetime]]:
    """pending_invites with when each invitation was sent, at most `limit` of them; with
    `after` (an invitation's time and conversation id), those that come after it (the API's
    cursor). One query."""
    query = (
        select(Conversation, User, ConversationMember.joined_at)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .outerjoin(User, User.id == ConversationMember.invited_by_id)
        .where(
            ConversationMember.user_id == user.id,
            ConversationMember.status == MemberStatus.INVITED,
        )
        .order_by(ConversationMember.joined_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(_before(ConversationMember.joined_at, Conversation.id, *after))
    return [tuple(row) for row in db.session.execute(query)]


def _before(moment_column, id_column, moment: datetime, row_id: int):
    """SQL: the row comes after (moment, row_id) in a list ordered newest first."""
    return or_(moment_column < moment, (moment_column == moment) & (id_column < row_id))
