"""Browser journeys: Debian's Chromium driven by Playwright against the real server.

The server is `python wsgi.py` (Flask-SocketIO on eventlet) in a subprocess, on
its own database, sending mail to an SMTP server started here. With Redis
reachable it uses the Redis message queue, so this process can push to its
browsers as another app process would.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.helpers import IN_CI
from tests.helpers import require_service

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/0")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}: browser tests need Debian's chromium package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            # Meetings (tests/e2e/test_meetings.py): a fake camera and microphone, no
            # permission prompt, and WebRTC between two tabs of this machine.
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--allow-loopback-in-peer-connection",
            "--autoplay-policy=no-user-gesture-required",
        ],
    }


def free_port() -> int:
    """A port the kernel has just handed out: two suites at once never pick the same one.
    Ephemeral ports (32768 and up) are all outside Chromium's ERR_UNSAFE_PORT list."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """Mail received by the SMTP server, as the email package parses it."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, subject: str = "", timeout: float = 10) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in reversed(self.messages):
                    if to.lower() in message["To"].lower() and subject in message["Subject"]:
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} with {subject!r} within {timeout}s")

    @staticmethod
    def text(message: Message) -> str:
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
        raise AssertionError("mail has no text part")

    def link(self, to: str, path: str, subject: str = "") -> str:
        body = self.text(self.wait_for(to, subject))
        match = re.search(r"https?://\S*" + re.escape(path) + r"\S+", body)
        assert match, body
        return match.group(0)


@pytest.fixture(scope="session")
def smtp() -> Inbox:
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def server_database(tmp_dir: Path) -> str:
    """SQLite next to the server, or a PostgreSQL database of its own when testing on it."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'e2e.sqlite3'}"
    require_service("PostgreSQL", url)
    from config import normalise_database_url

    admin_url = make_url(normalise_database_url(url))
    name = f"qosyl_e2e_{os.getpid()}_{re.sub(r'[^a-z0-9]', '', tmp_dir.name.lower())}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        if IN_CI:
            raise
        return False


class LiveServer:
    def __init__(self, url: str, env: dict[str, str], log: Path):
        self.url = url
        self.env = env
        self.log = log
        self._app = None

    # The Socket.IO extension is one object per process: the app made last decides which
    # server's channel this process emits on. Switching servers makes the app again.
    _bound: LiveServer | None = None

    def app(self):
        """An app on the server's database and queue: a second process of the deployment."""
        if self._app is None or LiveServer._bound is not self:
            self.close()
            self._app = self._create_app()
            LiveServer._bound = self
        return self._app

    def close(self) -> None:
        if self._app is not None:
            from qosyl.extensions import db

            with self._app.app_context():
                db.engine.dispose()
            self._app = None

    def _create_app(self):
        from qosyl import create_app

        return create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=self.env["DATABASE_URL"],
            UPLOAD_FOLDER=self.env["UPLOAD_FOLDER"],
            SOCKETIO_MESSAGE_QUEUE=self.env.get("SOCKETIO_MESSAGE_QUEUE"),
            SOCKETIO_CHANNEL=self.env["SOCKETIO_CHANNEL"],
            SERVER_NAME=self.url.split("//", 1)[1],
        )

    @property
    def uses_message_queue(self) -> bool:
        return bool(self.env.get("SOCKETIO_MESSAGE_QUEUE"))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, smtp) -> LiveServer:
    yield from _serve(tmp_path_factory.mktemp("live"), smtp)


@pytest.fixture(scope="module")
def rate_limited_server(tmp_path_factory, smtp) -> LiveServer:
    """A server of its own that enforces a tight chat limit (the shared one has limits off)."""
    yield from _serve(
        tmp_path_factory.mktemp("limited"),
        smtp,
        RATELIMIT_ENABLED="true",
        RATELIMIT_CHAT="5 per 2 seconds",
    )


def _serve(tmp_dir: Path, smtp: Inbox, **settings: str):
    """Start `python wsgi.py` on its own database; yield it as a LiveServer; stop it."""
    port = free_port()
    env = {
        **os.environ,
        "QOSYL_ENV": "development",
        "QOSYL_INSTANCE_DIR": str(tmp_dir),
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "DATABASE_URL": server_database(tmp_dir),
        "UPLOAD_FOLDER": str(tmp_dir / "uploads"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RATELIMIT_ENABLED": "false",
        "SOCKETIO_CHANNEL": f"qosyl-e2e-{uuid.uuid4().hex[:8]}",
        "FLASK_APP": "wsgi:app",
        "PYTHONWARNINGS": "ignore",
        **settings,
    }
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    if _redis_available():
        env["SOCKETIO_MESSAGE_QUEUE"] = REDIS_URL
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp_dir / "server.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    server = LiveServer(url, env, log)
    yield server
    server.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    drop_server_database(env["DATABASE_URL"])


def drop_server_database(url: str) -> None:
    """Drop a PostgreSQL database server_database made (nothing to do for SQLite)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    try:
        with engine.connect() as connection:
            # Clean-up, not a test: DROP DATABASE waits for a checkpoint, which on a
            # loaded machine once took past the test timeout. Bounded; left if it fails.
            connection.execute(text("SET statement_timeout = '30s'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except OperationalError as error:
        print(f"\nleft the e2e database {name}: {error}", file=sys.stderr)
    engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture(autouse=True)
def _short_timeouts(request):
    # Only for tests that use pytest-playwright's page: asking for it would start the
    # shared live server for tests that serve the app otherwise (test_cluster.py).
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(10_000)
        page.set_default_navigation_timeout(15_000)


@pytest.fixture
def make_live_user(live_server):
    """A verified, set-up account in the server's database; returns its username."""
    return user_maker(live_server)


def user_maker(server: LiveServer):
    from tests import factories

    app = server.app()

    def make(first_name: str = "Test", last_name: str = "Person", **fields) -> str:
        username = fields.pop("username", f"u{uuid.uuid4().hex[:10]}")
        with app.app_context():
            factories.user(username=username, first_name=first_name, last_name=last_name, **fields)
        return username

    return make


def wait_until(page, expression: str, timeout: float = 10) -> None:
    """Poll a JavaScript expression from here: page.wait_for_function evaluates it with
    eval() inside the page, which the Content-Security-Policy rightly forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        time.sleep(0.05)


def wait_for_live_channel(page) -> None:
    wait_until(
        page, "Boolean(window.qosyl && window.qosyl.socket && window.qosyl.socket.connected)"
    )


def sign_in(page, username: str, password: str | None = None) -> None:
    from tests.factories import PASSWORD

    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password or PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(welcome)?$"))


def open_as(browser, base_url, username):
    """A browser context of its own, signed in as `username`, and its page."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username)
    return context, page


def lobby_as_host(live_server, host_name: str) -> int:
    """The lobby (made if missing), hosted by `host_name` from now on."""
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import set_host
        from qosyl.extensions import db
        from qosyl.reads.rooms import lobby

        room = lobby()
        # End the read before writing: SQLite refuses to turn a read into a write when the
        # server process wrote in between.
        db.session.rollback()
        host = user_by_username(host_name)
        if room is None:
            room = create_room(host, "Lobby", "General", "")
            room.is_lobby = True
            db.session.commit()
        set_host(room, host)
        return room.id


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make vendor` (npm ci) first")
    return AXE_JS.read_text()
