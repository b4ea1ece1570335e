"""Rooms and live chat in Chromium with two and three people (ROOM-1 to ROOM-7, MSG-6)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import open_as
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.conftest import wait_until


def chat(page):
    return page.locator("[data-chat-room] .chat__messages")


def send(page, text):
    box = page.locator("[data-chat-room]").first
    box.get_by_label("Message").fill(text)
    box.get_by_role("button", name="Send").click()


def open_room(page, room_url):
    page.goto(room_url)
    wait_for_live_channel(page)
    wait_until(page, "Boolean(document.querySelector('[data-chat-room][data-chat-ready]'))")


def test_create_find_join_and_talk_live(browser, base_url, make_live_user):
    host_name = make_live_user(first_name="Aida", last_name="Host")
    guest_name = make_live_user(first_name="Bek", last_name="Guest")
    third_name = make_live_user(first_name="Cara", last_name="Third")
    topic = f"Tea {uuid.uuid4().hex[:4]}"
    a_context, a = open_as(browser, base_url, host_name)
    a.get_by_role("link", name="Rooms").first.click()
    a.get_by_role("link", name="Create a room").click()
    a.get_by_label("Room name").fill("Oolong hour")
    a.get_by_label("Topic").fill(topic)
    a.get_by_label("Description").fill("Gongfu brewing, puerh, and gear talk")
    a.get_by_role("button", name="Create the room").click()
    expect(a.get_by_role("heading", name="Oolong hour")).to_be_visible()
    room_url = a.url
    open_room(a, room_url)

    # Others find it by topic and by search, join, and talk.
    b_context, b = open_as(browser, base_url, guest_name)
    b.goto("/rooms")
    b.get_by_role("navigation", name="Topics").get_by_role("link", name=re.compile(topic)).click()
    b.get_by_role("link", name="Oolong hour").click()
    expect(b.get_by_text("Join the room to read its messages")).to_be_visible()
    b.get_by_role("button", name="Join the room").click()
    open_room(b, room_url)
    c_context, c = open_as(browser, base_url, third_name)
    c.goto("/rooms")
    c.get_by_label("Search rooms").fill("gongfu")
    c.get_by_role("button", name="Search").click()
    c.get_by_role("link", name="Oolong hour").click()
    c.get_by_role("button", name="Join the room").click()
    open_room(c, room_url)

    send(a, "   ")
    expect(a.get_by_text("Write a message first.")).to_be_visible()
    send(a, "Welcome! What are you **drinking** today?")
    expect(a.get_by_text("Write a message first.")).to_be_hidden()
    for page in (a, b, c):
        expect(chat(page)).to_contain_text("What are you drinking today?")
    expect(a.get_by_label("Message")).to_have_value("")
    send(b, "A Tieguanyin:\n\n```python\nsteeps = [20, 25, 30]\n```")
    for page in (a, b, c):
        expect(chat(page).locator("pre.code")).to_contain_text("steeps = [20, 25, 30]")
        expect(chat(page).locator(".message")).to_have_count(2)

    # Edits and deletions reach every tab at once.
    mine = chat(b).locator(".message").last
    mine.get_by_role("button", name="More actions").click()
    mine.get_by_role("button", name="Edit").click()
    b.get_by_label("Edit your message").fill("A Tieguanyin, third steep")
    b.get_by_role("button", name="Save").click()
    for page in (a, b, c):
        expect(chat(page).locator(".message").last).to_contain_text("third steep")
        expect(chat(page).locator(".message").last).to_contain_text("edited")
    # Someone else's message offers Cara no actions at all; the host gets Delete only.
    expect(
        chat(c).locator(".message").first.get_by_role("button", name="More actions")
    ).to_be_hidden()
    chat(a).locator(".message").first.get_by_role("button", name="More actions").click()
    chat(a).locator(".message").first.get_by_role("button", name="Delete").click()
    for page in (a, b, c):
        expect(chat(page).locator(".message")).to_have_count(1)
    # The host may delete anyone's message.
    theirs = chat(a).locator(".message").first
    theirs.get_by_role("button", name="More actions").click()
    expect(theirs.get_by_role("button", name="Edit")).to_be_hidden()
    theirs.get_by_role("button", name="Delete").click()
    for page in (a, b, c):
        expect(chat(page).locator(".message")).to_have_count(0)

    # A removed member's open tab stops receiving at once.
    a.goto(room_url + "/participants")
    a.get_by_role("button", name="Remove Cara").click()
    a.get_by_role("button", name="Yes, remove Cara").click()
    expect(c.get_by_text("The host removed you from this room.")).to_be_visible()
    open_room(a, room_url)
    send(a, "Cara should not see this")
    expect(chat(b)).to_contain_text("Cara should not see this")
    c.wait_for_timeout(500)
    expect(chat(c)).not_to_contain_text("Cara should not see this")
    # After a reload the page says it once, and offers no way in that would be refused.
    c.reload()
    expect(c.get_by_text(re.compile("The host removed you from this room"))).to_have_count(1)
    expect(c.get_by_text(re.compile("Join the room"))).to_have_count(0)
    for context in (a_context, b_context, c_context):
        context.close()


def test_an_offline_tab_gets_what_it_missed_exactly_once(
    browser, base_url, make_live_user, live_server
):
    host_name = make_live_user(first_name="Dina", last_name="Online")
    guest_name = make_live_user(first_name="Erik", last_name="Offline")
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import join

        room = create_room(user_by_username(host_name), "Night owls", "Sleep", "")
        join(user_by_username(guest_name), room)
        room_url = f"/rooms/{room.id}"
    a_context, a = open_as(browser, base_url, host_name)
    b_context, b = open_as(browser, base_url, guest_name)
    open_room(a, room_url)
    open_room(b, room_url)
    send(a, "before the drop")
    expect(chat(b)).to_contain_text("before the drop")

    b_context.set_offline(True)
    wait_until(b, "window.qosyl.socket.connected === false", timeout=30)
    for n in range(3):
        send(a, f"while you were away {n}")
    expect(chat(a).locator(".message")).to_have_count(4)
    b_context.set_offline(False)
    wait_for_live_channel(b)
    expect(chat(b).locator(".message")).to_have_count(4)
    texts = chat(b).locator(".message__body").all_inner_texts()
    assert texts == ["before the drop"] + [f"while you were away {n}" for n in range(3)]
    send(b, "back!")
    expect(chat(a)).to_contain_text("back!")
    a_context.close()
    b_context.close()


def test_the_lobby_on_the_home_page(browser, base_url, make_live_user, live_server):
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import create_room
        from qosyl.extensions import db
        from qosyl.reads.rooms import lobby

        missing = lobby() is None
        # End the read before writing: SQLite refuses to turn a read into a write when the
        # server process wrote in between.
        db.session.rollback()
        if missing:
            room = create_room(user_by_username(make_live_user()), "Lobby", "General", "")
            room.is_lobby = True
            db.session.commit()
    a_context, a = open_as(browser, base_url, make_live_user(first_name="Lobby", last_name="One"))
    b_context, b = open_as(browser, base_url, make_live_user(first_name="Lobby", last_name="Two"))
    for page in (a, b):
        wait_for_live_channel(page)
        wait_until(page, "Boolean(document.querySelector('[data-chat-room][data-chat-ready]'))")
    word = f"hello-{uuid.uuid4().hex[:6]}"
    lobby_box = a.get_by_role("region", name="Lobby", exact=True)
    lobby_box.get_by_label("Message").fill(f"{word} from the home page")
    lobby_box.get_by_label("Message").press("Enter")
    expect(b.get_by_role("region", name="Lobby", exact=True)).to_contain_text(word)
    a_context.close()
    b_context.close()


def test_older_messages_load_when_scrolled_to_not_before(
    browser, base_url, make_live_user, live_server
):
    """A room page shows its newest 50 messages, scrolled to the end, and asks for older
    ones only when the reader scrolls up to them; what it shows does not move about."""
    host_name = make_live_user(first_name="Hana", last_name="History")
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import send_message

        host = user_by_username(host_name)
        room = create_room(host, "Long memory", "History", "")
        for n in range(60):
            send_message(host, room, f"line {n}")
        room_url = f"/rooms/{room.id}"
    context, page = open_as(browser, base_url, host_name)
    asked = []
    page.on("request", lambda request: "messages?before=" in request.url and asked.append(1))
    open_room(page, room_url)
    log = page.get_by_role("log", name="Conversation in Long memory")
    expect(log.locator(".message")).to_have_count(50)
    expect(log.get_by_text("line 59", exact=True)).to_be_in_viewport()
    # Grouped by the server as the script groups them: one name and picture for the run.
    assert log.locator(".message:not(.message--continued)").count() == 1
    assert asked == []

    log.evaluate("(element) => { element.scrollTop = 0; }")
    expect(log.locator(".message")).to_have_count(60)
    expect(log.get_by_text("line 0", exact=True)).to_be_attached()
    assert len(asked) == 1
    context.close()
