"""Headers and markup rules every page keeps: CSP without inline script, cookies, Vary."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from tests.helpers import post

PAGES_ANONYMOUS = ["/", "/register", "/login", "/password/forgot", "/verify/resend", "/offline"]
PAGES_SIGNED_IN = [
    "/", "/notifications", "/u/alice", "/settings/profile", "/settings/password",
    "/settings/email", "/settings/delete", "/welcome", "/people", "/people?q=al",
    "/u/alice/followers", "/friends/requests", "/settings/blocked", "/settings/notifications",
    "/search?q=hello", "/tags/hello", "/p/1", "/p/1/edit", "/about", "/rooms", "/rooms?q=tea",
    "/rooms?topic=Tea", "/rooms/new", "/rooms/1", "/rooms/1/participants", "/rooms/1/edit",
    "/rooms/1/messages/1/edit", "/activity", "/messages", "/messages?q=bo", "/messages/1",
    "/messages/groups/new", "/messages/invites", "/messages?show=online", "/settings/messages",
]  # fmt: skip


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts (but those the CSP lists by
    hash: the import map), handlers, style attributes."""

    def __init__(self, allowed_hashes: frozenset[str] = frozenset()):
        super().__init__()
        self.problems: list[str] = []
        self.allowed_hashes = allowed_hashes
        self._in_inline_script = False
        self._script = ""

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self._in_inline_script = True
            self._script = ""
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_data(self, data):
        if self._in_inline_script:
            self._script += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_inline_script:
            digest = base64.b64encode(hashlib.sha256(self._script.encode()).digest()).decode()
            if self._script.strip() and digest not in self.allowed_hashes:
                self.problems.append("inline <script>")
            self._in_inline_script = False


def inline_code(html: str, allowed_hashes: frozenset[str] = frozenset()) -> list[str]:
    parser = InlineCode(allowed_hashes)
    parser.feed(html)
    return parser.problems


def script_hashes(csp: str) -> frozenset[str]:
    """The inline scripts script-src allows by hash; nothing else may be listed but 'self'."""
    sources = re.search(r"script-src ([^;]*)", csp).group(1).split()
    assert sources[0] == "'self'"
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", source) for source in sources[1:])
    return frozenset(source[len("'sha256-") : -1] for source in sources[1:])


def check_page(response):
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]
    assert inline_code(response.get_data(as_text=True), script_hashes(csp)) == []


@pytest.mark.parametrize("url", PAGES_ANONYMOUS)
def test_anonymous_pages_have_no_inline_code(client, url):
    check_page(client.get(url))


@pytest.mark.parametrize("url", PAGES_SIGNED_IN)
def test_signed_in_pages_have_no_inline_code(app, logged_in, user, url):
    from qosyl.actions.posts import add_comment
    from qosyl.actions.posts import create_post
    from qosyl.extensions import db
    from qosyl.models import User

    with app.app_context():
        alice = db.session.get(User, user.id)
        post = create_post(alice, "hello #hello\n\n```python\nprint('hi')\n```")
        add_comment(alice, post, "a comment with `code`")
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import send_message

        room = create_room(alice, "Tea", "Tea", "Oolong")
        send_message(alice, room, "hello `room`\n\n```python\nprint(1)\n```")
        from qosyl.actions import messages
        from tests import factories

        bob = factories.user(username="bob", first_name="Bob")
        conversation = messages.direct_conversation(alice, bob)
        messages.send_message(bob, conversation, "psst `code`\n\n```python\nprint(2)\n```")
    check_page(logged_in.get(url))


def test_form_pages_with_errors_have_no_inline_code(client):
    response = post(client, "/register", {"username": "<script>"})
    assert response.status_code == 422
    csp = response.headers["Content-Security-Policy"]
    assert inline_code(response.get_data(as_text=True), script_hashes(csp)) == []


def test_the_checker_catches_what_it_looks_for():
    html = (
        '<script>alert(1)</script><a href="javascript:x" onclick="y" style="z">a</a>'
        "<style>p{}</style>"
    )
    assert sorted(inline_code(html)) == sorted(
        [
            "inline <script>",
            "javascript: URL on <a>",
            "onclick handler on <a>",
            "style attribute on <a>",
            "<style> element",
        ]
    )
    # An inline script is allowed only when the CSP lists its exact content's hash.
    digest = base64.b64encode(hashlib.sha256(b"alert(1)").digest()).decode()
    assert inline_code("<script>alert(1)</script>", frozenset({digest})) == []
    assert inline_code("<script>alert(2)</script>", frozenset({digest})) == ["inline <script>"]


def test_every_page_sends_the_csrf_token_with_htmx_requests(logged_in):
    html = logged_in.get("/").get_data(as_text=True)
    assert re.search(r"""<body hx-boost="true" hx-headers='\{"X-CSRFToken": "[^"]+"\}'""", html)


def test_htmx_config_lets_422_responses_swap_and_disables_eval(client):
    html = client.get("/").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'", html).group(1)
    import json

    parsed = json.loads(config)
    assert parsed["allowEval"] is False
    assert parsed["includeIndicatorStyles"] is False
    assert {"code": "422", "swap": True} in parsed["responseHandling"]


def test_static_files_are_versioned_and_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', html).group(1)
    response = client.get(css)
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    response.close()


@pytest.mark.app_config(HSTS=True)
def test_hsts_when_configured(client):
    assert "max-age=31536000" in client.get("/").headers["Strict-Transport-Security"]
