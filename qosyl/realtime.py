"""Socket.IO emission: the last step of a live push (see `qosyl/live/`).

Pushes `static/js/realtime.js` reads:
- ``html``: the same markup for every recipient, swapped into a target;
- ``trigger``: an event name fired on <body>; regions listening refetch over HTTP;
- ``notification``: a new notification (a line for the toast; the list refetches);
chat events are `static/js/chat.js`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qosyl.extensions import socketio


def user_room(user_id: int) -> str:
    """Every open tab of a user joins this room on connect."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class Push:
    event: str
    data: dict[str, Any]
    # A Socket.IO room, or several: one emit reaches each connection once.
    to: str | list[str]
    # Connections (tabs) left out, whatever rooms they are in.
    skip: tuple[str, ...] = ()

    @property
    def audience(self) -> tuple[str, ...]:
        """The Socket.IO rooms reached, however `to` was written."""
        return (self.to,) if isinstance(self.to, str) else tuple(self.to)


def emit(push: Push) -> None:
    # Tests wrap this function to see what would reach browsers.
    if not push.to:
        # python-socketio reads to=[] (or None) as "everyone": an empty audience hears nothing.
        return
    socketio.emit(push.event, push.data, to=push.to, skip_sid=list(push.skip) or None)
