"""The live channel: one authenticated Socket.IO connection per tab."""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room
from socketio.exceptions import ConnectionRefusedError

from qosyl.extensions import socketio
from qosyl.realtime import user_room


@socketio.on("connect")
def connect(auth=None):
    # The page's session cookie signs the socket in; only verified accounts have one.
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    join_room(user_room(current_user.id))
