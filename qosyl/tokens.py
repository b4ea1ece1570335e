"""Signed, expiring tokens for links sent by mail."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer


class TokenError(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"qosyl.{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(
    purpose: str, token: str, max_age: timedelta
) -> tuple[dict[str, Any] | None, TokenError | None]:
    """(payload, None) for a good token, (None, reason) otherwise."""
    try:
        payload = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        return None, TokenError.EXPIRED
    except BadSignature:
        return None, TokenError.INVALID
    if not isinstance(payload, dict):
        return None, TokenError.INVALID
    return payload, None
