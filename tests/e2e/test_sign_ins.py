"""Settings > Sign-ins in Chromium: an app signed in through the API shows up beside the
browser, and signing it out there revokes its token at once."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in


def test_signing_out_an_app_from_the_sign_ins_page(page, live_server, make_live_user):
    username = make_live_user(first_name="Sig", last_name="Nins")
    login = requests.post(
        f"{live_server.url}/api/auth/login/",
        json={"login": username, "password": factories.PASSWORD},
        headers={"User-Agent": "QosylPhoneApp/1.0"},
        timeout=10,
    )
    token = login.json()["access_token"]
    me = f"{live_server.url}/api/users/me/"
    assert requests.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10).ok

    sign_in(page, username)
    page.goto("/settings/sign-ins")
    expect(page.get_by_role("heading", name="Sign-ins")).to_be_visible()
    app_row = page.get_by_role("listitem").filter(has_text="QosylPhoneApp/1.0")
    expect(app_row).to_contain_text("App using the API")
    expect(page.get_by_role("listitem").filter(has_text="This browser")).to_be_visible()
    app_row.get_by_role("button", name="Sign out QosylPhoneApp").click()
    expect(page.get_by_text("Signed out there.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="QosylPhoneApp/1.0")).to_have_count(0)
    refused = requests.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
