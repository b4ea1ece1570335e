"""The Socket.IO queue through a Redis restart (qosyl/live/queue.py, issue 15), on a
redis-server of each test's own: what could not be published waits and goes out in order,
the listener subscribes again by itself and tells this process's tabs to catch up, and the
stores that live in Redis answer without it meanwhile, and rate limits count in each
process's memory.

tests/e2e/test_cluster_faults.py restarts Redis under two processes and 100 chatting clients.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from qosyl import create_app
from qosyl import ratelimits
from qosyl.extensions import socketio
from qosyl.live import presence
from qosyl.live.queue import ResilientRedisManager
from qosyl.live.queue import RESYNC_EVENT
from qosyl.live.queue import RESYNC_SLACK_SECONDS
from tests.helpers import PrivateRedis
from tests.helpers import sign_in_attempts


def wait_for(condition, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


@pytest.fixture(autouse=True)
def warnings_anew(monkeypatch):
    """Each test sees its own "unreachable" warnings: they are logged once a minute per
    service in a process, and another test may have logged one just before."""
    import qosyl.errors

    monkeypatch.setattr(qosyl.errors, "_warned_at", {})


@pytest.fixture(autouse=True)
def limiter_alive_after():
    """Flask-Limiter marks its storage dead on the one extension object every app of this
    process shares; a later test's app would count in the fallback memory until a health
    check revives it, mid-test (a sign-in limit counted in two places: failed in a run of
    test_login.py after this file). So it is alive again after each test."""
    from qosyl.extensions import limiter

    yield
    limiter._storage_dead = False


@pytest.fixture
def redis_server(tmp_path):
    with PrivateRedis(tmp_path) as server:
        yield server


@pytest.fixture
def queued_app(app, redis_server, database_url):
    """An app as one process of a cluster makes it, on the private Redis. Made after `app`
    (which empties the tables afterwards), so Socket.IO's server is this one's."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        SOCKETIO_MESSAGE_QUEUE=redis_server.url,
        SOCKETIO_CHANNEL=f"test-queue-{uuid.uuid4().hex}",
    )


def listener(url: str, channel: str):
    """Another process's view of the channel: a plain Redis subscriber, subscribed once
    this returns."""
    import redis

    pubsub = redis.Redis.from_url(url).pubsub()
    pubsub.subscribe(channel)
    wait_for(lambda: (pubsub.get_message(timeout=0.1) or {}).get("type") == "subscribe",
             "the subscription")  # fmt: skip
    return pubsub


def events_heard(pubsub, wanted: int) -> list[int]:
    heard: list[int] = []

    def enough() -> bool:
        while (message := pubsub.get_message(timeout=0.05)) is not None:
            data = json.loads(message["data"])
            if data.get("method") == "emit":
                heard.append(data["data"][0]["n"])
        return len(heard) >= wanted

    wait_for(enough, f"{wanted} events on the channel")
    return heard


def test_a_redis_queue_gets_the_manager_that_rides_out_restarts(queued_app):
    assert isinstance(socketio.server.manager, ResilientRedisManager)


def test_events_published_while_redis_is_away_go_out_in_order_when_it_is_back(
    queued_app, redis_server
):
    manager = socketio.server.manager
    redis_server.stop()
    for n in range(5):
        socketio.emit("note", {"n": n}, to="somewhere")
    assert manager.held == 5  # held, none dropped
    # The backlog cannot go out before the other process listens again.
    with manager._publishing:
        redis_server.start()
        other_process = listener(redis_server.url, manager.channel)
    socketio.emit("note", {"n": 5}, to="somewhere")  # behind the backlog, or after it
    assert events_heard(other_process, 6) == [0, 1, 2, 3, 4, 5]
    assert manager.held == 0 and manager.dropped == 0


def test_the_backlog_keeps_the_newest_when_full(queued_app, redis_server, monkeypatch):
    import qosyl.live.queue

    monkeypatch.setattr(qosyl.live.queue, "BACKLOG_LIMIT", 3)
    manager = socketio.server.manager
    redis_server.stop()
    for n in range(5):
        socketio.emit("note", {"n": n}, to="somewhere")
    assert manager.held == 3 and manager.dropped == 2
    assert [event["data"][0]["n"] for event in manager._backlog] == [2, 3, 4]


def test_after_a_restart_this_process_tabs_are_told_to_catch_up(
    queued_app, redis_server, monkeypatch
):
    manager = socketio.server.manager
    told: list[tuple] = []
    emit = manager.emit

    def record(event, data, namespace=None, room=None, **kwargs):
        # (Flask-SocketIO's test client refuses a queue: the manager's emit is watched.)
        told.append((event, data, namespace, room, kwargs.get("ignore_queue")))
        return emit(event, data, namespace=namespace, room=room, **kwargs)

    monkeypatch.setattr(manager, "emit", record)
    # The server starts the listener with its first connection; no browser comes here.
    socketio.server.manager_initialized = True
    manager.initialize()
    wait_for(lambda: manager.pubsub is not None and manager.pubsub.subscribed, "subscription")
    lost = time.time()
    redis_server.restart(down=0.3)
    wait_for(lambda: told, "live:resync")
    [(event, data, namespace, room, local)] = told
    # To every tab of this process (no room), not through Redis: each process tells its own.
    assert (event, namespace, room, local) == (RESYNC_EVENT, "/", None, True)
    # A little before the subscription broke: what was in flight then is caught up too.
    assert lost - RESYNC_SLACK_SECONDS - 1 < data["since"] <= lost - RESYNC_SLACK_SECONDS + 1


def test_presence_stores_answer_without_redis(queued_app, redis_server, caplog):
    redis_server.stop()
    with queued_app.app_context():
        store = presence.app_store("")
        assert store.update(7, "tab", "online") == ([], [])
        assert store.tab_states([7, 8]) == {7: [], 8: []}
        assert store.tabs(7) == {}
        assert store.first_within("typing:7", 1.0) is True
        store.touch(7)
        assert presence.states([7]) == {7: presence.OFFLINE}
    assert "unreachable" in caplog.text


def test_rate_limits_count_in_this_process_while_redis_is_away(redis_server, database_url, caplog):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_server.url,
        RATELIMIT_CHAT="1 per minute",
        RATELIMIT_LOGIN_FAILURES="2 per minute",
    )
    with app.app_context():
        assert ratelimits.allow_chat_message(7) is True
        assert ratelimits.allow_chat_message(7) is False  # counted in Redis
        redis_server.stop()
        # This process's memory counts from nothing, and the limit holds again.
        assert ratelimits.allow_chat_message(7) is True
        assert ratelimits.allow_chat_message(7) is False
        assert 0 < ratelimits.chat_retry_after(7) <= 60
        # Sign-in guesses too: a Redis outage opens no door to guessing.
        attempts = [ratelimits.count_sign_in_attempt("127.0.0.1", "user:7") for _ in range(3)]
        assert attempts[:2] == [None, None] and attempts[2] > 0
    assert "rate-limit store" in caplog.text


def test_a_redis_that_stops_answering_counts_as_unreachable_too(app, caplog):
    """A Redis that accepts connections but answers nothing (hung, or a network partition):
    the store's calls time out, and answer as without Redis."""
    import socket

    import redis

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts; nobody ever answers
        host, port = silent.getsockname()
        client = redis.Redis(host=host, port=port, socket_timeout=0.2, retry=None)
        store = presence.RedisStore(client, "test-silent")
        with app.app_context():
            assert store.tab_states([7]) == {7: []}
    assert "unreachable" in caplog.text


def test_rate_limits_on_a_redis_that_stops_answering_count_in_this_process_soon(
    database_url, caplog
):
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=f"redis://{host}:{port}/0",
        )
        with app.app_context():
            started = time.monotonic()
            assert ratelimits.allow_chat_message(7) is True  # counted in this process
            took = time.monotonic() - started
    # One retry of a one-second timeout, not redis-py's ten.
    assert took < 4, took
    assert "rate-limit store" in caplog.text


def test_route_limits_hold_in_this_process_while_redis_is_away(redis_server, app, caplog):
    """Flask-Limiter's own limits (the sign-in page's per address) fall back to this
    process's memory too (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED)."""
    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_server.url,
        RATELIMIT_LOGIN_PER_IP="3 per minute",
    )
    client = limited.test_client()
    client.get("/login")  # the session's CSRF token, while Redis is there
    redis_server.stop()
    assert sign_in_attempts(client, 4) == [422, 422, 422, 429]
