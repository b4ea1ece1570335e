"""Test helpers that make no data: CSRF-aware requests, HTMX requests, form payloads, mail
links, socket clients, row counts, query budgets, service checks."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

IN_CI = os.environ.get("CI") == "true"
_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def require_service(name: str, url: str) -> None:
    """Skip (fail in CI) when a service the test needs is not reachable."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    problem = None
    try:
        if url.startswith("redis"):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        else:
            from config import normalise_database_url

            engine = create_engine(normalise_database_url(url))
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
    except Exception as error:  # any failure means the service is not usable here
        problem = f"{name} is not reachable at {url}: {error}"
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    response = client.get("/login", follow_redirects=True)
    match = _CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in_attempts(client: FlaskClient, count: int) -> list[int]:
    """The statuses of `count` sign-ins to unknown accounts, one after another, from one
    address."""
    token = csrf_token(client)
    return [
        client.post(
            "/login", data={"login": f"user{n}", "password": "x", "csrf_token": token}
        ).status_code
        for n in range(count)
    ]


def post(
    client: FlaskClient, url: str, data=None, *, csrf: bool = True, htmx: bool = False, **kwargs
):
    """POST like the app's pages do: with the session's CSRF token unless told not to."""
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = csrf_token(client)
    headers = dict(kwargs.pop("headers", {}))
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data, headers=headers, **kwargs)


# A full, valid profile form (the settings page posts every field).
PROFILE = {
    "first_name": "Alice",
    "last_name": "Archer",
    "bio": "Climbs rocks, writes Python.",
    "about": "Line one\nLine two",
    "address": "Almaty",
    "country": "KZ",
    "website": "alice.example.org",
    "github": "https://github.com/alice",
    "twitter": "",
    "linkedin": "",
    "instagram": "",
    "facebook": "",
}


def send_file(client: FlaskClient, conversation_id: int, name: str, data: bytes, body: str = ""):
    """Send a file (and optional text) to a conversation as its HTMX form does."""
    from io import BytesIO

    return post(
        client,
        f"/messages/{conversation_id}",
        {
            f"conversation-{conversation_id}-body": body,
            f"conversation-{conversation_id}-attachment": (BytesIO(data), name),
        },
        htmx=True,
    )


def link_from(message, path_prefix: str) -> str:
    """The app-relative link in a mail whose path starts with `path_prefix`."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<]*)", message.body)
    assert match, f"no {path_prefix} link in mail:\n{message.body}"
    return match.group(1)


def hx_get(client: FlaskClient, url: str, **kwargs):
    """A GET as HTMX sends it for a fragment (not boosted)."""
    headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
    return client.get(url, headers=headers, **kwargs)


class QueryLog:
    def __init__(self):
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {sql}" for n, sql in enumerate(self.statements, 1))


@contextmanager
def count_queries(app: Flask):
    """Record the SQL the app runs inside the block."""
    from qosyl.extensions import db

    log = QueryLog()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        # SQLite's explicit BEGIN is implicit on PostgreSQL: count queries alike on both.
        if statement != "BEGIN":
            log.statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@contextmanager
def assert_query_count(app: Flask, expected: int):
    """Fail with the SQL listed when the block runs a different number of queries."""
    with count_queries(app) as log:
        yield log
    assert len(log) == expected, f"expected {expected} queries, ran {len(log)}:\n{log}"


def count_rows(app: Flask, model) -> int:
    """How many rows the model's table holds."""
    from sqlalchemy import func
    from sqlalchemy import select

    from qosyl.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def status_of(app: Flask, conversation_id: int, user):
    """`user`'s membership status in the conversation, None when they have no row."""
    from qosyl.extensions import db
    from qosyl.models import ConversationMember

    with app.app_context():
        row = db.session.get(ConversationMember, (conversation_id, user.id))
        return row.status if row else None


def notification_kinds(app: Flask, user) -> list[str]:
    """The kinds of notification `user` has, oldest first."""
    from sqlalchemy import select

    from qosyl.extensions import db
    from qosyl.models import Notification

    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification.kind)
                .where(Notification.recipient_id == user.id)
                .order_by(Notification.id)
            )
        )


# A green thread that wakes every 5 ms and records how late it woke: prepended to probe
# scripts, it measures how long other work held eventlet's hub.
HUB_TICKER = """
import json, time
import eventlet
eventlet.monkey_patch()
lags, done = [], []

def tick():
    while not done:
        began = time.perf_counter()
        eventlet.sleep(0.005)
        lags.append(time.perf_counter() - began - 0.005)
"""


def run_eventlet_probe(script: str) -> dict:
    """Run `script` in a fresh interpreter (it monkey-patches eventlet itself, as wsgi.py
    does); its last line of output is JSON, returned."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def connect_socket(app: Flask, client: FlaskClient):
    """A Socket.IO test client sharing `client`'s cookies (connected or refused)."""
    from qosyl.extensions import socketio

    return socketio.test_client(app, flask_test_client=client)


def signed_in_tab(app: Flask, person):
    """A connected Socket.IO test client for a new sign-in of `person`."""
    from qosyl.extensions import socketio
    from tests import factories

    client = app.test_client()
    factories.login(client, person)
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    return socket


class PrivateRedis:
    """A redis-server of the test's own, on a free port, to stop and start again: the
    machine's Redis serves everyone else."""

    def __init__(self, workdir: Path):
        with socket.socket() as probe:  # a free port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PrivateRedis:
        if not shutil.which("redis-server"):
            problem = "redis-server not found (Debian's redis-server package)"
            if IN_CI:
                pytest.fail(problem)
            pytest.skip(problem)
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "the private Redis did not answer in 10 s"
            time.sleep(0.05)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, down: float) -> None:
        """Stopped, kept down `down` seconds (the outage), started again: empty, as Redis
        without persistence restarts."""
        self.stop()
        time.sleep(down)  # the length of the outage, not a wait for something
        self.start()


# The JSON API


def api_tokens(app: Flask, account) -> dict:
    """A fresh API sign-in of `account`: {"access_token", "refresh_token", ...}, made as
    POST /api/auth/login/ makes them (without hashing a password each time)."""
    from qosyl.actions.accounts import open_api_session
    from qosyl.blueprints.api.core import issue_tokens
    from qosyl.extensions import db
    from qosyl.models import User

    with app.test_request_context():
        person = db.session.get(User, account.id)
        login_id, refresh_id = open_api_session(person)
        tokens = issue_tokens(person, login_id, refresh_id)
    return {key: value for key, value in tokens.items() if key != "user"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class ApiClient:
    """A test client speaking to /api/ with one account's access token (or none)."""

    def __init__(self, app: Flask, account=None, token: str | None = None):
        self.app = app
        self.client = app.test_client()
        if token is None and account is not None:
            token = api_tokens(app, account)["access_token"]
        self.headers = bearer(token) if token else {}

    def _call(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self._call("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self._call("POST", url, **kwargs)

    def put(self, url: str, **kwargs):
        return self._call("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs):
        return self._call("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self._call("DELETE", url, **kwargs)


def api_error(response, status: int) -> dict:
    """The error body of an API response, after checking its status and shape."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def expired_access_token(app: Flask, account) -> str:
    """An access token of a live sign-in of `account` that expired a minute ago."""
    from datetime import timedelta

    from flask_jwt_extended import create_access_token

    from qosyl.actions.accounts import open_api_session
    from qosyl.extensions import db
    from qosyl.models import User

    with app.test_request_context():
        login_id, _ = open_api_session(db.session.get(User, account.id))
        return create_access_token(
            identity=str(account.id),
            additional_claims={"sid": login_id},
            expires_delta=timedelta(minutes=-1),
        )
