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

from flask import request
from flask import session
from flask_login import current_user

from qosyl.extensions import socketio
from qosyl.live import connections
from qosyl.live.api import api_room

SIGNED_OUT = {"error": "You are signed out. Reload the page."}
TAB_CLOSED = {"error": "This tab lost its connection. Reload the page."}

# A socket signed in by an API access token keeps, in its own Socket.IO session, which
# sign-in (token family) it runs under and when its token expires.
TOKEN_LOGIN = "token_login_id"
TOKEN_USER = "token_user_id"
TOKEN_EXPIRES = "token_expires"


def is_token_socket() -> bool:
    """Is this socket an API client's (JSON events), rather than a browser tab's (HTML)?"""
    return session.get(TOKEN_LOGIN) is not None


def audience_room(room: str) -> str:
    """The Socket.IO room this socket joins to hear what tabs in `room` hear: the JSON
    copy for token clients."""
    return api_room(room) if is_token_socket() else room


# What a closed tab leaves behind is cleared by one function (the disconnect handler's),
# registered here by the module that defines it.
_tab_closed: list[Callable[[], None]] = []


def when_a_tab_closes(clear: Callable[[], None]) -> Callable[[], None]:
    _tab_closed.append(clear)
    return clear


def signed_in_event(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(handler)
        def checked(data=None):
            if not current_user.is_authenticated:
                return SIGNED_OUT
            # Handlers run on their own green threads: the tab's disconnect can be handled
            # before an event it sent last (a quick click to the next page). What that event
            # records (presence, viewing, a meeting seat) would then outlive the tab and
            # count against its account's caps until it expired.
            if not connections.open_here(request.sid):
                return TAB_CLOSED
            try:
                return handler(data)
            finally:
                if not connections.open_here(request.sid):
                    for clear in _tab_closed:
                        clear()

        socketio.on(name)(checked)
        return checked

    return register
