"""Notifications in the browser: seeing them reads them, in every tab; one action per item."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel


def notify_live(live_server, username: str, actor_username: str, excerpt: str) -> None:
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.notifications import notify
        from qosyl.extensions import db

        actor = user_by_username(actor_username)
        notify(
            user_by_username(username),
            "comment",
            actor=actor,
            target_url=f"/u/{actor_username}",
            excerpt=excerpt,
        )
        db.session.commit()


def test_opening_the_page_reads_what_it_shows_in_every_tab(
    page, context, live_server, make_live_user
):
    reader = make_live_user(first_name="Rea", last_name="Der")
    writer = make_live_user(first_name="Wri", last_name="Ter")
    notify_live(live_server, reader, writer, "**Nice** post, see `this`")
    notify_live(live_server, reader, writer, "```python\nprint('hi')\n```")
    sign_in(page, reader)
    expect(page.get_by_role("link", name="Notifications, 2 unread")).to_be_visible()
    wait_for_live_channel(page)

    other_tab = context.new_page()
    other_tab.goto("/notifications")
    items = other_tab.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(items).to_have_count(2)
    # This view still shows them as new; the badge clears here and in the other tab.
    expect(items.first).to_have_class(re.compile(r"notification--unread"))
    expect(other_tab.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    # Excerpts are the words, not the markdown.
    expect(items.last).to_contain_text("“Nice post, see this”")
    expect(items.first).to_contain_text("“print('hi')”")
    expect(other_tab.get_by_text("**")).to_have_count(0)

    # One primary action; the rest in a menu the keyboard reaches.
    first = items.first
    expect(first.get_by_role("link", name="Open")).to_be_visible()
    expect(first.get_by_role("button", name="Delete")).to_be_hidden()
    more = first.get_by_role("button", name="More actions")
    more.focus()
    other_tab.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(first.get_by_role("button", name="Delete")).to_be_visible()
    other_tab.keyboard.press("Escape")
    expect(first.get_by_role("button", name="Delete")).to_be_hidden()
    more.click()
    first.get_by_role("button", name="Delete").click()
    expect(items).to_have_count(1)

    items.first.get_by_role("link", name="Open").click()
    other_tab.wait_for_url(re.compile(rf"/u/{writer}$"))
    other_tab.close()
