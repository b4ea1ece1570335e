"""The live channel of the real server: refused without a session, fed by other processes."""

from __future__ import annotations

import re
import time

import pytest
import requests
import socketio
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel
from tests.factories import PASSWORD


def session_cookie(live_server, username: str) -> str:
    """Sign in with plain HTTP, as a browser would, and return the session cookie."""
    http = requests.Session()
    page = http.get(f"{live_server.url}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = http.post(
        f"{live_server.url}/login",
        data={"login": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302
    return http.cookies["session"]


def test_a_socket_without_a_session_is_refused(live_server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], wait_timeout=5)
    assert not client.connected


def test_a_socket_with_a_session_is_accepted(live_server, make_live_user):
    cookie = session_cookie(live_server, make_live_user())
    client = socketio.Client(reconnection=False)
    client.connect(
        live_server.url,
        transports=["websocket"],
        headers={"Cookie": f"session={cookie}"},
        wait_timeout=5,
    )
    assert client.connected
    client.disconnect()


def test_a_notification_from_another_process_arrives_live(page, live_server, make_live_user):
    if not live_server.uses_message_queue:
        pytest.skip("Redis is not reachable: the server runs without a message queue")
    username = make_live_user(first_name="Far", last_name="Away")
    sign_in(page, username)
    page.goto("/notifications")
    expect(page.get_by_text("You have no notifications.")).to_be_visible()
    wait_for_live_channel(page)
    page.evaluate("window.stillTheSamePage = true")

    # This test process is a second app process: it writes and emits through Redis.
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.notifications import notify
        from qosyl.extensions import db

        notify(user_by_username(username), "welcome", target_url="/")
        db.session.commit()

    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Welcome to Qosyl!")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True


def test_clicking_through_pages_quickly_leaves_no_tab_behind(page, live_server, make_live_user):
    """Each page opens its own socket. One left mid-handshake must not linger on the server
    (a long-polling session would, until its ping timeout) and count against the tabs an
    account may hold: clicking quickly through a few pages would get the next one refused."""
    if not live_server.uses_message_queue:
        pytest.skip("Redis is not reachable: the tabs are in the server's memory")
    from qosyl.actions.accounts import user_by_username
    from qosyl.live import connections

    username = make_live_user()
    app = live_server.app()
    with app.app_context():
        user_id = user_by_username(username).id
    sign_in(page, username)
    for visit in range(20):
        page.goto("/about" if visit % 2 else "/people")
    wait_for_live_channel(page)
    deadline = time.monotonic() + 10
    with app.app_context():
        while len(tabs := connections.sids(user_id)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(tabs) == 1, f"{len(tabs)} tabs still open on the server for one page"
