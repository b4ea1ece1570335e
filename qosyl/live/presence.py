"""Presence (MSG-3): online, away or offline, following a user's open tabs.

Each connected tab (Socket.IO sid) has a state, "online" or "away". A user is online
while any tab is online, away when every tab is away, offline with no tab at all, so
closing one of two tabs changes nothing. The tab states live in process memory, or in
Redis when Socket.IO shares a Redis queue, so that every process of a deployment agrees.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from qosyl.errors import warn_unreachable
from qosyl.extensions import db
from qosyl.models import ConversationMember
from qosyl.models import Friendship
from qosyl.models import MemberStatus
from qosyl.reads.people import blocked_ids

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
# Redis forgets a user's tabs this long after their last change or keep-alive: a process
# that crashed cannot disconnect its tabs, and must not keep their users online for ever.
# static/js/presence.js sends a keep-alive well within it.
TAB_TTL_SECONDS = 10 * 60


def overall(tab_states: Iterable[str]) -> str:
    """The user's state from the states of their tabs."""
    tabs = list(tab_states)
    if not tabs:
        return OFFLINE
    return ONLINE if ONLINE in tabs else AWAY


# Storage


class Store(Protocol):
    def update(
        self, user_id: int | str, sid: str, state: str | None
    ) -> tuple[list[str], list[str]]:
        """Set one tab's state (None: remove the tab); the user's tab states before and after,
        read in the same atomic step so that two processes never both report one change."""
        ...

    def tab_states(self, user_ids: list[int]) -> dict[int, list[str]]: ...

    def tabs(self, user_id: int | str) -> dict[str, str]:
        """The tabs of one key, sid -> value."""
        ...

    def first_within(self, key: str, seconds: float) -> bool:
        """True for the first call with `key` in any `seconds`, across every process that
        shares the store; False for the others (a throttle)."""
        ...

    def touch(self, user_id: int | str) -> None:
        """Keep one key's tabs for another TTL, changing nothing (a keep-alive)."""
        ...


class MemoryStore:
    """One process: a dict of user id -> {sid: state}."""

    # Throttle marks are pruned once there are this many, so the dict cannot grow forever.
    PRUNE_AT = 1000

    def __init__(self) -> None:
        self._tabs: dict[int, dict[str, str]] = {}
        self._marks: dict[str, float] = {}  # key -> when its throttle window ends
        self._lock = threading.Lock()

    def update(
        self, user_id: int | str, sid: str, state: str | None
    ) -> tuple[list[str], list[str]]:
        with self._lock:
            tabs = self._tabs.setdefault(user_id, {})
            before = list(tabs.values())
            if state is None:
                tabs.pop(sid, None)
            else:
                tabs[sid] = state
            after = list(tabs.values())
            if not tabs:
                del self._tabs[user_id]
        return before, after

    def tab_states(self, user_ids: list[int]) -> dict[int, list[str]]:
        with self._lock:
            return {uid: list(self._tabs.get(uid, {}).values()) for uid in user_ids}

    def tabs(self, user_id: int | str) -> dict[str, str]:
        with self._lock:
            return dict(self._tabs.get(user_id, {}))

    def first_within(self, key: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._marks.get(key, 0.0) > now:
                return False
            if len(self._marks) >= self.PRUNE_AT:
                self._marks = {k: end for k, end in self._marks.items() if end > now}
            self._marks[key] = now + seconds
            return True

    def touch(self, user_id: int | str) -> None:
        pass  # nothing expires in memory


def _unreachable(fallback):
    """A RedisStore method that answers `fallback(*args)` while Redis is unreachable (a
    restart): people show offline and nothing is announced meanwhile, instead of every page
    and event that asks failing. Tabs say their state again once the Socket.IO queue is back
    (`live:resync`, qosyl/live/queue.py), and their keep-alives would anyway."""

    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args):
            import redis

            try:
                return method(self, *args)
            except (redis.ConnectionError, redis.TimeoutError) as error:  # and BusyLoadingError
                warn_unreachable(f"Redis ({self.prefix})", error)
                return fallback(*args)

        return guarded

    return wrap


class RedisStore:
    """Several processes: a hash per user of sid -> state, expiring TAB_TTL_SECONDS after
    its last update. While Redis is unreachable, reads find nothing and writes are lost."""

    def __init__(self, client, prefix: str, ttl: int = TAB_TTL_SECONDS) -> None:
        self.client = client  # a redis.Redis with decode_responses=True
        self.prefix = prefix
        self.ttl = ttl

    def key(self, user_id: int | str) -> str:
        return f"{self.prefix}:presence:{user_id}"

    @_unreachable(lambda user_id, sid, state: ([], []))
    def update(
        self, user_id: int | str, sid: str, state: str | None
    ) -> tuple[list[str], list[str]]:
        key = self.key(user_id)
        # MULTI/EXEC: no other process's change lands between the two reads.
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hvals(key)
            if state is None:
                pipe.hdel(key, sid)
            else:
                pipe.hset(key, sid, state)
            pipe.expire(key, self.ttl)
            pipe.hvals(key)
            before, *_, after = pipe.execute()
        return before, after

    @_unreachable(lambda user_ids: {uid: [] for uid in user_ids})
    def tab_states(self, user_ids: list[int]) -> dict[int, list[str]]:
        with self.client.pipeline(transaction=False) as pipe:
            for uid in user_ids:
                pipe.hvals(self.key(uid))
            return dict(zip(user_ids, pipe.execute(), strict=True))

    @_unreachable(lambda user_id: {})
    def tabs(self, user_id: int | str) -> dict[str, str]:
        return self.client.hgetall(self.key(user_id))

    @_unreachable(lambda key, seconds: True)
    def first_within(self, key: str, seconds: float) -> bool:
        # SET NX with an expiry: one atomic step, and Redis forgets the mark by itself.
        mark = f"{self.prefix}:once:{key}"
        return bool(self.client.set(mark, 1, nx=True, px=max(1, int(seconds * 1000))))

    @_unreachable(lambda user_id: None)
    def touch(self, user_id: int | str) -> None:
        # EXPIRE on a key that is gone does nothing: no entry comes back.
        self.client.expire(self.key(user_id), self.ttl)


def make_store(queue_url: str | None, prefix: str) -> Store:
    """Redis when Socket.IO's queue is Redis (several processes), else this process's memory."""
    if queue_url and queue_url.startswith(("redis://", "rediss://")):
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # A Redis that stops answering costs a call about two seconds before the store
        # answers without it (redis-py's default: ten retries, several seconds).
        client = redis.Redis.from_url(
            queue_url,
            decode_responses=True,
            socket_connect_timeout=1,
            socket_timeout=1,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        )
        return RedisStore(client, prefix)
    return MemoryStore()


def app_store(purpose: str) -> Store:
    """The app's store for one purpose ("" for presence itself), made on first use: a test's
    app never sees another's tabs, and purposes keep apart on a shared Redis."""
    name = f"qosyl.{purpose or 'presence'}"
    store = current_app.extensions.get(name)
    if store is None:
        config = current_app.config
        prefix = config["SOCKETIO_CHANNEL"] + (f":{purpose}" if purpose else "")
        store = make_store(config["SOCKETIO_MESSAGE_QUEUE"], prefix)
        current_app.extensions[name] = store
    return store


def _store() -> Store:
    return app_store("")


# Rules


def _change(user_id: int, sid: str, state: str | None) -> str | None:
    before, after = _store().update(user_id, sid, state)
    new = overall(after)
    return new if new != overall(before) else None


def tab_connected(user_id: int, sid: str) -> str | None:
    """A tab connected, online until it says otherwise. The new state, or None if unchanged."""
    return _change(user_id, sid, ONLINE)


def tab_state(user_id: int, sid: str, away: bool) -> str | None:
    """A tab went away (hidden or idle) or came back. The new state, or None if unchanged.

    Repeating the same state changes nothing but refreshes Redis's expiry (the keep-alive).
    """
    return _change(user_id, sid, AWAY if away else ONLINE)


def tab_disconnected(user_id: int, sid: str) -> str | None:
    """A tab closed or lost its connection. The new state, or None if unchanged."""
    return _change(user_id, sid, None)


def states(user_ids: Iterable[int]) -> dict[int, str]:
    """The state of each user, for rendering a page of people in one call."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    return {uid: overall(tabs) for uid, tabs in _store().tab_states(ids).items()}


def audience(user_id: int) -> list[int]:
    """Who is told when this user's state changes, in one query: their friends and the
    active members of conversations they are active in, minus anyone in a block with them."""
    mine = aliased(ConversationMember)
    theirs = aliased(ConversationMember)
    friends = select(Friendship.friend_id.label("id")).where(Friendship.user_id == user_id)
    fellow_members = (
        select(theirs.user_id)
        .join(mine, mine.conversation_id == theirs.conversation_id)
        .where(
            mine.user_id == user_id,
            mine.status == MemberStatus.ACTIVE,
            theirs.status == MemberStatus.ACTIVE,
        )
    )
    people = friends.union(fellow_members).subquery()
    query = (
        select(people.c.id)
        .where(people.c.id != user_id, people.c.id.not_in(blocked_ids(user_id)))
        .order_by(people.c.id)
    )
    return list(db.session.scalars(query))
