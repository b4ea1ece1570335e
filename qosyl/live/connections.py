"""Every open Socket.IO connection (a tab): whose it is, which sign-in opened it and from
which address.

Kept like presence (per tab, in process memory or in Redis with the queue), so that any
process can end the tabs of a revoked sign-in, take a user's tabs out of a Socket.IO room,
and count tabs for the caps that keep one account or one address from holding a process.
"""

from __future__ import annotations

from flask import current_app

from qosyl.extensions import socketio
from qosyl.live import presence
from qosyl.live.api import api_room

NAMESPACE = "/"


class Refused(Exception):
    """A connection over one of the caps; the message is for the person."""


def _by_user() -> presence.Store:
    return presence.app_store("tabs")


def _by_address() -> presence.Store:
    return presence.app_store("addresses")


def _in_this_process() -> set[str]:
    """The sids of the tabs this process holds (whatever the store: the cap is per process)."""
    return current_app.extensions.setdefault("qosyl.local_tabs", set())


def opened(user_id: int, sid: str, login_id: int, address: str) -> None:
    """Record a new tab, or raise Refused (recording nothing) when it is one too many:
    for this process, for the account or for the address."""
    config = current_app.config
    local = _in_this_process()
    if len(local) >= config["SOCKETS_PER_PROCESS"]:
        raise Refused("Qosyl is very busy right now: live updates will be back soon.")
    _, tabs = _by_user().update(user_id, sid, str(login_id))
    if len(tabs) > config["SOCKETS_PER_ACCOUNT"]:
        _by_user().update(user_id, sid, None)
        raise Refused(
            "You have too many Qosyl tabs open: close some, then reload this one "
            "to get live updates here."
        )
    _, tabs = _by_address().update(address, sid, str(user_id))
    if len(tabs) > config["SOCKETS_PER_ADDRESS"]:
        _by_address().update(address, sid, None)
        _by_user().update(user_id, sid, None)
        raise Refused("Too many live connections come from your network. Try again later.")
    local.add(sid)


def open_here(sid: str) -> bool:
    """Is this tab connected to this process (opened and not yet closed)?"""
    return sid in _in_this_process()


def kept_alive(user_id: int, sid: str, login_id: int, address: str) -> None:
    """The tab is still there: in Redis, its entries live on for another TTL."""
    _by_user().update(user_id, sid, str(login_id))
    _by_address().update(address, sid, str(user_id))


def closed(user_id: int, sid: str, address: str) -> None:
    _in_this_process().discard(sid)
    _by_user().update(user_id, sid, None)
    _by_address().update(address, sid, None)


def sids(user_id: int, login_ids: set[int] | None = None) -> list[str]:
    """The user's open tabs, or only those opened under the given sign-ins."""
    return [
        sid
        for sid, login_id in _by_user().tabs(user_id).items()
        if login_ids is None or int(login_id) in login_ids
    ]


def disconnect(user_id: int, login_ids: set[int] | None = None) -> None:
    """Close the user's tabs (of the given sign-ins), in whichever process holds them."""
    for sid in sids(user_id, login_ids):
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def leave_room(user_id: int, room: str) -> None:
    """Take every tab of the user out of a Socket.IO room, in whichever process holds it
    (and their API clients out of its JSON copy)."""
    for sid in sids(user_id):
        socketio.server.leave_room(sid, room, namespace=NAMESPACE)
        socketio.server.leave_room(sid, api_room(room), namespace=NAMESPACE)
