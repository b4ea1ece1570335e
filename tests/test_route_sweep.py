"""Every route and every Socket.IO event, sent what clients get wrong (issue 8, "Done when").

The routes come from `app.url_map` and the events from the Socket.IO server's handlers, so
a new route or event is swept without being listed here. Each test builds one small world
(people, a room, a post, groups, notifications) and tries every route of one blueprint, or
one event, collecting every problem before it fails, so one run names them all.

Under `app.testing` the error handlers re-raise, so a 500 shows up as an exception: the
sweep records it as "raised".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import nullcontext
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask import template_rendered
from jinja2_fragments import render_block
from sqlalchemy import select
from werkzeug.routing import Rule

from qosyl import create_app
from qosyl.actions import groups
from qosyl.actions import meetings
from qosyl.actions import posts
from qosyl.actions import rooms
from qosyl.actions import social
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import Notification
from qosyl.models import User
from qosyl.render.pwa import ICONS
from tests import factories
from tests.helpers import count_queries
from tests.helpers import csrf_token

# 2**31 is past PostgreSQL's INTEGER ids, 2**63 past SQLite's, the rest past both.
HUGE = (2**31, 2**63, 2**64, 10**30)
# Query and form names that carry numbers somewhere in the app, and a few that might.
NUMBER_NAMES = ("before", "after", "after_id", "page", "up_to_id", "parent_id", "id")
# A cursor past every row: in range, so it takes the "more rows" path of each list.
PAST_EVERY_ROW = 10**6

# Forms open to anyone: signed out, an empty one is answered (with its errors), not refused.
PUBLIC_POSTS = {
    "accounts.login",
    "accounts.register",
    "accounts.resend_verification",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.logout",
}
# Routes that take a POST without a CSRF token, and why. None: every form carries one.
CSRF_EXEMPT: dict[str, str] = {}
# Socket.IO's own lifecycle, not events a client emits.
LIFECYCLE_EVENTS = {"connect", "disconnect"}


# The world every test starts from


@dataclass(frozen=True)
class World:
    alice: int
    bob: int
    carol: int
    post: int
    comment: int  # Alice's reply to Bob's comment on her post
    room: int  # Alice hosts it, Bob is a member
    room_message: int  # Alice's
    group: int  # Alice is its admin, Bob a member
    invited_group: int  # Bob's, Alice is invited
    notification: int  # Alice's
    meeting: str  # Alice's standalone meeting (public id)


def build_world(app: Flask) -> World:
    with app.app_context():
        alice = factories.user(username="alice", first_name="Alice", last_name="Archer")
        bob = factories.user(username="bob", first_name="Bob", last_name="Baker")
        carol = factories.user(username="carol", first_name="Carol", last_name="Cole")
        social.send_friend_request(carol, alice)
        social.follow(bob, alice)
        post = posts.create_post(alice, "Tea #tea with @bob")
        bobs = posts.add_comment(bob, post, "Nice tea")
        reply = posts.add_comment(alice, post, "Thanks", bobs)
        room = rooms.create_room(alice, "Tea lovers", "Tea", "Oolong and more")
        rooms.join(bob, room)
        rooms.send_message(bob, room, "hello", None)
        room_message = rooms.send_message(alice, room, "welcome", None)
        group = groups.create_group(alice, "Tea club", [bob])
        groups.accept_invite(bob, group)
        invited = groups.create_group(bob, "Bob's group", [alice])
        notification = db.session.scalars(
            select(Notification).where(Notification.recipient_id == alice.id)
        ).first()
        assert notification is not None
        meeting = meetings.create_meeting(alice)
        return World(
            alice=alice.id,
            bob=bob.id,
            carol=carol.id,
            post=post.id,
            comment=reply.id,
            room=room.id,
            room_message=room_message.id,
            group=group.id,
            invited_group=invited.id,
            notification=notification.id,
            meeting=meeting.public_id,
        )


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def signed_in(app: Flask, world: World):
    client = app.test_client()
    with app.app_context():
        factories.login(client, db.session.get(User, world.alice))
    return client


WRITES = ("INSERT", "UPDATE", "DELETE")


def written_tables(statements: list[str]) -> list[str]:
    """The tables that INSERT, UPDATE or DELETE statements among `statements` touch."""
    found = []
    for statement in statements:
        words = statement.replace('"', "").split()
        if words and words[0].upper() in WRITES:
            table = words[2] if words[0].upper() in ("INSERT", "DELETE") else words[1]
            found.append(table)
    return found


# Routes


@dataclass(frozen=True)
class Route:
    rule: Rule
    method: str

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    @property
    def blueprint(self) -> str:
        return self.endpoint.rpartition(".")[0] or "app"

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule}"


# <converter(arguments):name> or <name>
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<arguments>[^)]*)\))?:)?(?P<name>\w+)>")


def _variables(rule: Rule) -> list[tuple[str, str, list[str]]]:
    """(converter, name, the options of an `any` converter) for each variable of a rule."""
    found = []
    for match in _VARIABLE.finditer(rule.rule):
        options = [o.strip().strip("\"'") for o in (match["arguments"] or "").split(",")]
        found.append((match["converter"] or "default", match["name"], options))
    return found


def all_routes(app: Flask) -> list[Route]:
    """The routes of the pages and fragments; the JSON API (tokens, JSON bodies, no CSRF)
    has its own sweep in tests/test_api_sweep.py."""
    routes = [
        Route(rule, method)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    # Routes that end things (delete, leave, block) last, so they do not hide the others.
    return sorted(routes, key=lambda r: (_ends_things(r), r.method, r.rule.rule))


def _ends_things(route: Route) -> bool:
    return bool(re.search(r"delete|leave|remove|block|decline|logout", route.rule.rule))


def _value(route: Route, name: str, world: World):
    specific = {
        ("messages.answer_invite", "conversation_id"): world.invited_group,
        ("main.icon", "name"): next(iter(ICONS)),
        ("posts.hashtag", "name"): "tea",
        ("static", "filename"): "css/app.css",
    }
    if (route.endpoint, name) in specific:
        return specific[(route.endpoint, name)]
    return {
        "post_id": world.post,
        "comment_id": world.comment,
        "room_id": world.room,
        "message_id": world.room_message,
        "conversation_id": world.group,
        "user_id": world.bob,
        "notification_id": world.notification,
        "attachment_id": 1,
        "login_id": 1,
        "username": "bob",
        "token": "not-a-token",
        "kind": "avatar",
        "filename": "none.webp",
        "public_id": world.meeting,
    }[name]


def urls(route: Route, world: World, **replace) -> list[str]:
    """The route's path filled with the world's ids (`replace` overrides some), once for
    each option of each `any` converter."""
    paths = [route.rule.rule]
    for converter, name, options in _variables(route.rule):
        pattern = re.compile(r"<[^>]*\b" + re.escape(name) + ">")
        if converter == "any" and name not in replace:
            values = options
        else:
            values = [replace.get(name, _value(route, name, world))]
        paths = [pattern.sub(str(value), path) for path in paths for value in values]
    return paths


def int_variables(route: Route) -> list[str]:
    return [name for converter, name, _ in _variables(route.rule) if converter == "int"]


def routes_of(app: Flask, blueprint: str, method: str | None = None) -> list[Route]:
    return [
        r
        for r in all_routes(app)
        if r.blueprint == blueprint and (method is None or r.method == method)
    ]


# Collected when this module is imported: parameters must exist before any app fixture.
_COLLECTION_APP = create_app("testing")
BLUEPRINTS = sorted({route.blueprint for route in all_routes(_COLLECTION_APP)})
EVENTS = sorted(set(socketio.server.handlers["/"]) - LIFECYCLE_EVENTS)
del _COLLECTION_APP


RAISED = object()


class Problems(list):
    """Everything that went wrong in one test, reported together."""

    def attempt(self, label: str, send: Callable, *args, **kwargs):
        """send(*args, **kwargs), or RAISED (and the error noted) if it raised."""
        try:
            return send(*args, **kwargs)
        except Exception as error:
            first_line = (str(error).splitlines() or [""])[0][:200]
            self.append(f"{label}: raised {type(error).__name__}: {first_line}")
            return RAISED

    def check(self) -> None:
        assert not self, f"{len(self)} problem(s):\n" + "\n".join(self)


def request(client, route: Route, url: str, **kwargs):
    response = client.open(url, method=route.method, **kwargs)
    response.close()  # a file sent (static, media) stays open until closed
    return response


# The sweep of routes


def test_the_sweep_found_the_routes_and_events():
    assert set(BLUEPRINTS) >= {"accounts", "main", "messages", "posts", "rooms", "people"}
    assert {"room:send", "conversation:subscribe", "presence:away"} <= set(EVENTS)


def refused_unchanged(app: Flask, problems: Problems, label: str, send: Callable, *args, **kwargs):
    """Send a request that must change nothing (write no row); its response, or RAISED."""
    with count_queries(app) as log:
        response = problems.attempt(label, send, *args, **kwargs)
    written = written_tables(log.statements)
    if written:
        problems.append(f"{label}: wrote to {', '.join(written)}")
    return response


def sweep_signed_out(app: Flask, world: World, blueprint: str, problems: Problems) -> None:
    """GETs answer; POSTs (with a valid CSRF token, so that the sign-in check is what is
    tried) go to /login or are refused, and change nothing. Public forms answer."""
    client = app.test_client()
    token = csrf_token(client)
    for route in routes_of(app, blueprint):
        for url in urls(route, world):
            label = f"signed out: {route.method} {url}"
            if route.method == "GET":
                response = problems.attempt(label, request, client, route, url)
                if response is not RAISED and response.status_code >= 500:
                    problems.append(f"{label}: {response.status_code}")
                continue
            response = refused_unchanged(
                app, problems, label, request, client, route, url, data={"csrf_token": token}
            )
            if response is RAISED:
                continue
            status = response.status_code
            if route.endpoint in PUBLIC_POSTS:
                if status not in (200, 302, 400, 422):
                    problems.append(f"{label}: {status} for an empty public form")
            elif status == 302:
                if urlsplit(response.headers["Location"]).path != "/login":
                    problems.append(f"{label}: redirected to {response.headers['Location']}")
            elif status not in (400, 401, 403, 404):
                problems.append(f"{label}: {status}")


def sweep_missing_csrf(app: Flask, world: World, blueprint: str, problems: Problems) -> None:
    """Signed in, a POST without the CSRF token is refused (400) and changes nothing."""
    client = signed_in(app, world)
    for route in routes_of(app, blueprint, "POST"):
        if route.endpoint in CSRF_EXEMPT:
            continue
        for url in urls(route, world):
            label = f"no CSRF token: POST {url}"
            response = refused_unchanged(
                app, problems, label, request, client, route, url, data={"body": "x"}
            )
            if response is not RAISED and response.status_code != 400:
                problems.append(f"{label}: {response.status_code}")


def sweep_json_bodies(app: Flask, world: World, blueprint: str, problems: Problems) -> None:
    """A JSON body, signed out or in (with the token in the header), is refused with 415."""
    anonymous = app.test_client()
    client = signed_in(app, world)
    token = csrf_token(client)
    body = {"body": 1, "csrf_token": token, "name": 1, "up_to_id": 1}
    for route in routes_of(app, blueprint, "POST"):
        for url in urls(route, world):
            for who, sender, headers in (
                ("signed out", anonymous, {}),
                ("signed in", client, {"X-CSRFToken": token}),
            ):
                label = f"JSON body {who}: POST {url}"
                response = refused_unchanged(
                    app, problems, label, request, sender, route, url, json=body, headers=headers
                )
                if response is not RAISED and response.status_code != 415:
                    problems.append(f"{label}: {response.status_code}")


def sweep_huge_path_ids(app: Flask, world: World, blueprint: str, problems: Problems) -> None:
    """An id past what the database holds matches no route. Where a rule for another
    method has the same path (GET and POST /messages/<id>), Werkzeug answers 405 rather
    than 404: a refusal all the same."""
    client = signed_in(app, world)
    token = csrf_token(client)
    for route in routes_of(app, blueprint):
        for name in int_variables(route):
            for huge in HUGE:
                for url in urls(route, world, **{name: huge}):
                    label = f"huge id: {route.method} {url}"
                    data = {"csrf_token": token} if route.method == "POST" else None
                    response = problems.attempt(label, request, client, route, url, data=data)
                    if response is not RAISED and response.status_code not in (404, 405):
                        problems.append(f"{label}: {response.status_code}")


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_requests_to_refuse_are_refused_and_change_nothing(app, world, blueprint):
    """Signed out, without a CSRF token, with a JSON body, with an id too large to exist."""
    problems = Problems()
    sweep_signed_out(app, world, blueprint, problems)
    sweep_missing_csrf(app, world, blueprint, problems)
    sweep_json_bodies(app, world, blueprint, problems)
    sweep_huge_path_ids(app, world, blueprint, problems)
    problems.check()


@contextmanager
def every_block_rendered_alone(app: Flask, problems: Problems) -> Iterator[None]:
    """While active, every template a request renders also has each of its blocks rendered
    alone, as HTMX asks for them, with the page's own context."""

    def render_each_block(sender, template, context, **extra):
        for block in template.blocks:
            try:
                render_block(app.jinja_env, template.name, block, **context)
            except Exception as error:
                problems.append(f"{template.name} block {block!r}: {type(error).__name__}: {error}")

    template_rendered.connect(render_each_block, app)
    try:
        yield
    finally:
        template_rendered.disconnect(render_each_block, app)


HTMX = {"HX-Request": "true"}
# (a number for every name in NUMBER_NAMES or None, headers, render each block alone)
VARIANTS = [
    (None, {}, True),  # the page as linked
    (PAST_EVERY_ROW, {}, True),  # the page further on
    (PAST_EVERY_ROW, HTMX, False),  # "load more" and other fragments
    *((huge, headers, False) for huge in (2**31, 2**63) for headers in ({}, HTMX)),
]


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_numbers_never_fail_and_every_block_renders_alone(app, world, blueprint):
    """Every route signed in, with every number-like name in its query (and form) past
    every row or past what the databases hold (2**31 for PostgreSQL's INTEGER, 2**63 for
    SQLite), plain and over HTMX; and every block of every page reached rendered alone.
    Larger numbers take the same path (tests/test_inputs.py tries them on the parser)."""
    client = signed_in(app, world)
    token = csrf_token(client)
    problems = Problems()
    for route in routes_of(app, blueprint):
        for url in urls(route, world):
            for number, headers, render_blocks in VARIANTS:
                if render_blocks and route.method != "GET":
                    continue
                numbers = {name: number for name in NUMBER_NAMES} if number else {}
                data = {**numbers, "csrf_token": token} if route.method == "POST" else None
                given = f" with {'/'.join(NUMBER_NAMES)}={number}" if number else ""
                label = f"{route.method} {url}{given}{' over HTMX' if headers else ''}"
                with every_block_rendered_alone(app, problems) if render_blocks else nullcontext():
                    response = problems.attempt(
                        label,
                        request,
                        client,
                        route,
                        url,
                        query_string=numbers,
                        data=data,
                        headers=headers,
                    )
                if response is not RAISED and response.status_code >= 500:
                    problems.append(f"{label}: {response.status_code}")
    problems.check()


# The sweep of Socket.IO events


BAD_NUMBERS = (*HUGE, -1, True, "1", None, 1.5, [1], {})
ID_KEYS = ("room_id", "conversation_id", "message_id", "after_id")


def _good_payload(world: World) -> dict:
    return {
        "room_id": world.room,
        "conversation_id": world.group,
        "message_id": world.room_message,
        "after_id": 0,
        "body": "hi",
        "away": True,
    }


def _answered(reply) -> bool:
    return isinstance(reply, dict) and (
        isinstance(reply.get("error"), str) or reply.get("ok") is True
    )


def tab(app: Flask, world: World):
    socket = socketio.test_client(app, flask_test_client=signed_in(app, world))
    assert socket.is_connected()
    return socket


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_answers_whatever_it_is_sent(app, world, event):
    """No payload, payloads of the wrong shape, ids of every wrong kind: each gets an
    acknowledgement. Then, signed out elsewhere, the same socket's event is refused."""
    socket = tab(app, world)
    problems = Problems()
    shapes: list[tuple[str, tuple]] = [
        ("no payload", ()),
        ("None", (None,)),
        ("[]", ([],)),
        ('"x"', ("x",)),
        ("7", (7,)),
        ("{}", ({},)),
    ]
    for key in ID_KEYS:
        for bad in BAD_NUMBERS:
            shapes.append((f"{key}={bad!r}", ({**_good_payload(world), key: bad},)))
    shapes.append(("a good payload", (_good_payload(world),)))
    for label, args in shapes:
        reply = problems.attempt(f"{event} {label}", socket.emit, event, *args, callback=True)
        if reply is not RAISED and not _answered(reply):
            problems.append(f"{event} {label}: answered {reply!r}")

    with app.app_context():  # the sign-in ends elsewhere, with no socket told
        factories.end_sign_ins(db.session.get(User, world.alice))
    label = f"{event} signed out"
    reply = refused_unchanged(
        app, problems, label, socket.emit, event, _good_payload(world), callback=True
    )
    if reply is not RAISED and not (
        isinstance(reply, dict) and "signed out" in reply.get("error", "")
    ):
        problems.append(f"{label}: answered {reply!r}")
    problems.check()


def test_the_write_check_sees_writes(app, world):
    client = signed_in(app, world)
    token = csrf_token(client)
    with count_queries(app) as log:
        client.post(f"/p/{world.post}/like", data={"csrf_token": token})
        client.post("/posts", data={"csrf_token": token, "body": "more tea"})
    written = written_tables(log.statements)
    assert "post_likes" in written and "posts" in written, written
