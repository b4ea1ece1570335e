"""Registration (ACC-1) and email verification (ACC-2, ACC-5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import accounts
from qosyl.actions import ActionError
from qosyl.extensions import db
from qosyl.models import Notification
from qosyl.models import User
from tests.helpers import link_from
from tests.helpers import post

GOOD = {
    "first_name": "Dana",
    "last_name": "Sadykova",
    "username": "dana_s",
    "email": "Dana.Sadykova@Example.com",
    "password": "violet-mountain-river-42",
    "confirm": "violet-mountain-river-42",
}


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_register_stores_an_unverified_account_and_mails_a_link(client, app, outbox):
    response = post(client, "/register", GOOD)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/register/check-inbox")

    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.username == "dana_s"
        assert user.email == "dana.sadykova@example.com"  # addresses are kept lower-case
        assert user.email_verified_at is None
        assert user.password_hash.startswith("scrypt:")
        assert "violet" not in user.password_hash
    assert len(outbox) == 1
    assert outbox[0].recipients == ["dana.sadykova@example.com"]
    assert "/verify/" in outbox[0].body
    assert "/verify/" in outbox[0].html


def test_check_inbox_page_names_the_address(client):
    response = client.get("/register/check-inbox?email=dana@example.com")
    assert b"dana@example.com" in response.data
    assert b"Send a new link" in response.data


def test_verification_link_signs_in_and_leads_to_profile_setup(client, app, outbox):
    post(client, "/register", GOOD)
    link = link_from(outbox[0], "/verify/")

    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/welcome"
    with app.app_context():
        assert db.session.scalar(select(User)).is_verified
    assert client.get("/welcome").status_code == 200  # signed in now

    again = client.get(link)  # a second click is harmless
    assert again.status_code == 302
    assert again.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "DANA_S", "This username is taken."),
        ("email", "DANA.sadykova@example.COM", "An account with this email already exists."),
    ],
)
def test_duplicates_differing_only_in_case_are_refused(client, app, outbox, field, value, message):
    post(client, "/register", GOOD)
    other = {**GOOD, "username": "someone_else", "email": "else@example.com", field: value}
    response = post(client, "/register", other)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 1
    assert len(outbox) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "password1", "confirm": "password1"}, "password", "common password"),
        ({"password": "short", "confirm": "short"}, "password", "at least 8 characters"),
        (
            {"password": "dana_s-dana_s", "confirm": "dana_s-dana_s"},
            "password",
            "Do not use your name, username or email address",
        ),
        ({"confirm": "violet-mountain-river-43"}, "confirm", "The passwords do not match."),
        # zxcvbn judges at most 72 characters; beyond that it raised (a 500).
        ({"password": "a" * 100, "confirm": "a" * 100}, "password", "easy to guess"),
        ({"password": "x" * 129, "confirm": "x" * 129}, "password", "at most 128 characters"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"username": "no spaces!"}, "username", "Use only letters, digits and underscores."),
        ({"username": "ab"}, "username", "Use 3 to 30 characters."),
        ({"username": "Admin"}, "username", "This username is reserved."),
        ({"first_name": "   "}, "first_name", "Enter your first name."),
        ({"last_name": "x" * 51}, "last_name", "Use at most 50 characters."),
    ],
)
def test_bad_input_is_explained_next_to_its_field_and_nothing_is_stored(
    client, app, outbox, changes, field, message
):
    response = post(client, "/register", {**GOOD, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # The error sits right under the input it is about, linked for screen readers.
    assert f'id="{field}-error"' in html
    assert f'aria-describedby="{field}-error"' in html or f'{field}-error"' in html
    if message:
        error_block = html.split(f'id="{field}-error"', 1)[1].split("</ul>", 1)[0]
        assert message.lower() in error_block.lower()
    assert user_count(app) == 0
    assert outbox == []


def test_a_long_strong_password_is_taken(client, app):
    long_password = "violet-mountain-river-42 " * 4  # 100 characters
    response = post(
        client, "/register", {**GOOD, "password": long_password, "confirm": long_password}
    )
    assert response.status_code == 302
    assert user_count(app) == 1


def test_filled_fields_are_kept_after_an_error_but_passwords_are_not(client):
    response = post(client, "/register", {**GOOD, "confirm": "nope"})
    html = response.get_data(as_text=True)
    assert 'value="dana_s"' in html
    assert "violet-mountain-river-42" not in html


def test_register_without_csrf_token_is_refused(client, app, outbox):
    response = post(client, "/register", GOOD, csrf=False)
    assert response.status_code == 400
    assert b"This form has expired" in response.data
    assert user_count(app) == 0


def test_a_signed_in_user_is_sent_home_from_register(logged_in):
    assert logged_in.get("/register").headers["Location"] == "/"


def test_a_sign_up_race_lost_on_the_unique_index_is_reported_on_the_field(app, make_user):
    make_user(username="taken", email="first@example.com")
    with app.test_request_context():
        with pytest.raises(ActionError) as error:
            accounts.register_user(
                first_name="A",
                last_name="B",
                username="TAKEN",
                email="new@example.com",
                password="violet-mountain-river-42",
            )
        assert error.value.field == "username"
        with pytest.raises(ActionError) as error:
            accounts.register_user(
                first_name="A",
                last_name="B",
                username="fresh",
                email="FIRST@example.com",
                password="violet-mountain-river-42",
            )
        assert error.value.field == "email"
    assert user_count(app) == 1


def test_expired_link_is_refused_with_a_way_to_get_a_new_one(client, app, outbox):
    post(client, "/register", GOOD)
    link = link_from(outbox[0], "/verify/")
    app.config["VERIFY_TOKEN_MAX_AGE"] = timedelta(seconds=-1)
    response = client.get(link)
    assert response.status_code == 400
    assert b"This link has expired" in response.data
    assert b"Send a new link" in response.data
    with app.app_context():
        assert not db.session.scalar(select(User)).is_verified


def test_tampered_link_is_refused(client, app, outbox):
    post(client, "/register", GOOD)
    link = link_from(outbox[0], "/verify/")
    response = client.get(link[:-3] + "abc")
    assert response.status_code == 400
    assert b"This link is not valid" in response.data


def test_resend_mails_a_new_link_to_unverified_accounts_only(client, app, outbox, make_user):
    post(client, "/register", GOOD)
    make_user(username="verified", email="verified@example.com")

    response = post(client, "/verify/resend", {"email": "DANA.sadykova@example.com"})
    assert response.status_code == 302
    assert len(outbox) == 2
    assert link_from(outbox[1], "/verify/")

    post(client, "/verify/resend", {"email": "verified@example.com"})
    post(client, "/verify/resend", {"email": "nobody@example.com"})
    assert len(outbox) == 2  # and the pages say the same thing either way


def test_first_verification_does_not_notify_until_profile_setup(client, app, outbox):
    post(client, "/register", GOOD)
    client.get(link_from(outbox[0], "/verify/"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
