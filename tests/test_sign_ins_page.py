"""Settings > Sign-ins: where an account is signed in (browsers and API clients), and
signing one of them out from another."""

from __future__ import annotations

from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import LoginSession
from qosyl.reads.sign_ins import device
from tests import factories
from tests.helpers import api_error
from tests.helpers import api_tokens
from tests.helpers import bearer
from tests.helpers import count_queries
from tests.helpers import post


def _ids(app, user) -> dict[str, list[int]]:
    with app.app_context():
        rows = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id))
        found: dict[str, list[int]] = {"web": [], "api": []}
        for row in rows:
            found[row.kind].append(row.id)
        return found


def test_the_page_lists_browsers_and_api_clients(app, client, user):
    api_tokens(app, user)
    factories.login(client, user)
    page = client.get("/settings/sign-ins").get_data(as_text=True)
    assert "App using the API" in page and "This browser" in page
    assert page.count('aria-label="Sign out ') == 2
    assert "Sign out everywhere else" in page


def test_signing_out_an_api_client_revokes_its_tokens_at_once(app, client, user):
    tokens = api_tokens(app, user)
    factories.login(client, user)
    (api_id,) = _ids(app, user)["api"]
    response = post(client, f"/settings/sign-ins/{api_id}/end")
    assert response.status_code == 302
    api = app.test_client()
    assert api_error(api.get("/api/users/me/", headers=bearer(tokens["access_token"])), 401)
    assert client.get("/settings/sign-ins").status_code == 200  # this browser stays


def test_signing_out_this_browser_from_the_list_signs_out(app, client, user):
    factories.login(client, user)
    (web_id,) = _ids(app, user)["web"]
    response = post(client, f"/settings/sign-ins/{web_id}/end")
    assert response.status_code == 302
    assert client.get("/settings/sign-ins").status_code == 302  # to the sign-in page


def test_sign_out_everywhere_else_keeps_this_browser(app, client, user):
    other_browser = app.test_client()
    factories.login(other_browser, user)
    tokens = api_tokens(app, user)
    factories.login(client, user)
    post(client, "/settings/sign-ins/end-others")
    assert len(_ids(app, user)["web"]) == 1 and _ids(app, user)["api"] == []
    assert client.get("/settings/sign-ins").status_code == 200
    assert other_browser.get("/settings/sign-ins").status_code == 302
    api_error(app.test_client().get("/api/users/me/", headers=bearer(tokens["access_token"])), 401)


def test_nobody_signs_out_someone_elses_sign_in(app, client, user, other_user):
    api_tokens(app, user)
    (alice_api,) = _ids(app, user)["api"]
    factories.login(client, other_user)
    assert post(client, f"/settings/sign-ins/{alice_api}/end").status_code == 404
    assert _ids(app, user)["api"] == [alice_api]


def test_refused_without_csrf_or_signed_out(app, client, user):
    api_tokens(app, user)
    (api_id,) = _ids(app, user)["api"]
    assert post(client, f"/settings/sign-ins/{api_id}/end").status_code == 302  # to /login
    factories.login(client, user)
    assert post(client, f"/settings/sign-ins/{api_id}/end", csrf=False).status_code == 400
    assert post(client, "/settings/sign-ins/end-others", csrf=False).status_code == 400
    assert _ids(app, user)["api"] == [api_id]


def test_the_list_costs_the_same_for_2_or_12_sign_ins(app, client, user):
    factories.login(client, user)

    def queries() -> int:
        with count_queries(app) as log:
            assert client.get("/settings/sign-ins").status_code == 200
        return len(log)

    api_tokens(app, user)
    few = queries()
    for _ in range(10):
        api_tokens(app, user)
    assert queries() == few


def test_devices_read_as_people_say_them():
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    chrome = (
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Mobile Safari/537.36"
    )
    assert device(firefox) == "Firefox on Windows"
    assert device(chrome) == "Chrome on Android"
    assert device("python-requests/2.32.3") == "python-requests/2.32.3"
    assert device("") == "Unknown device"
