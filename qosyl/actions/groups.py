"""Group conversations (MSG-3, MSG-4): creating a group, invitations, renaming, leaving,
removing members and the admin role.

Who may be invited follows the one-to-one rule (messages.refusal): a block either way,
a friends-only setting or an unverified account keeps a person out. An invited member
sees nothing of the group until they accept. Every action checks first and changes
after, so a refusal (ActionError, or NotAMember for someone not active in the
conversation) leaves the database as it was; pushes leave after the one commit.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qosyl.actions import ActionError
from qosyl.actions import check_storable
from qosyl.actions import Forbidden
from qosyl.actions import meetings
from qosyl.actions.chat import NotAMember
from qosyl.actions.messages import MESSAGES_CHANGED
from qosyl.actions.messages import refusal
from qosyl.actions.notifications import notify
from qosyl.actions.notifications import withdraw
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.realtime import user_room
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.reads.conversations import active_member_ids

NAME_LENGTH = 80
# Where an invitation notification leads: the page listing the user's pending invitations.
INVITES_URL = "/messages/invites"
# The body event that makes a list of pending invitations refetch.
INVITES_CHANGED = "group-invites-changed"


# Checks (they read, never write)


def group_name(name: str) -> str:
    """The name to store: whitespace collapsed, 1 to 80 characters, or ActionError on "name"."""
    name = check_storable(" ".join((name or "").split()), "name")
    if not name:
        raise ActionError("Give the group a name.", "name")
    if len(name) > NAME_LENGTH:
        raise ActionError(
            f"Group names are at most {NAME_LENGTH} characters; this one has {len(name)}.",
            "name",
        )
    return name


def _membership(conversation: Conversation, user_id: int) -> ConversationMember | None:
    return db.session.get(ConversationMember, (conversation.id, user_id))


def _active_membership(conversation: Conversation, user: User) -> ConversationMember:
    """The user's row in a group they are active in; NotAMember or ActionError if not."""
    member = _membership(conversation, user.id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise NotAMember("You are not in this conversation.")
    if conversation.kind != ConversationKind.GROUP:
        raise ActionError("Only group conversations can do that.")
    return member


def _check_admin(conversation: Conversation, admin: User) -> None:
    _active_membership(conversation, admin)
    if conversation.admin_id != admin.id:
        raise Forbidden("Only the group's admin can do that.")


def _names(people: list[User]) -> str:
    """ "Bob", "Bob and Carol", "Bob, Carol and Dan"."""
    names = [person.first_name for person in people]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _invite_refusal(inviter: User, invitee: User) -> str | None:
    reason = refusal(inviter, invitee)
    return f"You cannot invite {invitee.first_name}. {reason}" if reason else None


# Pushes (queued; they leave after the commit)


def _members_changed(conversation: Conversation, member_ids: list[int]) -> None:
    """Tell members' tabs to refetch the member list, and their conversation lists."""
    to = tuple(user_room(member_id) for member_id in member_ids)
    publish(events.ConversationMembersChanged(conversation_id=conversation.id, to=to))
    publish(events.Changed.for_users(MESSAGES_CHANGED, member_ids))


def _invite_key(conversation: Conversation) -> str:
    return f"group_invite:{conversation.id}"


def _send_invite(inviter: User, conversation: Conversation, invitee: User) -> None:
    """Notify an invitee (the member row is written by the caller). Caller commits."""
    notify(
        invitee,
        "group_invite",
        actor=inviter,
        target_url=INVITES_URL,
        excerpt=conversation.name,
        dedupe_key=_invite_key(conversation),
    )
    publish(events.Changed.for_users(INVITES_CHANGED, [invitee.id]))


def _close_invite(user_id: int, conversation: Conversation) -> None:
    """The invitation is answered or cancelled: its notification goes. Caller commits."""
    withdraw(user_id, _invite_key(conversation))
    publish(events.Changed.for_users(INVITES_CHANGED, [user_id]))


def _newest_message_id(conversation: Conversation) -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(Message.id), 0)).where(
            Message.conversation_id == conversation.id
        )
    )


# Actions


def create_group(admin: User, name: str, invitees: list[User]) -> Conversation:
    """Start a group named `name` with `admin` as its active admin, and invite `invitees`.

    Preconditions: none beyond loaded users. The admin themselves and repeated people in
    `invitees` are ignored; invitees that messages.refusal() turns away are left out.
    Raises ActionError ("name" field) for a missing or too long name, and ActionError
    ("invitees" field) when nobody is left to invite, naming whoever was refused.
    """
    name = group_name(name)
    candidates: dict[int, User] = {}
    for invitee in invitees:
        if invitee.id != admin.id:
            candidates.setdefault(invitee.id, invitee)
    if not candidates:
        raise ActionError("Invite at least one other person.", "invitees")
    reasons = {person.id: refusal(admin, person) for person in candidates.values()}
    accepted = [person for person in candidates.values() if reasons[person.id] is None]
    if not accepted:
        refused = list(candidates.values())
        if len(refused) == 1:
            raise ActionError(_invite_refusal(admin, refused[0]), "invitees")
        raise ActionError(
            f"You cannot invite {_names(refused)}: none of them can take messages from you.",
            "invitees",
        )
    conversation = Conversation(kind=ConversationKind.GROUP, name=name, admin_id=admin.id)
    db.session.add(conversation)
    db.session.flush()
    db.session.add(
        ConversationMember(
            conversation_id=conversation.id, user_id=admin.id, status=MemberStatus.ACTIVE
        )
    )
    for invitee in accepted:
        db.session.add(
            ConversationMember(
                conversation_id=conversation.id,
                user_id=invitee.id,
                status=MemberStatus.INVITED,
                invited_by_id=admin.id,
            )
        )
    db.session.flush()
    for invitee in accepted:
        _send_invite(admin, conversation, invitee)
    publish(events.Changed.for_users(MESSAGES_CHANGED, [admin.id]))
    db.session.commit()
    return conversation


def invite(inviter: User, conversation: Conversation, invitee: User) -> None:
    """Invite `invitee` to a group `inviter` is active in (invite_many with one person)."""
    invite_many(inviter, conversation, [invitee])


def invite_many(inviter: User, conversation: Conversation, invitees: list[User]) -> None:
    """Invite `invitees` to a group `inviter` is active in: all of them, or (on a refusal)
    none.

    Someone who left may be invited again by any member; someone the admin removed only by
    the admin. Raises NotAMember when the inviter is not active here, ActionError for a
    one-to-one conversation, for nobody to invite, for someone already in the group or
    invited, for a removed person invited by someone other than the admin, and when
    messages.refusal(inviter, invitee) refuses.
    """
    _active_membership(conversation, inviter)
    people = list({person.id: person for person in invitees}.values())
    if not people:
        raise ActionError("Choose someone to invite.")
    rows = {person.id: _invitable(inviter, conversation, person) for person in people}
    for person in people:
        member = rows[person.id]
        if member is None:
            try:
                with db.session.begin_nested():
                    db.session.add(
                        ConversationMember(
                            conversation_id=conversation.id,
                            user_id=person.id,
                            status=MemberStatus.INVITED,
                            invited_by_id=inviter.id,
                        )
                    )
            except IntegrityError:  # invited from another tab a moment ago
                raise ActionError(f"{person.first_name} is already invited.") from None
        else:  # left or removed before: asked again, as if new
            member.status = MemberStatus.INVITED
            member.invited_by_id = inviter.id
            member.joined_at = utcnow()
    for person in people:
        _send_invite(inviter, conversation, person)
    db.session.commit()


def _invitable(
    inviter: User, conversation: Conversation, invitee: User
) -> ConversationMember | None:
    """The invitee's row (None if they never had one) when `inviter` may invite them;
    ActionError otherwise."""
    member = _membership(conversation, invitee.id)
    if member is not None and member.status == MemberStatus.ACTIVE:
        raise ActionError(f"{invitee.first_name} is already in this group.")
    if member is not None and member.status == MemberStatus.INVITED:
        raise ActionError(f"{invitee.first_name} is already invited.")
    if (
        member is not None
        and member.status == MemberStatus.REMOVED
        and conversation.admin_id != inviter.id
    ):
        raise ActionError(
            f"Only the group's admin can invite back {invitee.first_name}, whom the admin removed."
        )
    reason = _invite_refusal(inviter, invitee)
    if reason:
        raise ActionError(reason)
    return member


def _open_invite(user: User, conversation: Conversation) -> ConversationMember:
    member = _membership(conversation, user.id)
    if member is None or member.status != MemberStatus.INVITED:
        raise ActionError("This invitation is no longer open.")
    return member


def accept_invite(user: User, conversation: Conversation) -> None:
    """Join a group `user` is invited to, with nothing unread: their read position starts at
    the newest message. Raises ActionError when they have no open invitation to it."""
    member = _open_invite(user, conversation)
    member.status = MemberStatus.ACTIVE
    member.joined_at = utcnow()
    member.last_read_id = _newest_message_id(conversation)
    _close_invite(user.id, conversation)
    db.session.flush()
    _members_changed(conversation, active_member_ids(conversation))
    db.session.commit()


def enter_by_link(user: User, conversation: Conversation) -> bool:
    """`user` comes in from a link shared outside the group (a standalone meeting's chat,
    actions.meetings.admit): active, with nothing unread, as after accepting an invitation,
    whose notification goes if one was open. False when already active. Someone the admin
    removed is not let in by this (the caller refuses them first). Caller commits."""
    member = _membership(conversation, user.id)
    if member is not None and member.status == MemberStatus.ACTIVE:
        return False
    if member is not None and member.status == MemberStatus.REMOVED:
        raise Forbidden("The group's admin removed you from it.")
    if member is None:
        member = ConversationMember(
            conversation_id=conversation.id, user_id=user.id, status=MemberStatus.ACTIVE
        )
        db.session.add(member)
    elif member.status == MemberStatus.INVITED:
        _close_invite(user.id, conversation)
    member.status = MemberStatus.ACTIVE
    member.joined_at = utcnow()
    member.last_read_id = _newest_message_id(conversation)
    db.session.flush()
    _members_changed(conversation, active_member_ids(conversation))
    return True


def decline_invite(user: User, conversation: Conversation) -> None:
    """Turn down an invitation: the invited row is deleted, so they may be asked again.
    Raises ActionError when `user` has no open invitation to the conversation."""
    _open_invite(user, conversation)
    db.session.execute(
        delete(ConversationMember).where(
            ConversationMember.conversation_id == conversation.id,
            ConversationMember.user_id == user.id,
        )
    )
    _close_invite(user.id, conversation)
    db.session.commit()


def rename(user: User, conversation: Conversation, name: str) -> None:
    """Any active member renames a group. Raises NotAMember for anyone else,
    ActionError for a one-to-one conversation or a missing or too long name ("name")."""
    _active_membership(conversation, user)
    name = group_name(name)
    if name == conversation.name:
        return
    conversation.name = name
    member_ids = active_member_ids(conversation)
    publish(
        events.ConversationRenamed(
            conversation_id=conversation.id,
            conversation_name=name,
            to=tuple(user_room(member_id) for member_id in member_ids),
        )
    )
    publish(events.Changed.for_users(MESSAGES_CHANGED, member_ids))
    db.session.commit()


def leave(user: User, conversation: Conversation) -> None:
    """An active member leaves a group. An admin leaving hands the role to the longest
    standing active member (earliest joined_at, then lowest user id), or to nobody.
    Raises NotAMember when `user` is not active here, ActionError for a one-to-one
    conversation."""
    member = _active_membership(conversation, user)
    member.status = MemberStatus.LEFT
    db.session.flush()
    member_going(conversation, user.id)
    meetings.place_lost(user.id, conversation_id=conversation.id)
    publish(events.Changed.for_users(MESSAGES_CHANGED, [user.id]))
    db.session.commit()


def member_going(conversation: Conversation, user_id: int) -> None:
    """A member leaves the group or deletes their account: an admin's role passes to the
    longest-standing other active member (earliest joined_at, then lowest user id), or to
    nobody, and the members hear. Caller commits."""
    if conversation.admin_id == user_id:
        conversation.admin_id = db.session.scalar(
            select(ConversationMember.user_id)
            .where(
                ConversationMember.conversation_id == conversation.id,
                ConversationMember.status == MemberStatus.ACTIVE,
                ConversationMember.user_id != user_id,
            )
            .order_by(ConversationMember.joined_at, ConversationMember.user_id)
            .limit(1)
        )
    _members_changed(
        conversation, [uid for uid in active_member_ids(conversation) if uid != user_id]
    )


def remove_member(admin: User, conversation: Conversation, member: User) -> None:
    """The admin removes an active member, or cancels an invitation; either way the row
    becomes REMOVED (they may be invited again). The removed person's tabs hear
    `conversation:removed`. Raises NotAMember when `admin` is not active here,
    ActionError when they are not the admin, for themselves, or for a non-member."""
    _check_admin(conversation, admin)
    if member.id == admin.id:
        raise ActionError("You cannot remove yourself: leave the group instead.")
    row = _membership(conversation, member.id)
    if row is None or row.status not in (MemberStatus.ACTIVE, MemberStatus.INVITED):
        raise ActionError(f"{member.first_name} is not in this group.")
    was_invited = row.status == MemberStatus.INVITED
    row.status = MemberStatus.REMOVED
    db.session.flush()
    if was_invited:
        _close_invite(member.id, conversation)
    else:
        meetings.place_lost(member.id, conversation_id=conversation.id)
        publish(
            events.RemovedFromConversation(
                conversation_id=conversation.id, to=(user_room(member.id),)
            )
        )
        publish(events.Changed.for_users(MESSAGES_CHANGED, [member.id]))
    _members_changed(conversation, active_member_ids(conversation))
    db.session.commit()


def pass_admin(admin: User, conversation: Conversation, member: User) -> None:
    """The admin makes another active member the admin. Raises NotAMember when `admin`
    is not active here, ActionError when they are not the admin or `member` is not an
    active member (or is themselves)."""
    _check_admin(conversation, admin)
    if member.id == admin.id:
        raise ActionError("You are already the admin.")
    row = _membership(conversation, member.id)
    if row is None or row.status != MemberStatus.ACTIVE:
        raise ActionError(f"{member.first_name} is not in this group.")
    conversation.admin_id = member.id
    _members_changed(conversation, active_member_ids(conversation))
    db.session.commit()
