"""The JSON API's sign-up and tokens: login, refresh rotation and reuse detection, logout,
revocation by a password change or account deletion, and what never authenticates /api/
(cookies) or is never asked for there (CSRF tokens)."""

from __future__ import annotations

import re

import pytest

from qosyl.actions.accounts import REFRESH_REUSED
from qosyl.actions.accounts import UNVERIFIED
from qosyl.actions.accounts import USERNAME_TAKEN
from qosyl.actions.accounts import WRONG_SIGN_IN
from qosyl.blueprints.api.core import EXPIRED
from qosyl.blueprints.api.core import NO_TOKEN
from qosyl.blueprints.api.core import REVOKED
from tests import factories
from tests.helpers import api_error
from tests.helpers import api_tokens
from tests.helpers import ApiClient
from tests.helpers import bearer
from tests.helpers import expired_access_token
from tests.helpers import post

SIGN_UP = {
    "first_name": "Dana",
    "last_name": "Doe",
    "username": "dana",
    "email": "dana@example.com",
    "password": "violet-mountain-river-42",
}


def _login(client, login="alice", password=factories.PASSWORD):
    return client.post("/api/auth/login/", json={"login": login, "password": password})


def _me(client, token):
    return client.get("/api/users/me/", headers=bearer(token))


def test_register_creates_an_unverified_account_and_mails_its_link(client, outbox):
    response = client.post("/api/auth/register/", json=SIGN_UP)
    assert response.status_code == 201, response.json
    assert response.json["user"]["username"] == "dana"
    assert "dana@example.com" in response.json["message"]
    assert [message.recipients for message in outbox] == [["dana@example.com"]]
    # No token until the address is verified.
    error = api_error(_login(client, "dana", SIGN_UP["password"]), 403)
    assert error["message"] == UNVERIFIED


def test_register_refuses_with_the_web_forms_messages_on_each_field(client, user):
    response = client.post(
        "/api/auth/register/",
        json={**SIGN_UP, "username": "alice", "email": "not-an-address", "password": "dana"},
    )
    error = api_error(response, 422)
    assert error["code"] == "invalid"
    assert error["fields"]["username"] == USERNAME_TAKEN
    assert set(error["fields"]) == {"username", "email", "password"}
    # The same messages the sign-up page shows for the same input.
    page = post(
        client,
        "/register",
        {
            **SIGN_UP,
            "username": "alice",
            "email": "not-an-address",
            "password": "dana",
            "confirm": "dana",
        },
    ).get_data(as_text=True)
    for message in error["fields"].values():
        assert message.replace("'", "&#39;") in page


def test_register_needs_json_and_says_what_is_malformed(client):
    response = client.post("/api/auth/register/", data="{not json", content_type="application/json")
    error = api_error(response, 400)
    assert error["code"] == "bad_request"
    error = api_error(client.post("/api/auth/register/", json={"username": 7}), 422)
    assert "username" in error["fields"]


def test_login_gives_tokens_and_the_access_token_signs_requests_in(client, user):
    response = _login(client)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["user"]["id"] == user.id
    assert _me(client, body["access_token"]).json["username"] == "alice"
    # By email too, in any case.
    assert _login(client, "ALICE@example.com".lower()).status_code in (200, 401)


def test_login_refuses_a_wrong_password_without_saying_which_part(client, user):
    error = api_error(_login(client, password="wrong"), 401)
    assert error["message"] == WRONG_SIGN_IN
    error = api_error(_login(client, login="nobody"), 401)
    assert error["message"] == WRONG_SIGN_IN


def test_unverified_accounts_get_no_token(client, make_user):
    make_user(username="newbie", verified=False)
    error = api_error(_login(client, "newbie"), 403)
    assert error["message"] == UNVERIFIED


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="2 per 15 minutes")
def test_failed_logins_are_limited_per_client_and_account(client, user):
    for _ in range(2):
        api_error(_login(client, password="wrong"), 401)
    response = _login(client)
    api_error(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_requests_without_a_token_are_refused(client):
    error = api_error(client.get("/api/users/me/"), 401)
    assert error["message"] == NO_TOKEN
    assert error["code"] == "unauthorized"


def test_a_browser_session_cookie_does_not_sign_in_to_the_api(logged_in):
    assert logged_in.get("/").status_code == 200
    api_error(logged_in.get("/api/users/me/"), 401)


def test_an_expired_access_token_is_refused_as_expired(app, client, user):
    error = api_error(_me(client, expired_access_token(app, user)), 401)
    assert error["code"] == "token_expired" and error["message"] == EXPIRED


def test_a_forged_or_refresh_token_is_not_an_access_token(app, client, user):
    tokens = api_tokens(app, user)
    api_error(_me(client, tokens["access_token"][:-3] + "abc"), 401)
    error = api_error(_me(client, tokens["refresh_token"]), 401)
    assert error["code"] == "token_invalid"
    api_error(_me(client, "not.a.jwt"), 401)


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in(app, client, user):
    tokens = api_tokens(app, user)
    renewed = client.post("/api/auth/refresh/", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    fresh = renewed.json
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert _me(client, fresh["access_token"]).status_code == 200
    # The old refresh token comes back: someone copied it. Everything of this sign-in ends.
    reused = client.post("/api/auth/refresh/", json={"refresh_token": tokens["refresh_token"]})
    assert api_error(reused, 401)["message"] == REFRESH_REUSED
    assert api_error(_me(client, fresh["access_token"]), 401)["message"] == REVOKED
    again = client.post("/api/auth/refresh/", json={"refresh_token": fresh["refresh_token"]})
    api_error(again, 401)


def test_refresh_wants_a_refresh_token(app, client, user):
    tokens = api_tokens(app, user)
    api_error(
        client.post("/api/auth/refresh/", json={"refresh_token": tokens["access_token"]}), 401
    )
    api_error(client.post("/api/auth/refresh/", json={"refresh_token": "x"}), 401)
    api_error(client.post("/api/auth/refresh/", json={}), 422)


def test_logout_revokes_this_sign_in_only(app, client, user):
    mine, other_device = api_tokens(app, user), api_tokens(app, user)
    response = client.post("/api/auth/logout/", headers=bearer(mine["access_token"]))
    assert response.status_code == 204
    assert api_error(_me(client, mine["access_token"]), 401)["code"] == "token_revoked"
    api_error(client.post("/api/auth/refresh/", json={"refresh_token": mine["refresh_token"]}), 401)
    assert _me(client, other_device["access_token"]).status_code == 200


def test_a_password_change_revokes_every_api_token(app, client, user):
    tokens = api_tokens(app, user)
    factories.login(client, user)
    response = post(
        client,
        "/settings/password",
        {
            "current_password": factories.PASSWORD,
            "password": factories.NEW_PASSWORD,
            "confirm": factories.NEW_PASSWORD,
        },
    )
    assert response.status_code in (200, 302, 303), response.status_code
    api = app.test_client()
    assert api_error(_me(api, tokens["access_token"]), 401)["code"] == "token_revoked"
    refreshed = api.post("/api/auth/refresh/", json={"refresh_token": tokens["refresh_token"]})
    api_error(refreshed, 401)


def test_deleting_the_account_revokes_its_tokens(app, client, user):
    tokens = api_tokens(app, user)
    factories.login(client, user)
    response = post(client, "/settings/delete", {"password": factories.PASSWORD, "understood": "y"})
    assert response.status_code in (302, 303), response.status_code
    api_error(_me(app.test_client(), tokens["access_token"]), 401)


def test_api_writes_need_no_csrf_token_but_pages_still_do(app, client, user):
    tokens = api_tokens(app, user)
    response = client.put(
        f"/api/users/{user.id}/", json={"bio": "Hello"}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 200
    factories.login(client, user)
    assert post(client, "/settings/profile", {"bio": "x"}, csrf=False).status_code == 400


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_API="3 per minute")
def test_requests_are_limited_per_token(app, user):
    api = ApiClient(app, user)
    for _ in range(3):
        assert api.get("/api/users/me/").status_code == 200
    response = api.get("/api/users/me/")
    assert api_error(response, 429)["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    # Another sign-in has its own count.
    assert ApiClient(app, user).get("/api/users/me/").status_code == 200


def test_unknown_api_paths_and_methods_answer_in_the_error_shape(app, user):
    api = ApiClient(app, user)
    assert api_error(api.get("/api/nothing-here/"), 404)["code"] == "not_found"
    assert api_error(api.delete("/api/users/me/"), 405)["code"] == "method_not_allowed"


def test_no_cors_by_default(client):
    response = client.options(
        "/api/users/",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.app_config(API_CORS_ORIGINS=["https://app.example"])
def test_cors_for_configured_origins_on_the_api_only(client):
    preflight = client.options(
        "/api/users/",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    other = client.get("/api/users/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/about", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_the_openapi_document_and_its_pages(client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert "/api/auth/login/" in document["paths"]
    login = document["paths"]["/api/auth/login/"]["post"]
    assert login["security"] == []
    assert {"401", "403", "422", "429"} <= set(login["responses"])
    for page in ("/api/swagger/", "/api/redoc/"):
        response = client.get(page)
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script_src == "'self'"
        assert "<script>" not in response.get_data(as_text=True)
