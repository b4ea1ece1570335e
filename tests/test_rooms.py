"""Rooms, topics, membership and the chat's HTTP side (ROOM-1 to ROOM-7, MSG-6)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from tests import factories
from tests.factories import make_room
from tests.factories import say_in_room
from tests.factories import with_room
from tests.helpers import assert_query_count
from tests.helpers import count_rows
from tests.helpers import hx_get
from tests.helpers import post

# Rooms and topics


def test_create_room_reuses_topics_in_any_case(app, logged_in, user):
    response = post(
        logged_in, "/rooms/new", {"name": "Tea lovers", "topic": "Tea", "description": "Oolong"}
    )
    assert response.status_code == 302
    post(logged_in, "/rooms/new", {"name": "Green tea", "topic": "  TEA ", "description": ""})
    post(logged_in, "/rooms/new", {"name": "Coffee", "topic": "Coffee", "description": ""})
    with app.app_context():
        assert sorted(db.session.scalars(select(Topic.name))) == ["Coffee", "Tea"]
        room = db.session.scalar(select(Room).where(Room.name == "Tea lovers"))
        assert room.host_id == user.id
        assert db.session.get(RoomMember, (room.id, user.id)) is not None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "topic": "Tea"}, "name", "Give the room a name."),
        ({"name": "x" * 81, "topic": "Tea"}, "name", "Use at most 80 characters."),
        ({"name": "Ok", "topic": ""}, "topic", "Pick a topic or type a new one."),
    ],
)
def test_bad_room_input_is_explained_and_nothing_is_created(app, logged_in, data, field, message):
    response = post(logged_in, "/rooms/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.split(f'id="{field}-error"', 1)[1].split("</ul>", 1)[0]
    assert count_rows(app, Room) == 0 and count_rows(app, Topic) == 0


def test_only_the_host_edits_or_deletes(app, client, user, other_user):
    room_id = make_room(app, user)
    factories.login(client, other_user)
    assert post(client, f"/rooms/{room_id}/edit", {"name": "Mine", "topic": "X"}).status_code == 403
    assert post(client, f"/rooms/{room_id}/delete").status_code == 403
    factories.login(client, user)
    response = post(
        client,
        f"/rooms/{room_id}/edit",
        {"name": "Tea club", "topic": "Tea", "description": "All teas"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Room, room_id).name == "Tea club"
    say_in_room(app, user, room_id, "hello")
    assert post(client, f"/rooms/{room_id}/delete").status_code == 302
    assert count_rows(app, Room) == 0 and count_rows(app, RoomMessage) == 0


def results(client, url) -> str:
    html = client.get(url).get_data(as_text=True)
    return html.split('id="room-results"', 1)[1].split("</section>", 1)[0]


def test_browse_by_topic_and_search(app, logged_in, user, other_user):
    make_room(app, other_user, "Tea lovers", "Tea", "Oolong, puerh and green tea")
    make_room(app, other_user, "Morning brew", "Coffee", "Espresso and filter")
    found = results(logged_in, "/rooms?topic=coffee")
    assert "Morning brew" in found and "Tea lovers" not in found
    found = results(logged_in, "/rooms?q=espresso")
    assert "Morning brew" in found and "Tea lovers" not in found
    assert "Tea lovers" in results(logged_in, "/rooms?q=oolongs")  # stemmed
    assert "Tea lovers" in results(logged_in, "/rooms?q=%23tea")  # by topic name
    assert "No rooms found" in results(logged_in, "/rooms?q=%22%28%2A%3A")  # no words in it


def test_trending_topics_count_the_last_day(app, logged_in, user):
    tea, coffee = make_room(app, user, "Tea", "Tea"), make_room(app, user, "Brew", "Coffee")
    for _ in range(3):
        say_in_room(app, user, coffee, "espresso!")
    say_in_room(app, user, tea, "oolong")
    with app.app_context():
        old = RoomMessage(
            room_id=tea,
            author_id=user.id,
            body="old",
            body_html="<p>old</p>",
            created_at=datetime.now(UTC) - timedelta(days=2),
        )
        db.session.add_all(
            [old, RoomMessage(room_id=tea, author_id=user.id, body="o", created_at=old.created_at)]
        )
        db.session.commit()
        from qosyl.reads.rooms import trending_topics

        assert trending_topics() == [("Coffee", 3), ("Tea", 1)]


# Membership


def test_join_leave_and_the_host_hands_over(app, user, other_user):
    room_id = make_room(app, user)
    with_room(app, room_id, room_actions.join, other_user)
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, other_user.id)) is not None
    with_room(app, room_id, room_actions.leave, user)  # the host leaves
    with app.app_context():
        room = db.session.get(Room, room_id)
        assert room.host_id == other_user.id
        assert db.session.get(RoomMember, (room_id, user.id)) is None
    with_room(app, room_id, room_actions.leave, other_user)  # the last one out
    assert count_rows(app, Room) == 0


def test_a_removed_member_is_refused_until_let_back(app, client, user, other_user, pushes):
    room_id = make_room(app, user)
    with_room(app, room_id, room_actions.join, other_user)
    factories.login(client, user)
    post(client, f"/rooms/{room_id}/participants/bob/remove")
    assert any(p.event == "room:removed" and p.to == f"user:{other_user.id}" for p in pushes)

    factories.login(client, other_user)
    assert post(client, f"/rooms/{room_id}/join").status_code == 302
    assert "The host removed you" in client.get(f"/rooms/{room_id}").get_data(as_text=True)
    response = post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": "let me in"})
    assert response.status_code == 404
    assert count_rows(app, RoomMessage) == 0

    factories.login(client, user)
    post(client, f"/rooms/{room_id}/participants/bob/readmit")
    factories.login(client, other_user)
    response = post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": "thanks!"})
    assert response.status_code == 302 and count_rows(app, RoomMessage) == 1


def test_the_host_cannot_remove_themself(app, user):
    room_id = make_room(app, user)
    with pytest.raises(ActionError):
        with_room(app, room_id, room_actions.remove_member, user)


# Messages


def test_send_over_htmx_returns_the_stored_message(app, logged_in, user, pushes):
    room_id = make_room(app, user)
    response = post(
        logged_in,
        f"/rooms/{room_id}/messages",
        {f"room-{room_id}-body": "Hi **all**\n\n```python\nprint(1)\n```"},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="message"')
    assert "<strong>all</strong>" in html
    with app.app_context():
        stored = db.session.scalar(select(RoomMessage))
        assert stored.created_at is not None and 'class="code"' in stored.body_html
    [push] = [p for p in pushes if p.event == "room:message"]
    assert push.audience == (f"room:{room_id}:user:{user.id}",)
    assert push.data["id"] == stored.id and f'data-author-id="{user.id}"' in push.data["html"]
    assert "csrf" not in push.data["html"]  # the same markup for everyone


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write a message first."), ("x" * 4001, "Messages are at most 4,000 characters")],
)
def test_empty_or_oversized_messages_are_refused(app, logged_in, user, pushes, body, message):
    room_id = make_room(app, user)
    response = post(
        logged_in, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": body}, htmx=True
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_rows(app, RoomMessage) == 0
    assert [p for p in pushes if p.event == "room:message"] == []


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="3 per minute")
def test_too_frequent_messages_are_refused(app, logged_in, user):
    room_id = make_room(app, user)
    codes = [
        post(logged_in, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": f"m{n}"}, htmx=True)
        for n in range(4)
    ]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert "You are sending messages too fast. Wait " in codes[-1].get_data(as_text=True)
    assert 1 <= int(codes[-1].headers["Retry-After"]) <= 60  # the window is a minute
    assert count_rows(app, RoomMessage) == 3


def test_a_resent_client_id_is_stored_once(app, user):
    room_id = make_room(app, user)
    first = say_in_room(app, user, room_id, "hello", client_id="tab-1:42")
    again = say_in_room(app, user, room_id, "hello", client_id="tab-1:42")
    assert first == again and count_rows(app, RoomMessage) == 1


def test_a_resend_is_broadcast_once(app, user, pushes):
    room_id = make_room(app, user)
    say_in_room(app, user, room_id, "hello", client_id="tab-1:42")
    say_in_room(app, user, room_id, "hello", client_id="tab-1:42")
    assert len([p for p in pushes if p.event == "room:message"]) == 1


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2 per minute")
def test_a_resend_over_the_limit_returns_the_stored_message(app, user):
    room_id = make_room(app, user)
    first = say_in_room(app, user, room_id, "one", client_id="c1")
    say_in_room(app, user, room_id, "two", client_id="c2")
    assert say_in_room(app, user, room_id, "one", client_id="c1") == first
    with pytest.raises(ActionError, match="too fast"):
        say_in_room(app, user, room_id, "three", client_id="c3")
    assert count_rows(app, RoomMessage) == 2


def test_edit_within_15_minutes_and_marked(app, client, user, other_user, pushes):
    room_id = make_room(app, user)
    message_id = say_in_room(app, user, room_id, "first")
    factories.login(client, user)
    url = f"/rooms/{room_id}/messages/{message_id}/edit"
    response = post(client, url, {f"message-{message_id}-body": "first, edited"}, htmx=True)
    assert response.status_code == 200 and "edited" in response.get_data(as_text=True)
    assert any(p.event == "room:message-updated" for p in pushes)
    with app.app_context():
        db.session.get(RoomMessage, message_id).created_at -= timedelta(minutes=16)
        db.session.commit()
    response = post(client, url, {f"message-{message_id}-body": "too late"}, htmx=True)
    assert response.status_code == 422
    assert "15 minutes" in response.get_data(as_text=True)


def test_authors_and_hosts_delete_and_everyone_hears(
    app, client, user, other_user, make_user, pushes
):
    carol = make_user(username="carol")
    room_id = make_room(app, user)
    for person in (other_user, carol):
        with_room(app, room_id, room_actions.join, person)
    bobs = say_in_room(app, other_user, room_id, "bob here")
    factories.login(client, carol)
    assert post(client, f"/rooms/{room_id}/messages/{bobs}/delete").status_code == 403
    factories.login(client, user)  # the host
    assert post(client, f"/rooms/{room_id}/messages/{bobs}/delete", htmx=True).status_code == 200
    [push] = [p for p in pushes if p.event == "room:message-deleted"]
    assert push.data == {"room_id": room_id, "id": bobs}
    assert sorted(push.to) == sorted(
        f"room:{room_id}:user:{u.id}" for u in (user, other_user, carol)
    )


def test_history_pages_backwards(app, logged_in, user):
    room_id = make_room(app, user)
    ids = [say_in_room(app, user, room_id, f"message {n}") for n in range(60)]
    page = logged_in.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert page.count("data-message-id=") == 50
    assert f"before={ids[10]}" in page and "message 59" in page and "message 9<" not in page
    older = hx_get(logged_in, f"/rooms/{room_id}/messages?before={ids[10]}").get_data(True)
    assert older.count("data-message-id=") == 10 and 'class="chat__older"' not in older


def test_non_members_see_no_messages(app, client, user, other_user):
    room_id = make_room(app, user)
    say_in_room(app, user, room_id, "members only")
    factories.login(client, other_user)
    html = client.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "members only" not in html and "Join the room" in html
    assert hx_get(client, f"/rooms/{room_id}/messages?before=999").status_code == 404


def test_the_lobby_is_open_to_everyone_and_on_the_home_page(app, logged_in, user, other_user):
    with app.app_context():
        lobby_id = factories.lobby(other_user)
    response = post(logged_in, f"/rooms/{lobby_id}/messages", {f"room-{lobby_id}-body": "hi all"})
    assert response.status_code == 302
    home = logged_in.get("/").get_data(as_text=True)
    assert f'data-chat-room="{lobby_id}"' in home and "hi all" in home


def test_activity_feed_lists_my_rooms_only(app, logged_in, user, other_user):
    mine = make_room(app, user, "Mine")
    theirs = make_room(app, other_user, "Theirs")
    say_in_room(app, user, mine, "in my room")
    say_in_room(app, other_user, theirs, "elsewhere")
    html = logged_in.get("/activity").get_data(as_text=True)
    assert "in my room" in html and "elsewhere" not in html


@pytest.mark.parametrize("n", [3, 30])
def test_room_pages_have_fixed_query_budgets(app, logged_in, user, make_user, n):
    room_id = make_room(app, user)
    for i in range(n):
        member = make_user(username=f"m{i}")
        with_room(app, room_id, room_actions.join, member)
        say_in_room(app, member, room_id, f"hello {i}")
    # user, room (+topic, host), membership, messages+authors, participants, running
    # meeting (+host), bell
    with assert_query_count(app, 7):
        assert logged_in.get(f"/rooms/{room_id}").status_code == 200
    # user, room, membership, older messages+authors
    with assert_query_count(app, 4):
        assert hx_get(logged_in, f"/rooms/{room_id}/messages?before=99999").status_code == 200
    # user, activity page (+authors, rooms), bell
    with assert_query_count(app, 3):
        assert logged_in.get("/activity").status_code == 200
    # user, rooms with counts, topics, trending, my rooms, bell
    with assert_query_count(app, 6):
        assert logged_in.get("/rooms").status_code == 200


def test_room_page_lists_twenty_participants_and_counts_them_all(app, logged_in, user, make_user):
    """The side card loads the first 20 participants and the count in one query, not every
    member (a room of 2,000 loaded 2,000 users per view: bench/scale.py)."""
    room_id = make_room(app, user)
    people = [make_user(username=f"p{i:02d}") for i in range(25)]
    for person in people:
        with_room(app, room_id, room_actions.join, person)
    with_room(app, room_id, room_actions.remove_member, people[-1])
    html = logged_in.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert ">25 participants</a>" in html  # the host and 24 of the 25; the removed one not
    card = html.split('id="room-participants"', 1)[1]
    assert card.count("<li>") == 20
    assert "/u/p18" in card and "/u/p19" not in card  # the host first, then by join time
