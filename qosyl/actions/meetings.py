"""Video meetings (issue 12): starting and ending them, and what only their host may do.

A meeting is standalone (anyone signed in may join from its link), a room's (its host
starts it, its members join) or a conversation's (any active member starts it, its active
members join); nobody in a block with the host joins (qosyl/reads/access.py,
access_meeting). Who is in a running meeting is live state (qosyl/live/meetings.py).
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from qosyl.actions import ActionError
from qosyl.actions import Forbidden
from qosyl.actions import NotFound
from qosyl.actions import unproxy
from qosyl.actions.chat import NotAMember
from qosyl.actions.messages import NOT_IN_CONVERSATION
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live import meetings as live
from qosyl.live.bus import publish
from qosyl.live.oncommit import on_commit
from qosyl.live.realtime import user_room
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Meeting
from qosyl.models import MemberStatus
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.reads.conversations import active_member_ids
from qosyl.reads.conversations import blocked_within
from qosyl.reads.people import blocked_ids

HOST_ONLY = "Only the meeting's host can do that."
ROOM_HOST_ONLY = "Only the room's host can start a meeting for it."
ONE_PLACE = "A meeting is for one room or one conversation, not both."
BLOCKED = "You cannot meet this person."
REMOVED_FROM_CHAT = "The host removed you from this meeting's chat, so you cannot join it."
NOT_YOURSELF = "You cannot remove yourself: leave the meeting instead."


def _running(room: Room | None, conversation: Conversation | None) -> Meeting | None:
    if room is not None:
        where = Meeting.room_id == room.id
    elif conversation is not None:
        where = Meeting.conversation_id == conversation.id
    else:
        return None
    return db.session.scalar(
        select(Meeting).where(where, Meeting.ended_at.is_(None)).order_by(Meeting.id).limit(1)
    )


def _told(meeting: Meeting) -> tuple[str, ...]:
    """Who hears that the meeting of a room or conversation starts or ends: the tabs of its
    members (the lobby's: those showing it), minus the host and anyone in a block with them."""
    # Imported here: rooms.py imports this module (place_lost).
    from qosyl.actions.rooms import lobby_room

    if meeting.room_id is not None:
        room = db.session.get(Room, meeting.room_id)
        if room is not None and room.is_lobby:
            return (lobby_room(room.id),)
        member_ids = select(RoomMember.user_id).where(
            RoomMember.room_id == meeting.room_id, RoomMember.removed_at.is_(None)
        )
    elif meeting.conversation_id is not None:
        member_ids = select(ConversationMember.user_id).where(
            ConversationMember.conversation_id == meeting.conversation_id,
            ConversationMember.status == MemberStatus.ACTIVE,
        )
    else:
        return ()
    query = select(User.id).where(
        User.id.in_(member_ids),
        User.id != meeting.host_id,
        User.id.not_in(blocked_ids(meeting.host_id)),
    )
    return tuple(user_room(user_id) for user_id in db.session.scalars(query.order_by(User.id)))


def create_meeting(
    host: User, *, room: Room | None = None, conversation: Conversation | None = None
) -> Meeting:
    """A new meeting hosted by `host`: standalone, or for a room (only its host may start
    one) or a conversation (any active member may). A room or conversation has one running
    meeting at most: asking again gives the running one, whoever started it. Its members
    hear of a new one (MeetingStarted). Commits.

    Preconditions: `host` is signed in; a room or conversation given is one the caller
    fetched for them (access_room, access_conversation). The rules above are checked here.
    """
    if room is not None and conversation is not None:
        raise ActionError(ONE_PLACE)
    if room is not None and room.host_id != host.id:
        raise Forbidden(ROOM_HOST_ONLY)
    if conversation is not None:
        member_ids = active_member_ids(conversation)
        if host.id not in member_ids:
            raise NotAMember(NOT_IN_CONVERSATION)
        if blocked_within(conversation, host.id, member_ids):
            raise ActionError(BLOCKED)
    running = _running(room, conversation)
    if running is not None:
        return running
    meeting = Meeting(
        host_id=host.id,
        room_id=room.id if room is not None else None,
        conversation_id=conversation.id if conversation is not None else None,
    )
    if room is None and conversation is None:
        meeting.chat_id = _new_chat(host).id
    try:
        with db.session.begin_nested():
            db.session.add(meeting)
    except IntegrityError:  # started by someone else a moment ago (a unique index says so)
        running = _running(room, conversation)
        if running is None:
            raise
        return running
    set_committed_value(meeting, "host", unproxy(host))
    told = _told(meeting)
    if told:
        publish(
            events.MeetingStarted(
                meeting_id=meeting.public_id,
                host_id=host.id,
                host_name=host.full_name,
                room_id=meeting.room_id,
                conversation_id=meeting.conversation_id,
                to=told,
            )
        )
    db.session.commit()
    return meeting


def _new_chat(host: User) -> Conversation:
    """The group conversation a standalone meeting talks in, its host its admin. It stays
    after the meeting, in everyone's messages, like any group. Caller commits."""
    chat = Conversation(
        kind=ConversationKind.GROUP, name=f"Meeting of {host.first_name}"[:80], admin_id=host.id
    )
    db.session.add(chat)
    db.session.flush()
    db.session.add(
        ConversationMember(conversation_id=chat.id, user_id=host.id, status=MemberStatus.ACTIVE)
    )
    return chat


def admit(user: User, meeting: Meeting) -> None:
    """Someone joins the meeting (its page's Join, or `meeting:join` from any client): into
    a standalone meeting's chat they go, as an active member with nothing unread (again,
    if they had left it). Nothing changes for a room's or a conversation's meeting, whose
    members already read its chat. Forbidden for someone the host removed from the chat.
    Commits when it writes.

    Precondition: the caller fetched the meeting for `user` (access_meeting).
    """
    # Imported here: groups imports this module (place_lost).
    from qosyl.actions import groups

    if meeting.chat_id is None:
        return
    member = db.session.get(ConversationMember, (meeting.chat_id, user.id))
    if member is not None and member.status == MemberStatus.ACTIVE:
        return
    if member is not None and member.status == MemberStatus.REMOVED:
        raise Forbidden(REMOVED_FROM_CHAT)
    chat = db.session.get(Conversation, meeting.chat_id)
    try:
        if groups.enter_by_link(unproxy(user), chat):
            db.session.commit()
    except IntegrityError:  # the same person's other tab admitted them a moment ago
        db.session.rollback()


def _check_host(user: User, meeting: Meeting) -> None:
    if meeting.host_id != user.id:
        raise Forbidden(HOST_ONLY)


def end_meeting(user: User, meeting: Meeting) -> None:
    """End the meeting for everyone: its participants and those told it started hear
    MeetingEnded, and its participant list is forgotten. Ending an ended meeting changes
    nothing. Forbidden for anyone but its host. Commits.

    Precondition: the caller fetched the meeting for `user` (access_meeting).
    """
    _check_host(user, meeting)
    if meeting.ended_at is not None:
        return
    _end(meeting)
    db.session.commit()


def _end(meeting: Meeting) -> None:
    meeting.ended_at = utcnow()
    publish(
        events.MeetingEnded(
            meeting_id=meeting.public_id,
            room_id=meeting.room_id,
            conversation_id=meeting.conversation_id,
            to=(live.socket_room(meeting.id), *_told(meeting)),
        )
    )
    # After the event (queued first), so that the participants hear it before leaving.
    meeting_id = meeting.id
    on_commit(lambda: live.forget(meeting_id))


def place_lost(
    user_id: int,
    *,
    room_id: int | None = None,
    conversation_id: int | None = None,
    host_id: int | None = None,
) -> None:
    """Someone may no longer be in some running meetings: a room's they left or were removed
    from, a conversation's they left or were removed from, or those hosted by someone now
    in a block with them (`host_id`). After the commit their tabs leave those meetings
    (live.expel); a meeting of the room or conversation they hosted ends, for nobody could
    end it any more and it would hold the place's one running meeting. Caller commits."""
    if room_id is not None:
        which = Meeting.room_id == room_id
    elif conversation_id is not None:
        # The conversation's own meeting, or the standalone meeting whose chat it is.
        which = or_(Meeting.conversation_id == conversation_id, Meeting.chat_id == conversation_id)
    else:
        which = Meeting.host_id == host_id
    running = list(db.session.scalars(select(Meeting).where(which, Meeting.ended_at.is_(None))))
    expelled = []
    for meeting in running:
        # A standalone meeting is its host's, wherever its chat goes: it runs on.
        if host_id is None and meeting.host_id == user_id and meeting.chat_id is None:
            _end(meeting)
        else:
            expelled.append((meeting.id, meeting.public_id))
    if expelled:
        on_commit(lambda: live.expel(user_id, expelled))


def _participant_of(meeting: Meeting, sid: str) -> int:
    user_id = live.participants(meeting.id).get(sid)
    if user_id is None:
        raise NotFound(live.NO_SUCH_PARTICIPANT)
    return user_id


def ask_to_mute(host: User, meeting: Meeting, sid: str) -> None:
    """Ask one participant's tab to mute its microphone (their client mutes and says who
    asked). Forbidden for anyone but the host; nothing stored.

    Precondition: the caller fetched the meeting for `host` (access_meeting)."""
    _check_host(host, meeting)
    _participant_of(meeting, sid)
    live.tell(sid, "meeting:mute-request", {"meeting_id": meeting.public_id, "by": host.full_name})


def remove_participant(host: User, meeting: Meeting, sid: str) -> None:
    """Take a participant out of the meeting (every tab of theirs in it); they may not
    join again while it runs. They are told `meeting:removed`, the others `meeting:left`.
    Forbidden for anyone but the host.

    Precondition: the caller fetched the meeting for `host` (access_meeting)."""
    _check_host(host, meeting)
    if _participant_of(meeting, sid) == host.id:
        raise ActionError(NOT_YOURSELF)
    for gone in live.remove(meeting.id, sid):
        data = {"meeting_id": meeting.public_id}
        live.tell(gone, "meeting:removed", {**data, "by": host.full_name})
        live.tell_others(meeting.id, gone, "meeting:left", {**data, "sid": gone})
