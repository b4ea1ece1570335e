"""Template helpers that remember something per request (qosyl/render/templating.py)."""

from __future__ import annotations

import re

from flask import session
from flask_wtf.csrf import generate_csrf

from qosyl.render.templating import csrf_field
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
