"""A small per-process cache for sidebar content that may be a minute old.

Suggestions and trending tags cost as much as the feed itself (bench/feed.py); a user
sees their own changes at once because the actions forget their entries.

With several processes (Socket.IO's queue on Redis), forgetting must reach every process:
each forgettable entry is stored with its generation, a counter in Redis that `forget`
increments; `remember` reads it (one GET) and computes again when it moved. Without
Redis, or while it is unreachable, entries are kept in this process only, as before, and
an unreachable Redis only costs the cache (values are computed afresh, not kept).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import current_app

_KEY = "qosyl.cache"
_SHARED = "qosyl.cache.redis"
# A generation outlives every entry that read it: entries last seconds to minutes.
GENERATION_TTL_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


def _store() -> dict:
    return current_app.extensions.setdefault(_KEY, {})


def _shared():
    """The Redis client the processes share, or None when there is one process."""
    extensions = current_app.extensions
    if _SHARED not in extensions:
        url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
        client = None
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        extensions[_SHARED] = client
    return extensions[_SHARED]


def _generation_key(name: str, key: Any) -> str:
    return f"{current_app.config['SOCKETIO_CHANNEL']}:cache:{name}:{key}"


class _Unknown:
    """Redis did not answer: the generation is unknown, nothing may be kept or reused."""


UNKNOWN = _Unknown()


def _generation(name: str, key: Any) -> Any:
    shared = _shared()
    if shared is None:
        return None
    import redis

    try:
        return shared.get(_generation_key(name, key))
    except redis.RedisError as error:
        log.warning("cache: Redis unreachable, computing %s afresh (%s)", name, error)
        return UNKNOWN


def remember(name: str, key: Any, ttl: float, compute: Callable[[], Any]) -> Any:
    """The cached value of (name, key), computed again when older than `ttl` seconds or
    forgotten in any process."""
    store = _store()
    now = time.monotonic()
    generation = _generation(name, key)
    if generation is UNKNOWN:
        return compute()
    hit = store.get((name, key))
    if hit is not None and hit[0] > now and hit[2] == generation:
        return hit[1]
    value = compute()
    store[(name, key)] = (now + ttl, value, generation)
    return value


def forget(name: str, key: Any) -> None:
    """Drop (name, key) here and, through Redis, in every other process."""
    _store().pop((name, key), None)
    shared = _shared()
    if shared is None:
        return
    import redis

    try:
        with shared.pipeline() as pipe:
            pipe.incr(_generation_key(name, key))
            pipe.expire(_generation_key(name, key), GENERATION_TTL_SECONDS)
            pipe.execute()
    except redis.RedisError as error:
        # The other processes' entries then last until their ttl runs out.
        log.warning("cache: Redis unreachable, %s %s forgotten here only (%s)", name, key, error)
