"""Phone-first layout in Chromium: main content first, chat pages laid out like a chat app,
no page scrolling sideways, and no console errors on any page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import lobby_as_host
from tests.e2e.conftest import sign_in

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
UNREAD = re.compile(r"^Messages \d+ unread$")


def _live_user(live_server, first_name: str, last_name: str, **fields) -> str:
    from tests import factories

    username = f"u{uuid.uuid4().hex[:10]}"
    with live_server.app().app_context():
        factories.user(username=username, first_name=first_name, last_name=last_name, **fields)
    return username


@pytest.fixture(scope="module")
def world(live_server):
    """One person with something on every page: posts (one with code), a room, the lobby,
    a conversation, a group, an invitation, a friend request and a notification."""
    # A stored time zone: insights would otherwise store the browser's and reload mid-check.
    username = _live_user(
        live_server, "Lay", "Out", bio="Tries pages on a phone.", time_zone="Asia/Kathmandu"
    )
    friend_name = _live_user(live_server, "Pen", "Pal")
    asker_name = _live_user(live_server, "Ask", "Er")
    lobby_id = lobby_as_host(live_server, friend_name)
    with live_server.app().app_context():
        from qosyl.actions import groups
        from qosyl.actions import messages
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.notifications import notify
        from qosyl.actions.posts import add_comment
        from qosyl.actions.posts import create_post
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import send_message
        from qosyl.actions.social import send_friend_request
        from qosyl.extensions import db
        from qosyl.reads.rooms import lobby

        me = user_by_username(username)
        friend = user_by_username(friend_name)
        asker = user_by_username(asker_name)
        notify(me, "welcome", target_url="/")
        db.session.commit()
        for n in range(3):
            create_post(me, f"Post number {n} about #layout and a long word {'w' * 60}")
        post = create_post(
            me,
            "## Code\n\n```python\ndef a_rather_long_function_name(argument_one, argument_two):"
            "\n    return argument_one + argument_two  # and a comment that runs on\n```",
        )
        comment = add_comment(me, post, "A comment")
        room = create_room(me, "Layout room", "Design", "Where pages are tried on phones")
        for n in range(25):
            message = send_message(me, room, f"Room message {n}")
        the_lobby = lobby()
        for n in range(25):
            send_message(friend, the_lobby, f"Lobby message {n}")
        conversation = messages.direct_conversation(me, friend)
        for n in range(25):
            messages.send_message(friend if n % 2 else me, conversation, f"Conversation line {n}")
        group = groups.create_group(me, "Layout group", [friend])
        for n in range(25):
            messages.send_message(me, group, f"Group line {n}")
        groups.create_group(friend, "Invite group", [me])
        send_friend_request(asker, me)
        from qosyl.actions.meetings import create_meeting

        meeting = create_meeting(me)
        ids = {
            "username": username,
            "friend": friend_name,
            "post": post.id,
            "comment": comment.id,
            "message": message.id,
            "room": room.id,
            "lobby": lobby_id,
            "conversation": conversation.id,
            "group": group.id,
            "meeting": meeting.public_id,
        }
    return ids


# Every page a signed-in person can reach (the app's GET endpoints that render a page).
PAGES = [
    "/", "/p/{post}", "/p/{post}/edit", "/comments/{comment}/edit", "/u/{username}",
    "/u/{friend}", "/u/{username}/friends", "/u/{username}/followers", "/u/{username}/following",
    "/people", "/people?q=pen", "/friends/requests", "/rooms", "/rooms?q=layout", "/rooms/new",
    "/rooms/{room}", "/rooms/{room}/participants", "/rooms/{room}/edit",
    "/rooms/{room}/messages/{message}/edit", "/rooms/{lobby}", "/activity", "/messages",
    "/messages?q=pen", "/messages/{conversation}", "/messages/{group}", "/messages/invites",
    "/messages/groups/new", "/notifications", "/settings/profile", "/settings/password",
    "/settings/email", "/settings/notifications", "/settings/messages", "/settings/blocked",
    "/settings/sign-ins", "/settings/delete", "/welcome", "/about", "/search?q=layout",
    "/tags/layout", "/meetings", "/meetings/{meeting}", "/insights", "/insights?days=90",
    "/rooms/{room}/insights", "/settings/time-zone",
]  # fmt: skip


def test_no_page_scrolls_sideways_or_logs_an_error_on_a_phone(browser, base_url, world):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []

    def console(message) -> None:
        # Leaving a page ends its live channel; Socket.IO's last long poll may then be answered
        # 400 (the session is closed), which Chromium reports after the next page has come.
        # That is the transport's goodbye, not an error of a page: everything else counts.
        if "/socket.io/" in message.location.get("url", ""):
            return
        # Going to the next page aborts a request the last one still had in flight (a bell or
        # list refetching after the notifications page marked them seen): htmx reports the
        # abort, and the afterRequest that comes with it. Leaving is not an error of a page.
        if message.text.startswith("htmx:sendAbort"):
            if errors and "htmx:afterRequest" in errors[-1]:
                errors.pop()
            return
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    sign_in(page, world["username"])
    wide: list[str] = []
    for width in (320, 360):
        page.set_viewport_size({"width": width, "height": 740})
        for url in PAGES:
            page.goto(url.format(**world))
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                wide.append(f"{url} at {width} px is {scroll_width} px wide")
    context.close()
    assert wide == [], "\n".join(wide)
    assert errors == [], "\n".join(errors)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def test_main_content_comes_first_and_chat_pages_fit_the_window(browser, base_url, world):
    context = browser.new_context(base_url=base_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, world["username"])

    # The feed and the rooms list start on the first screen of a phone.
    page.goto("/")
    expect(page.get_by_role("article").first).to_be_visible()
    assert box(page.get_by_role("article").first)["y"] < PHONE["height"]
    # The side column follows the endless feed; a link at the top leads to it.
    page.get_by_role("link", name="Lobby and suggestions").click()
    expect(page.get_by_role("region", name="Lobby", exact=True)).to_be_in_viewport()
    page.goto("/rooms")
    first_room = page.get_by_role("region", name="All rooms").get_by_role("listitem").first
    assert box(first_room)["y"] < PHONE["height"]

    chats = ["/rooms/{room}", "/rooms/{lobby}", "/messages/{conversation}", "/messages/{group}"]
    for size in (PHONE, DESKTOP, {"width": 320, "height": 640}):
        page.set_viewport_size(size)
        for url in chats:
            page.goto(url.format(**world))
            composer = page.get_by_label("Message", exact=True)
            expect(composer).to_be_visible()
            where = f"{url} at {size['width']}x{size['height']}"
            # Without scrolling the page, the box is on screen and above the tab bar.
            assert page.evaluate("window.scrollY") == 0, where
            bottom = box(composer)["y"] + box(composer)["height"]
            assert bottom <= size["height"], where
            tab_bar = box(page.get_by_role("navigation", name="Main"))
            if tab_bar["y"] > size["height"] / 2:  # phones: the tab bar is at the bottom
                assert bottom <= tab_bar["y"], where
            # The messages scroll in their own pane, shown from the latest one.
            pane = page.locator(".chat__scroll")
            assert pane.evaluate("e => e.scrollHeight > e.clientHeight + 20"), where
            assert pane.evaluate("e => e.scrollHeight - e.scrollTop - e.clientHeight < 80"), where
            for line in page.locator("[data-chat-seen], [data-chat-typing]").all():
                line_box = box(line)
                assert line_box["y"] + line_box["height"] <= size["height"], where
    context.close()


def test_the_tab_bar_has_icons_and_the_unread_badge_sits_on_its_link(
    browser, base_url, world, live_server
):
    with live_server.app().app_context():
        from qosyl.actions import messages
        from qosyl.actions.accounts import user_by_username

        me, friend = user_by_username(world["username"]), user_by_username(world["friend"])
        messages.send_message(friend, messages.direct_conversation(me, friend), "Unread")
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, world["username"])
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=UNREAD)
    badge = link.get_by_label(re.compile(r"^\d+ unread$"))
    # On a desktop the count is next to the word, inside its link.
    link_box, badge_box = box(link), box(badge)
    assert link_box["x"] <= badge_box["x"]
    assert badge_box["x"] + badge_box["width"] <= link_box["x"] + link_box["width"]
    middle = badge_box["y"] + badge_box["height"] / 2
    assert link_box["y"] <= middle <= link_box["y"] + link_box["height"]

    # On a 320 px phone every tab has an icon and its whole label.
    page.set_viewport_size({"width": 320, "height": 640})
    for name in ("Home", "Rooms", "People", "Meet", "Search", UNREAD):
        tab = nav.get_by_role("link", name=name, exact=isinstance(name, str))
        expect(tab.locator("svg")).to_be_visible()
        label = tab.locator(".main-nav__label")
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), name
        tab_box, label_box = box(tab), box(label)
        assert tab_box["x"] <= label_box["x"], name
        assert label_box["x"] + label_box["width"] <= tab_box["x"] + tab_box["width"], name
        assert tab_box["x"] + tab_box["width"] <= 320, name
    badge_box, tab_box = box(badge), box(nav.get_by_role("link", name=UNREAD))
    assert tab_box["x"] <= badge_box["x"] and badge_box["x"] + badge_box["width"] <= 320
    context.close()


def test_file_inputs_show_the_whole_text_and_a_preview(browser, base_url, world):
    from tests.images import png

    context = browser.new_context(base_url=base_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, world["username"])
    picture = {"name": "teal.png", "mimeType": "image/png", "buffer": png(120, 80)}
    for url, label in (
        ("/", "Photo"),
        ("/settings/profile", "Avatar"),
        ("/messages/{conversation}", "Attach a file"),
    ):
        page.goto(url.format(**world))
        field = page.get_by_label(label, exact=True)
        # Wide enough for the button and "No file chosen" without an ellipsis.
        assert box(field)["width"] >= 260, url
        field.set_input_files(picture)
        preview = page.get_by_role("img", name="Preview of teal.png")
        expect(preview).to_be_visible()
        assert preview.evaluate("e => e.naturalWidth") == 120
        field.set_input_files([])
        expect(preview).to_have_count(0)
    context.close()
