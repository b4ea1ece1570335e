"""What the meeting journeys share (tests/e2e/test_meeting*.py): contexts with Chromium's fake
camera and microphone, and the frames each page decodes, read from getStats() through the
page's `window.qosyl.meeting`."""

from __future__ import annotations

import time

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel

# Joining opens the camera and a peer connection per participant: slow on a loaded machine.
JOINED_WITHIN_MS = 20_000

INBOUND = """async () => {
  const meeting = window.qosyl && window.qosyl.meeting;
  if (!meeting) return {};
  const out = {};
  for (const entry of meeting.peers.values()) {
    out[entry.user.full_name] = await entry.peer.inbound();
  }
  return out;
}"""


# What the page's connection to `name` uses as its ICE username fragment, and a restart of
# its ICE as the page does when the network changes (main.js, "online").
ICE_UFRAG = """(() => {{
  for (const entry of window.qosyl.meeting.peers.values()) {{
    if (entry.user.full_name === "{name}") {{
      return (entry.peer.pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1];
    }}
  }}
}})()"""
RESTART_ICE = """(() => {{
  for (const entry of window.qosyl.meeting.peers.values()) {{
    if (entry.user.full_name === "{name}") entry.peer.restartIce();
  }}
}})()"""


# getUserMedia as a browser answers when the person refused, or when nothing is plugged in.
REFUSE_MEDIA = """
MediaDevices.prototype.getUserMedia = function () {
  return Promise.reject(new DOMException("%s", "%s"));
};
"""


def meeting_context(browser, base_url, username, *, refuse: str | None = None, viewport=None):
    """A signed-in context with Chromium's fake camera and microphone allowed, or with
    getUserMedia failing with the DOMException named `refuse`."""
    options = {"base_url": base_url, "permissions": ["camera", "microphone"]}
    if viewport:
        options["viewport"] = viewport
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    if refuse:
        context.add_init_script(REFUSE_MEDIA % (refuse, refuse))
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
    page.get_by_role("button", name="Leave").wait_for(timeout=JOINED_WITHIN_MS)
