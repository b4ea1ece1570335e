"""Rooms and their live chat (ROOM-1 to ROOM-7, MSG-6)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qosyl.actions import ActionError
from qosyl.actions import chat
from qosyl.actions import check_storable
from qosyl.actions import meetings
from qosyl.actions.chat import NotAMember
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.live import connections
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.oncommit import on_commit
from qosyl.live.realtime import user_room
from qosyl.live.watching import participants_changed
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMembershipEvent
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.reads.rooms import is_removed_from
from qosyl.reads.rooms import room_membership

NAME_LENGTH = 80
TOPIC_LENGTH = 50
DESCRIPTION_LENGTH = 2000


def member_room(room_id: int, user_id: int) -> str:
    """The Socket.IO room one member's tabs join for one chat room.

    Broadcasts go to the members' rooms as the database lists them at that moment, so
    someone removed never receives another message, whatever their tabs still hold.
    """
    return f"room:{room_id}:user:{user_id}"


def lobby_room(room_id: int) -> str:
    """The lobby is open to everyone signed in: its tabs share one Socket.IO room."""
    return f"room:{room_id}"


# Who hears a room


def audience(room: Room) -> tuple[str, ...]:
    """Who hears a room's messages now, as Socket.IO rooms."""
    if room.is_lobby:
        return (lobby_room(room.id),)
    return tuple(member_room(room.id, member_id) for member_id in _active_member_ids(room))


def subscription(room: Room, user_id: int) -> str:
    return lobby_room(room.id) if room.is_lobby else member_room(room.id, user_id)


# Rooms and topics


def topic_named(name: str) -> Topic:
    """The topic of this name in any case, created if new. Caller commits."""
    name = " ".join(name.split())
    topic = db.session.scalar(select(Topic).where(func.lower(Topic.name) == name.lower()))
    if topic is not None:
        return topic
    try:
        with db.session.begin_nested():
            topic = Topic(name=name)
            db.session.add(topic)
        return topic
    except IntegrityError:  # created by someone else a moment ago
        return db.session.scalar(select(Topic).where(func.lower(Topic.name) == name.lower()))


def _check_room_fields(name: str, topic: str, description: str) -> tuple[str, str, str]:
    """The fields stripped (inner runs of spaces in name and topic made one), or
    ActionError on the first one that cannot be saved."""
    name, topic = " ".join(name.split()), " ".join(topic.split())
    description = description.strip()
    if not name:
        raise ActionError("Give the room a name.", "name")
    if len(name) > NAME_LENGTH:
        raise ActionError(f"Use at most {NAME_LENGTH} characters.", "name")
    if not topic:
        raise ActionError("Pick a topic or type a new one.", "topic")
    if len(topic) > TOPIC_LENGTH:
        raise ActionError(f"Use at most {TOPIC_LENGTH} characters.", "topic")
    if len(description) > DESCRIPTION_LENGTH:
        raise ActionError(f"Use at most {DESCRIPTION_LENGTH:,} characters.", "description")
    for field, text in (("name", name), ("topic", topic), ("description", description)):
        check_storable(text, field)
    return name, topic, description


def create_room(host: User, name: str, topic: str, description: str = "") -> Room:
    """A new room; its creator hosts it and is its first member."""
    name, topic, description = _check_room_fields(name, topic, description)
    room = Room(name=name, topic=topic_named(topic), host_id=host.id, description=description)
    db.session.add(room)
    db.session.flush()
    db.session.add(RoomMember(room_id=room.id, user_id=host.id))
    _record(room.id, host.id, RoomMembershipEvent.JOINED)
    db.session.commit()
    return room


def edit_room(room: Room, name: str, topic: str, description: str) -> Room:
    """Precondition: the caller hosts the room."""
    name, topic, description = _check_room_fields(name, topic, description)
    room.name, room.description = name, description
    room.topic = topic_named(topic)
    db.session.commit()
    return room


def delete_room(room: Room) -> None:
    """Delete a room with its messages. Precondition: the caller hosts it; not the lobby."""
    if room.is_lobby:
        raise ActionError("The lobby cannot be deleted.")
    _close(room)
    db.session.commit()


def _close(room: Room) -> None:
    publish(events.RoomClosed(room_id=room.id, to=audience(room)))
    db.session.execute(delete(Room).where(Room.id == room.id))


def host_going(room: Room, host_id: int) -> None:
    """The host leaves the room or deletes their account: the room passes to its
    longest-standing member; with nobody left it closes, except the lobby, which never
    does (it waits for a new host, see `flask lobby`). Caller commits."""
    if hand_over(room, host_id):
        return
    if room.is_lobby:
        room.host_id = None
    else:
        _close(room)


def set_host(room: Room, host: User) -> None:
    """Name a new host (the lobby's, from the command line); a host is never removed."""
    room.host_id = host.id
    member = room_membership(room, host.id)
    if member is not None and member.removed_at is not None:
        member.removed_at = None
    db.session.commit()


def hand_over(room: Room, leaving_id: int) -> bool:
    """Give the room to its longest-standing other member; False if there is none.

    Caller commits.
    """
    heir = db.session.scalar(
        select(RoomMember.user_id)
        .where(
            RoomMember.room_id == room.id,
            RoomMember.user_id != leaving_id,
            RoomMember.removed_at.is_(None),
        )
        .order_by(RoomMember.joined_at, RoomMember.user_id)
        .limit(1)
    )
    if heir is None:
        return False
    room.host_id = heir
    return True


# Membership


def join(user: User, room: Room) -> None:
    """Join a room; the lobby needs no joining. Refused to someone the host removed."""
    member = room_membership(room, user.id)
    if member is not None and member.removed_at is not None:
        place = "the lobby" if room.is_lobby else "this room"
        raise ActionError(f"The host removed you from {place}.")
    if room.is_lobby:
        return
    if member is None:
        try:
            with db.session.begin_nested():
                db.session.add(RoomMember(room_id=room.id, user_id=user.id))
        except IntegrityError:  # joined from another tab a moment ago
            pass
        else:
            _record(room.id, user.id, RoomMembershipEvent.JOINED)
            participants_changed(room.id)
    db.session.commit()


def leave(user: User, room: Room) -> None:
    """Leave a room; a host leaving hands it over, or deletes it when alone in it.

    Someone the host removed is not in the room: their row stays, and with it the removal,
    until the host lets them back.
    """
    member = room_membership(room, user.id)
    if room.is_lobby or member is None or member.removed_at is not None:
        return
    # Before the host goes: a room closed with its last member takes its history with it.
    _record(room.id, user.id, RoomMembershipEvent.LEFT)
    if room.host_id == user.id:
        host_going(room, user.id)
    db.session.execute(
        delete(RoomMember).where(RoomMember.room_id == room.id, RoomMember.user_id == user.id)
    )
    _drop_tabs(room, user.id)
    meetings.place_lost(user.id, room_id=room.id)
    participants_changed(room.id)
    db.session.commit()


def _record(room_id: int, user_id: int, kind: str) -> None:
    """A join or a leave, for the room's insights: in the same transaction as the change."""
    db.session.add(RoomMembershipEvent(room_id=room_id, user_id=user_id, kind=kind))


def _drop_tabs(room: Room, user_id: int) -> None:
    """After commit, take every tab of the user out of the room (in any process)."""
    if room.is_lobby:
        # The lobby's tabs share one Socket.IO room: take this user's tabs out of it.
        lobby = lobby_room(room.id)
        on_commit(lambda: connections.leave_room(user_id, lobby))
    else:
        name = member_room(room.id, user_id)
        on_commit(lambda: socketio.close_room(name))


def remove_member(room: Room, member: User) -> None:
    """The host removes a member, who is refused until let back in; from the lobby, anyone
    signed in (they can no longer read or write it).

    Precondition: the caller hosts the room.
    """
    if member.id == room.host_id:
        raise ActionError("You host this room: hand it over or delete it instead.")
    row = room_membership(room, member.id)
    if row is None:
        row = RoomMember(room_id=room.id, user_id=member.id)
        db.session.add(row)
    elif row.removed_at is None and not room.is_lobby:
        _record(room.id, member.id, RoomMembershipEvent.LEFT)
    row.removed_at = utcnow()
    _drop_tabs(room, member.id)
    meetings.place_lost(member.id, room_id=room.id)
    publish(
        events.RemovedFromRoom(
            room_id=room.id, room_name=room.name, lobby=room.is_lobby, to=(user_room(member.id),)
        )
    )
    participants_changed(room.id)
    db.session.commit()


def readmit_member(room: Room, member: User) -> None:
    """Let a removed member back: they are a member again. Precondition: caller hosts."""
    row = room_membership(room, member.id)
    if row is not None:
        if row.removed_at is not None and not room.is_lobby:
            _record(room.id, member.id, RoomMembershipEvent.JOINED)
        row.removed_at = None
        participants_changed(room.id)
    db.session.commit()


# Messages


def send_message(author: User, room: Room, body: str, client_id: str | None = None) -> RoomMessage:
    """Store a message, then (after commit) broadcast it to every member's tabs.

    Raises NotAMember when the author may not write here, ActionError when the text is
    empty or too long, RateLimited when they send too often. A `client_id` sent again
    returns the stored message. Kept to four statements (members or the lobby removal,
    insert, and a commit; the caller loaded the room): on PostgreSQL each is a round trip
    the sender waits for.
    """
    if room.is_lobby:
        if is_removed_from(room, author.id):
            raise NotAMember("The host removed you from the lobby.")
        listeners: tuple[str, ...] = (lobby_room(room.id),)
    else:
        member_ids = _active_member_ids(room)
        if author.id not in member_ids:
            raise NotAMember("Join the room to write in it.")
        listeners = tuple(member_room(room.id, member_id) for member_id in member_ids)
    message, new = chat.store(RoomMessage, author, body, client_id, room_id=room.id)
    if new:
        chat.announce("room", room.id, message, listeners)
        db.session.commit()
    return message


def _active_member_ids(room: Room) -> list[int]:
    return list(
        db.session.scalars(
            select(RoomMember.user_id).where(
                RoomMember.room_id == room.id, RoomMember.removed_at.is_(None)
            )
        )
    )


def edit_message(message: RoomMessage, room: Room, body: str) -> RoomMessage:
    """Precondition: the caller wrote the message. Only within EDIT_WINDOW of sending."""
    chat.edit("room", room.id, message, body, audience(room))
    db.session.commit()
    return message


def delete_message(message: RoomMessage, room: Room) -> None:
    """Precondition: the caller wrote the message or hosts the room."""
    chat.delete("room", room.id, message, audience(room))
    db.session.commit()
