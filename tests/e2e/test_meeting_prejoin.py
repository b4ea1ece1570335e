"""A meeting's pre-join screen in Chromium (issue 12): the camera preview, the device
pickers and the microphone level with Chromium's fake devices; what the page says when the
browser refuses them or has none, and that joining still works then; and the joined call
on a 360 px phone. The call itself (several people on video) is tests/e2e/test_meetings.py's."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.meetings import meeting_context

pytestmark = pytest.mark.e2e

BLOCKED = (
    "Your browser blocks the camera and microphone for this site. Allow them in the site "
    "settings to be seen and heard; you can still join to listen and watch."
)
NO_DEVICES = "No camera or microphone was found. You can still join to listen and watch."
PHONE = {"width": 360, "height": 740}
# 50 characters, the most a last name holds, and no place to break it.
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffvoralternwaren"

DECODED = """async () => {
  const meeting = window.qosyl && window.qosyl.meeting;
  const out = {};
  if (!meeting) return out;
  for (const entry of meeting.peers.values()) {
    out[entry.user.full_name] = (await entry.peer.inbound()).framesDecoded;
  }
  return out;
}"""


def poll(read, timeout: float = 10):
    """Until `read()` returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(0.05)


def new_meeting(page) -> str:
    """Start a meeting from the Meetings page; its link."""
    page.goto("/meetings")
    page.get_by_role("button", name="New meeting").click()
    return page.get_by_label("Meeting link").input_value()


def join(page) -> None:
    wait_for_live_channel(page)
    page.get_by_role("button", name="Join meeting").click()
    expect(page.get_by_role("button", name="Leave")).to_be_visible()


# What reaches past the right edge (elements, and text overflowing its element), to say
# which part widened the page.
WIDER_THAN_THE_PAGE = """width => {
  const wide = [];
  const show = NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT;
  const walker = document.createTreeWalker(document.body, show);
  for (let node = walker.nextNode(); node && wide.length < 10; node = walker.nextNode()) {
    const isText = node.nodeType === Node.TEXT_NODE;
    const range = document.createRange();
    range.selectNodeContents(node);
    const right = (isText ? range : node).getBoundingClientRect().right;
    const element = isText ? node.parentElement : node;
    if (right > width + 0.5) wide.push(`${element.tagName}.${element.className}: ${right}`);
  }
  return wide;
}"""


def assert_no_sideways_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (scroll_width, page.evaluate(WIDER_THAN_THE_PAGE, width))


def device_count(page, label: str) -> int:
    """Devices a picker lists (its first option, "Default ...", is none)."""
    return page.get_by_label(label, exact=True).evaluate(
        "select => [...select.options].filter((option) => option.value).length"
    )


def test_the_preview_plays_the_pickers_list_devices_and_the_meter_moves(
    browser, base_url, make_live_user
):
    context, page = meeting_context(browser, base_url, make_live_user("Pre", "View"))
    try:
        new_meeting(page)
        preview = page.get_by_label("Your camera preview")
        poll(lambda: preview.evaluate("video => video.videoWidth > 0 && !video.paused"))
        poll(lambda: device_count(page, "Camera") >= 1)
        poll(lambda: device_count(page, "Microphone") >= 1)
        expect(page.get_by_label("Camera", exact=True)).to_be_enabled()
        expect(page.get_by_label("Microphone", exact=True)).to_be_enabled()
        # Chromium's fake microphone beeps now and then: the meter shows it.
        meter = page.get_by_label("Microphone level")
        poll(lambda: meter.evaluate("meter => meter.value > 0"), timeout=15)
        expect(page.get_by_label("Join with camera off")).not_to_be_checked()
        expect(page.get_by_label("Join with microphone off")).not_to_be_checked()
        expect(page.get_by_role("alert").filter(has_text="camera")).to_have_count(0)
        # Camera off before joining: the preview goes and says so.
        page.get_by_label("Join with camera off").check()
        expect(preview).to_be_hidden()
        expect(page.get_by_text("Camera off", exact=True)).to_be_visible()
    finally:
        context.close()


def test_a_blocked_camera_and_microphone_are_explained_and_one_joins_to_watch(
    browser, base_url, make_live_user
):
    host_name = make_live_user("Hos", "Tess")
    blocked_name = make_live_user("Den", "Ied")
    contexts = []
    try:
        context, host = meeting_context(browser, base_url, host_name)
        contexts.append(context)
        link = new_meeting(host)
        join(host)

        context, page = meeting_context(browser, base_url, blocked_name, refuse="NotAllowedError")
        contexts.append(context)
        page.goto(link)
        expect(page.get_by_role("alert").filter(has_text=BLOCKED)).to_be_visible()
        for label in ("Join with camera off", "Join with microphone off"):
            expect(page.get_by_label(label)).to_be_checked()
            expect(page.get_by_label(label)).to_be_disabled()
        expect(page.get_by_label("Your camera preview")).to_be_hidden()
        join(page)

        # The host sees them, camera and microphone off; they watch and hear the host.
        tile = host.get_by_role("listitem", name="Den Ied")
        expect(tile.get_by_text("Camera off")).to_be_visible()
        expect(tile.get_by_text("Microphone off")).to_be_visible()
        host.get_by_role("heading", name="Participants (2)").wait_for()
        poll(lambda: page.evaluate(DECODED).get("Hos Tess", 0) > 0, timeout=20)
    finally:
        for context in contexts:
            context.close()


def test_without_a_camera_or_microphone_one_still_joins(browser, base_url, make_live_user):
    context, page = meeting_context(
        browser, base_url, make_live_user("No", "Devices"), refuse="NotFoundError"
    )
    try:
        new_meeting(page)
        expect(page.get_by_role("alert").filter(has_text=NO_DEVICES)).to_be_visible()
        expect(page.get_by_label("Join with camera off")).to_be_checked()
        expect(page.get_by_label("Join with microphone off")).to_be_checked()
        join(page)
        expect(page.get_by_role("heading", name="Participants (1)")).to_be_visible()
        tile = page.get_by_role("listitem", name="No Devices (you)")
        expect(tile.get_by_text("Camera off")).to_be_visible()
    finally:
        context.close()


def test_the_call_fits_a_360_px_phone(browser, base_url, make_live_user):
    # Long names, as people have: they must wrap or shorten, not widen the page.
    host_full, guest_full = f"Maximilianna {LONG_NAME}", f"Bartholomew {LONG_NAME}"
    host_name = make_live_user(*host_full.split())
    guest_name = make_live_user(*guest_full.split())
    contexts = []
    try:
        context, phone = meeting_context(browser, base_url, host_name, viewport=PHONE)
        contexts.append(context)
        link = new_meeting(phone)
        assert_no_sideways_scroll(phone, PHONE["width"])
        join(phone)
        context, guest = meeting_context(browser, base_url, guest_name)
        contexts.append(context)
        guest.goto(link)
        join(guest)

        expect(phone.get_by_role("listitem", name=guest_full)).to_be_visible()
        phone.get_by_role("heading", name="Participants (2)").wait_for()
        remove = phone.get_by_role("button", name=f"Remove {guest_full} from the meeting")
        expect(remove).to_be_visible()
        expect(phone.get_by_role("region", name="Chat").get_by_label("Message")).to_be_visible()

        assert_no_sideways_scroll(phone, PHONE["width"])
        controls = phone.get_by_role("toolbar", name="Meeting controls")
        expect(controls).to_be_visible()
        for name in ("Mute microphone", "Turn camera off", "Leave", "End meeting for all"):
            button = controls.get_by_role("button", name=name)
            expect(button).to_be_visible()
            found = button.bounding_box()
            assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"], name
        for region in ("Videos", "Participants (2)", "Chat"):
            found = phone.get_by_label(region, exact=True).first.bounding_box()
            assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"], region

        # The guest's Meetings page lists it, long names and all, on a phone too.
        guest.set_viewport_size(PHONE)
        guest.goto("/meetings")
        running = guest.get_by_role("region", name="Running now")
        expect(running.get_by_role("listitem").filter(has_text=host_full)).to_be_visible()
        assert_no_sideways_scroll(guest, PHONE["width"])
    finally:
        for context in contexts:
            context.close()
