"""Shared fixtures: an app on a migrated database, clients, mail outbox, captured pushes.

The database is SQLite unless DATABASE_URL points elsewhere (PostgreSQL in CI).
The schema is built once per session by the real migrations; every test then
starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import text

from qosyl import create_app
from qosyl.extensions import db
from qosyl.extensions import mail
from tests import factories
from tests.helpers import require_service


def _compile_each_url_builder_once() -> None:
    """Every test makes an app, and Werkzeug compiles each of its ~170 URL rules into two
    builder functions with ast and compile(): 90% of create_app's time. The code depends
    only on the rule's shape (its parts, defaults and whether unknown arguments go in the
    query string), and the function reads the rule's converters through the rule it is
    bound to, so the tests compile each shape once and bind it to every new rule."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict = {}

    def once(self: Rule, append_unknown: bool = True):
        converters = tuple((name, type(c).__name__) for name, c in self._converters.items())
        defaults = repr(sorted((self.defaults or {}).items(), key=str))
        key = (self.rule, tuple(self._trace), converters, defaults, append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = once


_compile_each_url_builder_once()


def _share_engines_between_test_apps() -> None:
    """Every test makes an app, and each app made an engine whose pool then opened new
    connections: ~8 ms each on PostgreSQL, and a new backend compiles the rollup triggers'
    PL/pgSQL again on its first write. Apps with the same engine settings share one engine,
    so its pooled connections serve test after test (the fixture drops a pool that a test
    left with connections checked out)."""
    from flask_sqlalchemy import SQLAlchemy

    make_engine = SQLAlchemy._make_engine
    engines: dict = {}

    def shared(self, bind_key, options, app):
        key = (bind_key, repr(sorted(options.items(), key=lambda item: item[0])))
        if key not in engines:
            engines[key] = make_engine(self, bind_key, options, app)
        return engines[key]

    SQLAlchemy._make_engine = shared


_share_engines_between_test_apps()


def _truncate_all(app: Flask) -> None:
    """Empty every table and restart the ids at 1, as a fresh database would have them."""
    with app.app_context():
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                _empty_postgresql(connection, tables)
            else:
                for table in tables:
                    connection.execute(text(f'DELETE FROM "{table}"'))


def _empty_postgresql(connection, tables: list[str]) -> None:
    """TRUNCATE makes new files for every table and its indexes: ~65 ms a test, a third of
    the suite's time on PostgreSQL. A test leaves a few rows, which DELETE removes in ~1 ms;
    with the session as a replica, neither foreign keys nor the rollup triggers run for
    rows that are all going. A role that may not do that (not a superuser) truncates."""
    superuser = connection.scalar(text("SELECT current_setting('is_superuser') = 'on'"))
    if not superuser:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text("; ".join(f'DELETE FROM "{table}"' for table in tables)))
    sequences = connection.scalars(
        text(
            "SELECT schemaname || '.' || sequencename FROM pg_sequences"
            " WHERE last_value IS NOT NULL"
        )
    ).all()
    if sequences:
        restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
        connection.execute(text(f"SELECT {restarts}"))


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, named after the
    configured one ("test_gw0", ...), made if missing: workers truncate tables between tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy.engine import make_url

    configured = make_url(url)
    name = f"{configured.database}_{worker}"
    engine = create_engine(configured, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return configured.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated to the newest revision, shared by the session."""
    url = os.environ.get("DATABASE_URL")
    if url:
        require_service("PostgreSQL", url)
        from config import normalise_database_url

        url = normalise_database_url(url)
        url = _database_of_this_worker(url)
        # Start from nothing: the previous run may have left tables behind.
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(request, database_url: str, tmp_path) -> Iterator[Flask]:
    """The app on empty tables. `@pytest.mark.app_config(NAME=value)` changes settings."""
    marker = request.node.get_closest_marker("app_config")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        **(marker.kwargs if marker else {}),
    )
    yield app
    _truncate_all(app)
    with app.app_context():
        if db.engine.pool.checkedout():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app: Flask):
    """Mail the app sends during the test (Flask-Mail does not deliver when testing)."""
    with mail.record_messages() as messages:
        yield messages


@pytest.fixture
def pushes(monkeypatch) -> list:
    """Every push emitted to browser tabs during the test, in order (the JSON copies for
    API clients, to rooms named "api:...", are tests/test_api_live.py's)."""
    import qosyl.live.realtime
    from qosyl.live.api import API_ROOM_PREFIX

    emitted: list = []
    original = qosyl.live.realtime.emit

    def record(push):
        if not all(room.startswith(API_ROOM_PREFIX) for room in push.audience):
            emitted.append(push)
        original(push)

    monkeypatch.setattr(qosyl.live.realtime, "emit", record)
    return emitted


@pytest.fixture
def make_user(app: Flask):
    """Create users through the factory, inside an app context."""

    def make(**fields):
        with app.app_context():
            return factories.user(**fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user(username="alice", first_name="Alice", last_name="Archer")


@pytest.fixture
def other_user(make_user):
    return make_user(username="bob", first_name="Bob", last_name="Baker")


@pytest.fixture
def logged_in(client: FlaskClient, user) -> FlaskClient:
    factories.login(client, user)
    return client
