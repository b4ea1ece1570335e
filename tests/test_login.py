"""Sign-in and sign-out (ACC-3)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests import factories
from tests.factories import PASSWORD
from tests.helpers import csrf_token
from tests.helpers import post
from tests.helpers import sign_in_attempts


def sign_in(client, login, password=PASSWORD, **extra):
    return post(client, "/login", {"login": login, "password": password, **extra})


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"])
def test_sign_in_by_username_or_email_in_any_case(client, user, login):
    response = sign_in(client, login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/notifications").status_code == 200


def test_wrong_password_or_unknown_user_gets_one_message(client, user):
    for login, password in (("alice", "wrong password here"), ("nobody", PASSWORD)):
        response = sign_in(client, login, password)
        assert response.status_code == 422
        assert b"The username, email or password is not correct." in response.data
    assert client.get("/notifications").status_code == 302


def test_unverified_account_cannot_sign_in_and_is_offered_a_new_link(client, make_user):
    make_user(username="newbie", verified=False)
    response = sign_in(client, "newbie")
    assert response.status_code == 422
    assert b"Verify your email address before signing in" in response.data
    assert b"Send the verification link again" in response.data
    assert client.get("/notifications").status_code == 302


def test_a_forged_session_of_an_unverified_account_is_anonymous(client, make_user):
    newbie = make_user(username="newbie", verified=False)
    factories.login(client, newbie)
    assert client.get("/notifications").status_code == 302


def test_new_accounts_go_to_profile_setup_until_it_is_done(client, make_user):
    make_user(username="fresh", onboarded=False)
    assert sign_in(client, "fresh").headers["Location"] == "/welcome"


def test_next_is_followed_only_within_the_site(client, user):
    response = post(client, "/login?next=/notifications", {"login": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/notifications"
    post(client, "/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = post(client, f"/login?next={evil}", {"login": "alice", "password": PASSWORD})
        assert response.headers["Location"] == "/", evil
        post(client, "/logout")


# Each would leave the site, or break the Location header, if followed as given.
HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "/%0D%0A//evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "/%0A/evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/%00/evil.example",
    "%20//evil.example",
    "%09//evil.example",
    "/%E2%80%A8/evil.example",
    "/%C2%85/evil.example",
    "/%25%30%44%25%30%41",
    "/%250D%250A//evil.example",
    "/%255Cevil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("evil", HOSTILE_NEXT)
def test_a_hostile_next_falls_back_to_the_normal_page(client, user, evil):
    response = client.post(
        f"/login?next={evil}",
        data={"login": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "path",
    ["/search?q=caf%C3%A9&page=2", "/search?q=hello%20world", "/u/alice#posts", "/rooms/3"],
)
def test_a_local_next_with_a_query_is_kept(client, user, path):
    response = client.post(
        "/login?" + urlencode({"next": path}),
        data={"login": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == path


def test_remember_me_sets_a_hardened_lasting_cookie(client, user):
    response = sign_in(client, "alice", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember
    assert "SameSite=Lax" in remember
    assert "Expires=" in remember
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session


def test_without_remember_me_no_remember_cookie(client, user):
    response = sign_in(client, "alice")
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_sign_out_needs_post_and_csrf(logged_in):
    assert logged_in.get("/logout").status_code == 405
    assert post(logged_in, "/logout", csrf=False).status_code == 400
    assert logged_in.get("/notifications").status_code == 200
    response = post(logged_in, "/logout")
    assert response.status_code == 302
    assert logged_in.get("/notifications").status_code == 302


def test_sign_in_without_csrf_is_refused(client, user):
    response = post(client, "/login", {"login": "alice", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert client.get("/notifications").status_code == 302


limited = pytest.mark.app_config(RATELIMIT_ENABLED=True)


def client_at(app, address: str):
    """A browser of its own, signing in from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


WRONG = "wrong password here"


@limited
def test_failed_sign_ins_are_limited_per_account(client, user, other_user):
    for _ in range(5):
        assert sign_in(client, "alice", WRONG).status_code == 422
    blocked = sign_in(client, "alice", WRONG)
    assert blocked.status_code == 429
    # Another account from the same place is not held back.
    assert sign_in(client, "bob").status_code == 302


@limited
def test_username_and_email_share_one_count(client, user):
    for login in ("alice", "alice@example.com", "ALICE", "Alice@Example.com", " alice "):
        assert sign_in(client, login, WRONG).status_code == 422, login
    assert sign_in(client, "alice@example.com", WRONG).status_code == 429
    assert sign_in(client, "alice", WRONG).status_code == 429


@limited
def test_an_unknown_login_is_limited_on_its_text_in_any_case(client, user):
    for login in ("nobody", "NoBody", "nobody", "NOBODY", "nobody"):
        assert sign_in(client, login, WRONG).status_code == 422
    assert sign_in(client, "Nobody", WRONG).status_code == 429
    assert sign_in(client, "alice").status_code == 302


@limited
def test_the_locked_address_gets_429_with_a_clear_message(app, user):
    guesser = client_at(app, "203.0.113.7")
    for _ in range(5):
        sign_in(guesser, "alice", WRONG)
    # Even the right password waits, from the address that made the mistakes.
    locked = sign_in(guesser, "alice")
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "Too many failed sign-ins to this account from your network." in page
    assert "Try again in 15 minutes" in page
    assert 'name="login"' in page  # the form stays, with the login typed
    assert int(locked.headers["Retry-After"]) > 14 * 60
    assert guesser.get("/notifications").status_code == 302


@limited
def test_the_right_password_passes_a_lock_that_others_caused(app, user):
    guesser = client_at(app, "203.0.113.7")
    for _ in range(6):
        sign_in(guesser, "alice", WRONG)
    assert sign_in(guesser, "alice", WRONG).status_code == 429
    owner = client_at(app, "198.51.100.20")
    assert sign_in(owner, "alice").status_code == 302
    assert owner.get("/notifications").status_code == 200
    # And a wrong password from elsewhere starts its own count.
    stranger = client_at(app, "198.51.100.99")
    assert sign_in(stranger, "alice@example.com", WRONG).status_code == 422


@limited
def test_a_successful_sign_in_does_not_count_and_clears_the_mistakes(client, user):
    for _ in range(4):
        assert sign_in(client, "alice", WRONG).status_code == 422
    for _ in range(3):
        assert sign_in(client, "alice").status_code == 302
        post(client, "/logout")
    for _ in range(5):
        assert sign_in(client, "alice", WRONG).status_code == 422
    assert sign_in(client, "alice", WRONG).status_code == 429


@limited
def test_a_signed_in_browser_posting_the_form_clears_nothing(app, client, user, other_user):
    for _ in range(5):
        sign_in(client, "alice", WRONG)
    factories.login(client, other_user)
    # Already signed in: the form only redirects, it proves nothing about alice.
    assert sign_in(client, "alice", WRONG).status_code == 302
    post(client, "/logout")
    assert sign_in(client, "alice", WRONG).status_code == 429


@limited
def test_an_ipv6_client_counts_as_its_slash_64(app, user):
    for host in range(1, 6):
        sign_in(client_at(app, f"2001:db8::{host}"), "alice", WRONG)
    assert sign_in(client_at(app, "2001:db8::ffff"), "alice").status_code == 429
    assert sign_in(client_at(app, "2001:db8:0:1::1"), "alice").status_code == 302


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="2 per hour")
def test_the_failure_limit_is_configurable(client, user):
    assert [sign_in(client, "alice", WRONG).status_code for _ in range(3)] == [422, 422, 429]
    assert "Try again in 60 minutes" in sign_in(client, "alice").get_data(as_text=True)


@limited
def test_sign_ins_are_limited_per_address(app, client):
    app.config["RATELIMIT_LOGIN_PER_IP"] = "3 per minute"
    assert sign_in_attempts(client, 4) == [422, 422, 422, 429]


@limited
def test_mail_requests_are_limited(app, client):
    app.config["RATELIMIT_EMAIL_REQUESTS"] = "2 per minute"
    for url in ("/password/forgot", "/verify/resend"):
        codes = [post(client, url, {"email": "a@example.com"}).status_code for _ in range(3)]
        assert codes == [302, 302, 429], url


@limited
def test_registrations_are_limited(app, client):
    app.config["RATELIMIT_REGISTER"] = "2 per minute"
    codes = [post(client, "/register", {"username": "x"}).status_code for _ in range(3)]
    assert codes == [422, 422, 429]
