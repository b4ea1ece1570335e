"""What one process keeps that another needs (issue 15): with Socket.IO's queue on Redis,
every such thing lives in Redis, so a user gets the same answer whichever process serves
them.

Kept in Redis when the queue is configured:
- presence.app_store(purpose): presence (""), open tabs per account and per address
  ("tabs", "addresses": the socket caps), the conversation a tab views ("viewing"),
  typing throttles ("typing"), meeting seats, tabs, removals and state ("meeting*");
- rate-limit counters (Flask-Limiter's storage follows the queue in config.py);
- the forgetting of the sidebar cache (qosyl/cache.py: a generation per entry).

Kept per process on purpose, because their keys hold everything they show (a change made
anywhere gives a new key, nothing is forgotten): the chat message markup
(qosyl/render/chat_markup.py, tested across connections in test_chat_markup.py), post card
parts and url_for paths (qosyl/render/templating.py, qosyl/__init__.py), static asset hashes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from qosyl import cache
from qosyl import create_app
from qosyl.live import presence
from tests.helpers import require_service

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parent.parent

SHARED_STORES = {
    "",  # presence itself
    "tabs",
    "addresses",
    "viewing",
    "typing",
    "meeting",
    "meeting-tabs",
    "meeting-removed",
    "meeting-state",
}


def stores_in_the_code() -> set[str]:
    found = set()
    for path in (ROOT / "qosyl").rglob("*.py"):
        found.update(re.findall(r'app_store\("([^"]*)"\)', path.read_text()))
    return found


@pytest.fixture
def channel():
    """A Socket.IO channel of this test's own on the shared Redis; its keys go afterwards."""
    import redis

    require_service("Redis", REDIS_URL)
    name = f"test-shared-{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)


def process(database_url: str, channel: str, queue: str = REDIS_URL):
    """An app as one of several processes would make it."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        SOCKETIO_MESSAGE_QUEUE=queue,
        SOCKETIO_CHANNEL=channel,
    )


def test_the_list_names_every_store_in_the_code():
    assert stores_in_the_code() | {""} == SHARED_STORES


@pytest.mark.parametrize("purpose", sorted(SHARED_STORES))
def test_each_store_is_redis_and_one_process_sees_what_another_wrote(
    purpose, database_url, channel
):
    a, b = process(database_url, channel), process(database_url, channel)
    with a.app_context():
        written = presence.app_store(purpose)
        assert isinstance(written, presence.RedisStore)
        written.update(7, "tab-on-a", "online")
    with b.app_context():
        assert presence.app_store(purpose).tab_states([7]) == {7: ["online"]}


def test_without_the_queue_each_store_is_this_process_memory(app):
    with app.app_context():
        for purpose in SHARED_STORES:
            assert isinstance(presence.app_store(purpose), presence.MemoryStore)


def test_rate_limits_count_in_redis_when_the_queue_is_redis():
    settings = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.RATELIMIT_STORAGE_URI)"],
        cwd=ROOT,
        env={"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert settings.stdout.strip() == REDIS_URL


def test_forgetting_a_cached_entry_reaches_the_other_process(database_url, channel):
    a, b = process(database_url, channel), process(database_url, channel)
    computed = []

    def suggestions():
        computed.append(1)
        return len(computed)

    with b.app_context():
        assert cache.remember("suggestions", 7, 60, suggestions) == 1
        assert cache.remember("suggestions", 7, 60, suggestions) == 1  # kept
    with a.app_context():
        cache.forget("suggestions", 7)  # a relation changed, on the other process
    with b.app_context():
        assert cache.remember("suggestions", 7, 60, suggestions) == 2
        assert cache.remember("suggestions", 7, 60, suggestions) == 2
        assert cache.remember("suggestions", 8, 60, suggestions) == 3  # another key apart


def test_an_unreachable_redis_costs_the_cache_not_the_page(database_url, channel):
    # Nothing listens on port 1: every call to Redis fails at once.
    down = process(database_url, channel, queue="redis://127.0.0.1:1/0")
    computed = []
    with down.app_context():
        for _ in range(2):
            assert cache.remember("trending", None, 60, lambda: computed.append(1) or "tags")
        cache.forget("suggestions", 7)  # logged, not raised
    assert len(computed) == 2  # nothing kept while the generation is unknown
