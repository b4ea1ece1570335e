"""Private messages in Chromium with two people (MSG-1, MSG-4, MSG-6)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import open_as
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until


def chat(page):
    return page.locator("[data-chat-conversation] .chat__messages")


def send(page, text):
    box = page.locator("[data-chat-conversation]")
    box.get_by_label("Message").fill(text)
    box.get_by_role("button", name="Send").click()


def open_conversation(page):
    wait_for_live_channel(page)
    wait_until(page, "Boolean(document.querySelector('[data-chat-conversation][data-chat-ready]'))")


def conversation_url(live_server, first: str, second: str) -> str:
    """Start the two people's conversation in the server's database; its page's path."""
    with live_server.app().app_context():
        from qosyl.actions import messages
        from qosyl.actions.accounts import user_by_username

        conversation = messages.direct_conversation(
            user_by_username(first), user_by_username(second)
        )
        return f"/messages/{conversation.id}"


def two_in_a_conversation(browser, base_url, make_live_user, live_server, ana_last, bo_last):
    """Ana and Bo (last names given), each in a browser with their conversation open: the
    conversation's path, and (context, page) for each."""
    ana = make_live_user(first_name="Ana", last_name=ana_last)
    bo = make_live_user(first_name="Bo", last_name=bo_last)
    url = conversation_url(live_server, ana, bo)
    a_context, a = open_as(browser, base_url, ana)
    b_context, b = open_as(browser, base_url, bo)
    for page in (a, b):
        page.goto(url)
        open_conversation(page)
    return url, (a_context, a), (b_context, b)


def test_a_one_to_one_conversation_live_both_ways_with_seen(browser, base_url, make_live_user):
    ana = make_live_user(first_name="Ana", last_name="Writer")
    make_live_user(first_name="Bo", last_name="Reader", username="boreader")
    a_context, a = open_as(browser, base_url, ana)
    b_context, b = open_as(browser, base_url, "boreader")

    # Ana starts from Bo's profile.
    a.goto("/u/boreader")
    a.get_by_role("button", name="Send message").click()
    expect(a.get_by_role("heading", name="Bo Reader")).to_be_visible()
    open_conversation(a)
    send(a, "Hi Bo! Look:\n\n```python\nprint('hi')\n```")
    expect(chat(a).locator("pre.code")).to_contain_text("print('hi')")
    expect(a.locator("[data-chat-seen]")).to_have_text("")

    # Bo sees the unread count in the header and the conversation in the list, live.
    b.goto("/messages")
    wait_for_live_channel(b)
    expect(b.get_by_role("link", name="Messages 1 unread")).to_be_visible()
    b.get_by_role("link", name="Ana Writer").click()
    open_conversation(b)
    expect(chat(b)).to_contain_text("Hi Bo!")

    # Bo has read it: Ana sees "Seen" appear live, and Bo's badge is gone.
    expect(a.locator("[data-chat-seen]")).to_have_text("Seen")
    expect(b.get_by_role("link", name="Messages", exact=True)).to_be_visible()

    # And back the other way; both tabs hear each message once.
    send(b, "Hello **Ana**")
    expect(chat(a)).to_contain_text("Hello Ana")
    expect(b.locator("[data-chat-seen]")).to_have_text("Seen")
    send(a, "one")
    send(a, "two")
    expect(chat(b).locator(".message")).to_have_count(4)
    expect(chat(a).locator(".message")).to_have_count(4)

    # A refused message stays by the field.
    send(a, "   ")
    expect(a.get_by_text("Write a message first.")).to_be_visible()
    a_context.close()
    b_context.close()


def test_presence_follows_the_other_persons_last_tab(
    browser, base_url, make_live_user, live_server
):
    ana = make_live_user(first_name="Ana", last_name="Watcher")
    bo = make_live_user(first_name="Bo", last_name="Tabs")
    conversation_url(live_server, ana, bo)
    a_context, a = open_as(browser, base_url, ana)
    a.goto("/messages")
    wait_for_live_channel(a)
    dot = a.locator("#conversations .presence")
    expect(dot).to_have_attribute("data-presence", "offline")

    b_context, first_tab = open_as(browser, base_url, bo)
    wait_for_live_channel(first_tab)
    second_tab = b_context.new_page()
    second_tab.goto("/")
    wait_for_live_channel(second_tab)
    expect(dot).to_have_attribute("data-presence", "online")
    expect(dot).to_have_text("online")
    second_tab.close()
    a.wait_for_timeout(500)
    expect(dot).to_have_attribute("data-presence", "online")  # one tab is still open
    first_tab.close()
    expect(dot).to_have_attribute("data-presence", "offline")
    a.get_by_role("link", name="Offline", exact=True).click()
    expect(a.get_by_role("link", name=re.compile("Bo Tabs"))).to_be_visible()
    a_context.close()
    b_context.close()


def test_an_attachment_is_sent_downloaded_and_refused_to_outsiders(
    browser, base_url, make_live_user, live_server, tmp_path
):
    ana = make_live_user(first_name="Ana", last_name="Sender")
    bo = make_live_user(first_name="Bo", last_name="Receiver")
    eve = make_live_user(first_name="Eve", last_name="Outside")
    url = conversation_url(live_server, ana, bo)
    notes = tmp_path / "recipe.txt"
    notes.write_text("2 eggs, 200 g flour")
    refused = tmp_path / "tool.exe"
    refused.write_bytes(b"MZ" + bytes(200))

    a_context, a = open_as(browser, base_url, ana)
    b_context, b = open_as(browser, base_url, bo)
    for page in (a, b):
        page.goto(url)
        open_conversation(page)
    box = a.locator("[data-chat-conversation]")
    box.get_by_label("Attach a file").set_input_files(str(refused))
    box.get_by_role("button", name="Send").click()
    expect(a.get_by_text("Programs, scripts and web pages cannot be sent.")).to_be_visible()

    box.get_by_label("Attach a file").set_input_files(str(notes))
    box.get_by_label("Message").fill("The recipe")
    box.get_by_role("button", name="Send").click()
    link = chat(b).get_by_role("link", name="recipe.txt")
    expect(link).to_be_visible()
    with b.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == "recipe.txt"
    assert Path(download_info.value.path()).read_text() == "2 eggs, 200 g flour"

    file_url = chat(b).get_by_role("link", name="recipe.txt").get_attribute("href")
    e_context, e = open_as(browser, base_url, eve)
    assert e.request.get(file_url).status == 404
    for context in (a_context, b_context, e_context):
        context.close()


def test_typing_is_shown_and_then_cleared(browser, base_url, make_live_user, live_server):
    _, (a_context, a), (b_context, b) = two_in_a_conversation(
        browser, base_url, make_live_user, live_server, "Typist", "Watching"
    )
    a.locator("[data-chat-conversation]").get_by_label("Message").press_sequentially("Hel")
    typing = b.locator("[data-chat-typing]")
    expect(typing).to_have_text("Ana is typing…")
    expect(typing).to_have_text("", timeout=8000)  # a few seconds of silence clear it
    a.locator("[data-chat-conversation]").get_by_label("Message").press_sequentially("lo")
    expect(typing).to_have_text("Ana is typing…")
    a.locator("[data-chat-conversation]").get_by_role("button", name="Send").click()
    expect(chat(b)).to_contain_text("Hello")
    expect(typing).to_have_text("")  # the message ends it at once
    a_context.close()
    b_context.close()


def test_a_message_written_offline_is_delivered_once(
    browser, base_url, make_live_user, live_server
):
    url, (a_context, a), (b_context, b) = two_in_a_conversation(
        browser, base_url, make_live_user, live_server, "Online", "Offline"
    )

    # Offline: the message waits in the page, shown as pending.
    b_context.set_offline(True)
    wait_until(b, "window.qosyl.socket.connected === false", timeout=30)
    send(b, "written on the train")
    pending = chat(b).locator(".message--pending")
    expect(pending).to_contain_text("written on the train")
    expect(pending).to_contain_text("Waiting for the connection")
    a.wait_for_timeout(500)
    expect(chat(a)).not_to_contain_text("written on the train")
    b_context.set_offline(False)
    expect(chat(a).locator(".message")).to_have_count(1)
    expect(chat(a)).to_contain_text("written on the train")
    expect(chat(b).locator(".message--pending")).to_have_count(0)
    expect(chat(b).locator(".message")).to_have_count(1)

    # Kept across a reload: sends fail (the network drops them), the page reloads, the
    # message is still pending; once sends get through it arrives, once.
    b.route(
        f"**{url}",
        lambda route: route.abort() if route.request.method == "POST" else route.fallback(),
    )
    send(b, "survives a reload")
    expect(chat(b).locator(".message--pending")).to_contain_text("survives a reload")
    b.reload()
    open_conversation(b)
    expect(chat(b).locator(".message--pending")).to_contain_text("survives a reload")
    b.unroute(f"**{url}")
    b.reload()
    open_conversation(b)
    expect(chat(a).locator(".message")).to_have_count(2)
    expect(chat(b).locator(".message--pending")).to_have_count(0)
    b.reload()
    open_conversation(b)
    expect(chat(b).locator(".message")).to_have_count(2)
    a.wait_for_timeout(500)
    expect(chat(a).locator(".message")).to_have_count(2)
    a_context.close()
    b_context.close()


def test_a_message_waiting_for_a_chat_left_behind_speaks_in_no_other_chat(
    browser, base_url, make_live_user, live_server
):
    """Offline, the outbox says so in the status line of the chat a message waits for. A
    message for a chat the tab has since left (the page swapped in place, as a boosted link
    does, keeps the outbox) writes in no other chat's line, and still goes out later."""
    ana = make_live_user(first_name="Ana", last_name="Mover")
    bo = make_live_user(first_name="Bo", last_name="First")
    cy = make_live_user(first_name="Cy", last_name="Second")
    first = conversation_url(live_server, ana, bo)
    second = conversation_url(live_server, ana, cy)
    context, page = open_as(browser, base_url, ana)
    page.goto(first)
    open_conversation(page)
    page.route(
        f"**{first}",
        lambda route: route.abort() if route.request.method == "POST" else route.fallback(),
    )
    send(page, "for Bo, sent later")
    expect(chat(page).locator(".message--pending")).to_contain_text("Waiting for the connection")

    page.evaluate("(url) => htmx.ajax('GET', url, {target: 'body', swap: 'innerHTML'})", second)
    box = f"[data-chat-conversation='{second.rsplit('/', 1)[1]}']"
    wait_until(page, f'Boolean(document.querySelector("{box}[data-chat-ready]"))')
    context.set_offline(True)
    wait_until(page, "navigator.onLine === false")
    # What the outbox does on "online" (and on its retry timer): try, and find no network.
    # Read at once: a lost connection soon writes its own line there.
    status = page.evaluate(
        "(box) => { window.dispatchEvent(new Event('online'));"
        " return document.querySelector(`${box} [data-chat-status]`).textContent; }",
        box,
    )
    assert "offline" not in status

    page.unroute(f"**{first}")
    context.set_offline(False)
    page.goto(first)
    open_conversation(page)
    expect(chat(page).locator(".message[data-message-id]")).to_have_count(1)
    expect(chat(page)).to_contain_text("for Bo, sent later")
    context.close()


def test_a_group_with_an_invite_accepted_and_a_member_removed(
    browser, base_url, make_live_user, live_server
):
    ana = make_live_user(first_name="Ana", last_name="Admin")
    bo = make_live_user(first_name="Bo", last_name="Member")
    cy = make_live_user(first_name="Cy", last_name="Removed")
    for other in (bo, cy):  # people Ana already messages can be put in a group
        conversation_url(live_server, ana, other)
    a_context, a = open_as(browser, base_url, ana)
    b_context, b = open_as(browser, base_url, bo)
    c_context, c = open_as(browser, base_url, cy)
    wait_for_live_channel(b)

    a.goto("/messages")
    a.get_by_role("link", name="New group").click()
    a.get_by_label("Group name").fill("Weekend trip")
    a.get_by_label("Bo Member").check()
    a.get_by_label("Cy Removed").check()
    a.get_by_role("button", name="Create the group").click()
    expect(a.get_by_role("heading", name="Weekend trip")).to_be_visible()
    group_url = a.url

    # Bo hears of the invitation live, and joins; so does Cy.
    expect(b.get_by_role("link", name=re.compile(r"Notifications, 1 unread"))).to_be_visible()
    for page in (b, c):
        page.goto("/messages/invites")
        page.get_by_role("button", name="Join Weekend trip").click()
        expect(page.get_by_role("heading", name="Weekend trip")).to_be_visible()
        open_conversation(page)
    a.goto(group_url)
    open_conversation(a)
    send(a, "Train at 9?")
    for page in (b, c):
        expect(chat(page)).to_contain_text("Train at 9?")
    expect(a.locator("[data-chat-seen]")).to_have_text(re.compile(r"Seen by (Bo, Cy|Cy, Bo)"))

    # Ana removes Cy: Cy's open tab is told at once and hears nothing more.
    a.get_by_role("button", name="Group settings").click()
    a.get_by_role("button", name="Remove Cy").click()
    a.get_by_role("button", name="Yes, remove Cy").click()
    expect(c.get_by_text("You were removed from this group.")).to_be_visible()
    # Only the page the removal redirects to says so (the live refresh of the group's
    # header already drops Cy's buttons, before that page replaces the composer).
    expect(a.get_by_text("Cy was removed from the group.")).to_be_visible()
    expect(a.get_by_role("button", name="Remove Cy")).to_have_count(0)
    open_conversation(a)
    send(a, "Cy should not see this")
    expect(chat(b)).to_contain_text("Cy should not see this")
    c.wait_for_timeout(500)
    expect(chat(c)).not_to_contain_text("Cy should not see this")
    for context in (a_context, b_context, c_context):
        context.close()


def test_a_message_heard_before_the_connection_opens_hides_nothing_missed(
    browser, base_url, make_live_user, live_server
):
    """A conversation's messages reach a tab through the user's room from the moment its
    connection opens, and Socket.IO hands over events that came before "connect" first. One
    heard that early must not hide what was missed offline: the catch-up starts from what
    the tab held when its connection dropped (js/chat/main.js)."""
    _, (a_context, a), (b_context, b) = two_in_a_conversation(
        browser, base_url, make_live_user, live_server, "Online", "Away"
    )
    # What the server pushes, as Ana's own tab hears it.
    a.evaluate(
        "window.heard = []; "
        "window.qosyl.socket.on('conversation:message', (push) => window.heard.push(push))"
    )

    b_context.set_offline(True)
    wait_until(b, "window.qosyl.socket.connected === false", timeout=30)
    send(a, "missed while Bo was offline")
    send(a, "heard as the connection opened")
    wait_until(a, "window.heard.length === 2")
    # The second reaches Bo's tab before its connection's "connect", as Socket.IO would
    # hand it over.
    b.evaluate(
        "(push) => window.qosyl.socket.listeners('conversation:message').forEach((f) => f(push))",
        a.evaluate("window.heard[1]"),
    )
    expect(chat(b)).to_contain_text("heard as the connection opened")
    b_context.set_offline(False)
    expect(chat(b)).to_contain_text("missed while Bo was offline")
    expect(chat(b).locator(".message")).to_have_count(2)
    a_context.close()
    b_context.close()
