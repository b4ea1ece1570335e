"""A Python client of the API against the live server, as a mobile app would use it: sign in
over HTTP for a token, connect Socket.IO with that token, and hear, as JSON, a friend
request and a conversation message that another user sends over HTTP."""

from __future__ import annotations

import queue

import requests
import socketio

from tests import factories


def _sign_in(server, username: str) -> str:
    response = requests.post(
        f"{server.url}/api/auth/login/",
        json={"login": username, "password": factories.PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _api(server, token: str, method: str, path: str, **kwargs):
    response = requests.request(
        method,
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json()


def _next(events: queue.Queue, name: str, timeout: float = 10) -> dict:
    """The next event of this name (others are skipped), waiting up to `timeout`."""
    while True:
        got, data = events.get(timeout=timeout)
        if got == name:
            return data


def test_a_token_client_hears_a_friend_request_and_a_message(live_server, make_live_user):
    reader_name = make_live_user(first_name="Reena", last_name="Reader")
    writer_name = make_live_user(first_name="Wade", last_name="Writer")
    reader_token, writer_token = (
        _sign_in(live_server, reader_name),
        _sign_in(live_server, writer_name),
    )
    reader = _api(live_server, reader_token, "GET", "/api/users/me/")

    events: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("friend_request", "notification", "chat_message"):
        client.on(name, lambda data, name=name: events.put((name, data)))
    client.connect(
        live_server.url, transports=["websocket"], auth={"token": reader_token}, wait_timeout=10
    )
    try:
        _api(
            live_server,
            writer_token,
            "POST",
            "/api/friends/request/",
            json={"user_id": reader["id"]},
        )
        request = _next(events, "friend_request")
        assert request["from"]["username"] == writer_name
        assert "html" not in request

        conversation = _api(
            live_server, writer_token, "POST", "/api/conversations/", json={"user_id": reader["id"]}
        )
        sent = _api(
            live_server,
            writer_token,
            "POST",
            f"/api/conversations/{conversation['id']}/messages/",
            json={"body": "Hello over **HTTP**", "client_id": "py-client-1"},
        )
        message = _next(events, "chat_message")
        assert message["kind"] == "conversation" and message["stream_id"] == conversation["id"]
        assert message["message"]["id"] == sent["id"]
        assert message["message"]["body"] == "Hello over **HTTP**"
        assert message["message"]["author"]["username"] == writer_name
        assert "html" not in message and "body_html" not in message["message"]
    finally:
        client.disconnect()


def test_a_socket_with_a_bad_token_is_refused(live_server):
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            live_server.url, transports=["websocket"], auth={"token": "not.a.token"}, wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        pass
    assert not client.connected
