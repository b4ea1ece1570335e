"""Video meetings in the browser (issue 12): Chromium's fake camera and microphone, WebRTC
between contexts of one browser, signalled through the real server.

Frames are read from each participant's RTCPeerConnection.getStats() (inbound-rtp
framesDecoded), through the page's `window.qosyl.meeting`."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e

INBOUND = """async () => {
  const meeting = window.qosyl && window.qosyl.meeting;
  if (!meeting) return {};
  const out = {};
  for (const entry of meeting.peers.values()) {
    out[entry.user.full_name] = await entry.peer.inbound();
  }
  return out;
}"""


def meeting_context(browser, base_url, username):
    """A signed-in context whose camera and microphone are Chromium's fake ones."""
    context = browser.new_context(base_url=base_url, permissions=["camera", "microphone"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username)
    return context, page


def inbound(page) -> dict:
    return page.evaluate(INBOUND)


def wait_for_frames(page, names, timeout: float = 20) -> dict:
    """Until this page decodes video from each of `names`, growing between two readings."""
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        now = inbound(page)
        if all(now.get(name, {}).get("framesDecoded", 0) > 0 for name in names):
            if first is None:
                first = now
            elif all(now[name]["framesDecoded"] > first[name]["framesDecoded"] for name in names):
                return now
        time.sleep(0.2)
    raise AssertionError(f"no growing frames from {names} within {timeout}s: {inbound(page)}")


def frames_stopped(page, name, timeout: float = 10) -> None:
    """Until frames from `name` stop growing for a second."""
    deadline = time.monotonic() + timeout
    last = inbound(page).get(name, {}).get("framesDecoded", 0)
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        count = inbound(page).get(name, {}).get("framesDecoded", 0)
        if count != last:
            last, still_since = count, time.monotonic()
        elif time.monotonic() - still_since >= 1.0:
            return
    raise AssertionError(f"frames from {name} still arrive")


def join_from_link(page, link: str) -> None:
    page.goto("/meetings")
    page.get_by_label("Meeting link or id").fill(link)
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_role("button", name="Join meeting").wait_for()
    wait_for_live_channel(page)
    page.get_by_role("button", name="Join meeting").click()
    page.get_by_role("button", name="Leave").wait_for()


def test_three_people_meet_on_video_from_a_link(browser, base_url, make_live_user):
    names = {"ann": ("Ann", "Host"), "ben": ("Ben", "Guest"), "cat": ("Cat", "Guest")}
    users = {key: make_live_user(*name) for key, name in names.items()}
    pages = {}
    contexts = []
    try:
        for key in names:
            context, page = meeting_context(browser, base_url, users[key])
            contexts.append(context)
            pages[key] = page
        ann, ben, cat = pages["ann"], pages["ben"], pages["cat"]
        ann.get_by_role("link", name="Meet").first.click()
        ann.get_by_role("button", name="New meeting").click()
        link = ann.get_by_label("Meeting link").input_value()
        wait_for_live_channel(ann)
        ann.get_by_role("button", name="Join meeting").click()
        ann.get_by_role("button", name="Leave").wait_for()

        join_from_link(ben, link)
        join_from_link(cat, link)
        wait_for_frames(ann, ["Ben Guest", "Cat Guest"])
        wait_for_frames(ben, ["Ann Host", "Cat Guest"])
        wait_for_frames(cat, ["Ann Host", "Ben Guest"])
        for page in pages.values():
            assert page.get_by_role("heading", name="Participants (3)").is_visible()
    finally:
        for context in contexts:
            context.close()
