"""What others do shows up on pages already open, without a reload (issue 9, "Live
everywhere"): comments and counts of posts, a room's participants, the relation buttons of a
profile and the header's picture. Two people, two browser contexts per journey."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_as
from tests.e2e.conftest import wait_until


def watching(page, *, post: int | None = None, room: int | None = None) -> None:
    """Wait until the server lets the tab hear of the post or room it shows."""
    if post is not None:
        wait_until(page, f"(window.qosyl.watched?.posts || []).includes({post})")
    if room is not None:
        wait_until(page, f"window.qosyl.watched?.room === {room}")


def act(live_server, fn):
    """Run actions as another process of the deployment would (it emits through Redis)."""
    from qosyl.extensions import db
    from qosyl.models import User

    with live_server.app().app_context():
        return fn(lambda username: db.session.scalar(db.select(User).filter_by(username=username)))


def test_comments_replies_and_counts_reach_every_viewer(
    browser, base_url, make_live_user, live_server
):
    from qosyl.actions import posts as post_actions
    from qosyl.actions import social
    from qosyl.reads.access import access_post

    a_name = make_live_user(first_name="Asel", last_name="Author")
    b_name = make_live_user(first_name="Bolat", last_name="Reader")
    c_name = make_live_user(first_name="Cora", last_name="Blocked")
    post_id = act(
        live_server, lambda who: post_actions.create_post(who(a_name), "Tea or coffee?").id
    )
    act(live_server, lambda who: social.block(who(b_name), who(c_name)))

    a_context, a = open_as(browser, base_url, a_name)
    b_context, b = open_as(browser, base_url, b_name)
    for page in (a, b):
        page.goto(f"/p/{post_id}")
        watching(page, post=post_id)
    a_comments = a.get_by_role("list", name="Comments")
    b_comments = b.get_by_role("list", name="Comments")
    a_stats, b_stats = a.locator(f"#post-{post_id}-stats"), b.locator(f"#post-{post_id}-stats")

    # A comment appears for the other viewer, once for its author, and the counts follow.
    a.get_by_label("Write a comment").fill("Tea, always.")
    a.get_by_role("button", name="Comment", exact=True).click()
    expect(b_comments.get_by_role("listitem").filter(has_text="Tea, always.")).to_have_count(1)
    expect(b_stats).to_contain_text("1 comment")
    expect(a_comments.get_by_role("listitem").filter(has_text="Tea, always.")).to_have_count(1)

    # A reply lands under its parent, on the author's page too.
    b_comments.get_by_role("button", name="Reply").click()
    b.get_by_role("list", name="Comments").get_by_label("Write a reply").fill("Green tea?")
    # The disclosure's summary is a "Reply" button too; the form's comes after it.
    b_comments.get_by_role("button", name="Reply", exact=True).last.click()
    a_replies = a.get_by_role("list", name="Replies to Asel Author")
    expect(a_replies.get_by_role("listitem").filter(has_text="Green tea?")).to_have_count(1)
    expect(a_stats).to_contain_text("2 comments")
    expect(
        b.get_by_role("list", name="Replies to Asel Author").get_by_role("listitem")
    ).to_have_count(1)

    # A like changes the count for the author, not the author's own like button.
    b.get_by_role("button", name="Like").click()
    expect(b.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    expect(a_stats).to_contain_text("1 like")
    expect(a.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "false")

    # Someone Bolat blocked comments (from another process): Asel gets it, Bolat only the count.
    if live_server.uses_message_queue:
        act(
            live_server,
            lambda who: post_actions.add_comment(
                who(c_name), access_post(who(c_name), post_id), "Coffee!"
            ),
        )
        expect(a_comments).to_contain_text("Coffee!")
        expect(b_stats).to_contain_text("3 comments")
    a.get_by_label("Write a comment").fill("Noted.")
    a.get_by_role("button", name="Comment", exact=True).click()
    # Bolat's tab fetches new comments in order: once "Noted." is there, Cora's was refused.
    expect(b_comments).to_contain_text("Noted.")
    expect(b_comments).not_to_contain_text("Coffee!")

    # A deleted comment goes from the other page, with its replies.
    thread = a_comments.get_by_role("listitem").filter(has_text="Tea, always.").first
    thread.get_by_role("button", name="Delete").first.click()
    thread.get_by_role("button", name="Yes, delete").first.click()
    expect(b_comments).not_to_contain_text("Tea, always.")
    expect(b_comments).not_to_contain_text("Green tea?")

    # Counts stay live after moving on (boosted navigation): Bolat on Asel's profile.
    b.get_by_role("link", name="Asel Author").first.click()
    expect(b).to_have_url(re.compile(f"/u/{a_name}$"))
    watching(b, post=post_id)
    a.get_by_role("button", name="Like").click()
    expect(b.locator(f"#post-{post_id}-stats")).to_contain_text("2 likes")
    expect(b.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    a_context.close()
    b_context.close()


def test_a_rooms_participants_change_as_people_join_leave_or_are_removed(
    browser, base_url, make_live_user, live_server
):
    from qosyl.actions import rooms as room_actions

    a_name = make_live_user(first_name="Aigerim", last_name="Host")
    b_name = make_live_user(first_name="Baurzhan", last_name="Guest")
    room_id = act(
        live_server, lambda who: room_actions.create_room(who(a_name), "Chess club", "Chess").id
    )
    a_context, a = open_as(browser, base_url, a_name)
    b_context, b = open_as(browser, base_url, b_name)
    a.goto(f"/rooms/{room_id}")
    watching(a, room=room_id)
    side = a.get_by_role("list", name="Participants of Chess club")
    expect(side.get_by_role("listitem")).to_have_count(1)

    b.goto(f"/rooms/{room_id}")
    b.get_by_role("button", name="Join the room").click()
    expect(side).to_contain_text("Baurzhan Guest")
    expect(a.get_by_role("link", name="2 participants")).to_be_visible()

    b.get_by_role("button", name="Leave the room").click()
    expect(side).not_to_contain_text("Baurzhan Guest")
    expect(a.get_by_role("link", name="1 participant", exact=True)).to_be_visible()

    # Removed by the host: gone from the list another participant has open.
    b.goto(f"/rooms/{room_id}")
    b.get_by_role("button", name="Join the room").click()
    b.goto(f"/rooms/{room_id}/participants")
    watching(b, room=room_id)
    a.goto(f"/rooms/{room_id}/participants")
    a.get_by_role("button", name="Remove Baurzhan").click()
    a.get_by_role("button", name="Yes, remove Baurzhan").click()
    expect(b.get_by_role("list", name="Participants")).not_to_contain_text("Baurzhan Guest")
    expect(b.get_by_role("list", name="Participants")).to_contain_text("Aigerim Host")
    a_context.close()
    b_context.close()


def test_the_open_profile_follows_the_others_answer(browser, base_url, make_live_user):
    a_name = make_live_user(first_name="Arman", last_name="Asker")
    b_name = make_live_user(first_name="Bota", last_name="Answerer")
    a_context, a = open_as(browser, base_url, a_name)
    b_context, b = open_as(browser, base_url, b_name)
    a.goto(f"/u/{b_name}")
    a.get_by_role("button", name="Add friend").click()
    expect(a.get_by_role("button", name="Cancel request")).to_be_visible()

    # Accepted: the asker's open profile shows the friendship.
    b.goto("/friends/requests")
    b.get_by_role("list", name="Received friend requests").get_by_role(
        "button", name="Accept"
    ).click()
    expect(a.get_by_text("Friends", exact=True)).to_be_visible()
    expect(a.get_by_role("button", name="Unfriend")).to_be_visible()
    expect(a.get_by_role("button", name="Cancel request")).to_have_count(0)

    # Unfriended: back to asking.
    b.goto(f"/u/{a_name}")
    b.get_by_role("button", name="Unfriend").click()
    expect(a.get_by_role("button", name="Add friend")).to_be_visible()

    # Asked again and declined: the same.
    a.get_by_role("button", name="Add friend").click()
    expect(a.get_by_role("button", name="Cancel request")).to_be_visible()
    b.goto("/friends/requests")
    b.get_by_role("list", name="Received friend requests").get_by_role(
        "button", name="Decline"
    ).click()
    expect(a.get_by_role("button", name="Add friend")).to_be_visible()
    a_context.close()
    b_context.close()


def test_the_header_picture_changes_after_setup_in_every_tab(
    browser, base_url, make_live_user, tmp_path
):
    name = make_live_user(first_name="Nurlan", last_name="New", onboarded=False)
    context, setup = open_as(browser, base_url, name)
    other = context.new_page()
    other.goto("/notifications")
    wait_until(other, "Boolean(window.qosyl?.socket?.connected)")
    if not setup.url.endswith("/welcome"):
        setup.goto("/welcome")
    wait_until(setup, "Boolean(window.qosyl?.socket?.connected)")

    def header_picture(page):
        return page.get_by_role("button", name="Account menu").locator("img")

    for page in (setup, other):
        expect(header_picture(page)).to_have_attribute("src", re.compile("^data:"))

    photo = tmp_path / "me.png"
    photo.write_bytes(images.png(300, 300, color="orange"))
    setup.get_by_label("Avatar").set_input_files(photo)
    setup.get_by_role("button", name=re.compile("^Save")).click()
    expect(setup.get_by_text("You are all set")).to_be_visible()
    for page in (setup, other):
        expect(header_picture(page)).to_have_attribute("src", re.compile("/media/avatar/"))
    context.close()
