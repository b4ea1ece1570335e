"""Live pushes over Socket.IO, emitted only after the change is committed.

Three kinds of push reach `static/js/realtime.js`:
- ``html``: the same markup for every recipient, swapped into a target;
- ``trigger``: an event name fired on <body>; regions listening refetch over HTTP;
- ``notification``: a new notification (its list item and a line for the toast).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qosyl.extensions import socketio
from qosyl.oncommit import on_commit


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


def publish(
    event: str, data: dict[str, Any], to: str | list[str], skip: tuple[str, ...] = ()
) -> None:
    """Queue a push; it is emitted after the current transaction commits."""
    push = Push(event, data, to, skip)
    on_commit(lambda: emit(push))


def publish_trigger(user_id: int, name: str) -> None:
    publish("trigger", {"name": name}, user_room(user_id))


def publish_html(to: str, target: str, html: str, swap: str = "beforeend") -> None:
    publish("html", {"target": target, "html": html, "swap": swap}, to)


def emit(push: Push) -> None:
    # Tests wrap this function to see what would reach browsers.
    if not push.to:
        # python-socketio reads to=[] (or None) as "everyone": an empty audience hears nothing.
        return
    socketio.emit(push.event, push.data, to=push.to, skip_sid=list(push.skip) or None)
