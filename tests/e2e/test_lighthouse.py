"""Lighthouse 11's performance score (mobile profile) on home, a room and a conversation,
signed in, against the live eventlet server, in Debian's Chromium (issue 14, "Speed").

Run it alone: `PYTHONPATH=$PWD .venv/bin/python -m pytest -p no:randomly -m e2e -s
tests/e2e/test_lighthouse.py`; the figures are in bench/README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.conftest import ROOT
from tests.e2e.conftest import sign_in
from tests.helpers import IN_CI

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PASSING_SCORE = 0.95
METRICS = {
    "FCP": "first-contentful-paint",
    "LCP": "largest-contentful-paint",
    "TBT": "total-blocking-time",
    "CLS": "cumulative-layout-shift",
    "SI": "speed-index",
}


@pytest.fixture(scope="module")
def signed_in(live_server, browser):
    """Someone with a room and a conversation, each with messages to show: the paths of
    the three pages and the Cookie header of their sign-in."""
    if not LIGHTHOUSE.exists():
        message = f"{LIGHTHOUSE} is missing: run `make vendor` (npm ci) first"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from tests import factories

    app = live_server.app()
    with app.app_context():
        me = factories.user(first_name="Light", last_name="House")
        friend = factories.user(first_name="Fast", last_name="Friend")
        room_id = factories.make_room(app, me, "Speed readers", "Speed")
        factories.with_room(app, room_id, factories.room_actions.join, friend)
        conversation_id = factories.start_conversation(app, me, friend)
        for n in range(15):
            author = me if n % 2 else friend
            body = f"Message {n}: **how fast** is this page? `code` and a [link](/about)."
            factories.say_in_room(app, author, room_id, body)
            factories.write_message(app, author, conversation_id, body)
        username = me.username
    context = browser.new_context(base_url=live_server.url)
    sign_in(context.new_page(), username)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    context.close()
    return {
        "home": "/",
        "room": f"/rooms/{room_id}",
        "conversation": f"/messages/{conversation_id}",
        "cookie": cookie,
    }


# In about one run in four on a loaded 2-core machine, Chromium shows the new page's first
# frame ~1 s after painting it (the page's layer tree is attached late, after the load
# event); Lantern then counts every script as holding up the first paint, and room and
# conversation (more requests than home) score 85-89 instead of 97-100. Such a run is
# recognised by its unthrottled first paint coming long after the load event; the score
# then measures Chromium, so what the page itself decides is checked instead: no long
# tasks to speak of and no layout shift (bench/README.md, "Lighthouse").
LATE_FIRST_FRAME_MS = 500
LATE_FRAME_LIMITS = {"total-blocking-time": 200, "cumulative-layout-shift": 0.1}


def lighthouse(url: str, cookie: str, report_path: Path) -> dict:
    """One Lighthouse run of the default mobile profile: a mid-range phone on slow 4G,
    simulated (Lantern) from one load."""
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--only-categories=performance",
            "--form-factor=mobile",
            "--output=json",
            f"--output-path={report_path}",
            "--chrome-flags=--headless=new --no-sandbox",
            f"--extra-headers={json.dumps({'Cookie': cookie})}",
            "--quiet",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=90,
    )
    return json.loads(report_path.read_text())


def judge(name: str, url: str, report: dict) -> tuple[bool, str]:
    """Whether one run passes, and its figures."""
    # A redirect to /login would measure the wrong page.
    assert report["finalDisplayedUrl"] == url
    assert report.get("runtimeError") is None, report["runtimeError"]
    audits = report["audits"]
    score = report["categories"]["performance"]["score"]
    figures = ", ".join(f"{label} {audits[key]['displayValue']}" for label, key in METRICS.items())
    # The unthrottled load as seen: a first paint long after the load event is Chromium's.
    seen = audits["metrics"]["details"]["items"][0]
    figures += f"; seen: first paint {seen['observedFirstContentfulPaint']} ms"
    figures += f", load {seen['observedLoad']} ms"
    late = seen["observedFirstContentfulPaint"] - seen["observedLoad"] > LATE_FIRST_FRAME_MS
    if late:
        figures += "; Chromium presented the first frame late"
        passed = all(
            audits[key]["numericValue"] <= limit for key, limit in LATE_FRAME_LIMITS.items()
        )
    else:
        passed = score >= PASSING_SCORE
    summary = f"Lighthouse {report['lighthouseVersion']} {name}: {score * 100:.0f} ({figures})"
    return passed, summary


# Lighthouse's own advice for CI is the median of several runs: one load on a shared
# 2-core machine can land on a busy moment. The median of three passes when two runs pass,
# so the third runs only when the first two disagree.
RUNS = 3


@pytest.mark.parametrize("name", ["home", "room", "conversation"])
def test_performance_score_on_mobile(name, signed_in, live_server, tmp_path):
    url = live_server.url + signed_in[name]
    verdicts: list[bool] = []
    summaries: list[str] = []
    for run in range(RUNS):
        report = lighthouse(url, signed_in["cookie"], tmp_path / f"report-{run}.json")
        passed, summary = judge(name, url, report)
        print("\n" + summary)
        verdicts.append(passed)
        summaries.append(summary)
        if verdicts.count(True) * 2 > RUNS or verdicts.count(False) * 2 > RUNS:
            break
    assert verdicts.count(True) * 2 > RUNS, "\n".join(summaries)
