"""Limits per person on what they do, not on a route: a chat message counts the same whether
it came over HTTP or a Socket.IO event, an upload the same whatever it is for; failed
sign-ins count per client address and account.

Each kind of action has its setting, RATELIMIT_<KIND> ("10 per minute; 100 per hour": every
limit in it applies), counted in Flask-Limiter's storage (Redis when configured, so every
process shares the counts).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse
from limits import parse_many
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter

from qosyl.errors import warn_unreachable
from qosyl.extensions import limiter

CHAT, POSTS, COMMENTS, UPLOADS = "chat", "posts", "comments", "uploads"
SIGNALS = "signals"
T = TypeVar("T")
# Requests per API sign-in (token family): counted by sign-in id, not user id.
API = "api"


def _limits(kind: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[f"RATELIMIT_{kind.upper()}"])


def _in_this_process() -> RateLimiter:
    """The same kind of limiter as the app's, counting in this process's memory: the counts
    while the shared store is unreachable."""
    fallback = current_app.extensions.get("qosyl.ratelimit_fallback")
    if fallback is None:
        fallback = type(limiter.limiter)(MemoryStorage())
        current_app.extensions["qosyl.ratelimit_fallback"] = fallback
    return fallback


def _counted(count: Callable[[RateLimiter], T]) -> T:
    """`count` on the shared counter store; while it is unreachable (Redis restarting), on
    this process's memory instead: every limit still holds, per process, rather than the
    action failing or going uncounted (sign-in guesses included). The store wraps its errors
    as StorageError (RATELIMIT_STORAGE_OPTIONS, qosyl/__init__.py)."""
    try:
        return count(limiter.limiter)
    except StorageError as error:
        warn_unreachable("the rate-limit store (counting in each process meanwhile)", error)
        return count(_in_this_process())


def allow(kind: str, user_id: int) -> bool:
    """Count one action of `kind` by `user_id`; False, counting nothing, once they are over
    any of its limits."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    key, limits = str(user_id), _limits(kind)

    def count(strategy: RateLimiter) -> bool:
        if not all(strategy.test(limit, kind, key) for limit in limits):
            return False
        # Two requests may both pass the test; hit() then refuses the one over the limit.
        return all([strategy.hit(limit, kind, key) for limit in limits])

    return _counted(count)


def seconds_until_allowed(kind: str, user_id: int) -> int:
    """How long until `user_id` may do `kind` again (0 when they may now)."""
    key = str(user_id)

    def resets(strategy: RateLimiter) -> list[float]:
        return [
            strategy.get_window_stats(limit, kind, key).reset_time
            for limit in _limits(kind)
            if not strategy.test(limit, kind, key)
        ]

    return max(0, math.ceil(max(_counted(resets), default=0) - time.time()))


def wait_text(kind: str, user_id: int) -> str:
    """When `user_id` may do `kind` again, for a message: "in 40 seconds", "in 12 minutes"."""
    seconds = seconds_until_allowed(kind, user_id)
    if seconds < 60:
        return "in a few seconds" if seconds < 10 else f"in {seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "in a minute" if minutes == 1 else f"in {minutes} minutes"


def too_often(kind: str, user_id: int, doing: str) -> str | None:
    """Count one action; None if allowed, else the message for the person: "You are
    <doing> too often. Try again in ..."."""
    if allow(kind, user_id):
        return None
    return f"You are {doing} too often. Try again {wait_text(kind, user_id)}."


def allow_chat_message(user_id: int) -> bool:
    """Count one message of `user_id`; False once they are over RATELIMIT_CHAT."""
    return allow(CHAT, user_id)


def chat_retry_after(user_id: int) -> int:
    """Seconds until `user_id` may send a chat message again."""
    return seconds_until_allowed(CHAT, user_id)


def _sign_in_limit() -> RateLimitItem:
    return parse(current_app.config["RATELIMIT_LOGIN_FAILURES"])


def sign_in_client() -> str:
    """Who is trying to sign in: the client address, or its /64 for IPv6 (one household or
    host)."""
    address = get_remote_address() or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def sign_in_account(login: str) -> str:
    """The account a sign-in names (username and email alike); else its typed text."""
    from qosyl.actions.accounts import user_for_login

    login = login.strip()
    user = user_for_login(login) if login else None
    if user is not None:
        return f"user:{user.id}"
    # Hashed: a password typed into the wrong field should not sit in the counter store.
    return "login:" + hashlib.sha256(login.lower().encode()).hexdigest()[:32]


def count_sign_in_attempt(client: str, account: str) -> int | None:
    """Count one sign-in attempt on `account` from `client`; seconds to wait if over.

    Counted before the password is checked, so guesses sent in parallel cannot all
    pass while the first ones are still being checked. A success forgets the count
    (forget_sign_in_failures), so only failures add up.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    limit = _sign_in_limit()

    def count(strategy: RateLimiter) -> int | None:
        if strategy.hit(limit, "login-failures", client, account):
            return None
        stats = strategy.get_window_stats(limit, "login-failures", client, account)
        return max(1, math.ceil(stats.reset_time - time.time()))

    return _counted(count)


def forget_sign_in_failures(client: str, account: str) -> None:
    if current_app.config["RATELIMIT_ENABLED"]:
        limit = _sign_in_limit()
        _counted(lambda strategy: strategy.clear(limit, "login-failures", client, account))
