"""Video meetings on this machine: time from Join to the first decoded frame, and frames per
second seen per tile, with 3 and with 6 participants (issue 12).

Every participant is a Chromium context (Playwright, Chromium's fake camera and microphone)
signed in to the real server (`python wsgi.py`, eventlet, SQLite), all on this one machine:
with N people each browser encodes its camera once per other participant (full mesh) and
decodes N-1 streams, so the machine does N x (N-1) encodes and decodes at once.

The baseline, measured in the same run: a bare WebRTC call inside one page, two
RTCPeerConnections handing each other their descriptions directly (no server, no
signalling), with the same fake camera. Its time to the first frame is what WebRTC itself
costs here; its frame rate is what the fake camera gives.

    .venv/bin/python bench/meeting.py                  # 3 and 6 participants, 10 s windows
    .venv/bin/python bench/meeting.py --sizes 3 --seconds 20 --json
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feed import app_env  # noqa: E402
from feed import BenchError  # noqa: E402
from feed import free_port  # noqa: E402
from feed import migrate  # noqa: E402
from feed import REPO  # noqa: E402
from feed import Server  # noqa: E402

PASSWORD = "bench-password-2026"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]

# A call between two connections of one page: milliseconds to the first decoded frame, and
# the frame rate over `seconds`.
BARE_CALL = """async (seconds) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const started = performance.now();
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  for (const track of stream.getTracks()) a.addTrack(track, stream);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const decoded = async () => {
    let frames = 0;
    (await b.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded || 0;
    });
    return frames;
  };
  while ((await decoded()) === 0) await sleep(10);
  const firstFrameMs = performance.now() - started;
  await sleep(2000);
  const before = await decoded();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const fps = ((await decoded()) - before) / ((performance.now() - t0) / 1000);
  a.close(); b.close();
  stream.getTracks().forEach((t) => t.stop());
  return { firstFrameMs, fps };
}"""

# Click Join and wait for a decoded frame from each of the `expected` others: milliseconds
# to the first frame from anyone, and from everyone.
JOIN_AND_TIME = """async (expected) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const started = performance.now();
  document.querySelector("[data-join]").click();
  let first = null;
  for (;;) {
    const meeting = window.qosyl.meeting;
    const counts = [];
    for (const entry of meeting.peers.values()) {
      counts.push((await entry.peer.inbound()).framesDecoded);
    }
    const seen = counts.filter((n) => n > 0).length;
    if (seen > 0 && first === null) first = performance.now() - started;
    if (expected === 0 && meeting.joined) return { first: 0, all: 0 };
    if (counts.length >= expected && seen >= expected && expected > 0) {
      return { first, all: performance.now() - started };
    }
    if (performance.now() - started > 60000) throw new Error(`no frames: ${counts}`);
    await sleep(10);
  }
}"""

DECODED = """async () => {
  const out = {};
  for (const [sid, entry] of window.qosyl.meeting.peers) {
    out[sid] = (await entry.peer.inbound()).framesDecoded;
  }
  return out;
}"""


def seed(env: dict[str, str], people: int) -> list[str]:
    """`people` verified users, and one standalone meeting per size hosted by the first."""
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    from qosyl import create_app
    from qosyl import models
    from qosyl.extensions import db
    from qosyl.passwords import hash_password

    app = create_app()
    now = datetime.now(UTC).replace(microsecond=0)
    password_hash = hash_password(PASSWORD)
    names = [f"meet{i}" for i in range(people)]
    rows = [
        {
            "username": name,
            "email": f"{name}@bench.example",
            "password_hash": password_hash,
            "first_name": "Meeting",
            "last_name": f"Person {i}",
            "email_verified_at": now - timedelta(days=1),
            "onboarded_at": now - timedelta(days=1),
            "created_at": now - timedelta(days=1),
            "updated_at": now,
            "bio": "Benchmark account",
        }
        for i, name in enumerate(names)
    ]
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(models.User.__table__.insert(), rows)
    return names


def new_meeting(env: dict[str, str], host: str) -> str:
    from qosyl import create_app
    from qosyl.actions.accounts import user_by_username
    from qosyl.actions.meetings import create_meeting

    app = create_app()
    with app.app_context():
        return create_meeting(user_by_username(host)).public_id


def sign_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def wait_for(page, expression: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise BenchError(f"still false after {timeout}s: {expression}")
        time.sleep(0.05)


def run_size(browser, base: str, env, names: list[str], size: int, seconds: float) -> dict:
    meeting = new_meeting(env, names[0])
    contexts, pages = [], []
    try:
        for name in names[:size]:
            context = browser.new_context(permissions=["camera", "microphone"])
            page = sign_in(context, base, name)
            page.goto(f"{base}/meetings/{meeting}")
            wait_for(
                page,
                "Boolean(window.qosyl && window.qosyl.socket && window.qosyl.socket.connected)",
            )
            # The camera is open before Join is pressed, as a person would see their preview.
            wait_for(page, "Boolean(window.qosyl.meeting && window.qosyl.meeting.local.video)")
            contexts.append(context)
            pages.append(page)
        joins = []
        for index, page in enumerate(pages):
            timing = page.evaluate(JOIN_AND_TIME, index)
            if index:
                joins.append(timing)
        for page in pages:  # everyone sees everyone before the frame rate is measured
            wait_for(page, f"window.qosyl.meeting.peers.size === {size - 1}")
        time.sleep(3)  # settle: encoders ramp up after a join
        before = [page.evaluate(DECODED) for page in pages]
        started = time.monotonic()
        time.sleep(seconds)
        after = [page.evaluate(DECODED) for page in pages]
        elapsed = time.monotonic() - started
        fps = [
            (after[i].get(sid, 0) - count) / elapsed
            for i in range(len(pages))
            for sid, count in before[i].items()
        ]
        load = os.getloadavg()[0]
    finally:
        for context in contexts:
            context.close()
    return {
        "participants": size,
        "tiles": len(fps),
        "first_frame_ms": [round(j["first"]) for j in joins],
        "all_frames_ms": [round(j["all"]) for j in joins],
        "fps_median": statistics.median(fps),
        "fps_min": min(fps),
        "fps_max": max(fps),
        "load_1min": load,
    }


@click.command()
@click.option("--sizes", default="3,6", help="Participants per meeting, comma-separated.")
@click.option("--seconds", default=10.0, help="Frame-rate window per size.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON too.")
def main(sizes: str, seconds: float, as_json: bool) -> None:
    from playwright.sync_api import sync_playwright

    counts = [int(size) for size in sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="qosyl-meeting-bench-") as tmp:
        instance = Path(tmp)
        env = app_env(instance, f"sqlite:///{instance / 'bench.db'}")
        migrate(env)
        names = seed(env, max(counts))
        port = free_port()
        with Server(env, port, instance / "server.log") as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(permissions=["camera", "microphone"]).new_page()
            page.goto(f"{server.base}/about")
            bare = page.evaluate(BARE_CALL, seconds)
            page.context.close()
            results = [run_size(browser, server.base, env, names, n, seconds) for n in counts]
            browser.close()
    click.echo(f"Chromium {CHROMIUM}, fake camera; {os.cpu_count()} CPUs; window {seconds:.0f} s")
    click.echo(
        f"baseline, bare call in one page: first frame {bare['firstFrameMs']:.0f} ms,"
        f" {bare['fps']:.1f} fps"
    )
    columns = (
        "participants",
        "tiles",
        "Join to first frame (ms, per joiner)",
        "to frames from all (ms)",
        "fps per tile median (min-max)",
        "fps / bare",
        "load",
    )
    click.echo(f"| {' | '.join(columns)} |")
    click.echo("|---|---|---|---|---|---|---|")
    for r in results:
        click.echo(
            f"| {r['participants']} | {r['tiles']} | {', '.join(map(str, r['first_frame_ms']))}"
            f" | {', '.join(map(str, r['all_frames_ms']))}"
            f" | {r['fps_median']:.1f} ({r['fps_min']:.1f}-{r['fps_max']:.1f})"
            f" | {r['fps_median'] / bare['fps']:.2f}x | {r['load_1min']:.1f} |"
        )
    if as_json:
        click.echo(json.dumps({"bare": bare, "meetings": results}, indent=2))


if __name__ == "__main__":
    main()
