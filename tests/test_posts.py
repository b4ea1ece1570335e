"""Posts, likes, comments, hashtags and the feed (POST-1 to POST-5, NOTE-1)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import social
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Hashtag
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import PostMention
from qosyl.models import User
from qosyl.reads import posts as posts_reads
from qosyl.reads.posts import feed_page
from tests import factories
from tests import images
from tests.factories import befriend
from tests.factories import like_post
from tests.factories import write_comment
from tests.factories import write_post
from tests.helpers import assert_query_count
from tests.helpers import hx_get
from tests.helpers import notification_kinds
from tests.helpers import post as http_post


def the_post(app, post_id) -> Post:
    with app.app_context():
        return db.session.get(Post, post_id)


# Writing


def test_post_with_markdown_code_hashtags_and_mentions(app, logged_in, user, other_user, pushes):
    body = "Try this #Python trick, @bob:\n\n```python\ndef f():\n    return 42\n```"
    response = http_post(logged_in, "/posts", {"body": body}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="composer"' in html and 'hx-swap-oob="afterbegin:#feed"' in html
    with app.app_context():
        stored = db.session.scalar(select(Post))
        assert stored.body == body
        assert (
            'class="code"' in stored.body_html and '<span class="k">def</span>' in stored.body_html
        )
        assert 'href="/tags/python"' in stored.body_html
        assert 'href="/u/bob"' in stored.body_html
        assert db.session.scalars(select(Hashtag.name)).all() == ["python"]
        assert db.session.scalars(select(PostMention.user_id)).all() == [other_user.id]
    assert notification_kinds(app, other_user) == ["mention"]


def test_post_with_a_photo_only(app, logged_in):
    response = http_post(
        logged_in,
        "/posts",
        {"body": "", "image": (BytesIO(images.png()), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(Post))
        assert stored.image_key and stored.body == ""
    folder = Path(app.config["UPLOAD_FOLDER"]) / "post"
    assert len(list(folder.iterdir())) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "   "}, "Write something or add a photo."),
        ({"body": "x", "image": (BytesIO(images.SVG), "a.svg")}, "SVG images are not accepted."),
    ],
)
def test_bad_posts_are_refused_next_to_the_field(app, logged_in, data, message):
    response = http_post(logged_in, "/posts", data, htmx=True, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_mention_of_someone_who_blocked_you_is_plain_text_and_silent(app, user, other_user):
    with app.app_context():
        social.block(db.session.get(User, other_user.id), db.session.get(User, user.id))
    post_id = write_post(app, user, "hello @bob")
    assert 'href="/u/bob"' not in the_post(app, post_id).body_html
    assert notification_kinds(app, other_user) == []


def test_edit_marks_the_post_and_notifies_only_new_mentions(
    app, logged_in, user, other_user, make_user
):
    make_user(username="carol")
    post_id = write_post(app, user, "hi @bob")
    response = http_post(
        logged_in, f"/p/{post_id}/edit", {f"post-{post_id}-body": "hi @bob and @carol"}, htmx=True
    )
    assert response.status_code == 200
    assert "edited" in response.get_data(as_text=True)
    assert the_post(app, post_id).edited_at is not None
    assert notification_kinds(app, other_user) == ["mention"]
    with app.app_context():
        carol = db.session.scalar(select(User).where(User.username == "carol"))
    assert notification_kinds(app, carol) == ["mention"]


def test_edit_form_over_htmx_replaces_the_card(app, logged_in, user):
    post_id = write_post(app, user, "draft")
    html = hx_get(logged_in, f"/p/{post_id}/edit").get_data(as_text=True)
    assert html.lstrip().startswith(f'<article class="post post--editing" id="post-{post_id}"')
    assert "<html" not in html


def test_only_the_author_edits_or_deletes(app, logged_in, user, other_user):
    theirs = write_post(app, other_user, "bob's")
    assert http_post(logged_in, f"/p/{theirs}/edit", {"body": "mine now"}).status_code == 403
    assert http_post(logged_in, f"/p/{theirs}/delete").status_code == 403
    assert the_post(app, theirs).body == "bob's"


def test_delete_takes_likes_comments_notifications_and_the_photo(app, logged_in, user, other_user):
    http_post(
        logged_in,
        "/posts",
        {"body": "bye", "image": (BytesIO(images.png()), "a.png")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
    like_post(app, other_user, post_id)
    write_comment(app, other_user, post_id, "nice")
    assert notification_kinds(app, user) == ["like", "comment"]
    response = http_post(logged_in, f"/p/{post_id}/delete", htmx=True)
    assert response.status_code == 200 and response.data == b""
    with app.app_context():
        assert db.session.get(Post, post_id) is None
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
        assert db.session.scalar(select(func.count()).select_from(PostLike)) == 0
    assert notification_kinds(app, user) == []
    assert list((Path(app.config["UPLOAD_FOLDER"]) / "post").iterdir()) == []


# Likes


def test_like_unlike_like_counts_right_and_notifies_once(app, logged_in, user, other_user, pushes):
    post_id = write_post(app, other_user, "like me")
    response = http_post(logged_in, f"/p/{post_id}/like", htmx=True)
    html = response.get_data(as_text=True)
    assert 'aria-pressed="true"' in html
    assert f'id="post-{post_id}-stats" hx-swap-oob="true"' in html and "1 like<" in html
    # The counts go to every tab showing the post (qosyl/live/watching.py), not only the author's.
    assert any(p.event == "html" and p.to == f"post:{post_id}" for p in pushes)

    html = http_post(logged_in, f"/p/{post_id}/unlike", htmx=True).get_data(as_text=True)
    assert 'aria-pressed="false"' in html and "0 likes<" in html
    http_post(logged_in, f"/p/{post_id}/like", htmx=True)
    http_post(logged_in, f"/p/{post_id}/like", htmx=True)  # a double click
    assert the_post(app, post_id).like_count == 1
    assert notification_kinds(app, other_user) == ["like"]


def test_liking_your_own_post_notifies_nobody(app, user):
    post_id = write_post(app, user, "me")
    assert like_post(app, user, post_id) is True
    assert notification_kinds(app, user) == []


# Comments


def test_comments_replies_and_who_hears_of_them(app, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = write_post(app, user, "thoughts?")
    first = write_comment(app, other_user, post_id, "I agree")
    reply = write_comment(app, carol, post_id, "me too, @bob", parent_id=first)
    nested = write_comment(app, user, post_id, "thanks both", parent_id=reply)
    with app.app_context():
        assert db.session.get(Comment, nested).parent_id == first  # one level deep
    assert the_post(app, post_id).comment_count == 3
    assert notification_kinds(app, user) == ["comment", "comment"]  # bob's comment, carol's reply
    assert notification_kinds(app, other_user) == [
        "reply",
        "reply",
    ]  # carol (mention folded in), alice


def test_comment_over_htmx_appends_and_clears_the_form(app, logged_in, user):
    post_id = write_post(app, user, "post")
    response = http_post(logged_in, f"/p/{post_id}/comments", {"comment-body": "First!"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#comment-list"' in html and "First!" in html
    assert f'id="post-{post_id}-stats" hx-swap-oob="true"' in html
    assert html.count("First!") == 1  # the form came back empty


def test_empty_comment_is_refused(app, logged_in, user):
    post_id = write_post(app, user, "post")
    response = http_post(logged_in, f"/p/{post_id}/comments", {"comment-body": " "}, htmx=True)
    assert response.status_code == 422
    assert "Write a comment first." in response.get_data(as_text=True)
    assert the_post(app, post_id).comment_count == 0


def test_reply_form_fields_are_named_per_comment(app, logged_in, user, other_user):
    post_id = write_post(app, user, "post")
    first = write_comment(app, other_user, post_id, "hi")
    page = logged_in.get(f"/p/{post_id}").get_data(as_text=True)
    assert f'id="reply-{first}-body"' in page and 'id="comment-body"' in page
    response = http_post(
        logged_in,
        f"/p/{post_id}/comments",
        {f"reply-{first}-body": "hello", "parent_id": first},
        htmx=True,
    )
    assert f'hx-swap-oob="beforeend:#replies-{first}"' in response.get_data(as_text=True)


def test_comment_edit_and_delete_rights(app, client, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = write_post(app, user, "alice's post")
    bobs = write_comment(app, other_user, post_id, "bob's comment")
    write_comment(app, carol, post_id, "carol's reply", parent_id=bobs)

    factories.login(client, carol)
    assert (
        http_post(
            client, f"/comments/{bobs}/edit", {f"comment-{bobs}-body": "carol was here"}
        ).status_code
        == 403
    )
    assert http_post(client, f"/comments/{bobs}/delete").status_code == 403

    factories.login(client, other_user)
    response = http_post(
        client, f"/comments/{bobs}/edit", {f"comment-{bobs}-body": "bob, edited"}, htmx=True
    )
    assert response.status_code == 200 and "bob, edited" in response.get_data(as_text=True)

    factories.login(client, user)  # the post's owner may delete any comment on it
    response = http_post(client, f"/comments/{bobs}/delete", htmx=True)
    assert response.status_code == 200
    assert the_post(app, post_id).comment_count == 0  # with its reply
    assert notification_kinds(app, user) == []  # the notifications about them went too


# Visibility


def test_a_blocked_user_cannot_see_like_or_comment(app, client, user, other_user):
    post_id = write_post(app, user, "not for bob")
    with app.app_context():
        social.block(db.session.get(User, user.id), db.session.get(User, other_user.id))
    factories.login(client, other_user)
    assert client.get(f"/p/{post_id}").status_code == 404
    assert http_post(client, f"/p/{post_id}/like").status_code == 404
    assert http_post(client, f"/p/{post_id}/comments", {"comment-body": "hi"}).status_code == 404
    assert "not for bob" not in client.get("/tags/x").get_data(as_text=True)
    assert the_post(app, post_id).like_count == 0


def test_comments_of_blocked_people_are_hidden(app, logged_in, user, other_user, make_user):
    carol = make_user(username="carol")
    post_id = write_post(app, carol, "carol's")
    write_comment(app, other_user, post_id, "from bob")
    with app.app_context():
        social.block(db.session.get(User, user.id), db.session.get(User, other_user.id))
    assert "from bob" not in logged_in.get(f"/p/{post_id}").get_data(as_text=True)


# The feed


def test_feed_has_own_followed_and_friends_posts_newest_first(app, logged_in, user, make_user):
    followed, friend, stranger = (make_user(username=n) for n in ("followed", "friend", "stranger"))
    with app.app_context():
        social.follow(db.session.get(User, user.id), db.session.get(User, followed.id))
    befriend(app, user, friend)
    for author, text in (
        (stranger, "from the stranger"),
        (followed, "from the followed"),
        (friend, "from the friend"),
        (user, "mine"),
    ):
        write_post(app, author, text)
    html = logged_in.get("/").get_data(as_text=True)
    assert "from the stranger" not in html
    assert html.index("mine") < html.index("from the friend") < html.index("from the followed")


def test_feed_pages_by_cursor(app, logged_in, user):
    ids = [write_post(app, user, f"post number {n}") for n in range(25)]
    first = logged_in.get("/").get_data(as_text=True)
    assert first.count('class="post"') == 20
    assert f'hx-get="/feed?before={ids[5]}"' in first and 'hx-trigger="revealed"' in first
    more = hx_get(logged_in, f"/feed?before={ids[5]}").get_data(as_text=True)
    assert more.count('class="post"') == 5 and "revealed" not in more
    assert logged_in.get(f"/feed?before={ids[5]}").headers["Location"] == f"/?before={ids[5]}"


def feed_ids(app, viewer: User, limit: int) -> list[int]:
    """Every id of the viewer's feed, page after page."""
    ids: list[int] = []
    before = None
    with app.app_context():
        while True:
            posts, before = feed_page(viewer.id, before=before, limit=limit)
            ids += [post.id for post in posts]
            if before is None:
                return ids


@pytest.mark.parametrize("window", [1, 3, 6, 2000])
def test_feed_pages_are_the_same_whatever_the_window(app, user, make_user, monkeypatch, window):
    """The feed looks among the site's newest posts first, then (when they hold no page)
    through its authors' older ones: either way the pages are every post of the viewer,
    the people they follow and their friends, newest first, none twice or skipped."""
    followed, friend, stranger, blocked = (
        make_user(username=name) for name in ("followed", "friend", "stranger", "blocked")
    )
    with app.app_context():
        social.follow(db.session.get(User, user.id), db.session.get(User, followed.id))
    befriend(app, user, friend)
    factories.block(app, blocked, user)
    authors = [user, followed, friend, stranger, stranger, stranger, blocked]
    ids = {author.id: [] for author in authors}
    for n in range(40):
        # Runs of strangers' posts between the feed's, so that windows hold few or none.
        author = authors[(n * 7 + n // 5) % len(authors)]
        ids[author.id].append(write_post(app, author, f"post {n}"))
    expected = sorted(ids[user.id] + ids[followed.id] + ids[friend.id], reverse=True)
    monkeypatch.setattr(posts_reads, "FEED_WINDOW", window)
    assert feed_ids(app, user, limit=4) == expected
    assert feed_ids(app, user, limit=20) == expected
    # Someone who follows nobody sees their own posts only.
    assert feed_ids(app, stranger, limit=4) == sorted(ids[stranger.id], reverse=True)


@pytest.mark.parametrize("posts", [2, 15])
def test_feed_query_budget_does_not_grow(app, logged_in, user, other_user, posts):
    for n in range(posts):
        post_id = write_post(app, other_user if n % 2 else user, f"#tag{n % 3} post {n}")
        like_post(app, user, post_id)
        write_comment(app, other_user, post_id, "c")
    befriend(app, user, other_user)
    # user, posts+authors, the lobby (none here, so no lobby messages), liked set,
    # suggestions (and, with none, the most followed), trending tags, bell
    with assert_query_count(app, 8):
        assert logged_in.get("/").status_code == 200
    # posts+authors, liked set (user loaded first)
    with assert_query_count(app, 3):
        assert hx_get(logged_in, f"/feed?before={10**9}").status_code == 200
    # user, relation, counts, posts, liked, bell, profile user
    with assert_query_count(app, 7):
        assert logged_in.get("/u/bob").status_code == 200
    with assert_query_count(app, 4):
        assert logged_in.get("/tags/tag1").status_code == 200


@pytest.mark.parametrize("comments", [1, 12])
def test_post_page_query_budget_does_not_grow_with_comments(
    app, logged_in, user, other_user, comments
):
    post_id = write_post(app, user, "post")
    for n in range(comments):
        parent = write_comment(app, other_user, post_id, f"c{n}")
        write_comment(app, user, post_id, f"r{n}", parent_id=parent)
    # user, post+author, liked, comments+authors, bell
    with assert_query_count(app, 5):
        html = logged_in.get(f"/p/{post_id}").get_data(as_text=True)
    assert html.count('class="comment"') == comments * 2


def test_hashtag_page_lists_tagged_posts(app, logged_in, user):
    write_post(app, user, "about #Cooking today")
    write_post(app, user, "nothing tagged")
    html = logged_in.get("/tags/COOKING").get_data(as_text=True)
    assert "#cooking" in html and "about" in html and "nothing tagged" not in html


def test_search_page_finds_posts_and_people(app, logged_in, user, make_user):
    make_user(username="pasta_lover", first_name="Pasta", last_name="Lover")
    write_post(app, user, "Cooking fresh pasta tonight #dinner")
    html = logged_in.get("/search?q=pasta").get_data(as_text=True)
    assert "Cooking fresh pasta tonight" in html
    assert "@pasta_lover" in html
    assert "No posts match" in logged_in.get("/search?q=zebra").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/"),
        ("get", "/feed"),
        ("get", "/p/1"),
        ("get", "/tags/x"),
        ("get", "/search?q=x"),
        ("get", "/people"),
    ],
)
def test_pages_need_sign_in(client, method, url):
    response = client.get(url)
    if url == "/":
        assert b"Meet people around the topics you love" in response.data
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
