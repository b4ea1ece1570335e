"""Limits that are not per route: chat messages count the same whether they came over
HTTP or a Socket.IO event; failed sign-ins count per client address and account."""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse

from qosyl.extensions import limiter


def allow_chat_message(user_id: int) -> bool:
    """Count one message of `user_id`; False once they are over RATELIMIT_CHAT."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return limiter.limiter.hit(parse(current_app.config["RATELIMIT_CHAT"]), "chat", str(user_id))


def _sign_in_limit():
    return parse(current_app.config["RATELIMIT_LOGIN_FAILURES"])


def count_sign_in_attempt(client: str, account: str) -> int | None:
    """Count one sign-in attempt on `account` from `client`; seconds to wait if over.

    Counted before the password is checked, so guesses sent in parallel cannot all
    pass while the first ones are still being checked. A success forgets the count
    (forget_sign_in_failures), so only failures add up.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    limit = _sign_in_limit()
    if limiter.limiter.hit(limit, "login-failures", client, account):
        return None
    stats = limiter.limiter.get_window_stats(limit, "login-failures", client, account)
    return max(1, math.ceil(stats.reset_time - time.time()))


def forget_sign_in_failures(client: str, account: str) -> None:
    if current_app.config["RATELIMIT_ENABLED"]:
        limiter.limiter.clear(_sign_in_limit(), "login-failures", client, account)
