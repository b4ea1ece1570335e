"""Limits that are not per route: chat messages count the same whether they came over
HTTP or a Socket.IO event."""

from __future__ import annotations

from flask import current_app
from limits import parse

from qosyl.extensions import limiter


def allow_chat_message(user_id: int) -> bool:
    """Count one message of `user_id`; False once they are over RATELIMIT_CHAT."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return limiter.limiter.hit(parse(current_app.config["RATELIMIT_CHAT"]), "chat", str(user_id))
