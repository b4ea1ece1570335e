"""Test helpers: CSRF-aware requests, HTMX requests, query budgets, service checks."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

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


def signed_in_tab(app: Flask, person):
    """A connected Socket.IO test client for a new sign-in of `person`."""
    from qosyl.extensions import socketio
    from tests import factories

    client = app.test_client()
    factories.login(client, person)
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    return socket
