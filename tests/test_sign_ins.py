"""Sign-ins end on the server: signing out, a password change, a reset or an account
deletion leaves no cookie that still works and no socket that still listens."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import LoginSession
from qosyl.models import User
from tests import factories
from tests.factories import NEW_PASSWORD
from tests.helpers import connect_socket
from tests.helpers import post


def sign_in(client, login="alice", remember=False):
    data = {"login": login, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    response = post(client, "/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def copy_cookies(app, source, names=("session", "remember_token")):
    """A second browser holding copies of the first one's cookies."""
    thief = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def sign_ins(app, user) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
        )


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, user):
    sign_in(client)
    thief = copy_cookies(app, client, names=("session",))
    assert thief.get("/messages").status_code == 200
    post(client, "/logout")
    assert client.get("/messages").status_code == 302
    response = thief.get("/messages")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert sign_ins(app, user) == 0


def test_a_copied_remember_cookie_stops_working_after_sign_out(app, client, user):
    sign_in(client, remember=True)
    assert client.get_cookie("remember_token") is not None
    thief = copy_cookies(app, client, names=("remember_token",))
    assert thief.get("/messages").status_code == 200  # the remember cookie signs in
    post(client, "/logout")
    assert thief.get("/messages").status_code == 302


def test_each_browser_has_its_own_sign_in(app, user):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone)
    sign_in(laptop)
    assert sign_ins(app, user) == 2
    post(phone, "/logout")
    assert laptop.get("/messages").status_code == 200
    assert phone.get("/messages").status_code == 302


def test_signing_out_closes_the_tabs_of_that_sign_in_only(app, user):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone)
    sign_in(laptop)
    phone_tab, laptop_tab = connect_socket(app, phone), connect_socket(app, laptop)
    assert phone_tab.is_connected() and laptop_tab.is_connected()
    post(phone, "/logout")
    assert not phone_tab.is_connected()
    assert laptop_tab.is_connected()


def change_password(client):
    return post(
        client,
        "/settings/password",
        {"current_password": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )


def test_a_password_change_closes_the_other_sign_ins_at_once(app, user, other_user):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here)
    sign_in(elsewhere)
    stranger_client = app.test_client()
    factories.login(stranger_client, other_user)
    here_tab, elsewhere_tab = connect_socket(app, here), connect_socket(app, elsewhere)
    stranger_tab = connect_socket(app, stranger_client)

    assert change_password(here).status_code == 302
    assert not elsewhere_tab.is_connected()
    assert here_tab.is_connected() and stranger_tab.is_connected()
    # The revoked browser can neither read pages nor open a new socket.
    assert elsewhere.get("/messages").status_code == 302
    assert not connect_socket(app, elsewhere).is_connected()
    # This browser carries on: its cookie still names a live sign-in.
    assert here.get("/messages").status_code == 200
    assert connect_socket(app, here).is_connected()
    assert sign_ins(app, user) == 1


def test_a_revoked_tab_hears_nothing_more(app, user):
    from qosyl.actions.notifications import notify

    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here)
    sign_in(elsewhere)
    elsewhere_tab = connect_socket(app, elsewhere)
    change_password(here)
    with app.test_request_context():
        notify(db.session.get(User, user.id), "welcome", target_url="/")
        db.session.commit()
    received = elsewhere_tab.get_received() if elsewhere_tab.is_connected() else []
    assert not any(event["name"] == "notification" for event in received)


def test_a_password_reset_closes_every_sign_in(app, client, user, outbox):
    browser = app.test_client()
    sign_in(browser)
    tab = connect_socket(app, browser)
    post(client, "/password/forgot", {"email": "alice@example.com"})
    link = re.search(r"https?://[^/\s]+(/password/reset/[^\s\"<]+)", outbox[-1].body).group(1)
    response = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not tab.is_connected()
    assert browser.get("/messages").status_code == 302
    assert sign_ins(app, user) == 0


def test_deleting_the_account_closes_its_tabs(app, user):
    browser, other_browser = app.test_client(), app.test_client()
    sign_in(browser)
    sign_in(other_browser)
    tabs = [connect_socket(app, browser), connect_socket(app, other_browser)]
    response = post(
        browser, "/settings/delete", {"password": factories.PASSWORD, "understood": "y"}
    )
    assert response.status_code == 302
    assert not any(tab.is_connected() for tab in tabs)
    assert other_browser.get("/messages").status_code == 302


def test_a_cookie_from_before_sign_ins_existed_signs_nobody_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}.1"  # the old "<id>.<session version>" form
    assert client.get("/messages").status_code == 302


def test_a_very_long_cookie_key_is_refused_without_a_query(app, client, user):
    from tests.helpers import count_queries

    with client.session_transaction() as session:
        session["_user_id"] = "x" * 10_000
    with count_queries(app) as log:
        assert client.get("/session").get_json() == {"user_id": None}
    assert not [sql for sql in log.statements if "login_sessions" in sql]


def test_a_sign_in_ends_after_its_lifetime_and_is_pruned(app, client, user):
    from datetime import timedelta

    from qosyl.models.base import utcnow

    old_browser = app.test_client()
    sign_in(old_browser)
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        row.created_at = utcnow() - app.config["SIGN_IN_LIFETIME"] - timedelta(minutes=1)
        db.session.commit()
    assert old_browser.get("/messages").status_code == 302
    sign_in(client)  # a new sign-in clears the user's expired ones
    assert sign_ins(app, user) == 1
    assert client.get("/messages").status_code == 200
