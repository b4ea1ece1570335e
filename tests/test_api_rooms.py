"""Rooms through the JSON API: browsing, search and topics, hosting, joining and leaving,
members and their moderation, and the chat (history, catch-up, send, edit, delete); what
another user, a non-member, a removed participant, a blocked user and bad input get."""

from __future__ import annotations

from datetime import timedelta

import pytest

from qosyl.actions import rooms as room_actions
from qosyl.actions import UNSTORABLE_TEXT
from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.blueprints.api.core import encode_cursor
from qosyl.extensions import db
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from tests import factories
from tests.factories import make_lobby
from tests.factories import make_room
from tests.factories import say_in_room
from tests.factories import with_room
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import post


def join(app, person, room_id) -> None:
    with_room(app, room_id, room_actions.join, person)


def remove(app, room_id, person) -> None:
    with_room(app, room_id, room_actions.remove_member, person)


def bodies(app, room_id) -> list[str]:
    with app.app_context():
        return [
            m.body
            for m in db.session.scalars(
                db.select(RoomMessage)
                .where(RoomMessage.room_id == room_id)
                .order_by(RoomMessage.id)
            )
        ]


def web_message(app, person, url: str, data: dict) -> str:
    """The message the web form shows for `data` posted to `url` (HTMX, 422)."""
    client = app.test_client()
    factories.login(client, person)
    response = post(client, url, data, htmx=True)
    assert response.status_code == 422, response.status_code
    return response.get_data(as_text=True)


# Listing, search, topics


def test_rooms_list_latest_activity_first_with_a_stable_cursor(app, user, other_user):
    ids = [make_room(app, user, name=f"Room {n}", topic="Tea") for n in range(4)]
    say_in_room(app, user, ids[0], "wake up")  # Room 0 is now the most recent
    api = ApiClient(app, other_user)
    first = api.get("/api/rooms/?limit=2").json
    assert [r["name"] for r in first["items"]] == ["Room 0", "Room 3"]
    assert first["items"][0]["members"] == 1 and first["items"][0]["host"]["username"] == "alice"
    assert first["items"][0]["topic"] == "Tea" and first["items"][0]["last_message_at"]
    make_room(app, user, name="Latecomer")  # a new room does not shift the next page
    second = api.get(f"/api/rooms/?limit=2&cursor={first['next']}").json
    assert [r["name"] for r in second["items"]] == ["Room 2", "Room 1"]
    assert second["next"] is None


def test_rooms_filter_by_topic_and_search(app, user, other_user):
    make_room(app, user, name="Green tea", topic="Tea", description="Sencha")
    make_room(app, user, name="Snakes", topic="Python", description="Programming talk")
    api = ApiClient(app, other_user)
    by_topic = api.get("/api/rooms/?topic=python").json
    assert [r["name"] for r in by_topic["items"]] == ["Snakes"]
    found = api.get("/api/rooms/?q=sencha").json
    assert [r["name"] for r in found["items"]] == ["Green tea"] and found["next"] is None
    assert api.get("/api/rooms/?q=%23python").json["items"][0]["name"] == "Snakes"


def test_bad_list_arguments_are_refused(app, user):
    api = ApiClient(app, user)
    assert "limit" in api_error(api.get("/api/rooms/?limit=0"), 422)["fields"]
    assert "limit" in api_error(api.get("/api/rooms/?limit=101"), 422)["fields"]
    api_error(api.get("/api/rooms/?cursor=garbage"), 400)
    api_error(api.get("/api/rooms/?cursor=WzFd"), 400)  # [1]: wrong shape


def test_the_rooms_list_runs_the_same_queries_for_3_or_25_rooms(app, user, make_user):
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            assert api.get("/api/rooms/?limit=30").status_code == 200
        return len(log)

    for n in range(3):
        say_in_room(app, user, make_room(app, user, name=f"few{n}", topic=f"T{n}"), "hi")
    few = queries()
    for n in range(22):
        make_room(app, make_user(username=f"host{n}"), name=f"many{n}", topic=f"M{n}")
    assert queries() == few <= 3


def test_topics_with_their_room_counts_and_the_trending_ones(app, user, other_user):
    room_id = make_room(app, user, topic="Tea")
    make_room(app, user, name="More", topic="tea")
    make_room(app, user, name="Code", topic="Python")
    say_in_room(app, user, room_id, "busy")
    body = ApiClient(app, other_user).get("/api/topics/").json
    assert body["items"] == [{"name": "Python", "rooms": 1}, {"name": "Tea", "rooms": 2}]
    assert body["trending"] == [{"name": "Tea", "messages": 1}]


# Creating, showing, editing, deleting


def test_i_open_a_room_and_host_it(app, user, other_user):
    response = ApiClient(app, user).post(
        "/api/rooms/", json={"name": "  Tea   lovers ", "topic": "Tea", "description": "Oolong"}
    )
    assert response.status_code == 201, response.json
    room = response.json
    assert room["name"] == "Tea lovers" and room["topic"] == "Tea" and room["members"] == 1
    assert room["viewer"] == {
        "is_host": True,
        "is_member": True,
        "removed": False,
        "can_read": True,
    }
    seen = ApiClient(app, other_user).get(f"/api/rooms/{room['id']}/").json
    assert seen["host"]["username"] == "alice"
    assert seen["viewer"] == {
        "is_host": False,
        "is_member": False,
        "removed": False,
        "can_read": False,
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "topic": "Tea"}, "name", "Give the room a name."),
        ({"topic": "Tea"}, "name", "Give the room a name."),
        ({"name": "x" * 81, "topic": "Tea"}, "name", "Use at most 80 characters."),
        ({"name": "Ok", "topic": " "}, "topic", "Pick a topic or type a new one."),
        ({"name": "Ok", "topic": "t" * 51}, "topic", "Use at most 50 characters."),
        ({"name": "Ok", "topic": "T", "description": "d" * 2001}, "description", None),
    ],
)
def test_bad_room_input_gets_the_web_forms_message(app, user, data, field, message):
    error = api_error(ApiClient(app, user).post("/api/rooms/", json=data), 422)
    assert set(error["fields"]) == {field}
    if message is None:
        message = "Use at most 2,000 characters."
    assert error["fields"][field] == message
    form = {key: value for key, value in data.items()}
    assert message in web_message(app, user, "/rooms/new", form)
    assert count_rows(app, Room) == 0 and count_rows(app, Topic) == 0


def test_the_host_edits_a_room_leaving_out_what_stays(app, user):
    room_id = make_room(app, user)
    api = ApiClient(app, user)
    response = api.patch(f"/api/rooms/{room_id}/", json={"topic": "Coffee"})
    assert response.status_code == 200, response.json
    assert response.json["topic"] == "Coffee" and response.json["name"] == "Tea lovers"
    response = api.put(f"/api/rooms/{room_id}/", json={"name": "Brews", "description": ""})
    assert response.json["name"] == "Brews" and response.json["description"] == ""
    error = api_error(api.patch(f"/api/rooms/{room_id}/", json={"name": " "}), 422)
    assert error["fields"] == {"name": "Give the room a name."}
    with app.app_context():
        assert db.session.get(Room, room_id).name == "Brews"


def test_only_the_host_edits_or_deletes_a_room(app, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    api = ApiClient(app, other_user)
    api_error(api.patch(f"/api/rooms/{room_id}/", json={"name": "Mine now"}), 403)
    api_error(api.delete(f"/api/rooms/{room_id}/"), 403)
    with app.app_context():
        assert db.session.get(Room, room_id).name == "Tea lovers"
    assert ApiClient(app, user).delete(f"/api/rooms/{room_id}/").status_code == 204
    assert count_rows(app, Room) == 0
    api_error(api.get(f"/api/rooms/{room_id}/"), 404)


def test_the_lobby_cannot_be_deleted(app, user):
    lobby_id = make_lobby(app, user)
    error = api_error(ApiClient(app, user).delete(f"/api/rooms/{lobby_id}/"), 409)
    assert error["message"] == "The lobby cannot be deleted."


def test_a_blocked_user_still_sees_and_joins_a_room_as_on_the_web(app, user, other_user):
    """Rooms are public to signed-in users: a block hides people, not rooms (as the pages)."""
    room_id = make_room(app, user)
    factories.block(app, user, other_user)
    api = ApiClient(app, other_user)
    assert api.get(f"/api/rooms/{room_id}/").status_code == 200
    assert api.post(f"/api/rooms/{room_id}/join/").json["viewer"]["is_member"] is True
    # ... and the host, who blocked them, still moderates them.
    host = ApiClient(app, user)
    assert host.post(f"/api/rooms/{room_id}/members/{other_user.id}/remove/").status_code == 204
    api_error(api.get(f"/api/rooms/{room_id}/messages/"), 404)


# Membership


def test_join_and_leave(app, user, other_user):
    room_id = make_room(app, user)
    api = ApiClient(app, other_user)
    response = api.post(f"/api/rooms/{room_id}/join/")
    assert response.status_code == 200, response.json
    assert response.json["viewer"]["is_member"] is True and response.json["members"] == 2
    assert api.post(f"/api/rooms/{room_id}/join/").status_code == 200  # twice is once
    assert api.post(f"/api/rooms/{room_id}/leave/").status_code == 204
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, other_user.id)) is None
    api_error(api.post("/api/rooms/999999/join/"), 404)


def test_the_host_leaving_hands_the_room_over(app, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    assert ApiClient(app, user).post(f"/api/rooms/{room_id}/leave/").status_code == 204
    room = ApiClient(app, other_user).get(f"/api/rooms/{room_id}/").json
    assert room["host"]["username"] == "bob" and room["viewer"]["is_host"] is True


def test_a_removed_participant_is_refused_until_let_back(app, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    host, bob = ApiClient(app, user), ApiClient(app, other_user)
    assert host.post(f"/api/rooms/{room_id}/members/{other_user.id}/remove/").status_code == 204
    assert bob.get(f"/api/rooms/{room_id}/").json["viewer"] == {
        "is_host": False,
        "is_member": False,
        "removed": True,
        "can_read": False,
    }
    error = api_error(bob.post(f"/api/rooms/{room_id}/join/"), 409)
    assert error["message"] == "The host removed you from this room."
    assert bob.post(f"/api/rooms/{room_id}/leave/").status_code == 204  # the removal stays
    api_error(bob.post(f"/api/rooms/{room_id}/join/"), 409)
    api_error(bob.get(f"/api/rooms/{room_id}/messages/"), 404)
    api_error(bob.post(f"/api/rooms/{room_id}/messages/", json={"body": "hi"}), 404)
    assert host.post(f"/api/rooms/{room_id}/members/{other_user.id}/readmit/").status_code == 204
    assert bob.get(f"/api/rooms/{room_id}/").json["viewer"]["can_read"] is True
    assert bob.post(f"/api/rooms/{room_id}/messages/", json={"body": "back"}).status_code == 201


def test_only_the_host_moderates_and_only_participants(app, user, other_user, make_user):
    carol = make_user(username="carol")
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    bob = ApiClient(app, other_user)
    api_error(bob.post(f"/api/rooms/{room_id}/members/{user.id}/remove/"), 403)
    api_error(bob.post(f"/api/rooms/{room_id}/members/{other_user.id}/readmit/"), 403)
    host = ApiClient(app, user)
    api_error(host.post(f"/api/rooms/{room_id}/members/{carol.id}/remove/"), 404)  # never joined
    error = api_error(host.post(f"/api/rooms/{room_id}/members/{user.id}/remove/"), 409)
    assert error["message"] == "You host this room: hand it over or delete it instead."
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, carol.id)) is None


def test_members_by_join_time_with_a_cursor_and_removed_ones_for_the_host(
    app, user, other_user, make_user
):
    room_id = make_room(app, user)
    people = [other_user] + [make_user(username=f"m{n}") for n in range(3)]
    for person in people:
        join(app, person, room_id)
    remove(app, room_id, people[1])
    api = ApiClient(app, other_user)
    first = api.get(f"/api/rooms/{room_id}/members/?limit=2").json
    assert [m["user"]["username"] for m in first["items"]] == ["alice", "bob"]
    assert first["items"][0]["is_host"] is True and first["items"][0]["joined_at"]
    join(app, make_user(username="late"), room_id)
    second = api.get(f"/api/rooms/{room_id}/members/?limit=2&cursor={first['next']}").json
    assert [m["user"]["username"] for m in second["items"]] == ["m1", "m2"]
    third = api.get(f"/api/rooms/{room_id}/members/?limit=2&cursor={second['next']}").json
    assert [m["user"]["username"] for m in third["items"]] == ["late"] and third["next"] is None
    # Only the host sees whom they removed.
    asked = api.get(f"/api/rooms/{room_id}/members/?removed=true&limit=100").json["items"]
    assert "m0" not in [m["user"]["username"] for m in asked]
    hosts = ApiClient(app, user).get(f"/api/rooms/{room_id}/members/?removed=true").json["items"]
    assert [(m["user"]["username"], m["removed"]) for m in hosts if m["removed"]] == [("m0", True)]
    for keys in (["x", 1], ["2026-01-01T00:00:00", 1], ["0001-01-01T00:00:00+14:00", 1]):
        cursor = encode_cursor(*keys)  # not a time, no zone, out of range in UTC
        api_error(api.get(f"/api/rooms/{room_id}/members/?cursor={cursor}"), 400)
    api_error(api.get("/api/rooms/999999/members/"), 404)


def test_the_lobbys_members_are_its_recent_writers(app, user, other_user, make_user):
    lobby_id = make_lobby(app, user)
    say_in_room(app, other_user, lobby_id, "hello all")
    carol = make_user(username="carol")
    remove(app, lobby_id, carol)
    items = ApiClient(app, user).get(f"/api/rooms/{lobby_id}/members/?removed=1").json
    assert [(m["user"]["username"], m["removed"]) for m in items["items"]] == [
        ("bob", False),
        ("carol", True),
    ]
    assert items["next"] is None
    assert ApiClient(app, carol).get(f"/api/rooms/{lobby_id}/").json["viewer"]["can_read"] is False


def test_members_run_the_same_queries_for_3_or_25(app, user, make_user):
    room_id = make_room(app, user)
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            assert api.get(f"/api/rooms/{room_id}/members/?limit=30").status_code == 200
        return len(log)

    for n in range(2):
        join(app, make_user(username=f"few{n}"), room_id)
    few = queries()
    for n in range(22):
        join(app, make_user(username=f"many{n}"), room_id)
    assert queries() == few <= 3


# The chat


def test_history_newest_first_going_back_and_catching_up_forward(app, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    ids = [say_in_room(app, user, room_id, f"m{n}") for n in range(5)]
    api = ApiClient(app, other_user)
    first = api.get(f"/api/rooms/{room_id}/messages/?limit=2").json
    assert [m["body"] for m in first["items"]] == ["m4", "m3"]
    message = first["items"][0]
    assert message["kind"] == "room" and message["stream_id"] == room_id
    assert message["author"]["username"] == "alice" and message["attachments"] == []
    assert "body_html" not in message and message["edited_at"] is None
    say_in_room(app, user, room_id, "newer")  # does not shift the pages going back
    second = api.get(f"/api/rooms/{room_id}/messages/?limit=2&cursor={first['next']}").json
    assert [m["body"] for m in second["items"]] == ["m2", "m1"]
    last = api.get(f"/api/rooms/{room_id}/messages/?limit=2&cursor={second['next']}").json
    assert [m["body"] for m in last["items"]] == ["m0"] and last["next"] is None
    # A client back from a drop asks for what came after the last id it has.
    ahead = api.get(f"/api/rooms/{room_id}/messages/?limit=2&after_id={ids[1]}").json
    assert [m["body"] for m in ahead["items"]] == ["m2", "m3"]
    rest = api.get(f"/api/rooms/{room_id}/messages/?limit=2&cursor={ahead['next']}").json
    assert [m["body"] for m in rest["items"]] == ["m4", "newer"] and rest["next"] is None
    api_error(api.get(f"/api/rooms/{room_id}/messages/?cursor=WyJ4IiwgMV0"), 400)
    assert (
        "after_id"
        in api_error(api.get(f"/api/rooms/{room_id}/messages/?after_id=-1"), 422)["fields"]
    )


def test_non_members_see_no_history_and_cannot_write(app, user, other_user):
    room_id = make_room(app, user)
    message_id = say_in_room(app, user, room_id, "members only")
    api = ApiClient(app, other_user)
    api_error(api.get(f"/api/rooms/{room_id}/messages/"), 404)
    api_error(api.get(f"/api/rooms/{room_id}/messages/{message_id}/"), 404)
    api_error(api.post(f"/api/rooms/{room_id}/messages/", json={"body": "let me in"}), 404)
    api_error(api.delete(f"/api/rooms/{room_id}/messages/{message_id}/"), 404)
    assert bodies(app, room_id) == ["members only"]
    # The web says the same.
    client = app.test_client()
    factories.login(client, other_user)
    assert client.get(f"/rooms/{room_id}/messages", headers={"HX-Request": "true"}).status_code == (
        404
    )


def test_the_lobby_is_open_to_everyone_not_removed(app, user, other_user):
    lobby_id = make_lobby(app, user)
    api = ApiClient(app, other_user)
    assert api.post(f"/api/rooms/{lobby_id}/messages/", json={"body": "hi"}).status_code == 201
    assert [m["body"] for m in api.get(f"/api/rooms/{lobby_id}/messages/").json["items"]] == ["hi"]
    remove(app, lobby_id, other_user)
    api_error(api.get(f"/api/rooms/{lobby_id}/messages/"), 404)
    api_error(api.post(f"/api/rooms/{lobby_id}/messages/", json={"body": "again"}), 404)


def test_history_runs_the_same_queries_for_3_or_25_messages(app, user, make_user):
    room_id = make_room(app, user)
    writers = [make_user(username=f"w{n}") for n in range(25)]
    api = ApiClient(app, user)

    def queries(extra: str = "") -> int:
        with count_queries(app) as log:
            assert api.get(f"/api/rooms/{room_id}/messages/?limit=30{extra}").status_code == 200
        return len(log)

    for person in writers[:3]:
        join(app, person, room_id)
        say_in_room(app, person, room_id, "few")
    few, few_after = queries(), queries("&after_id=0")
    for person in writers[3:]:
        join(app, person, room_id)
        say_in_room(app, person, room_id, "many")
    # The token's user, the room, the caller's membership, the page with its authors.
    assert queries() == few <= 4
    assert queries("&after_id=0") == few_after <= 4


def test_send_a_message_as_the_web_does(app, user, other_user, pushes):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    response = ApiClient(app, other_user).post(
        f"/api/rooms/{room_id}/messages/", json={"body": "  **hello**  ", "client_id": "app-1"}
    )
    assert response.status_code == 201, response.json
    assert response.json["body"] == "**hello**" and response.json["client_id"] == "app-1"
    assert response.json["author"]["username"] == "bob"
    [push] = [p for p in pushes if p.event == "room:message"]
    assert push.data["id"] == response.json["id"]
    seen = ApiClient(app, user).get(f"/api/rooms/{room_id}/messages/").json["items"]
    assert [m["id"] for m in seen] == [response.json["id"]]


def test_a_retried_client_id_is_stored_once_and_answered_alike(app, user, pushes):
    room_id = make_room(app, user)
    api = ApiClient(app, user)
    url = f"/api/rooms/{room_id}/messages/"
    first = api.post(url, json={"body": "once", "client_id": "retry-1"})
    again = api.post(url, json={"body": "once", "client_id": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert bodies(app, room_id) == ["once"]
    assert len([p for p in pushes if p.event == "room:message"]) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   ", "Write a message first."),
        (None, "Write a message first."),
        (
            "x" * (MAX_MESSAGE_LENGTH + 1),
            "Messages are at most 4,000 characters; this one has 4,001.",
        ),
    ],
)
def test_empty_or_oversized_messages_get_the_web_message(app, user, body, message):
    room_id = make_room(app, user)
    data = {} if body is None else {"body": body}
    error = api_error(ApiClient(app, user).post(f"/api/rooms/{room_id}/messages/", json=data), 422)
    assert error["fields"] == {"body": message}
    form = {f"room-{room_id}-body": body or ""}
    assert message in web_message(app, user, f"/rooms/{room_id}/messages", form)
    assert count_rows(app, RoomMessage) == 0


def test_a_message_that_is_not_text_is_refused(app, user):
    room_id = make_room(app, user)
    api = ApiClient(app, user)
    error = api_error(api.post(f"/api/rooms/{room_id}/messages/", json={"body": 5}), 422)
    assert "body" in error["fields"]


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2 per minute")
def test_sending_too_fast_is_429_with_retry_after_and_resends_still_answer(app, user):
    room_id = make_room(app, user)
    api = ApiClient(app, user)
    url = f"/api/rooms/{room_id}/messages/"
    first = api.post(url, json={"body": "one", "client_id": "c1"})
    assert api.post(url, json={"body": "two", "client_id": "c2"}).status_code == 201
    refused = api.post(url, json={"body": "three", "client_id": "c3"})
    error = api_error(refused, 429)
    assert error["message"].startswith("You are sending messages too fast. Wait ")
    assert error["fields"] == {"body": error["message"]}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # A resend of a message stored in time is not refused.
    assert api.post(url, json={"body": "one", "client_id": "c1"}).json == first.json
    assert bodies(app, room_id) == ["one", "two"]
    # The limit is the person's, whichever way they write: the web refuses too.
    client = app.test_client()
    factories.login(client, user)
    web = post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": "four"}, htmx=True)
    assert web.status_code == 429


def test_edit_my_message_within_the_window(app, user, other_user, pushes):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    message_id = say_in_room(app, other_user, room_id, "first")
    api = ApiClient(app, other_user)
    url = f"/api/rooms/{room_id}/messages/{message_id}/"
    response = api.patch(url, json={"body": "first, edited"})
    assert response.status_code == 200, response.json
    assert response.json["body"] == "first, edited" and response.json["edited_at"]
    assert any(p.event == "room:message-updated" for p in pushes)
    assert api.get(url).json["body"] == "first, edited"
    error = api_error(api.put(url, json={"body": "  "}), 422)
    assert error["fields"] == {"body": "A message cannot be empty. Delete it instead."}
    with app.app_context():
        db.session.get(RoomMessage, message_id).created_at -= timedelta(minutes=16)
        db.session.commit()
    error = api_error(api.put(url, json={"body": "too late"}), 422)
    assert error["fields"] == {"body": "Messages can be edited for 15 minutes after sending."}
    assert bodies(app, room_id) == ["first, edited"]


def test_nobody_edits_another_persons_message(app, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    message_id = say_in_room(app, other_user, room_id, "bob's")
    url = f"/api/rooms/{room_id}/messages/{message_id}/"
    api_error(ApiClient(app, user).patch(url, json={"body": "host's now"}), 403)  # even the host
    api_error(ApiClient(app, user).patch(f"/api/rooms/{room_id}/messages/999999/", json={}), 404)
    assert bodies(app, room_id) == ["bob's"]


def test_authors_and_the_host_delete_messages_others_cannot(
    app, user, other_user, make_user, pushes
):
    carol = make_user(username="carol")
    room_id = make_room(app, user)
    for person in (other_user, carol):
        join(app, person, room_id)
    bobs = say_in_room(app, other_user, room_id, "bob here")
    carols = say_in_room(app, carol, room_id, "carol here")
    error = api_error(ApiClient(app, carol).delete(f"/api/rooms/{room_id}/messages/{bobs}/"), 403)
    assert error["message"] == "Only its author or the room's host can delete a message."
    assert ApiClient(app, user).delete(f"/api/rooms/{room_id}/messages/{bobs}/").status_code == 204
    assert ApiClient(app, carol).delete(f"/api/rooms/{room_id}/messages/{carols}/").status_code == (
        204
    )
    assert bodies(app, room_id) == []
    assert len([p for p in pushes if p.event == "room:message-deleted"]) == 2
    # A message of another room is not found through this one.
    other_room = make_room(app, user, name="Other")
    elsewhere = say_in_room(app, user, other_room, "elsewhere")
    api_error(ApiClient(app, user).delete(f"/api/rooms/{room_id}/messages/{elsewhere}/"), 404)


# Text no database can store (PostgreSQL refuses NUL; UTF-8 has no lone surrogates): refused
# on its field by the action, whichever way it came, instead of failing in the driver.


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_unstorable_text_is_refused_on_its_field(app, user, bad):
    api = ApiClient(app, user)
    for field in ("name", "topic", "description"):
        data = {"name": "Ok", "topic": "Tea", field: bad}
        error = api_error(api.post("/api/rooms/", json=data), 422)
        assert error["fields"] == {field: UNSTORABLE_TEXT}
    assert count_rows(app, Room) == 0
    room_id = make_room(app, user)
    message_id = say_in_room(app, user, room_id, "fine")
    url = f"/api/rooms/{room_id}/messages/"
    assert api_error(api.post(url, json={"body": bad}), 422)["fields"] == {"body": UNSTORABLE_TEXT}
    error = api_error(api.patch(f"{url}{message_id}/", json={"body": bad}), 422)
    assert error["fields"] == {"body": UNSTORABLE_TEXT}
    error = api_error(api.patch(f"/api/rooms/{room_id}/", json={"topic": bad}), 422)
    assert error["fields"] == {"topic": UNSTORABLE_TEXT}
    assert bodies(app, room_id) == ["fine"]
    if "\x00" in bad:  # a query string cannot carry a lone surrogate (it is UTF-8)
        assert api.get("/api/rooms/", query_string={"topic": bad}).json == {
            "items": [],
            "next": None,
        }


def test_the_web_forms_refuse_a_nul_byte_alike(app, user):
    assert UNSTORABLE_TEXT in web_message(app, user, "/rooms/new", {"name": "a\x00b", "topic": "T"})
    room_id = make_room(app, user)
    form = {f"room-{room_id}-body": "a\x00b"}
    assert UNSTORABLE_TEXT in web_message(app, user, f"/rooms/{room_id}/messages", form)
    client = app.test_client()
    factories.login(client, user)
    assert client.get("/rooms", query_string={"topic": "\x00"}).status_code == 200


def test_a_client_id_is_kept_without_what_cannot_be_stored(app, user):
    room_id = make_room(app, user)
    api = ApiClient(app, user)
    url = f"/api/rooms/{room_id}/messages/"
    first = api.post(url, json={"body": "hi", "client_id": "tab\x00-1"})
    assert first.status_code == 201 and first.json["client_id"] == "tab-1"
    assert api.post(url, json={"body": "hi", "client_id": "tab-1"}).json == first.json
