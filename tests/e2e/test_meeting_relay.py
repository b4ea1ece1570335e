"""A meeting through a TURN relay (issue 12): Debian's coturn started here with a shared
secret, a Qosyl server that hands out time-limited credentials for it and tells browsers
to use the relay only (WEBRTC_ICE_TRANSPORT_POLICY=relay). Video must flow, and the
connection's chosen candidates must be relayed ones."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid

import pytest

from tests.e2e.conftest import _serve
from tests.e2e.conftest import free_port
from tests.e2e.conftest import user_maker
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.meetings import inbound
from tests.e2e.meetings import join_from_link
from tests.e2e.meetings import meeting_context
from tests.e2e.meetings import wait_for_frames
from tests.helpers import IN_CI

pytestmark = pytest.mark.e2e

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    """coturn on 127.0.0.1, checking credentials against a secret: (url, secret)."""
    if not shutil.which("turnserver"):
        message = "turnserver not found: the relay test needs Debian's coturn package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port, secret = free_port(), uuid.uuid4().hex
    folder = tmp_path_factory.mktemp("turn")
    log = folder / "turnserver.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [
                TURNSERVER, "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}",
                "--relay-ip=127.0.0.1", "--min-port=49152", "--max-port=65535",
                "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=qosyl.test",
                "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
                "--log-file=stdout", "--simple-log", "--verbose",
                f"--pidfile={folder / 'turnserver.pid'}", f"--userdb={folder / 'turndb'}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 15
    while b"Relay ports initialization done" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"turnserver did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)
    yield f"turn:127.0.0.1:{port}?transport=udp", secret, log
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def relay_server(tmp_path_factory, smtp, turn):
    url, secret, _ = turn
    yield from _serve(
        tmp_path_factory.mktemp("relay"),
        smtp,
        TURN_URLS=url,
        TURN_SECRET=secret,
        WEBRTC_ICE_TRANSPORT_POLICY="relay",
    )


def test_video_flows_through_the_turn_relay(browser, relay_server, turn):
    make = user_maker(relay_server)
    ann, ben = make("Ann", "Relay"), make("Ben", "Relay")
    contexts = []
    try:
        ann_context, ann_page = meeting_context(browser, relay_server.url, ann)
        ben_context, ben_page = meeting_context(browser, relay_server.url, ben)
        contexts += [ann_context, ben_context]
        ann_page.goto("/meetings")
        ann_page.get_by_role("button", name="New meeting").click()
        link = ann_page.get_by_label("Meeting link").input_value()
        # A relay is configured: no "local network only" notice.
        assert ann_page.get_by_text("only people on the same local network").count() == 0
        wait_for_live_channel(ann_page)
        ann_page.get_by_role("button", name="Join meeting").click()
        join_from_link(ben_page, link)

        wait_for_frames(ann_page, ["Ben Relay"], timeout=30)
        wait_for_frames(ben_page, ["Ann Relay"], timeout=30)
        assert inbound(ann_page)["Ben Relay"]["relayed"]
        assert inbound(ben_page)["Ann Relay"]["relayed"]
        # Through coturn, which took the credentials Qosyl issued to each (their usernames
        # end in the user's id) and gave each a relay.
        _, _, log = turn
        with relay_server.app().app_context():
            from qosyl.actions.accounts import user_by_username

            ids = [user_by_username(name).id for name in (ann, ben)]
        for user_id in ids:
            allocated = rf"user <\d+:{user_id}>: incoming packet ALLOCATE processed, success"
            assert re.search(allocated, log.read_text()), log.read_text()[-2000:]
    finally:
        for context in contexts:
            context.close()
