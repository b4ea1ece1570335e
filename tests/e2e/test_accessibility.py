"""axe-core finds no accessibility violations on the pages of the foundation."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel

ANONYMOUS_PAGES = ["/", "/register", "/login", "/offline", "/password/forgot"]
SIGNED_IN_PAGES = [
    "/", "/u/{username}", "/settings/profile", "/notifications", "/welcome", "/settings/password",
    "/people", "/people?q=ax", "/u/{username}/followers", "/friends/requests",
    "/settings/notifications", "/settings/blocked", "/settings/sign-ins", "/search?q=pasta",
    "/tags/cooking",
    "/p/{post}", "/p/{post}/edit", "/about", "/rooms", "/rooms/new", "/rooms/{room}",
    "/rooms/{room}/participants", "/rooms/{room}/edit", "/rooms/{room}/messages/{message}/edit",
    "/activity", "/messages", "/messages?q=a", "/messages/{conversation}",
    "/messages/groups/new", "/messages/invites", "/messages/{group}", "/settings/messages",
    "/meetings", "/meetings/{meeting}", "/settings/time-zone", "/insights", "/insights?days=90",
    "/rooms/{room}/insights", "/insights/site",
]  # fmt: skip


def violations(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source)  # the context bypasses CSP only to let axe in
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 360, "height": 740}


# Light and dark on a desktop, and dark on a phone (where code blocks and tab rows scroll).
@pytest.fixture(
    params=[("light", DESKTOP), ("dark", DESKTOP), ("dark", PHONE)],
    ids=["light", "dark", "phone-dark"],
)
def scheme_context(request, browser, base_url):
    scheme, viewport = request.param
    context = browser.new_context(
        base_url=base_url, bypass_csp=True, color_scheme=scheme, viewport=viewport
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_anonymous_pages(scheme_context, axe_source):
    page = scheme_context.new_page()
    for url in ANONYMOUS_PAGES:
        page.goto(url)
        found = violations(page, axe_source)
        assert found == [], f"{url}: {json.dumps(found, indent=1)}"


def test_signed_in_pages(scheme_context, axe_source, make_live_user, live_server):
    # An administrator with a time zone: the insights pages store none of their own, and
    # the site overview is there to check.
    username = make_live_user(
        first_name="Axe",
        last_name="Checker",
        bio="Reads pages aloud.",
        time_zone="UTC",
        is_admin=True,
    )
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.notifications import notify
        from qosyl.actions.posts import add_comment
        from qosyl.actions.posts import create_post
        from qosyl.extensions import db

        author = user_by_username(username)
        notify(author, "welcome", target_url="/")
        db.session.commit()
        post = create_post(
            author,
            "## Fresh pasta\n\nFlour, eggs, time. #cooking\n\n```python\ndef knead(minutes=10):\n"
            "    return 'smooth'  # until it springs back when pressed with a finger, rest\n```"
            "\n\n> quoted\n\n- a list\n- [a link](https://example.com)",
        )
        first = add_comment(author, post, "Looks **great**")
        add_comment(author, post, "Thanks!", first)
        post_id = post.id
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import send_message

        room = create_room(author, "Tea hour", "Tea", "Oolong, puerh and gear")
        message = send_message(author, room, "Steep **twice**\n\n```python\nsteeps = [20, 25]\n```")
        room_id, message_id = room.id, message.id
        from qosyl.actions import messages

        friend = user_by_username(make_live_user(first_name="Pen", last_name="Pal"))
        conversation = messages.direct_conversation(author, friend)
        messages.send_message(friend, conversation, "Hello `there`")
        messages.send_message(author, conversation, "Hi!")
        conversation_id = conversation.id
        from qosyl.actions import groups

        group = groups.create_group(author, "Pasta lovers", [friend])
        group_id = group.id
        from qosyl.actions.meetings import create_meeting

        meeting_id = create_meeting(author).public_id
    page = scheme_context.new_page()
    sign_in(page, username)
    for url in SIGNED_IN_PAGES:
        page.goto(
            url.format(
                username=username,
                post=post_id,
                room=room_id,
                message=message_id,
                conversation=conversation_id,
                group=group_id,
                meeting=meeting_id,
            )
        )
        found = violations(page, axe_source)
        assert found == [], f"{url}: {json.dumps(found, indent=1)}"
    page.goto("/settings/profile")
    page.get_by_label("Website").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save profile").click()
    page.locator("#website-error").wait_for()
    assert violations(page, axe_source) == []
    page.goto("/")
    page.get_by_label("Account menu").click()
    assert violations(page, axe_source) == []
    page.goto(f"/messages/{group_id}")
    page.get_by_role("button", name="Group settings").click()
    assert violations(page, axe_source) == []
    page.goto(f"/p/{post_id}")
    page.get_by_role("button", name="Reply").first.click()
    page.get_by_role("button", name="Delete").first.click()
    assert violations(page, axe_source) == []
    # A meeting's call, joined: tiles, controls, participants and its chat.
    page.goto(f"/meetings/{meeting_id}")
    wait_for_live_channel(page)
    page.get_by_role("button", name="Join meeting").click()
    page.get_by_role("button", name="Leave").wait_for()
    page.get_by_role("region", name="Chat").get_by_label("Message").wait_for()
    found = violations(page, axe_source)
    assert found == [], f"the joined call: {json.dumps(found, indent=1)}"


def test_the_check_finds_a_real_violation(scheme_context, axe_source):
    page = scheme_context.new_page()
    page.goto("/offline")
    page.evaluate("document.querySelector('img').removeAttribute('alt')")
    assert [v["id"] for v in violations(page, axe_source)] == ["image-alt"]
