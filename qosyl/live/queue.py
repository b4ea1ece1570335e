"""The Socket.IO message queue on Redis, made to ride out a Redis restart (issue 15).

python-socketio's RedisManager delivers an event to this process's tabs at once and publishes
it for the other processes. When Redis goes away it drops what it cannot publish after one
retry, and its listener waits up to a minute between attempts to subscribe again: tabs of
other processes lose every event of the outage, and nobody tells them. Here:

- A publish that fails waits in this process's backlog, in order, and goes out as soon as
  Redis answers again; while anything waits, later publishes queue behind it.
- The listener tries again after 0.1 s, doubling to at most 2 s.
- Once subscribed again, it tells every tab of this process `live:resync` with `since`, a
  little before the subscription broke: what other processes published meanwhile never
  reached them. Each tab catches up its open chats from the last message it held before
  `since` (js/chat/main.js; the subscribe event's `since`), refreshes its badges and says
  its presence again (Redis may have restarted empty).
"""

from __future__ import annotations

import collections
import logging
import threading
import time

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

RESYNC_EVENT = "live:resync"
# An event published just before the subscription broke was written at most this long before:
# the catch-up starts this much earlier.
RESYNC_SLACK_SECONDS = 2.0
RETRY_FIRST_SECONDS = 0.1
RETRY_MOST_SECONDS = 2.0
# Events kept for Redis's return at most; past it the oldest go (the tabs' catch-up on
# resync still finds every stored message).
BACKLOG_LIMIT = 10_000


class ResilientRedisManager(socketio.RedisManager):
    """RedisManager that keeps what it could not publish and tells tabs to catch up after an
    outage."""

    name = "redis"

    def __init__(self, url: str, channel: str, **options) -> None:
        # The app's log (Flask's handler on "qosyl"), where python-socketio's own shows errors only.
        options.setdefault("logger", logging.getLogger(__name__))
        super().__init__(url, channel=channel, **options)
        self._publisher: redis.Redis | None = None
        self._backlog: collections.deque = collections.deque()
        # A green lock under eventlet (monkey-patched): publishes keep their order.
        self._publishing = threading.Lock()
        self._draining = False
        self.dropped = 0  # events the backlog had no room for

    # Publishing ---------------------------------------------------------------------------

    def _publisher_client(self) -> redis.Redis:
        if self._publisher is None:
            # No retries of its own: with Redis away, a publish joins the backlog at once
            # instead of holding its request for seconds.
            self._publisher = redis.Redis.from_url(
                self.redis_url,
                socket_connect_timeout=1,
                socket_timeout=2,
                retry=Retry(NoBackoff(), 0),
                **self.redis_options,
            )
        return self._publisher

    def _send(self, data) -> bool:
        try:
            self._publisher_client().publish(self.channel, self.json.dumps(data))
            return True
        except redis.RedisError:
            return False

    def _publish(self, data) -> None:
        # The usual case takes no lock: publishes run side by side, as python-socketio's do.
        if not self._backlog and self._send(data):
            return
        with self._publishing:
            if not self._backlog and self._send(data):
                return  # the backlog went out meanwhile
            if not self._backlog:
                self._get_logger().warning("Redis is away: holding events until it is back")
            if len(self._backlog) >= BACKLOG_LIMIT:
                self._backlog.popleft()
                self.dropped += 1
            self._backlog.append(data)
            if not self._draining:
                self._draining = True
                self.server.start_background_task(self._drain)

    def _drain(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            self.server.sleep(delay)
            with self._publishing:
                sent = 0
                while self._backlog and self._send(self._backlog[0]):
                    self._backlog.popleft()
                    sent += 1
                if not self._backlog:
                    self._draining = False
                    self._get_logger().warning(
                        "Redis is back: published %d held events (%d dropped)", sent, self.dropped
                    )
                    return
            delay = min(RETRY_MOST_SECONDS, delay * 2)

    @property
    def held(self) -> int:
        """Events waiting for Redis."""
        return len(self._backlog)

    # Listening ----------------------------------------------------------------------------

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # Subscription confirmations are kept: the one after an outage is when tabs are told.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    def _redis_listen_with_retries(self):
        delay = RETRY_FIRST_SECONDS
        lost_at: float | None = None
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                for message in self.pubsub.listen():
                    if message.get("type") == "subscribe" and lost_at is not None:
                        self._resync(lost_at)
                        lost_at = None
                    delay = RETRY_FIRST_SECONDS
                    yield message
            except Exception as error:  # noqa: BLE001 - any failure means: subscribe again
                if lost_at is None:
                    lost_at = time.time()
                    self._get_logger().warning("Redis subscription lost (%s): retrying", error)
                time.sleep(delay)  # green under eventlet
                delay = min(RETRY_MOST_SECONDS, delay * 2)

    def _resync(self, lost_at: float) -> None:
        since = lost_at - RESYNC_SLACK_SECONDS
        self._get_logger().warning(
            "Redis subscription back after %.1f s: tabs catch up", time.time() - lost_at
        )
        # To this process's tabs only: every process tells its own.
        self.emit(RESYNC_EVENT, {"since": since}, namespace="/", ignore_queue=True)


def client_manager(url: str | None, channel: str) -> ResilientRedisManager | None:
    """The manager for a Redis queue URL; None for no queue or another kind (python-socketio's
    own then)."""
    if url and url.startswith(("redis://", "rediss://")):
        return ResilientRedisManager(url, channel)
    return None
