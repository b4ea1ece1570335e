"""Integers from clients are bounded in one place (issue 8, item 13), and routes read
form bodies only (item 14).

A database raises on a number its column cannot hold: an id or cursor of 2**31 (PostgreSQL,
whose INTEGER ids are 32 bits) or 2**63 (SQLite as well) from a path, a query string, a form
or a Socket.IO event was a 500. tests/test_route_sweep.py tries every route and event;
these are the named cases.
"""

from __future__ import annotations

import json

import pytest
from flask import url_for
from sqlalchemy import Integer
from sqlalchemy import select
from sqlalchemy import SmallInteger
from werkzeug.exceptions import NotFound

from qosyl.actions import posts as post_actions
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import User
from qosyl.web.inputs import event_int
from qosyl.web.inputs import MAX_ID
from qosyl.web.inputs import MAX_PAGE
from qosyl.web.inputs import text_int
from tests import factories
from tests.factories import make_room
from tests.factories import say_in_room
from tests.factories import start_conversation
from tests.factories import write_message
from tests.helpers import csrf_token
from tests.helpers import hx_get
from tests.helpers import post
from tests.helpers import signed_in_tab

HUGE = [2**31, 2**63, 2**64, 10**30]
HUGE_IDS = ["2^31", "2^63", "2^64", "10^30"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (" 42 ", 42),
        ("00042", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (str(2**31), None),
        ("99999999999999999999999", None),
        ("9" * 5000, None),  # beyond Python's own limit on int("...")
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("1e3", None),
        ("٣", None),  # an Arabic-Indic digit: int() reads it, URLs and forms do not
        ("", None),
        ("x", None),
        (None, None),
    ],
)
def test_text_int_reads_ascii_whole_numbers_in_range(text, expected):
    assert text_int(text) == expected


def test_text_int_takes_the_bounds_it_is_given():
    assert text_int("-3", minimum=-5) == -3
    assert text_int("7", minimum=1, maximum=5) is None
    assert text_int("0", minimum=1) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        (0, 0),
        (MAX_ID, MAX_ID),
        (MAX_ID + 1, None),
        (2**31, None),
        (10**30, None),
        (-1, None),
        (True, None),
        (False, None),
        ("5", None),  # events carry JSON numbers, as the client sends them
        (5.0, None),
        (None, None),
        ([5], None),
        ({"id": 5}, None),
    ],
)
def test_event_int_takes_json_integers_in_range_only(value, expected):
    assert event_int(value) == expected


def test_no_id_column_is_narrower_than_max_id(app):
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, Integer) and (column.primary_key or column.foreign_keys):
                    assert not isinstance(column.type, SmallInteger), column


# Paths


@pytest.mark.parametrize("huge", HUGE, ids=HUGE_IDS)
@pytest.mark.parametrize(
    "path",
    [
        "/p/{}",
        "/p/{}/card",
        "/comments/{}",
        "/rooms/{}",
        "/rooms/{}/messages",
        "/messages/{}",
        "/messages/{}/history",
    ],
)
def test_a_huge_id_in_a_path_is_not_found(logged_in, path, huge):
    assert logged_in.get(path.format(huge)).status_code == 404


def test_int_path_variables_stop_at_the_largest_id(app, logged_in):
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/p/{MAX_ID}") == ("posts.show", {"post_id": MAX_ID})
    with pytest.raises(NotFound):
        urls.match(f"/p/{MAX_ID + 1}")
    # The largest id is looked up like any other: nothing there.
    assert logged_in.get(f"/p/{MAX_ID}").status_code == 404
    with app.app_context():
        assert url_for("posts.show", post_id=MAX_ID) == f"/p/{MAX_ID}"


# Query strings and forms


@pytest.mark.parametrize("huge", HUGE, ids=HUGE_IDS)
def test_a_huge_cursor_reads_as_no_cursor(app, logged_in, user, huge):
    room_id = make_room(app, user)
    say_in_room(app, user, room_id, "hello there")
    for url in (
        f"/activity?before={huge}",
        f"/notifications?before={huge}",
        f"/u/alice?before={huge}",
        f"/u/alice/followers?before={huge}",
        f"/tags/tea?before={huge}",
        f"/?before={huge}",
    ):
        assert logged_in.get(url).status_code == 200, url
        assert hx_get(logged_in, url).status_code == 200, url
    html = hx_get(logged_in, f"/rooms/{room_id}/messages?before={huge}").get_data(as_text=True)
    assert "hello there" in html
    assert hx_get(logged_in, f"/feed?before={huge}").status_code == 200


@pytest.mark.parametrize("number", [str(MAX_PAGE + 1), str(2**63), "1" + "0" * 30, "-3", "x"])
def test_a_page_out_of_range_reads_as_the_first(logged_in, number):
    assert logged_in.get(f"/rooms?page={number}").status_code == 200
    assert logged_in.get(f"/search?q=tea&page={number}").status_code == 200
    first = hx_get(logged_in, "/search?q=alice").get_data(as_text=True)
    assert hx_get(logged_in, f"/search?q=alice&page={number}").get_data(as_text=True) == first


def test_a_huge_read_position_is_refused(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    write_message(app, other_user, conversation_id, "hi")
    for huge in HUGE:
        response = post(logged_in, f"/messages/{conversation_id}/read", {"up_to_id": huge})
        assert response.status_code == 400


def test_a_huge_reply_parent_is_not_found(app, logged_in, user):
    with app.app_context():
        post_id = post_actions.create_post(db.session.get(User, user.id), "a post", None).id
    for huge in HUGE:
        response = post(
            logged_in, f"/p/{post_id}/comments", {"parent_id": huge, "comment-body": "hi"}
        )
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Comment)).all() == []


# Socket.IO events


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ("room:subscribe", "room_id"),
        ("room:subscribe", "after_id"),
        ("room:unsubscribe", "room_id"),
        ("room:send", "room_id"),
        ("room:delete", "message_id"),
        ("conversation:subscribe", "conversation_id"),
        ("conversation:subscribe", "after_id"),
        ("conversation:typing", "conversation_id"),
    ],
)
def test_events_with_huge_ids_are_answered(app, user, other_user, event, field):
    room_id = make_room(app, user)
    conversation_id = start_conversation(app, user, other_user)
    socket = signed_in_tab(app, user)
    for huge in HUGE:
        data = {"room_id": room_id, "conversation_id": conversation_id, "body": "hi"}
        data[field] = huge
        reply = socket.emit(event, data, callback=True)
        assert isinstance(reply, dict) and ("error" in reply or reply.get("ok")), reply


@pytest.mark.parametrize(
    "event",
    [
        "presence:away",
        "room:subscribe",
        "room:unsubscribe",
        "room:send",
        "room:delete",
        "conversation:subscribe",
        "conversation:unsubscribe",
        "conversation:typing",
    ],
)
def test_events_without_a_payload_are_answered(app, user, event):
    reply = signed_in_tab(app, user).emit(event, callback=True)
    assert isinstance(reply, dict) and ("error" in reply or reply.get("ok")), reply


def test_an_error_in_a_handler_is_logged_and_answered(app, user, monkeypatch, caplog):
    import qosyl.live.presence

    def broken(*args, **kwargs):
        raise RuntimeError("presence store is down")

    socket = signed_in_tab(app, user)
    monkeypatch.setattr(qosyl.live.presence, "tab_state", broken)
    app.testing = False  # testing re-raises, as the HTTP error handler does
    reply = socket.emit("presence:away", {"away": True}, callback=True)
    assert reply == {"error": "Something went wrong on our side. Try again in a moment."}
    assert "presence store is down" in caplog.text and "presence:away" in caplog.text


def test_an_error_in_a_handler_is_raised_in_tests(app, user, monkeypatch):
    import qosyl.live.presence

    def broken(*args, **kwargs):
        raise RuntimeError("presence store is down")

    socket = signed_in_tab(app, user)
    monkeypatch.setattr(qosyl.live.presence, "tab_state", broken)
    with pytest.raises(RuntimeError, match="presence store is down"):
        socket.emit("presence:away", {"away": True}, callback=True)


# Bodies


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/xml", "application/x-unknown"]
)
def test_a_form_route_refuses_a_body_that_is_not_a_form(app, logged_in, user, content_type):
    token = csrf_token(logged_in)
    response = logged_in.post(
        "/posts",
        data=json.dumps({"body": 1, "csrf_token": token}),
        headers={"Content-Type": content_type, "X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert b"form" in response.data


def test_a_json_body_over_htmx_gets_a_toast(logged_in):
    token = csrf_token(logged_in)
    response = logged_in.post(
        "/posts",
        json={"body": 1},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 415
    assert "form" in response.headers["X-Qosyl-Message"]


def test_form_bodies_and_empty_bodies_pass(app, logged_in, user):
    token = csrf_token(logged_in)
    assert post(logged_in, "/posts", {"body": "urlencoded"}).status_code == 302
    response = post(logged_in, "/posts", {"body": "multipart"}, content_type="multipart/form-data")
    assert response.status_code == 302
    # An empty body with any type (a bodiless fetch, say) is no body to refuse.
    response = logged_in.post(
        "/notifications/read-all",
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 302


def test_json_bodies_are_refused_before_csrf_and_sign_in(client):
    response = client.post("/posts", json={"body": 1})
    assert response.status_code == 415


def test_the_json_api_reads_json_bodies_and_pages_still_refuse_them(app, logged_in, user):
    """/api/ parses JSON through its own schemas; the form-only rule stays for the pages."""
    from tests.helpers import ApiClient

    api = ApiClient(app, user)
    response = api.put(f"/api/users/{user.id}/", json={"bio": "From the API"})
    assert response.status_code == 200 and response.json["bio"] == "From the API"
    token = csrf_token(logged_in)
    response = logged_in.post("/notifications/read-all", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 415


def test_socket_io_polling_still_posts_its_own_bodies(app, user):
    """Socket.IO's long-polling transport POSTs text/plain to /socket.io/, which its own
    middleware serves before Flask: the form-only rule must not reach it."""
    client = app.test_client()
    factories.login(client, user)
    opened = client.get("/socket.io/?EIO=4&transport=polling")
    assert opened.status_code == 200
    sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
    response = client.post(
        f"/socket.io/?EIO=4&transport=polling&sid={sid}",
        data="40",
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 200 and response.get_data(as_text=True) == "OK"
    connected = client.get(f"/socket.io/?EIO=4&transport=polling&sid={sid}")
    assert connected.get_data(as_text=True).startswith("40{")  # the connect was accepted


# Overload: no database connection free within the pool's timeout


def _pool_exhausted(*args, **kwargs):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    raise PoolTimeout("QueuePool limit of size 1 overflow 0 reached")


def test_a_busy_database_asks_a_socket_sender_to_try_again(app, user, monkeypatch, caplog):
    import qosyl.live.presence

    socket = signed_in_tab(app, user)
    monkeypatch.setattr(qosyl.live.presence, "tab_state", _pool_exhausted)
    reply = socket.emit("presence:away", {"away": True}, callback=True)
    # Answered even under testing (which re-raises real failures): it is no failure.
    assert reply == {"error": "The server is busy. Try again in a moment.", "retry_after": 2}
    assert "busy" in caplog.text and "Traceback" not in caplog.text


def _connection_dropped(*args, **kwargs):
    from sqlalchemy.exc import OperationalError

    # As SQLAlchemy raises it when PostgreSQL ended the backend (pg_terminate_backend).
    raise OperationalError(
        "SELECT 1",
        {},
        Exception("terminating connection due to administrator command"),
        connection_invalidated=True,
    )


def test_a_dropped_database_connection_answers_503_not_an_error(logged_in, monkeypatch, caplog):
    import qosyl.render.templating

    monkeypatch.setattr(qosyl.render.templating, "header_badges", _connection_dropped)
    response = logged_in.get("/about")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "Traceback" not in caplog.text


def test_a_dropped_database_connection_asks_a_socket_sender_to_try_again(app, user, monkeypatch):
    import qosyl.live.presence

    socket = signed_in_tab(app, user)
    monkeypatch.setattr(qosyl.live.presence, "tab_state", _connection_dropped)
    reply = socket.emit("presence:away", {"away": True}, callback=True)
    assert reply == {"error": "The server is busy. Try again in a moment.", "retry_after": 2}


def test_a_busy_database_answers_pages_503_with_retry_after(logged_in, monkeypatch, caplog):
    import qosyl.render.templating

    monkeypatch.setattr(qosyl.render.templating, "header_badges", _pool_exhausted)
    response = logged_in.get("/about")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "The server is busy. Try again in a moment." in response.get_data(as_text=True)
    api = logged_in.get("/about", headers={"HX-Request": "true"})
    assert api.status_code == 503
    assert api.headers["X-Qosyl-Message"] == "The server is busy. Try again in a moment."
    assert "Traceback" not in caplog.text


def test_a_connection_dropped_before_the_requests_closing_rollback_still_answers(
    app, logged_in, monkeypatch, caplog
):
    """The connection dies after the page's last query, before the rollback that ends every
    request (a backend terminated, PostgreSQL restarted): the page was made, so it is sent.
    That rollback raised out of Flask's teardown, past every error handler: a bare 500 from
    the server (once in CI, tests/e2e/test_cluster_faults.py)."""
    import qosyl.render.templating

    badges = qosyl.render.templating.header_badges

    def badges_then_connection_lost(*args, **kwargs):
        counts = badges(*args, **kwargs)
        # The driver's own connection, closed under SQLAlchemy's feet.
        db.session.connection().connection.dbapi_connection.close()
        return counts

    monkeypatch.setattr(qosyl.render.templating, "header_badges", badges_then_connection_lost)
    with app.app_context():
        pool = db.engine.pool
    response = logged_in.get("/about")
    assert response.status_code == 200
    assert "connection lost" in caplog.text
    # The dead connection went back to the pool (to be replaced), not left checked out.
    assert pool.checkedout() == 0
    monkeypatch.setattr(qosyl.render.templating, "header_badges", badges)
    assert logged_in.get("/about").status_code == 200  # the pool made a new connection
