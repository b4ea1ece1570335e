"""Who is in which running meeting (issue 12), and the pushes between them.

A participant is a tab (Socket.IO sid) in a meeting. The lists live where presence lives
(`presence.app_store`: this process's memory, or Redis with the Socket.IO queue), so
every process of a deployment sees the same meeting:

- "meeting": per meeting id, sid -> user id (the participants);
- "meeting-tabs": per sid, meeting id -> public id (what a closing tab leaves, read in
  one step, nothing at all for a tab in no meeting);
- "meeting-removed": per meeting id, user id -> "1" (whom the host removed);
- "meeting-state": per meeting id, sid -> what the tab last said it sends ("101": audio
  on, video off, screen on), so that someone joining later shows the right tiles.

In Redis each entry lives TAB_TTL_SECONDS after its last change or keep-alive (`kept_alive`,
run with presence's), so a crashed process cannot keep its tabs in a meeting for ever.

Signalling (offers, answers, ICE candidates) is relayed here, only between two participants
of the same meeting, to the one tab it is for.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from qosyl.errors import ActionError
from qosyl.errors import Forbidden
from qosyl.errors import NotFound
from qosyl.extensions import socketio
from qosyl.live import presence
from qosyl.live import realtime
from qosyl.live.realtime import Push

NAMESPACE = "/"
NOT_A_PARTICIPANT = "Join the meeting first."
NO_SUCH_PARTICIPANT = "Nobody with that id is in this meeting."
REMOVED = "The host removed you from this meeting."


def socket_room(meeting_id: int) -> str:
    """The Socket.IO room of a meeting's participants."""
    return f"meeting:{meeting_id}"


def full_message(limit: int) -> str:
    return f"This meeting is full ({limit} people)."


def _participants() -> presence.Store:
    return presence.app_store("meeting")


def _by_tab() -> presence.Store:
    return presence.app_store("meeting-tabs")


def _removed() -> presence.Store:
    return presence.app_store("meeting-removed")


def _states() -> presence.Store:
    return presence.app_store("meeting-state")


MEDIA = ("audio", "video", "screen")


# Who is in


def participants(meeting_id: int) -> dict[str, int]:
    """The meeting's tabs, sid -> user id."""
    return {sid: int(user_id) for sid, user_id in _participants().tabs(meeting_id).items()}


def is_participant(meeting_id: int, sid: str) -> bool:
    return sid in _participants().tabs(meeting_id)


def meetings_of(sid: str) -> dict[int, str]:
    """The meetings this tab is in, id -> public id."""
    return {int(meeting_id): public for meeting_id, public in _by_tab().tabs(sid).items()}


def states(meeting_id: int) -> dict[str, dict[str, bool]]:
    """What each tab last said it sends, sid -> {audio, video, screen} (tabs that said
    nothing yet are missing)."""
    return {
        sid: {name: flag == "1" for name, flag in zip(MEDIA, flags, strict=True)}
        for sid, flags in _states().tabs(meeting_id).items()
        if len(flags) == len(MEDIA)
    }


def set_state(meeting_id: int, sid: str, flags: dict[str, bool]) -> None:
    """Remember what a participant's tab sends. Precondition: the tab is in the meeting."""
    _states().update(meeting_id, sid, "".join("1" if flags[name] else "0" for name in MEDIA))


def join(meeting_id: int, public_id: str, sid: str, user_id: int) -> bool:
    """Add the tab to the meeting: True when it is new there, False when it was in already.
    ActionError past MEETING_MAX_PARTICIPANTS; Forbidden for someone the host removed.
    Precondition: the caller checked that the user may join (access_meeting)."""
    if str(user_id) in _removed().tabs(meeting_id):
        raise Forbidden(REMOVED)
    limit = current_app.config["MEETING_MAX_PARTICIPANTS"]
    # Added, then counted in the same atomic step: two processes letting in the last
    # place at once both see the other, and both take theirs back (never one too many).
    before, after = _participants().update(meeting_id, sid, str(user_id))
    new = len(after) > len(before)
    if new and len(after) > limit:
        _participants().update(meeting_id, sid, None)
        raise ActionError(full_message(limit))
    _by_tab().update(sid, str(meeting_id), public_id)
    return new


def leave(meeting_id: int, sid: str) -> bool:
    """Take the tab out of the meeting's list and its Socket.IO room; True if it was in."""
    before, after = _participants().update(meeting_id, sid, None)
    _by_tab().update(sid, str(meeting_id), None)
    _states().update(meeting_id, sid, None)
    socketio.server.leave_room(sid, socket_room(meeting_id), namespace=NAMESPACE)
    return len(after) < len(before)


def remove(meeting_id: int, sid: str) -> list[str]:
    """The host takes a person out, by one of their tabs: every tab of theirs in the
    meeting leaves, and they may not join again while it runs. The sids that left."""
    people = participants(meeting_id)
    user_id = people.get(sid)
    if user_id is None:
        return []
    _removed().update(meeting_id, str(user_id), "1")
    gone = [other for other, other_user_id in people.items() if other_user_id == user_id]
    return [other for other in gone if leave(meeting_id, other)]


def forget(meeting_id: int) -> list[str]:
    """The meeting ended: every tab leaves it. The sids that were in."""
    sids = list(participants(meeting_id))
    for sid in sids:
        leave(meeting_id, sid)
    for user_id in list(_removed().tabs(meeting_id)):
        _removed().update(meeting_id, user_id, None)
    for sid in list(_states().tabs(meeting_id)):  # a state that raced a leave, if any
        _states().update(meeting_id, sid, None)
    socketio.server.close_room(socket_room(meeting_id), namespace=NAMESPACE)
    return sids


def expel(user_id: int, meetings: list[tuple[int, str]]) -> None:
    """Take every tab of this person out of these meetings (id, public id): they hear
    `meeting:removed` (by nobody), the others `meeting:left`."""
    for meeting_id, public_id in meetings:
        for sid, participant in participants(meeting_id).items():
            if participant == user_id and leave(meeting_id, sid):
                tell(sid, "meeting:removed", {"meeting_id": public_id, "by": None})
                tell_others(meeting_id, sid, "meeting:left", {"meeting_id": public_id, "sid": sid})


def kept_alive(sid: str) -> None:
    """The tab is still there: its meeting entries live on for another TTL (Redis)."""
    meetings = meetings_of(sid)
    if meetings:
        _by_tab().touch(sid)
        for meeting_id in meetings:
            _participants().touch(meeting_id)
            _states().touch(meeting_id)


def tab_closed(sid: str) -> None:
    """A tab closed or lost its connection: it leaves every meeting it was in, and the
    others are told. One read of the store when it was in none."""
    for meeting_id, public_id in meetings_of(sid).items():
        if leave(meeting_id, sid):
            tell_others(meeting_id, sid, "meeting:left", {"meeting_id": public_id, "sid": sid})


# Pushes


def tell(sid: str, event: str, data: dict[str, Any]) -> None:
    """One tab (every sid is a Socket.IO room of its own)."""
    realtime.emit(Push(event, data, sid))


def tell_others(meeting_id: int, sid: str, event: str, data: dict[str, Any]) -> None:
    """Every tab in the meeting but `sid`."""
    realtime.emit(Push(event, data, socket_room(meeting_id), (sid,)))


def relay(meeting_id: int, from_sid: str, to_sid: str, data: dict[str, Any]) -> None:
    """Send a signalling message (`data`, already checked) from one participant to another:
    both must be in this meeting, the sender is named as `from`. Never to anyone else."""
    people = participants(meeting_id)
    if from_sid not in people:
        raise Forbidden(NOT_A_PARTICIPANT)
    if to_sid == from_sid or to_sid not in people:
        raise NotFound(NO_SUCH_PARTICIPANT)
    tell(to_sid, "meeting:signal", {**data, "from": from_sid})
