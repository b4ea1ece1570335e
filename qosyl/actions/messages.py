"""Private conversations (MSG-1, MSG-2, MSG-5, MSG-6): who may write to whom, sending,
and read positions. Pushes go to each member's own `user:<id>` room after commit, so every
open tab of a member hears the conversation whether or not it shows it.
"""

from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from qosyl import paths
from qosyl.actions import ActionError
from qosyl.actions import chat
from qosyl.actions import unproxy
from qosyl.actions.chat import NotAMember
from qosyl.actions.notifications import notify
from qosyl.actions.notifications import withdraw
from qosyl.actions.uploads import attachment_from
from qosyl.actions.uploads import Upload
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live import viewing
from qosyl.live.bus import publish
from qosyl.live.realtime import user_room
from qosyl.models import Attachment
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Friendship
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import User
from qosyl.reads.conversations import active_member_ids
from qosyl.reads.conversations import blocked_within
from qosyl.reads.people import blocked_between
from qosyl.render.attachments import delete_attachment_files

# The body event that makes conversation lists and unread badges refetch.
MESSAGES_CHANGED = "messages-changed"


# Someone not (or no longer, or not yet) an active member: the one refusal of chat.
NOT_IN_CONVERSATION = "You are not in this conversation."


# Who may message whom


def refusal(sender: User, recipient: User) -> str | None:
    """Why `sender` may not write to `recipient`, or None when they may (MSG-2)."""
    if sender.id == recipient.id:
        return "You cannot start a conversation with yourself."
    if not recipient.is_verified:
        return "This person cannot receive messages yet."
    blocked, friends = db.session.execute(
        select(
            blocked_between(sender.id, recipient.id),
            exists().where(Friendship.user_id == sender.id, Friendship.friend_id == recipient.id),
        )
    ).one()
    if blocked:
        return "You cannot message this person."
    if recipient.messages_from_friends_only and not friends:
        return f"{recipient.first_name} only takes messages from friends."
    return None


def direct_key(a_id: int, b_id: int) -> str:
    low, high = sorted((a_id, b_id))
    return f"{low}:{high}"


def direct_conversation(sender: User, recipient: User) -> Conversation:
    """The one-to-one conversation of the two, started if new. Raises ActionError if refused."""
    reason = refusal(sender, recipient)
    if reason:
        raise ActionError(reason)
    key = direct_key(sender.id, recipient.id)
    conversation = db.session.scalar(select(Conversation).where(Conversation.direct_key == key))
    if conversation is not None:
        return conversation
    try:
        with db.session.begin_nested():
            conversation = Conversation(kind=ConversationKind.DIRECT, direct_key=key)
            db.session.add(conversation)
            db.session.flush()
            for person in (sender, recipient):
                db.session.add(
                    ConversationMember(
                        conversation_id=conversation.id,
                        user_id=person.id,
                        status=MemberStatus.ACTIVE,
                    )
                )
    except IntegrityError:  # the other person started it a moment ago
        conversation = db.session.scalar(select(Conversation).where(Conversation.direct_key == key))
    db.session.commit()
    return conversation


def set_friends_only(user: User, friends_only: bool) -> None:
    """Only friends may start a conversation with `user` from now on (or anyone again)."""
    unproxy(user).messages_from_friends_only = friends_only
    db.session.commit()


# Writing


def send_message(
    author: User,
    conversation: Conversation,
    body: str,
    client_id: str | None = None,
    attachment: Upload | None = None,
) -> Message:
    """Store a message, then (after commit) push it to every member's tabs.

    Raises NotAMember for a non-member, ActionError for empty, oversized or too
    frequent messages and for a one-to-one conversation that a block now stands in.
    A `client_id` sent again returns the stored message and pushes nothing. An
    `attachment` is counted as an upload, checked and stored here (a refusal is an
    ActionError on "attachment"), and removed again whenever no message keeps it.
    """
    stored = attachment_from(attachment, user_id=author.id, field="attachment")
    try:
        message = _send(author, conversation, body, client_id, stored)
    except BaseException:
        if stored is not None:
            delete_attachment_files(stored.stored_name, stored.thumbnail_name)
        raise
    if stored is not None and not any(
        a.stored_name == stored.stored_name for a in message.attachments
    ):  # a resend: the first copy keeps its own file
        delete_attachment_files(stored.stored_name, stored.thumbnail_name)
    return message


def _send(author, conversation, body, client_id, attachment) -> Message:
    member_ids = active_member_ids(conversation)
    if author.id not in member_ids:
        raise NotAMember(NOT_IN_CONVERSATION)
    if blocked_within(conversation, author.id, member_ids):
        raise ActionError("You cannot message this person.")
    message, new = chat.store(
        Message,
        author,
        body,
        client_id,
        allow_empty=attachment is not None,
        conversation_id=conversation.id,
    )
    if not new:  # stored before under this client id: no second copy, no push
        return _with_attachments(message)
    files = []
    if attachment is not None:
        files.append(
            Attachment(
                message_id=message.id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                stored_name=attachment.stored_name,
                thumbnail_name=attachment.thumbnail_name,
                width=attachment.width,
                height=attachment.height,
            )
        )
        db.session.add_all(files)
        db.session.flush()
    set_committed_value(message, "attachments", files)
    conversation.last_message_at = message.created_at
    # The author has seen what they wrote.
    db.session.execute(
        update(ConversationMember)
        .where(
            ConversationMember.conversation_id == conversation.id,
            ConversationMember.user_id == author.id,
        )
        .values(last_read_id=message.id)
    )
    chat.announce(
        "conversation",
        conversation.id,
        message,
        tuple(user_room(member_id) for member_id in member_ids),
    )
    # Conversation lists and unread counts refetch.
    publish(events.Changed.for_users(MESSAGES_CHANGED, member_ids))
    _notify_absent(author, conversation, message, [i for i in member_ids if i != author.id])
    db.session.commit()
    return message


def message_notice_key(conversation: Conversation) -> str:
    return f"message:{conversation.id}"


def _notify_absent(
    author: User, conversation: Conversation, message: Message, recipient_ids: list[int]
) -> None:
    """Notify members who do not have the conversation open in any tab: once per
    conversation until they read it (mark_read withdraws the notice)."""
    absent = set(recipient_ids) - viewing.viewers(recipient_ids, conversation.id)
    if not absent:
        return
    excerpt = message.body or "Sent a file"
    for recipient in db.session.scalars(select(User).where(User.id.in_(absent))):
        notify(
            recipient,
            "message",
            actor=author,
            target_url=paths.conversation(conversation.id),
            excerpt=excerpt[:140],
            dedupe_key=message_notice_key(conversation),
        )


def _with_attachments(message: Message) -> Message:
    files = list(db.session.scalars(select(Attachment).where(Attachment.message_id == message.id)))
    set_committed_value(message, "attachments", files)
    return message


def mark_read(reader: User, conversation: Conversation, up_to_id: int) -> int:
    """Move the reader's read position forward (never back) to `up_to_id`, capped at the
    newest message; tell every member's tabs. Returns the position."""
    member = db.session.get(ConversationMember, (conversation.id, reader.id))
    if member is None or member.status != MemberStatus.ACTIVE:
        raise NotAMember(NOT_IN_CONVERSATION)
    newest = db.session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation.id, Message.id <= up_to_id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    if newest is None or newest <= member.last_read_id:
        return member.last_read_id
    member.last_read_id = newest
    withdraw(reader.id, message_notice_key(conversation))
    publish(events.Changed.for_users(MESSAGES_CHANGED, [reader.id]))
    publish(
        events.ConversationRead(
            conversation_id=conversation.id,
            reader_id=reader.id,
            up_to_id=newest,
            to=tuple(user_room(member_id) for member_id in active_member_ids(conversation)),
        )
    )
    db.session.commit()
    return newest
