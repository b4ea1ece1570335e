"""The signalling of video meetings over Socket.IO (issue 12).

Media flows browser to browser; these events carry what the browsers need to find each
other, between participants of one meeting only. Meetings are named by their public id
(`meeting_id`), participants by their tab's sid. Each event is acknowledged with
{"ok": true, ...} or, raised as a domain error and translated by errors.socket_error,
{"error": "..."}.

- `meeting:join` {meeting_id}: access_meeting decides; the ack carries the tab's own sid
  (`you`), the others already in (`participants`: [{sid, user, state}], `state` being
  what that tab last sent with `meeting:state`, or null), `ice_servers`,
  `ice_transport_policy` ("all" or "relay") and `host_id`.
  The others hear `meeting:joined` {meeting_id, sid, user}.
- `meeting:signal` {meeting_id, to, description | candidate}: relayed as `meeting:signal`
  {meeting_id, from, description | candidate} to that one tab, when sender and target are
  both in the meeting. description: {type: offer|answer|rollback, sdp}; candidate:
  {candidate, sdpMid, sdpMLineIndex, usernameFragment?}, as RTCIceCandidate.toJSON() gives.
- `meeting:state` {meeting_id, audio, video, screen}: the others hear `meeting:state`
  {meeting_id, sid, audio, video, screen}; remembered for those who join later.
- `meeting:leave` {meeting_id}: the others hear `meeting:left` {meeting_id, sid}; so they
  do when a tab closes (see main/events.py, disconnect).
- The host's: `meeting:mute` {meeting_id, sid} (that tab hears `meeting:mute-request`
  {meeting_id, by}), `meeting:remove` {meeting_id, sid} (they hear `meeting:removed`
  {meeting_id, by}, the others `meeting:left`), `meeting:end` {meeting_id} (everyone hears
  `meeting:ended`).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import Forbidden
from qosyl.actions import meetings as actions
from qosyl.actions import NotFound
from qosyl.actions import RateLimited
from qosyl.extensions import db
from qosyl.live import meetings as live
from qosyl.live.sockets import signed_in_event
from qosyl.models import Meeting
from qosyl.models import User
from qosyl.ratelimits import allow
from qosyl.ratelimits import seconds_until_allowed
from qosyl.ratelimits import SIGNALS
from qosyl.reads.access import access_meeting
from qosyl.reads.access import NO_SUCH_MEETING
from qosyl.reads.access import PUBLIC_ID_LENGTH
from qosyl.render.templating import avatar_url
from qosyl.web.inputs import event_int
from qosyl.webrtc import ice_servers_for
from qosyl.webrtc import ice_transport_policy

# A session description with many tracks and codecs is a few KB; 100 KB is plenty.
MAX_SDP_BYTES = 100 * 1024
MAX_CANDIDATE_BYTES = 2 * 1024
# sdpMid and usernameFragment are short tokens.
MAX_TOKEN = 256
# Socket.IO sids are 20 characters.
MAX_SID = 64
DESCRIPTION_TYPES = ("offer", "answer", "rollback")

NAME_THE_MEETING = "Name the meeting."
NAME_THE_PARTICIPANT = "Name a participant of the meeting."
ONE_SIGNAL = "Send a description or a candidate."
BAD_DESCRIPTION = "A description is {type: offer, answer or rollback, sdp: text}."
BAD_CANDIDATE = "A candidate is {candidate: text, sdpMid, sdpMLineIndex}."
TOO_MANY_SIGNALS = "Too many signals: wait a moment."
BAD_STATE = "Send audio, video and screen as true or false."


# Reading payloads


def _fields(data, allowed: set[str]) -> dict:
    if not isinstance(data, dict) or "meeting_id" not in data or not data.keys() <= allowed:
        raise ActionError(NAME_THE_MEETING)
    return data


def _public_id(data) -> str:
    value = data.get("meeting_id") if isinstance(data, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= PUBLIC_ID_LENGTH:
        raise ActionError(NAME_THE_MEETING)
    return value


def _sid(value) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SID:
        raise ActionError(NAME_THE_PARTICIPANT)
    return value


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _short_text_or_none(value) -> bool:
    return value is None or (isinstance(value, str) and _size(value) <= MAX_TOKEN)


def _description(value) -> dict[str, str]:
    if not isinstance(value, dict) or not value.keys() <= {"type", "sdp"}:
        raise ActionError(BAD_DESCRIPTION)
    kind, sdp = value.get("type"), value.get("sdp", "")
    if not isinstance(kind, str) or kind not in DESCRIPTION_TYPES or not isinstance(sdp, str):
        raise ActionError(BAD_DESCRIPTION)
    if kind != "rollback" and not sdp:
        raise ActionError(BAD_DESCRIPTION)
    if _size(sdp) > MAX_SDP_BYTES:
        raise ActionError(f"A description is at most {MAX_SDP_BYTES // 1024} KB.")
    return {"type": kind, "sdp": sdp}


def _candidate(value) -> dict[str, Any]:
    allowed = {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
    if not isinstance(value, dict) or "candidate" not in value or not value.keys() <= allowed:
        raise ActionError(BAD_CANDIDATE)
    text, index = value["candidate"], value.get("sdpMLineIndex")
    if not isinstance(text, str):
        raise ActionError(BAD_CANDIDATE)
    if _size(text) > MAX_CANDIDATE_BYTES:
        raise ActionError(f"A candidate is at most {MAX_CANDIDATE_BYTES // 1024} KB.")
    if index is not None and event_int(index, maximum=65535) is None:
        raise ActionError(BAD_CANDIDATE)
    if not _short_text_or_none(value.get("sdpMid")) or not _short_text_or_none(
        value.get("usernameFragment")
    ):
        raise ActionError(BAD_CANDIDATE)
    candidate = {"candidate": text, "sdpMid": value.get("sdpMid"), "sdpMLineIndex": index}
    if "usernameFragment" in value:
        candidate["usernameFragment"] = value["usernameFragment"]
    return candidate


def _signal(data) -> dict[str, Any]:
    """The description or candidate to relay, rebuilt from checked fields only."""
    description, candidate = data.get("description"), data.get("candidate")
    if (description is None) == (candidate is None):
        raise ActionError(ONE_SIGNAL)
    if description is not None:
        return {"description": _description(description)}
    return {"candidate": _candidate(candidate)}


# Reading meetings


def _running(public_id: str) -> Meeting:
    """A running meeting by public id, for events whose sender must already be in it (the
    participant list is then the check)."""
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.public_id == public_id, Meeting.ended_at.is_(None))
    )
    if meeting is None:
        raise NotFound(NO_SUCH_MEETING)
    return meeting


def _people(user_ids: set[int]) -> dict[int, dict[str, Any]]:
    """How each participant shows on a tile, by user id (one query)."""
    if not user_ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(user_ids)))
    return {
        user.id: {
            "id": user.id,
            "username": user.username,
            "full_name": user.full_name,
            "avatar_url": avatar_url(user),
        }
        for user in users
    }


# Events


@signed_in_event("meeting:join")
def join(data=None):
    meeting = access_meeting(current_user, _public_id(_fields(data, {"meeting_id"})))
    actions.admit(current_user, meeting)
    sid = request.sid
    new = live.join(meeting.id, meeting.public_id, sid, current_user.id)
    join_room(live.socket_room(meeting.id))
    others = {other: uid for other, uid in live.participants(meeting.id).items() if other != sid}
    people = _people({*others.values(), current_user.id})
    media = live.states(meeting.id)
    if new:
        live.tell_others(
            meeting.id,
            sid,
            "meeting:joined",
            {"meeting_id": meeting.public_id, "sid": sid, "user": people[current_user.id]},
        )
    return {
        "ok": True,
        "meeting_id": meeting.public_id,
        "you": sid,
        "participants": [
            {"sid": other, "user": people[uid], "state": media.get(other)}
            for other, uid in others.items()
            if uid in people
        ],
        "ice_servers": ice_servers_for(current_user.id),
        "ice_transport_policy": ice_transport_policy(),
        "host_id": meeting.host_id,
    }


@signed_in_event("meeting:signal")
def signal(data=None):
    data = _fields(data, {"meeting_id", "to", "description", "candidate"})
    public_id, to = _public_id(data), _sid(data.get("to"))
    message = _signal(data)
    if not allow(SIGNALS, current_user.id):
        raise RateLimited(
            TOO_MANY_SIGNALS, retry_after=seconds_until_allowed(SIGNALS, current_user.id)
        )
    meeting = _running(public_id)
    live.relay(meeting.id, request.sid, to, {"meeting_id": public_id, **message})
    return {"ok": True}


@signed_in_event("meeting:state")
def state(data=None):
    data = _fields(data, {"meeting_id", "audio", "video", "screen"})
    public_id = _public_id(data)
    flags = {name: data.get(name) for name in live.MEDIA}
    if not all(isinstance(flag, bool) for flag in flags.values()):
        raise ActionError(BAD_STATE)
    meeting = _running(public_id)
    if not live.is_participant(meeting.id, request.sid):
        raise Forbidden(live.NOT_A_PARTICIPANT)
    live.set_state(meeting.id, request.sid, flags)
    live.tell_others(
        meeting.id,
        request.sid,
        "meeting:state",
        {"meeting_id": public_id, "sid": request.sid, **flags},
    )
    return {"ok": True}


@signed_in_event("meeting:leave")
def leave(data=None):
    """Leaving needs no permission: a tab always may, whether the meeting runs or not."""
    public_id = _public_id(_fields(data, {"meeting_id"}))
    meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.public_id == public_id))
    if meeting_id is not None and live.leave(meeting_id, request.sid):
        live.tell_others(
            meeting_id, request.sid, "meeting:left", {"meeting_id": public_id, "sid": request.sid}
        )
    return {"ok": True}


def _host_event(data, allowed: set[str]) -> tuple[Meeting, dict]:
    data = _fields(data, allowed)
    return access_meeting(current_user, _public_id(data)), data


@signed_in_event("meeting:mute")
def mute(data=None):
    meeting, data = _host_event(data, {"meeting_id", "sid"})
    actions.ask_to_mute(current_user, meeting, _sid(data.get("sid")))
    return {"ok": True}


@signed_in_event("meeting:remove")
def remove(data=None):
    meeting, data = _host_event(data, {"meeting_id", "sid"})
    actions.remove_participant(current_user, meeting, _sid(data.get("sid")))
    return {"ok": True}


@signed_in_event("meeting:end")
def end(data=None):
    meeting, _ = _host_event(data, {"meeting_id"})
    actions.end_meeting(current_user, meeting)
    return {"ok": True}
