"""The live channel: one authenticated Socket.IO connection per tab, and presence (MSG-3)."""

from __future__ import annotations

from flask import request
from flask import session
from flask_login import current_user
from flask_socketio import join_room
from socketio.exceptions import ConnectionRefusedError

from qosyl.extensions import socketio
from qosyl.live import connections
from qosyl.live import presence
from qosyl.live import realtime
from qosyl.live import viewing
from qosyl.live.realtime import Push
from qosyl.live.realtime import user_room
from qosyl.live.sockets import signed_in_event

# Kept in the socket's own session: a tab whose sign-in was revoked still disconnects as
# the user it connected as.
PRESENCE_USER = "presence_user_id"
TAB_ADDRESS = "tab_address"


def _announce(user_id: int, state: str | None) -> None:
    """Tell the user's audience of a change (None: nothing changed, nothing to tell)."""
    if state is None:
        return
    rooms = [user_room(uid) for uid in presence.audience(user_id)]
    # An empty list would mean "everyone" to Socket.IO.
    if rooms:
        realtime.emit(Push("presence", {"user_id": user_id, "state": state}, rooms))


@socketio.on("connect")
def connect(auth=None):
    # The page's session cookie signs the socket in, while its sign-in lasts.
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    address = request.remote_addr or ""
    try:
        connections.opened(current_user.id, request.sid, current_user.login_id, address)
    except connections.Refused as refused:
        raise ConnectionRefusedError(str(refused)) from None
    join_room(user_room(current_user.id))
    session[PRESENCE_USER] = current_user.id
    session[TAB_ADDRESS] = address
    _announce(current_user.id, presence.tab_connected(current_user.id, request.sid))


@socketio.on("disconnect")
def disconnect(reason=None):
    user_id = session.get(PRESENCE_USER)
    if user_id is not None:
        connections.closed(user_id, request.sid, session.get(TAB_ADDRESS, ""))
        viewing.closed(user_id, request.sid)
        _announce(user_id, presence.tab_disconnected(user_id, request.sid))


@signed_in_event("presence:away")
def away(data=None):
    """{"away": true} when the tab is hidden or idle, {"away": false} when it is back."""
    if not isinstance(data, dict) or data.keys() != {"away"} or not isinstance(data["away"], bool):
        return {"error": 'Send {"away": true} or {"away": false}.'}
    _announce(current_user.id, presence.tab_state(current_user.id, request.sid, data["away"]))
    # Also the keep-alive (static/js/presence.js) of the tab's other shared entries.
    connections.kept_alive(
        current_user.id, request.sid, current_user.login_id, session.get(TAB_ADDRESS, "")
    )
    return {"ok": True}
