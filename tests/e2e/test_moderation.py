"""Trust in Chromium: lobby moderation that holds, sign-ins that end everywhere at once, and
replies that outlive the account they answered (issue 8)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import lobby_as_host
from tests.e2e.conftest import open_as
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until
from tests.factories import PASSWORD


def test_the_lobby_host_removes_someone_who_then_can_neither_read_nor_write(
    browser, base_url, make_live_user, live_server
):
    host_name = make_live_user(first_name="Lena", last_name="Host")
    guest_name = make_live_user(first_name="Timur", last_name="Rude")
    lobby_id = lobby_as_host(live_server, host_name)
    host_context, host = open_as(browser, base_url, host_name)
    guest_context, guest = open_as(browser, base_url, guest_name)
    for page in (host, guest):
        wait_for_live_channel(page)
        wait_until(page, "Boolean(document.querySelector('[data-chat-room][data-chat-ready]'))")
    guest_lobby = guest.get_by_role("region", name="Lobby", exact=True)
    word = f"rude-{uuid.uuid4().hex[:6]}"
    guest_lobby.get_by_label("Message").fill(f"{word} words")
    guest_lobby.get_by_label("Message").press("Enter")
    expect(host.get_by_role("region", name="Lobby", exact=True)).to_contain_text(word)

    # The host finds them among the lobby's participants and removes them.
    host.get_by_role("link", name="Open the lobby").click()
    host.get_by_role("link", name=re.compile(r"^All participants")).click()
    host.get_by_role("button", name="Remove Timur").click()
    host.get_by_role("button", name="Yes, remove Timur").click()
    expect(host.get_by_role("button", name="Let Timur back")).to_be_visible()

    # The guest's open page hears it at once and loses the box to write in.
    expect(guest_lobby.get_by_role("status")).to_have_text("The host removed you from the lobby.")
    expect(guest_lobby.get_by_label("Message")).to_have_count(0)
    # Nothing written in the lobby reaches them any more, and a reload shows why.
    later = f"after-{uuid.uuid4().hex[:6]}"
    host.goto(f"/rooms/{lobby_id}")
    wait_for_live_channel(host)
    wait_until(host, "Boolean(document.querySelector('[data-chat-room][data-chat-ready]'))")
    host.locator("[data-chat-room]").get_by_label("Message").fill(f"{later} all")
    host.locator("[data-chat-room]").get_by_role("button", name="Send").click()
    expect(host.locator("[data-chat-room]")).to_contain_text(later)
    guest.reload()
    expect(guest.get_by_text("The host removed you from the lobby.")).to_be_visible()
    expect(guest.get_by_text(later)).to_have_count(0)
    expect(guest.get_by_text(word)).to_have_count(0)

    # Let back in, they talk again.
    host.goto(f"/rooms/{lobby_id}/participants")
    host.get_by_role("button", name="Let Timur back").click()
    # The host's page says it is done before the guest looks again (else the reload races
    # the readmission).
    expect(host.get_by_role("button", name="Remove Timur")).to_be_visible()
    guest.reload()
    wait_for_live_channel(guest)
    guest_lobby = guest.get_by_role("region", name="Lobby", exact=True)
    expect(guest_lobby).to_contain_text(later)
    host_context.close()
    guest_context.close()


def test_a_password_change_signs_the_other_browser_out_at_once(browser, base_url, make_live_user):
    name = make_live_user(first_name="Saule", last_name="Careful")
    laptop_context, laptop = open_as(browser, base_url, name)
    phone_context, phone = open_as(browser, base_url, name)
    phone.goto("/messages")
    wait_for_live_channel(phone)

    laptop.goto("/settings/password")
    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password", exact=True).fill("quiet-harbour-lantern-77")
    laptop.get_by_label("Confirm new password").fill("quiet-harbour-lantern-77")
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_text("Other devices are signed out.")).to_be_visible()

    # The phone's open page goes to the sign-in page by itself; this browser stays in.
    phone.wait_for_url(re.compile(r"/login"))
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    laptop.goto("/messages")
    expect(laptop.get_by_role("heading", name="Messages")).to_be_visible()
    wait_for_live_channel(laptop)
    laptop_context.close()
    phone_context.close()


def test_replies_stay_when_the_account_they_answered_is_deleted(browser, base_url, make_live_user):
    writer_name = make_live_user(first_name="Bota", last_name="Writer")
    asker_name = make_live_user(first_name="Arman", last_name="Asker")
    writer_context, writer = open_as(browser, base_url, writer_name)
    writer.get_by_label("Write a post").fill(f"Which tea tonight? {uuid.uuid4().hex[:6]}")
    writer.get_by_role("button", name="Post", exact=True).click()
    writer.locator("article.post").first.get_by_role("link", name="Comment").click()
    writer.wait_for_url(re.compile(r"/p/\d+"))
    post_url = writer.url.split("#")[0]

    asker_context, asker = open_as(browser, base_url, asker_name)
    asker.goto(post_url)
    asker.get_by_label("Write a comment").fill("Green or black?")
    asker.get_by_role("button", name="Comment", exact=True).click()
    expect(asker.locator("#comment-list")).to_contain_text("Green or black?")

    writer.reload()
    comment = writer.locator("#comment-list > li").first
    comment.get_by_role("button", name="Reply").click()
    comment.get_by_label("Write a reply").fill("Green, always")
    comment.get_by_role("button", name="Reply", exact=True).last.click()
    expect(comment.locator(".replies")).to_contain_text("Green, always")

    asker.goto("/settings/delete")
    asker.get_by_label("Current password").fill(PASSWORD)
    asker.get_by_label(re.compile(r"^I understand")).check()
    asker.get_by_role("button", name="Delete my account").click()
    expect(asker.get_by_text("Your account is deleted.")).to_be_visible()

    writer.reload()
    comment = writer.locator("#comment-list > li").first
    expect(comment).to_contain_text("Deleted comment")
    expect(comment.get_by_role("list", name="Replies to a deleted comment")).to_contain_text(
        "Green, always"
    )
    expect(writer.get_by_text("Green or black?")).to_have_count(0)
    expect(writer.get_by_text("1 comment", exact=True)).to_be_visible()
    asker_context.close()
    writer_context.close()
