"""The home page: a landing page for visitors, the feed for signed-in users."""

from __future__ import annotations

from tests import factories


def test_visitors_see_the_landing_page(client):
    html = client.get("/").get_data(as_text=True)
    assert "Meet people around the topics you love" in html
    assert 'href="/register"' in html


def test_signed_in_users_see_the_composer_and_their_feed(logged_in):
    html = logged_in.get("/").get_data(as_text=True)
    assert 'id="composer"' in html and ">Write a post<" in html
    assert 'id="feed"' in html
    assert "Nothing here yet." in html


def test_unfinished_profile_setup_is_offered(client, make_user):
    factories.login(client, make_user(username="fresh", onboarded=False))
    assert 'href="/welcome"' in client.get("/").get_data(as_text=True)
