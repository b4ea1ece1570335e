"""People and posts in Chromium, two users in two browser contexts (NET, POST, NOTE-1)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_as
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel


def bell(page):
    return page.get_by_role("link", name=re.compile(r"^Notifications"))


def test_friends_posts_likes_comments_and_a_block(browser, base_url, make_live_user, tmp_path):
    a_name = make_live_user(first_name="Asel", last_name="Author")
    b_name = make_live_user(first_name="Bolat", last_name="Reader")
    a_context, a = open_as(browser, base_url, a_name)
    b_context, b = open_as(browser, base_url, b_name)
    wait_for_live_channel(b)
    expect(bell(b)).to_have_accessible_name("Notifications")

    # A asks B to be friends; B hears of it at once.
    a.goto(f"/u/{b_name}")
    a.get_by_role("button", name="Add friend").click()
    expect(a.get_by_role("button", name="Cancel request")).to_be_visible()
    expect(bell(b)).to_have_accessible_name("Notifications, 1 unread")
    expect(b.locator("#toasts")).to_contain_text("Asel Author sent you a friend request.")

    bell(b).click()
    b.get_by_role("listitem").filter(has_text="sent you a friend request").get_by_role(
        "link", name="Open"
    ).click()
    expect(b.get_by_role("heading", name="Friend requests")).to_be_visible()
    wait_for_live_channel(a)
    b.get_by_role("list", name="Received friend requests").get_by_role(
        "button", name="Accept"
    ).click()
    expect(b.get_by_text("No friend requests waiting for you.")).to_be_visible()
    expect(bell(a)).to_have_accessible_name("Notifications, 1 unread")

    for page, me, friend in ((a, a_name, "Bolat Reader"), (b, b_name, "Asel Author")):
        page.goto(f"/u/{me}/friends")
        expect(page.get_by_role("link", name=re.compile(friend))).to_be_visible()

    # A posts a photo with a code block; it joins the top of the feed without a reload.
    a.goto("/")
    photo = tmp_path / "desk.png"
    photo.write_bytes(images.png(800, 600, color="teal"))
    a.get_by_label("Write a post").fill(
        "My desk today #setup\n\n```python\ndef greet(name):\n    return f'Hi {name}'\n```"
    )
    a.get_by_label("Photo").set_input_files(photo)
    a.evaluate("window.stillTheSamePage = true")
    a.get_by_role("button", name="Post", exact=True).click()
    card = a.locator("article.post").first
    expect(card).to_contain_text("My desk today")
    expect(card.locator("pre.code .k").first).to_have_text("def")
    expect(card.get_by_role("img", name="Photo posted by Asel Author")).to_be_visible()
    expect(a.get_by_label("Write a post")).to_have_value("")
    assert a.evaluate("window.stillTheSamePage") is True
    stats = card.locator(".post__stats")
    expect(stats).to_contain_text("0 likes")
    wait_for_live_channel(a)

    # B, a friend now, sees it, likes it and comments; A sees both arrive live.
    b.goto("/")
    post = b.locator("article.post").filter(has_text="My desk today")
    post.get_by_role("button", name="Like").click()
    expect(post.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    expect(post.locator(".post__stats")).to_contain_text("1 like")
    post.get_by_role("link", name="Comment").click()
    b.get_by_label("Write a comment").fill("Clean setup! What keyboard is that?")
    b.get_by_role("button", name="Comment", exact=True).click()
    expect(b.locator("#comment-list")).to_contain_text("What keyboard is that?")
    expect(b.get_by_label("Write a comment")).to_have_value("")

    expect(stats).to_contain_text("1 like")
    expect(stats).to_contain_text("1 comment")
    expect(bell(a)).to_have_accessible_name("Notifications, 3 unread")
    assert a.evaluate("window.stillTheSamePage") is True
    a.goto("/notifications")
    expect(a.get_by_text("Bolat Reader liked your post.")).to_be_visible()
    expect(a.get_by_text("Bolat Reader commented on your post.")).to_be_visible()

    # A blocks B: B can no longer see A's profile.
    a.goto(f"/u/{b_name}")
    a.get_by_role("button", name="Block").click()
    a.get_by_role("button", name="Yes, block").click()
    expect(a.get_by_text(f"You blocked @{b_name}.")).to_be_visible()
    expect(a.get_by_role("button", name="Unblock")).to_be_visible()

    response = b.goto(f"/u/{a_name}")
    assert response.status == 404
    expect(b.get_by_role("heading", name="There is nothing here.")).to_be_visible()
    b.goto("/")
    expect(b.get_by_text("My desk today")).to_have_count(0)
    a_context.close()
    b_context.close()


def test_write_edit_reply_delete_and_find(browser, base_url, make_live_user, live_server):
    name = make_live_user(first_name="Dana", last_name="Writer")
    context, page = open_as(browser, base_url, name)
    page.get_by_label("Write a post").fill("Slow cooker ragu tonight #cooking")
    page.get_by_role("button", name="Post", exact=True).click()
    card = page.locator("article.post").first
    expect(card).to_contain_text("Slow cooker ragu")

    # Edit in place.
    card.get_by_role("link", name="Edit").click()
    page.get_by_label("Edit your post").fill("Slow cooker ragu with polenta tonight #cooking")
    page.get_by_role("button", name="Save").click()
    card = page.locator("article.post").first
    expect(card).to_contain_text("with polenta")
    expect(card).to_contain_text("edited")

    # Tag page and search find it.
    card.get_by_role("link", name="#cooking").click()
    expect(page.get_by_role("heading", name="#cooking")).to_be_visible()
    expect(page.get_by_text("with polenta")).to_be_visible()
    page.get_by_role("link", name="Search").first.click()
    page.get_by_label("Search posts and people").fill("polenta")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.post")).to_contain_text("with polenta")

    # Comment, reply (one level), edit the comment, then delete the post.
    page.locator("article.post").first.get_by_role("link", name="Comment").click()
    page.get_by_label("Write a comment").fill("Recipe in the comments?")
    page.get_by_role("button", name="Comment", exact=True).click()
    comment = page.locator("#comment-list > li").first
    expect(comment).to_contain_text("Recipe in the comments?")
    comment.get_by_role("button", name="Reply").click()
    comment.get_by_label("Write a reply").fill("Coming soon!")
    comment.get_by_role("button", name="Reply", exact=True).last.click()
    expect(comment.locator(".replies")).to_contain_text("Coming soon!")
    comment.locator(".comment__actions").first.get_by_role("link", name="Edit").click()
    page.get_by_label("Edit your comment").fill("Recipe, please?")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#comment-list")).to_contain_text("Recipe, please?")

    page.locator("article.post").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("Your post is deleted.")).to_be_visible()
    expect(page.get_by_text("with polenta")).to_have_count(0)
    context.close()


def test_feed_loads_more_as_you_scroll(browser, base_url, make_live_user, live_server):
    name = make_live_user(first_name="Scroll", last_name="Down")
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.posts import create_post

        author = user_by_username(name)
        for n in range(45):
            create_post(author, f"Numbered post {n:02d}")
    context, page = open_as(browser, base_url, name)
    posts = page.locator("article.post")
    expect(posts).to_have_count(20)
    expect(posts.first).to_contain_text("Numbered post 44")
    for expected in (40, 45):
        page.locator(".load-more").scroll_into_view_if_needed()
        expect(posts).to_have_count(expected)
    expect(posts.last).to_contain_text("Numbered post 00")
    expect(page.locator(".load-more")).to_have_count(0)
    context.close()


def test_user_text_never_runs_as_script_in_the_real_app(
    browser, base_url, make_live_user, live_server
):
    """A sample of the corpus as real posts and comments, CSP and all."""
    from tests.xss_corpus import VECTORS

    name = make_live_user(first_name="Eve", last_name="Tester")
    app = live_server.app()
    sample = VECTORS[::8]
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.posts import add_comment
        from qosyl.actions.posts import create_post

        author = user_by_username(name)
        post = create_post(author, "host post")
        for vector in sample:
            create_post(author, vector)
            add_comment(author, post, vector)
    context = browser.new_context(base_url=base_url)
    dialogs = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, name)
    page.goto(f"/u/{name}")
    # Scroll until every page has loaded. Each "load more" swaps itself out when revealed,
    # so scroll the window rather than an element that may be gone a moment later.
    for _ in range(100):
        if not page.locator(".load-more").count():
            break
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(200)
    else:
        raise AssertionError("the profile kept loading more posts")
    page.goto(f"/p/{post.id}")
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.evaluate("window.__xss === undefined")
    context.close()
