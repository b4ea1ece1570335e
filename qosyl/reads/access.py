"""Fetch and authorise in one step. "Not found" and "not yours to know about" look alike (404);
403 only where the thing is visible but not yours to change."""

from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.errors import Forbidden
from qosyl.errors import NotFound
from qosyl.extensions import db
from qosyl.models import Attachment
from qosyl.models import Block
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import FriendRequest
from qosyl.models import Meeting
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.reads.people import blocked_between
from qosyl.reads.people import relation
from qosyl.reads.rooms import can_read_room


def _visible_account(viewer: User, which) -> User:
    user = db.session.scalar(
        select(User).where(
            which,
            User.email_verified_at.is_not(None),
            ~exists().where(Block.blocker_id == User.id, Block.blocked_id == viewer.id),
        )
    )
    if user is None:
        raise NotFound()
    return user


def access_profile(viewer: User, username: str) -> User:
    """A verified account that has not blocked the viewer.

    Someone the viewer blocked stays reachable, so that they can be unblocked.
    """
    return _visible_account(viewer, func.lower(User.username) == username.lower())


def access_person(viewer: User, user_id: int) -> User:
    """access_profile, by account id (the API names people by id)."""
    return _visible_account(viewer, User.id == user_id)


def access_connections(viewer: User, person: User) -> User:
    """Whose friends, followers and following the viewer may list: anyone access_profile
    gives them but someone they blocked (they see that person's profile only to unblock)."""
    if relation(viewer.id, person.id).blocking:
        raise NotFound()
    return person


def access_friend_request(viewer: User, request_id: int, *, as_: str) -> tuple[FriendRequest, User]:
    """A pending friend request the viewer answers (`as_="receiver"`) or cancels
    (`as_="sender"`), with the other person; 404 for everyone else, and when the other
    person is not one access_person would give the viewer."""
    mine, theirs = (
        (FriendRequest.receiver_id, FriendRequest.sender_id)
        if as_ == "receiver"
        else (FriendRequest.sender_id, FriendRequest.receiver_id)
    )
    row = db.session.execute(
        select(FriendRequest, User)
        .join(User, User.id == theirs)
        .where(
            FriendRequest.id == request_id,
            mine == viewer.id,
            User.email_verified_at.is_not(None),
            ~blocked_between(viewer.id, User.id),
        )
    ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def _post_visible(viewer: User):
    """SQL: may the viewer see the post? Yes, unless a block stands between its author and them."""
    return ~blocked_between(viewer.id, Post.author_id)


def access_post(viewer: User, post_id: int) -> Post:
    """A post, with its author, unless a block stands between its author and the viewer."""
    post = db.session.scalar(
        select(Post)
        # Every use of a post shows or checks its author.
        .options(joinedload(Post.author))
        .where(Post.id == post_id, _post_visible(viewer))
    )
    if post is None:
        raise NotFound()
    return post


def visible_post_ids(viewer: User, post_ids: set[int]) -> set[int]:
    """Those of `post_ids` that access_post would give the viewer, in one query (a page of
    posts on screen, watched for live counts)."""
    if not post_ids:
        return set()
    return set(
        db.session.scalars(select(Post.id).where(Post.id.in_(post_ids), _post_visible(viewer)))
    )


def access_own_post(viewer: User, post_id: int) -> Post:
    post = access_post(viewer, post_id)
    if post.author_id != viewer.id:
        raise Forbidden()
    return post


def access_comment(viewer: User, comment_id: int) -> tuple[Comment, Post]:
    """A comment and its post, both clear of blocks with the viewer."""
    comment = db.session.scalar(
        select(Comment)
        # Rendering the comment again shows its author.
        .options(joinedload(Comment.author))
        .where(Comment.id == comment_id, ~blocked_between(viewer.id, Comment.author_id))
    )
    if comment is None:
        raise NotFound()
    return comment, access_post(viewer, comment.post_id)


def access_own_comment(viewer: User, comment_id: int) -> tuple[Comment, Post]:
    comment, post = access_comment(viewer, comment_id)
    if comment.author_id != viewer.id:
        raise Forbidden()
    return comment, post


def access_removable_comment(viewer: User, comment_id: int) -> tuple[Comment, Post]:
    """Its author may delete a comment, and so may the owner of the post it is on, whatever
    blocks stand between them and its author: blocks hide people, they do not shield their
    words from the owner of the place. Anyone else gets what access_comment gives."""
    comment = db.session.scalar(
        select(Comment)
        # Rendering the thread again shows its author.
        .options(joinedload(Comment.author))
        .where(Comment.id == comment_id)
    )
    if comment is None:
        raise NotFound()
    post = access_post(viewer, comment.post_id)
    if viewer.id in (post.author_id, comment.author_id):
        return comment, post
    access_comment(viewer, comment_id)  # 404 when a block hides the comment from them
    raise Forbidden()


def access_notification(user: User, notification_id: int) -> Notification:
    # The item is rendered again after the change, actor and all.
    notification = db.session.get(
        Notification, notification_id, options=[joinedload(Notification.actor)]
    )
    if notification is None or notification.recipient_id != user.id:
        raise NotFound()
    return notification


def access_room(viewer: User, room_id: int) -> Room:
    """Any room: their names, topics and hosts are public to signed-in users."""
    room = db.session.scalar(
        select(Room)
        # The room's header shows its topic and host.
        .options(joinedload(Room.topic), joinedload(Room.host))
        .where(Room.id == room_id)
    )
    if room is None:
        raise NotFound()
    return room


def access_hosted_room(viewer: User, room_id: int) -> Room:
    room = access_room(viewer, room_id)
    if room.host_id != viewer.id:
        raise Forbidden()
    return room


def access_room_insights(viewer: User, room_id: int) -> Room:
    """A room's insights are its host's alone; to anyone else the page does not exist."""
    room = access_room(viewer, room_id)
    if room.host_id != viewer.id:
        raise NotFound()
    return room


def access_site_insights(viewer: User) -> None:
    """The site overview is for administrators (`flask admin grant`); 404 to others."""
    if not viewer.is_admin:
        raise NotFound()


def access_participant(room: Room, username: str | None = None, user_id: int | None = None) -> User:
    """Someone the room's host may remove or let back, by username (pages) or id (the API):
    anyone who is or was a member (for the lobby, any verified account). No block filter: a
    block hides people from the host, it does not shield them from the host's moderation."""
    who = User.id == user_id if username is None else func.lower(User.username) == username.lower()
    query = select(User).where(who, User.email_verified_at.is_not(None))
    if not room.is_lobby:
        query = query.join(
            RoomMember, (RoomMember.user_id == User.id) & (RoomMember.room_id == room.id)
        )
    person = db.session.scalar(query)
    if person is None:
        raise NotFound()
    return person


NO_SUCH_MESSAGE = "There is no such message."


def access_room_message(viewer: User, room: Room, message_id: int) -> RoomMessage:
    """A message of `room`, for someone who may read the room."""
    message = db.session.scalar(
        select(RoomMessage)
        # Rendered again after a change, with its author.
        .options(joinedload(RoomMessage.author))
        .where(RoomMessage.id == message_id, RoomMessage.room_id == room.id)
    )
    if message is None or not can_read_room(room, viewer.id):
        raise NotFound(NO_SUCH_MESSAGE)
    return message


def access_own_room_message(viewer: User, room: Room, message_id: int) -> RoomMessage:
    message = access_room_message(viewer, room, message_id)
    if message.author_id != viewer.id:
        raise Forbidden()
    return message


def access_removable_room_message(viewer: User, room: Room, message_id: int) -> RoomMessage:
    """Its author may delete a message, and so may the room's host."""
    message = access_room_message(viewer, room, message_id)
    if viewer.id not in (message.author_id, room.host_id):
        raise Forbidden("Only its author or the room's host can delete a message.")
    return message


def _conversation_as(viewer: User, conversation_id: int, status: MemberStatus) -> Conversation:
    conversation = db.session.scalar(
        select(Conversation)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(
            Conversation.id == conversation_id,
            ConversationMember.user_id == viewer.id,
            ConversationMember.status == status,
        )
    )
    if conversation is None:
        raise NotFound()
    return conversation


def access_conversation(viewer: User, conversation_id: int) -> Conversation:
    """A conversation the viewer is an active member of; 404 for anyone else, who may not
    know it exists."""
    return _conversation_as(viewer, conversation_id, MemberStatus.ACTIVE)


def access_group(viewer: User, conversation_id: int) -> Conversation:
    """access_conversation for the group actions: a one-to-one conversation has none (404)."""
    conversation = access_conversation(viewer, conversation_id)
    if conversation.kind != ConversationKind.GROUP:
        raise NotFound()
    return conversation


def access_invitation(viewer: User, conversation_id: int) -> Conversation:
    """A group the viewer is invited to and has not answered; 404 otherwise (only its
    invitee may know of the invitation)."""
    return _conversation_as(viewer, conversation_id, MemberStatus.INVITED)


def access_attachment(
    viewer: User, attachment_id: int, conversation_id: int | None = None
) -> Attachment:
    """A file of a message in a conversation the viewer is an active member of (in
    `conversation_id` when given); 404 for anyone else. One query."""
    query = (
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(ConversationMember, ConversationMember.conversation_id == Message.conversation_id)
        .where(
            Attachment.id == attachment_id,
            ConversationMember.user_id == viewer.id,
            ConversationMember.status == MemberStatus.ACTIVE,
        )
    )
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    found = db.session.scalar(query)
    if found is None:
        raise NotFound()
    return found


NO_SUCH_MEETING = "This meeting does not exist or has ended."
# Longer than any public id (16 characters); what is longer names nothing.
PUBLIC_ID_LENGTH = 32


def access_meeting(viewer: User, public_id: str) -> Meeting:
    """A running meeting the viewer may join, with its host: a room's for those who may read
    the room, a conversation's for its active members, a standalone one for anyone signed
    in; never for someone in a block with the host. NotFound for everyone else, and for
    ended or unknown meetings: who may not join may not know it runs.

    Precondition: the viewer is signed in.
    """
    if not isinstance(public_id, str) or not 0 < len(public_id) <= PUBLIC_ID_LENGTH:
        raise NotFound(NO_SUCH_MEETING)
    meeting = db.session.scalar(
        select(Meeting)
        # The host's name goes with what the host asks of others (mute, remove).
        .options(joinedload(Meeting.host))
        .where(
            Meeting.public_id == public_id,
            Meeting.ended_at.is_(None),
            ~blocked_between(viewer.id, Meeting.host_id),
        )
    )
    if meeting is None:
        raise NotFound(NO_SUCH_MEETING)
    if meeting.room_id is not None:
        room = db.session.get(Room, meeting.room_id)
        if room is None or not can_read_room(room, viewer.id):
            raise NotFound(NO_SUCH_MEETING)
    if meeting.conversation_id is not None:
        member = db.session.scalar(
            select(
                exists().where(
                    ConversationMember.conversation_id == meeting.conversation_id,
                    ConversationMember.user_id == viewer.id,
                    ConversationMember.status == MemberStatus.ACTIVE,
                )
            )
        )
        if not member:
            raise NotFound(NO_SUCH_MEETING)
    return meeting
