"""Meetings someone may join now: those running in their rooms and conversations, and the
standalone ones whose chat they are in (the Meetings page lists them); the one running in
the room or conversation on screen (its page's banner)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import Meeting
from qosyl.models import MemberStatus
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.reads.people import blocked_between
from qosyl.reads.people import blocked_ids

# Enough for any one person; the list is not paged.
RUNNING_LIMIT = 50


def running_meeting(
    viewer_id: int, *, room_id: int | None = None, conversation_id: int | None = None
) -> Meeting | None:
    """The meeting running in the room or the conversation, with its host, unless a block
    stands between its host and the viewer (access_meeting would refuse them). One query.

    Precondition: the viewer may read the room or is an active member of the conversation
    (the caller fetched it for them: access_room and can_read_room, access_conversation).
    """
    if room_id is not None:
        place = Meeting.room_id == room_id
    elif conversation_id is not None:
        place = Meeting.conversation_id == conversation_id
    else:
        return None
    return db.session.scalar(
        select(Meeting)
        # The banner names who started it.
        .options(joinedload(Meeting.host))
        .where(place, Meeting.ended_at.is_(None), ~blocked_between(viewer_id, Meeting.host_id))
        .order_by(Meeting.id)
        .limit(1)
    )


@dataclass(frozen=True)
class RunningMeeting:
    meeting: Meeting
    # The room's or conversation's name; None for a standalone meeting's group chat name.
    place: str


def running_meetings_for(user_id: int) -> list[RunningMeeting]:
    """Running meetings of the user's rooms and conversations (and standalone meetings
    whose chat they are in), newest first, without those whose host is in a block with
    them. Three queries at most, whatever the number."""
    my_rooms = select(RoomMember.room_id).where(
        RoomMember.user_id == user_id, RoomMember.removed_at.is_(None)
    )
    my_conversations = select(ConversationMember.conversation_id).where(
        ConversationMember.user_id == user_id, ConversationMember.status == MemberStatus.ACTIVE
    )
    meetings = list(
        db.session.scalars(
            select(Meeting)
            .options(joinedload(Meeting.host))
            .where(
                Meeting.ended_at.is_(None),
                Meeting.host_id.not_in(blocked_ids(user_id)),
                or_(
                    Meeting.room_id.in_(my_rooms),
                    Meeting.conversation_id.in_(my_conversations),
                    Meeting.chat_id.in_(my_conversations),
                ),
            )
            .order_by(Meeting.id.desc())
            .limit(RUNNING_LIMIT)
        )
    )
    room_ids = {m.room_id for m in meetings if m.room_id is not None}
    conversation_ids = {m.chat_conversation_id for m in meetings if m.room_id is None}
    names: dict[tuple[str, int], str] = {}
    if room_ids:
        for room_id, name in db.session.execute(
            select(Room.id, Room.name).where(Room.id.in_(room_ids))
        ):
            names["room", room_id] = name
    if conversation_ids:
        for conversation_id, name in db.session.execute(
            select(Conversation.id, Conversation.name).where(Conversation.id.in_(conversation_ids))
        ):
            names["conversation", conversation_id] = name
    running = []
    for meeting in meetings:
        if meeting.room_id is not None:
            place = names.get(("room", meeting.room_id), "")
        else:
            place = names.get(("conversation", meeting.chat_conversation_id), "")
        running.append(
            RunningMeeting(meeting, place or f"{meeting.host.first_name}'s conversation")
        )
    return running
