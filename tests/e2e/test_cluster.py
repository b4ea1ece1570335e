"""Scale-out (issue 15): two app processes behind nginx, sharing PostgreSQL and Redis.

The cluster is the one `make cluster` starts (qosyl/ops/cluster.py), on a database, port,
run directory and Redis channel of its own. Each browser is pinned to one process by the
`qosyl_node` cookie nginx hashes on; the processes' X-Qosyl-Node header and nginx's access
log show, from the server side, that the two people really are served by different ones.
Then everything live crosses between them: presence, a notification, room chat, a
conversation and typing; and a message sent while Redis restarts still reaches the other
process.

Runs in the PostgreSQL e2e run only (`make test-postgres`); the SQLite run leaves it out.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.cluster import Cluster
from tests.e2e.cluster import cluster_env
from tests.e2e.cluster import cookie_per_node
from tests.e2e.cluster import NGINX
from tests.e2e.conftest import drop_server_database
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import REDIS_URL
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import user_maker
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until
from tests.helpers import IN_CI
from tests.helpers import PrivateRedis
from tests.helpers import require_service


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the cluster runs on PostgreSQL: this journey is in the PostgreSQL e2e run")
    require_service("PostgreSQL", os.environ["DATABASE_URL"])
    require_service("Redis", REDIS_URL)
    if not os.access(NGINX, os.X_OK):
        message = "nginx not found: `make nginx` installs Debian's nginx-light (as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("cluster")
    env = cluster_env(tmp, REDIS_URL, "cluster")
    cluster = Cluster(env)
    try:
        started = cluster.command("start")
        assert started.returncode == 0, started.stdout + started.stderr
        assert cluster.url in started.stdout
        yield cluster
    finally:
        stopped = cluster.command("stop")
        drop_server_database(env["DATABASE_URL"])
    assert stopped.returncode == 0, stopped.stderr
    assert "node1" in stopped.stdout and "node2" in stopped.stdout and "nginx" in stopped.stdout


def open_on(browser, cluster: Cluster, node_cookie: str, username: str):
    """A browser context pinned to one process, signed in as `username`."""
    context = browser.new_context(base_url=cluster.url)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "qosyl_node", "value": node_cookie, "url": cluster.url}])
    page = context.new_page()
    sign_in(page, username)
    return context, page


def served_by(page, path: str) -> str:
    response = page.goto(path)
    assert response is not None and response.ok
    return response.headers["x-qosyl-node"]


def chat_ready(page, kind: str) -> None:
    wait_for_live_channel(page)
    wait_until(page, f"Boolean(document.querySelector('[data-chat-{kind}][data-chat-ready]'))")


def send(page, kind: str, text: str) -> None:
    box = page.locator(f"[data-chat-{kind}]").first
    box.get_by_label("Message").fill(text)
    box.get_by_role("button", name="Send").click()


def messages(page, kind: str):
    return page.locator(f"[data-chat-{kind}] .chat__messages")


def two_people(cluster: Cluster, room_name: str) -> tuple[str, str, str, str]:
    """On the cluster's database, Ana hosts a room Bo joins, and they have a conversation:
    their usernames, the room's path and the conversation's."""
    # An app of this process on the cluster's database and channel, as in the other journeys.
    server = LiveServer(cluster.url, cluster.env, log=Path(cluster.run_dir) / "node1.log")
    make_user = user_maker(server)
    ana = make_user(first_name="Ana", last_name="Alpha")
    bo = make_user(first_name="Bo", last_name="Beta")
    with server.app().app_context():
        from qosyl.actions import messages as conversations
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import join

        room = create_room(user_by_username(ana), room_name, "Scale", "")
        join(user_by_username(bo), room)
        conversation = conversations.direct_conversation(
            user_by_username(ana), user_by_username(bo)
        )
        paths = f"/rooms/{room.id}", f"/messages/{conversation.id}"
    server.close()
    return ana, bo, *paths


def test_two_people_on_two_processes_share_everything_live(browser, cluster):
    ana, bo, room_url, conversation_url = two_people(cluster, "Across")

    pins = cookie_per_node(cluster.url)
    (node_a, cookie_a), (node_b, cookie_b) = sorted(pins.items())
    a_context, a = open_on(browser, cluster, cookie_a, ana)
    assert served_by(a, "/messages") == node_a
    wait_for_live_channel(a)
    dot = a.locator("#conversations .presence")
    expect(dot).to_have_attribute("data-presence", "offline")

    # Bo comes online on the other process: Ana's list shows it. (One page load only: a
    # second one would announce offline and online again from two green threads, whose
    # pushes may arrive in either order, in one process as in two.)
    b_context, b = open_on(browser, cluster, cookie_b, bo)
    wait_for_live_channel(b)
    expect(dot).to_have_attribute("data-presence", "online")

    # A friend request written on A reaches Bo's bell on B.
    a.goto(f"/u/{bo}")
    a.get_by_role("button", name="Add friend").click()
    expect(b.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    # Room chat both ways.
    for page, node in ((a, node_a), (b, node_b)):
        assert served_by(page, room_url) == node
        chat_ready(page, "room")
    send(a, "room", "Hello from the first process")
    expect(messages(b, "room")).to_contain_text("Hello from the first process")
    send(b, "room", "And back from the second")
    expect(messages(a, "room")).to_contain_text("And back from the second")

    # The conversation, with typing.
    for page in (a, b):
        page.goto(conversation_url)
        chat_ready(page, "conversation")
    a.locator("[data-chat-conversation]").get_by_label("Message").press_sequentially("Psst")
    expect(b.locator("[data-chat-typing]")).to_have_text("Ana is typing…")
    a.locator("[data-chat-conversation]").get_by_role("button", name="Send").click()
    expect(messages(b, "conversation")).to_contain_text("Psst")
    expect(b.locator("[data-chat-typing]")).to_have_text("")
    send(b, "conversation", "Heard you across processes")
    expect(messages(a, "conversation")).to_contain_text("Heard you across processes")
    for context in (a_context, b_context):
        context.close()

    # nginx's log: each browser's live channel (a WebSocket, upgraded) stayed on its process.
    nodes = cluster.nodes()
    deadline = time.monotonic() + 5
    while True:
        log = cluster.access_log()
        sockets = re.findall(
            r'"GET /socket\.io/\S+ [^"]+" (\d+) upstream=(\S+) node_cookie="([^"]*)"', log
        )
        upgraded = {cookie for status, _, cookie in sockets if status == "101"}
        if upgraded >= {cookie_a, cookie_b} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert upgraded >= {cookie_a, cookie_b}, log[-2000:]
    for node, cookie in ((node_a, cookie_a), (node_b, cookie_b)):
        assert {upstream for _, upstream, c in sockets if c == cookie} == {nodes[node]}


def test_a_message_sent_while_redis_restarts_reaches_the_other_process(browser, tmp_path):
    """Redis goes away while two people chat on two processes: what Ana sends meanwhile is
    stored, shows in her own tab at once, and reaches Bo once Redis is back (held and
    published, or caught up on live:resync: qosyl/live/queue.py)."""
    with PrivateRedis(tmp_path) as redis_server:
        env = cluster_env(tmp_path, redis_server.url, "redis-restart")
        own = Cluster(env)
        try:
            started = own.command("start")
            assert started.returncode == 0, started.stdout + started.stderr
            ana, bo, room_url, _ = two_people(own, "Outage")

            (node_a, cookie_a), (node_b, cookie_b) = sorted(cookie_per_node(own.url).items())
            a_context, a = open_on(browser, own, cookie_a, ana)
            b_context, b = open_on(browser, own, cookie_b, bo)
            for page, node in ((a, node_a), (b, node_b)):
                assert served_by(page, room_url) == node
                chat_ready(page, "room")

            redis_server.stop()
            send(a, "room", "Sent while Redis was away")
            expect(messages(a, "room")).to_contain_text("Sent while Redis was away")
            redis_server.start()
            expect(messages(b, "room")).to_contain_text("Sent while Redis was away")
            # And the channel works both ways again.
            send(b, "room", "Redis is back")
            expect(messages(a, "room")).to_contain_text("Redis is back")
            for page in (a, b):
                expect(page.locator("[data-chat-room] .message")).to_have_count(2)
            for context in (a_context, b_context):
                context.close()
        finally:
            stopped = own.command("stop")
            drop_server_database(env["DATABASE_URL"])
        assert stopped.returncode == 0, stopped.stderr
