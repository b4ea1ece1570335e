"""Text no database can store (a NUL byte: PostgreSQL refuses it in text columns; a lone
surrogate half, which JSON can carry) is refused on its field, with one message, on the
pages and in the API alike, instead of failing at the database."""

from __future__ import annotations

from qosyl.actions import UNSTORABLE_TEXT
from qosyl.models import Post
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_rows
from tests.helpers import post


def test_a_post_form_with_a_nul_byte_is_refused_on_its_field(app, logged_in):
    response = post(logged_in, "/posts", {"body": "tea\x00time"}, htmx=True)
    assert response.status_code == 422
    assert UNSTORABLE_TEXT in response.get_data(as_text=True)
    assert count_rows(app, Post) == 0


def test_a_profile_form_with_a_nul_byte_is_refused_on_its_field(app, logged_in):
    response = post(
        logged_in, "/settings/profile", {"first_name": "Al\x00ice", "last_name": "Archer"}
    )
    assert response.status_code == 422
    assert UNSTORABLE_TEXT in response.get_data(as_text=True)


def test_api_text_with_a_nul_byte_or_a_lone_surrogate_is_refused(app, user, other_user):
    api = ApiClient(app, user)
    for bad in ("tea\x00time", "broken \ud83d emoji"):
        error = api_error(api.post("/api/posts/", json={"body": bad}), 422)
        assert error["fields"] == {"body": UNSTORABLE_TEXT}
        error = api_error(api.put(f"/api/users/{user.id}/", json={"bio": bad}), 422)
        assert error["fields"] == {"bio": UNSTORABLE_TEXT}
    post_id = factories.write_post(app, other_user, "Hello")
    error = api_error(api.post(f"/api/posts/{post_id}/comments/", json={"body": "a\x00"}), 422)
    assert error["fields"] == {"body": UNSTORABLE_TEXT}
    assert count_rows(app, Post) == 1


def test_sign_up_names_with_a_nul_byte_are_refused(client):
    response = client.post(
        "/api/auth/register/",
        json={
            "first_name": "Da\x00na",
            "last_name": "Doe",
            "username": "dana",
            "email": "dana@example.com",
            "password": "violet-mountain-river-42",
        },
    )
    assert api_error(response, 422)["fields"] == {"first_name": UNSTORABLE_TEXT}
