"""Paths built in a request are remembered per process (Qosyl.url_for): the same answers as
Flask's own url_for, under any script root, and never for what may change."""

from __future__ import annotations

import flask
import pytest
from flask import g
from flask import url_for


@pytest.fixture
def builds(app, monkeypatch) -> list[str]:
    """Endpoints Flask's own url_for built (what the memo did not answer)."""
    built: list[str] = []
    original = flask.Flask.url_for

    def counting(self, endpoint, **kwargs):
        built.append(endpoint)
        return original(self, endpoint, **kwargs)

    monkeypatch.setattr(flask.Flask, "url_for", counting)
    return built


def test_a_path_is_built_once_then_remembered(app, builds):
    with app.test_request_context("/"):
        assert url_for("posts.show", post_id=3) == "/p/3"
        assert url_for("posts.show", post_id=3) == "/p/3"
        assert url_for("posts.show", post_id=4) == "/p/4"
    with app.test_request_context("/about"):
        assert url_for("posts.show", post_id=3) == "/p/3"
    assert builds == ["posts.show", "posts.show"]


def test_the_script_root_is_part_of_the_key(app):
    with app.test_request_context("/", base_url="http://localhost/qosyl/"):
        assert url_for("profiles.show", username="ana") == "/qosyl/u/ana"
    with app.test_request_context("/"):
        assert url_for("profiles.show", username="ana") == "/u/ana"
    with app.test_request_context("/", base_url="http://localhost/other/"):
        assert url_for("profiles.show", username="ana") == "/other/u/ana"


def test_a_page_under_a_script_root_links_below_it(logged_in, user):
    page = logged_in.get("/about", base_url="http://localhost/qosyl/").text
    plain = logged_in.get("/about").text
    assert f'href="/qosyl/u/{user.username}"' in page
    assert f'href="/u/{user.username}"' in plain and "/qosyl/" not in plain


def test_values_are_quoted_as_flask_quotes_them(app):
    with app.test_request_context("/"):
        assert url_for("posts.search", q="a b&c") == "/search?q=a+b%26c"
        assert url_for("profiles.show", username="é/x") == "/u/%C3%A9/x"


def test_a_blueprint_relative_endpoint_is_resolved_before_the_key(app):
    with app.test_request_context("/p/3"):
        assert url_for(".show", post_id=4) == "/p/4"
    with app.test_request_context("/u/ana"):
        assert url_for(".show", username="bo") == "/u/bo"


def test_what_the_memo_leaves_to_flask(app, builds):
    with app.test_request_context("/"):
        url_for("posts.show", post_id=3, _anchor="comments")
        url_for("posts.show", post_id=3, _external=True)
        url_for("posts.search", q=True)  # True and 1 are equal keys: never remembered
        static = url_for("static", filename="css/app.css")  # qosyl/web/assets.py's to name
        url_for("static", filename="css/app.css")
        assert url_for("posts.search", q=1) == "/search?q=1"
        assert url_for("posts.search", q=True) == "/search?q=True"
    assert static == "/static/css/app.css"
    assert builds.count("static") == 2
    assert builds.count("posts.show") == 2
    assert builds.count("posts.search") == 3  # both True and the first 1


def test_another_url_defaults_hook_turns_the_memo_off(app):
    @app.url_defaults
    def referrer(endpoint: str, values: dict) -> None:
        if endpoint == "posts.show":
            values.setdefault("ref", g.ref)

    with app.test_request_context("/"):
        g.ref = "a"
        assert url_for("posts.show", post_id=3) == "/p/3?ref=a"
    with app.test_request_context("/"):
        g.ref = "b"
        assert url_for("posts.show", post_id=3) == "/p/3?ref=b"


def test_outside_a_request_paths_stay_relative(app):
    with app.app_context():
        assert url_for("posts.show", post_id=3) == "/p/3"
