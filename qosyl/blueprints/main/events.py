"""The live channel: one authenticated Socket.IO connection per tab, and presence (MSG-3)."""

from __future__ import annotations

import time

from flask import request
from flask import session
from flask_login import current_user
from flask_socketio import join_room
from socketio.exceptions import ConnectionRefusedError

from qosyl.blueprints.api.core import EXPIRED
from qosyl.blueprints.api.core import INVALID
from qosyl.blueprints.api.core import signed_in_api_user
from qosyl.blueprints.api.core import user_for_access_token
from qosyl.extensions import socketio
from qosyl.live import connections
from qosyl.live import meetings
from qosyl.live import presence
from qosyl.live import realtime
from qosyl.live import viewing
from qosyl.live.api import api_room
from qosyl.live.realtime import Push
from qosyl.live.realtime import user_room
from qosyl.live.sockets import audience_room
from qosyl.live.sockets import signed_in_event
from qosyl.live.sockets import TOKEN_EXPIRES
from qosyl.live.sockets import TOKEN_LOGIN
from qosyl.live.sockets import TOKEN_USER
from qosyl.live.sockets import when_a_tab_closes

# Kept in the socket's own session: a tab whose sign-in was revoked still disconnects as
# the user it connected as.
PRESENCE_USER = "presence_user_id"
# A JWT is a few hundred bytes; anything much longer is not one.
MAX_TOKEN_LENGTH = 4096
TAB_ADDRESS = "tab_address"


def _announce(user_id: int, state: str | None) -> None:
    """Tell the user's audience of a change (None: nothing changed, nothing to tell)."""
    if state is None:
        return
    rooms = [user_room(uid) for uid in presence.audience(user_id)]
    # An empty list would mean "everyone" to Socket.IO.
    if rooms:
        # The state as it is now, not as it was before the audience's query: a reload's
        # "offline" (the old tab) and "online" (the new one) run on two green threads, and
        # the change computed first could be told last, leaving the person shown offline.
        state = presence.states([user_id])[user_id]
        data = {"user_id": user_id, "state": state}
        realtime.emit(Push("presence", data, rooms))
        realtime.emit(Push("online_status", data, [api_room(room) for room in rooms]))


@socketio.on("connect")
def connect(auth=None):
    token = auth.get("token") if isinstance(auth, dict) else None
    if token is not None:
        user = _token_user(token)
    elif current_user.is_authenticated:
        # The page's session cookie signs the socket in, while its sign-in lasts.
        user = current_user
    else:
        raise ConnectionRefusedError("unauthorized")
    address = request.remote_addr or ""
    try:
        connections.opened(user.id, request.sid, user.login_id, address)
    except connections.Refused as refused:
        raise ConnectionRefusedError(str(refused)) from None
    if token is not None:
        _expire_later(request.sid, session[TOKEN_EXPIRES])
    join_room(audience_room(user_room(user.id)))
    session[PRESENCE_USER] = user.id
    session[TAB_ADDRESS] = address
    _announce(user.id, presence.tab_connected(user.id, request.sid))


def _token_user(token):
    """An API client's socket: signed in by its access token alone (never the cookie),
    for as long as the token lives and its sign-in is not revoked."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise ConnectionRefusedError(INVALID)
    user, problem, expires = user_for_access_token(token)
    if user is None:
        raise ConnectionRefusedError(problem)
    session.pop("_user_id", None)
    session[TOKEN_LOGIN], session[TOKEN_USER], session[TOKEN_EXPIRES] = (
        user.login_id,
        user.id,
        expires,
    )
    return user


def _expire_later(sid: str, expires: int) -> None:
    """When the token expires, tell the client and close its socket (it refreshes and
    connects again); events in between are refused as signed out (load_token_socket_user)."""
    server = socketio.server

    def expire() -> None:
        socketio.sleep(max(0.0, expires - time.time()))
        server.emit("session_expired", {"message": EXPIRED}, to=sid, namespace="/")
        server.disconnect(sid, namespace="/")

    socketio.start_background_task(expire)


def load_token_socket_user(request):
    """Flask-Login's request loader: in a token socket's events, its user while the token
    lives and its sign-in stands (one query, as cookies are checked)."""
    login_id = session.get(TOKEN_LOGIN)
    if login_id is None or time.time() >= session.get(TOKEN_EXPIRES, 0):
        return None
    return signed_in_api_user(session[TOKEN_USER], login_id)


@socketio.on("disconnect")
@when_a_tab_closes
def disconnect(reason=None):
    user_id = session.get(PRESENCE_USER)
    if user_id is not None:
        connections.closed(user_id, request.sid, session.get(TAB_ADDRESS, ""))
        viewing.closed(user_id, request.sid)
        meetings.tab_closed(request.sid)
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
    meetings.kept_alive(request.sid)
    return {"ok": True}
