"""How Socket.IO handlers are registered, so that what every event needs is written once.

`signed_in_event(name)` registers a handler that only a signed-in tab reaches: anyone else
gets SIGNED_OUT as the acknowledgement. Domain errors a handler raises (NotFound,
Forbidden, ActionError ...) become the sender's {"error": ...} in errors.socket_error;
payload parsing helpers (event_int and friends) are in inputs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user

from qosyl.extensions import socketio

SIGNED_OUT = {"error": "You are signed out. Reload the page."}


def signed_in_event(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(handler)
        def checked(data=None):
            if not current_user.is_authenticated:
                return SIGNED_OUT
            return handler(data)

        socketio.on(name)(checked)
        return checked

    return register
