"""Template helpers that remember something per request (qosyl/render/templating.py)."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from types import SimpleNamespace

from flask import session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import create_engine
from sqlalchemy import text

from qosyl.render.templating import csrf_field
from qosyl.render.templating import PostCardParts
from qosyl.render.templating import time_tag
from tests import factories


def test_the_csrf_field_is_made_once_per_request_with_that_sessions_token(app):
    with app.test_request_context("/"):
        first = csrf_field()
        assert first is csrf_field()
        assert f'value="{generate_csrf()}"' in first
        secret = session["csrf_token"]
    with app.test_request_context("/"):  # another session, another secret
        csrf_field()
        assert session["csrf_token"] != secret


def test_every_form_of_a_page_carries_the_pages_token(app, logged_in, user):
    for n in range(3):
        factories.write_post(app, user, f"Post {n}")
    page = logged_in.get("/").text
    header = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    fields = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    assert len(fields) >= 3  # a like form per card, at least
    assert set(fields) == {header}


def _without_tokens(page: str) -> str:
    """The page without what changes from one request to the next (CSRF token signatures)."""
    return re.sub(r'(csrf_token"[^>]*value="|X-CSRFToken": ")[^"]+', "", page)


def _card_parts(app):
    return app.jinja_env.globals["post_card_part"].parts


def test_a_cards_shared_parts_are_rendered_once(app, logged_in, user, other_user):
    factories.befriend(app, user, other_user)
    factories.write_post(app, other_user, "First")
    factories.write_post(app, user, "Second")
    first = logged_in.get("/").text
    assert len(_card_parts(app)) == 4  # a head and a tail per card
    again = logged_in.get("/").text
    assert len(_card_parts(app)) == 4
    assert _without_tokens(first) == _without_tokens(again)


def test_a_change_from_another_process_is_shown_at_once(
    app, database_url, logged_in, user, other_user
):
    factories.befriend(app, user, other_user)
    post_id = factories.write_post(app, other_user, "Counting")
    assert "0 likes" in logged_in.get("/").text
    # Another process: its own engine, the same database; nothing tells this one.
    engine = create_engine(database_url)
    with engine.begin() as connection:
        changed = {"id": post_id, "html": "<p>Changed</p>"}
        connection.execute(
            text("UPDATE posts SET like_count = 7, body_html = :html WHERE id = :id"), changed
        )
        renamed = {"id": other_user.id}
        connection.execute(text("UPDATE users SET first_name = 'Zed' WHERE id = :id"), renamed)
    engine.dispose()
    page = logged_in.get("/").text
    assert "7 likes" in page and "<p>Changed</p>" in page and "Zed Baker" in page
    assert "0 likes" not in page and "Counting" not in page


def test_each_viewer_gets_their_own_controls_and_like_button(app, client, user, other_user):
    factories.befriend(app, user, other_user)
    post_id = factories.write_post(app, user, "Shared card")
    factories.like_post(app, other_user, post_id)
    factories.login(client, user)
    own = client.get(f"/p/{post_id}").text
    factories.login(client, other_user)
    theirs = client.get(f"/p/{post_id}").text
    assert f'href="/p/{post_id}/edit"' in own and f'href="/p/{post_id}/edit"' not in theirs
    assert f'action="/p/{post_id}/like"' in own and f'action="/p/{post_id}/unlike"' in theirs


def test_a_card_under_a_script_root_links_below_it(app, logged_in, user):
    post_id = factories.write_post(app, user, "Rooted")
    logged_in.get(f"/p/{post_id}")
    page = logged_in.get(f"/p/{post_id}", base_url="http://localhost/qosyl/").text
    assert f'<a href="/qosyl/p/{post_id}">' in page
    assert f'href="/qosyl/u/{user.username}"' in page


def test_the_oldest_parts_go_first_past_the_bound():
    parts = PostCardParts(size=2)
    author = SimpleNamespace(id=1, username="a", first_name="A", last_name="B", avatar_key=None)
    posts = [
        SimpleNamespace(
            id=n, body_html="", image_key=None, like_count=0, comment_count=0, author=author
        )
        for n in (1, 2, 3)
    ]
    for post in posts:
        parts("head", post, lambda p: f"<p>{p.id}</p>")
    assert [key[2] for key in parts.parts] == [2, 3]


def test_a_time_tag_reads_as_before():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert time_tag(moment) == Markup(
        '<time datetime="2026-01-02T03:04:05+00:00" title="2026-01-02 03:04 UTC">2 Jan 2026</time>'
    )
    recent = datetime.now(UTC) - timedelta(minutes=5)
    assert str(time_tag(recent)).endswith(">5 minutes ago</time>")
