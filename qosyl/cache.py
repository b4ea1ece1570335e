"""A small per-process cache for sidebar content that may be a minute old.

Suggestions and trending tags cost as much as the feed itself (bench/feed.py); a user
sees their own changes at once because the actions forget their entries. Other
processes keep theirs until the time runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app

_KEY = "qosyl.cache"


def _store() -> dict:
    return current_app.extensions.setdefault(_KEY, {})


def remember(name: str, key: Any, ttl: float, compute: Callable[[], Any]) -> Any:
    """The cached value of (name, key), computed again when older than `ttl` seconds."""
    store = _store()
    now = time.monotonic()
    hit = store.get((name, key))
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    store[(name, key)] = (now + ttl, value)
    return value


def forget(name: str, key: Any) -> None:
    _store().pop((name, key), None)
