"""Into a room's or a conversation's meeting from its page (issue 12): the host starts it,
the others hear of it live (a toast with a Join link, the page's banner) without
reloading, and the banner goes when the meeting ends."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import open_as
from tests.e2e.conftest import wait_for_live_channel

MEETING_URL = re.compile(r"/meetings/[A-Za-z0-9_-]{16}$")
NOT_RELOADED = "window.qosylNotReloaded === true"


def room_and_conversation(live_server, host: str, member: str) -> tuple[int, int]:
    """A room `host` hosts and `member` joined, and their one-to-one conversation."""
    from qosyl.actions import rooms
    from qosyl.actions.accounts import user_by_username
    from qosyl.actions.messages import direct_conversation
    from qosyl.extensions import db

    with live_server.app().app_context():
        ann, ben = user_by_username(host), user_by_username(member)
        room = rooms.create_room(ann, f"Tea {uuid.uuid4().hex[:6]}", "Tea", "Oolong")
        rooms.join(ben, room)
        conversation = direct_conversation(ann, ben)
        ids = room.id, conversation.id
        db.session.rollback()
        return ids


def open_and_mark(page, url: str) -> None:
    """Open a page, wait for its live channel, and mark the document: a reload would lose
    the mark."""
    page.goto(url)
    wait_for_live_channel(page)
    page.evaluate("window.qosylNotReloaded = true")


def banner(page):
    return page.get_by_role("region", name="Meeting running now")


def notice(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def test_members_hear_of_a_meeting_live_and_join_it_from_the_page(
    browser, base_url, live_server, make_live_user
):
    host = make_live_user("Ann", "Host")
    member = make_live_user("Ben", "Member")
    room_id, conversation_id = room_and_conversation(live_server, host, member)
    ann_context, ann = open_as(browser, base_url, host)
    ben_context, ben = open_as(browser, base_url, member)
    try:
        ann_context.grant_permissions(["camera", "microphone"])
        ben_context.grant_permissions(["camera", "microphone"])

        # A room: its host starts the meeting from the room's page.
        open_and_mark(ann, f"/rooms/{room_id}")
        open_and_mark(ben, f"/rooms/{room_id}")
        expect(banner(ben)).to_have_count(0)
        expect(ben.get_by_role("button", name="Start a meeting")).to_have_count(0)
        ann.get_by_role("button", name="Start a meeting").click()
        ann.wait_for_url(MEETING_URL)
        meeting_path = ann.url.removeprefix(base_url)
        expect(ann.get_by_role("button", name="Join meeting")).to_be_visible()
        # No notice in the host's own tab.
        expect(notice(ann, "started a meeting")).to_have_count(0)

        # The member, on the room's page all along, sees the banner and a toast.
        expect(banner(ben)).to_contain_text("Ann Host started a meeting.")
        toast = notice(ben, "Ann Host started a meeting.")
        expect(toast.get_by_role("link", name="Join", exact=True)).to_have_attribute(
            "href", meeting_path
        )
        assert ben.evaluate(NOT_RELOADED)
        banner(ben).get_by_role("link", name="Join the meeting").click()
        ben.wait_for_url(MEETING_URL)
        assert ben.url.removeprefix(base_url) == meeting_path
        expect(ben.get_by_role("button", name="Join meeting")).to_be_visible()

        # A conversation: either member starts it; the banner goes when it ends.
        open_and_mark(ann, f"/messages/{conversation_id}")
        open_and_mark(ben, f"/messages/{conversation_id}")
        ann.get_by_role("button", name="Start a meeting").click()
        ann.wait_for_url(MEETING_URL)
        expect(banner(ben)).to_contain_text("Ann Host started a meeting.")
        expect(banner(ben).get_by_role("link", name="Join the meeting")).to_have_attribute(
            "href", ann.url.removeprefix(base_url)
        )
        wait_for_live_channel(ann)
        ann.get_by_role("button", name="Join meeting").click()
        ann.get_by_role("button", name="End meeting for all").click()
        expect(banner(ben)).to_have_count(0)
        expect(notice(ben, "Ann Host started a meeting.")).to_have_count(0)
        assert ben.evaluate(NOT_RELOADED)
    finally:
        ann_context.close()
        ben_context.close()
