"""Chat keeps the order people write in and never drops a word (issue 9): messages typed
back to back, and messages over the rate limit, in rooms and in conversations."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import open_as
from tests.e2e.conftest import user_maker
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until

CHAT_BOX = ":is([data-chat-room], [data-chat-conversation])"


def shared_room(server, host: str, guest: str) -> str:
    """A room both people are in, made in the server's database; its page's path."""
    with server.app().app_context():
        from qosyl.actions import rooms
        from qosyl.actions.accounts import user_by_username

        room = rooms.create_room(user_by_username(host), "Typing race", "Keyboards")
        rooms.join(user_by_username(guest), room)
        return f"/rooms/{room.id}"


def conversation(server, first: str, second: str) -> str:
    with server.app().app_context():
        from qosyl.actions import messages
        from qosyl.actions.accounts import user_by_username

        found = messages.direct_conversation(user_by_username(first), user_by_username(second))
        return f"/messages/{found.id}"


def open_chat(page, path: str) -> None:
    page.goto(path)
    wait_for_live_channel(page)
    wait_until(page, "Boolean(document.querySelector('[data-chat-ready]'))")


def type_back_to_back(page, texts: list[str]) -> None:
    """Each message written and sent with Enter as soon as the box is empty again."""
    field = page.locator(CHAT_BOX).get_by_label("Message")
    for text in texts:
        field.fill(text)
        field.press("Enter")
        expect(field).to_have_value("")


def stored_bodies(page) -> list[str]:
    """The bodies of the stored messages shown, top to bottom (pending ones left out)."""
    return page.locator(f"{CHAT_BOX} .message[data-message-id] .message__body").all_inner_texts()


def test_twenty_messages_typed_back_to_back_keep_their_order(browser, base_url, live_server):
    make = user_maker(live_server)
    ana, bo = make(first_name="Ana", last_name="Fast"), make(first_name="Bo", last_name="Reader")
    texts = [f"m{n}" for n in range(20)]
    a_context, a = open_as(browser, base_url, ana)
    b_context, b = open_as(browser, base_url, bo)
    for path in (shared_room(live_server, ana, bo), conversation(live_server, ana, bo)):
        open_chat(a, path)
        open_chat(b, path)
        type_back_to_back(a, texts)
        # Every tab shows them in the order written, and so does a reload (what was stored).
        expect(b.locator(f"{CHAT_BOX} .message[data-message-id]")).to_have_count(20)
        assert stored_bodies(b) == texts
        expect(a.locator(f"{CHAT_BOX} .message--pending")).to_have_count(0)
        assert stored_bodies(a) == texts
        # One run by one person: her name and picture once, above the first message.
        expect(b.locator(f"{CHAT_BOX} .message--continued")).to_have_count(19)
        expect(b.locator(f"{CHAT_BOX} .message").nth(1).locator(".avatar")).to_be_hidden()
        open_chat(b, path)
        assert stored_bodies(b) == texts
    a_context.close()
    b_context.close()


def test_messages_over_the_rate_limit_wait_and_all_go_out_in_order(browser, rate_limited_server):
    make = user_maker(rate_limited_server)
    ana, bo = make(first_name="Ana", last_name="Eager"), make(first_name="Bo", last_name="Calm")
    a_context, a = open_as(browser, rate_limited_server.url, ana)
    b_context, b = open_as(browser, rate_limited_server.url, bo)
    path = conversation(rate_limited_server, ana, bo)
    open_chat(a, path)
    open_chat(b, path)
    texts = [f"burst {n}" for n in range(15)]  # three times the limit of 5 per 2 seconds
    type_back_to_back(a, texts)

    # Over the limit, the rest wait in view, and the writer is told to slow down.
    pending = a.locator(f"{CHAT_BOX} .message--pending")
    expect(pending.first).to_contain_text("sending messages too fast")
    expect(a.locator("[data-chat-status]")).to_contain_text("Slow down")
    # Then they all go out: once each, in order, for both people and after a reload.
    expect(pending).to_have_count(0, timeout=20_000)
    expect(b.locator(f"{CHAT_BOX} .message[data-message-id]")).to_have_count(15)
    assert stored_bodies(b) == texts
    assert stored_bodies(a) == texts
    open_chat(a, path)
    assert stored_bodies(a) == texts
    expect(a.locator("[data-chat-status]")).not_to_have_text(re.compile("Slow down"))
    a_context.close()
    b_context.close()
