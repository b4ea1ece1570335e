"""Insights through the JSON API (issue 13): the caller's activity, a hosted room's
engagement and the site overview; the period's validation; who may see what; queries that
do not grow with the rows counted."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.models import RoomMessage
from qosyl.models import User
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries

ME = "/api/insights/me/"
SITE = "/api/insights/site/"


def room_url(room_id: int) -> str:
    return f"/api/rooms/{room_id}/insights/"


def series(body: dict) -> dict[str, dict]:
    return {line["name"]: line for line in body["series"]}


def a_day_earlier(app, message_id: int) -> None:
    with app.app_context():
        message = db.session.get(RoomMessage, message_id)
        message.created_at -= timedelta(days=1)
        db.session.commit()


def update_user(app, account, **fields) -> None:
    with app.app_context():
        person = db.session.get(User, account.id)
        for name, value in fields.items():
            setattr(person, name, value)
        db.session.commit()


@pytest.fixture
def activity(app, user, other_user) -> dict:
    """Alice hosts a room bob joined: she wrote two messages there today and one yesterday,
    bob one today; bob liked her post."""
    room_id = factories.make_room(app, user)
    factories.with_room(app, room_id, room_actions.join, other_user)
    factories.say_in_room(app, user, room_id, "one")
    factories.say_in_room(app, user, room_id, "two")
    a_day_earlier(app, factories.say_in_room(app, user, room_id, "yesterday"))
    factories.say_in_room(app, other_user, room_id, "hello")
    post_id = factories.write_post(app, user, "My   first\n**post**")
    factories.like_post(app, other_user, post_id)
    return {"room_id": room_id, "post_id": post_id}


# My insights


def test_my_insights_count_per_day(app, user, activity):
    body = ApiClient(app, user).get(f"{ME}?days=7").json
    today = datetime.now(UTC).date()
    assert body["time_zone"] == "UTC" and body["days"] == 7
    assert body["labels"] == [(today - timedelta(days=6 - n)).isoformat() for n in range(7)]
    lines = series(body)
    assert list(lines) == [
        "messages", "posts", "likes", "comments", "followers", "friends", "rooms_joined"
    ]  # fmt: skip
    assert lines["messages"] == {
        "name": "messages",
        "label": "Messages sent",
        "values": [0, 0, 0, 0, 0, 1, 2],
        "total": 3,
        "previous_total": 0,
        "change": 3,
        "change_percent": None,
    }
    assert lines["likes"]["values"][-1] == 1 and lines["likes"]["total"] == 1
    assert lines["posts"]["total"] == 1 and lines["comments"]["total"] == 0
    assert body["top_rooms"] == [
        {
            "id": activity["room_id"],
            "name": "Tea lovers",
            "messages": 3,
            "url": f"http://localhost/rooms/{activity['room_id']}",
        }
    ]
    assert body["top_posts"] == [
        {
            "id": activity["post_id"],
            "excerpt": "My first **post**",
            "likes": 1,
            "comments": 0,
            "url": f"http://localhost/p/{activity['post_id']}",
        }
    ]


def test_the_previous_period_gives_the_change(app, user, activity):
    # One of today's messages moves 8 days back: into the 7 days before the period.
    with app.app_context():
        message = db.session.scalar(db.select(RoomMessage).where(RoomMessage.body == "two"))
        message.created_at -= timedelta(days=8)
        db.session.commit()
    lines = series(ApiClient(app, user).get(f"{ME}?days=7").json)
    assert lines["messages"]["total"] == 2
    assert lines["messages"]["previous_total"] == 1
    assert lines["messages"]["change"] == 1
    assert lines["messages"]["change_percent"] == 100.0


def test_days_are_cut_in_the_callers_time_zone(app, user, activity):
    update_user(app, user, time_zone="Pacific/Kiritimati")  # UTC+14
    body = ApiClient(app, user).get(ME).json
    assert body["time_zone"] == "Pacific/Kiritimati"
    assert body["labels"][-1] == datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()


def test_the_period_defaults_to_30_days_and_takes_7_30_or_90(app, user):
    api = ApiClient(app, user)
    body = api.get(ME).json
    assert body["days"] == 30 and len(body["labels"]) == 30
    assert all(len(line["values"]) == 30 for line in body["series"])
    assert len(api.get(f"{ME}?days=90").json["labels"]) == 90
    for days in ("14", "0", "-7", "abc", "7.5"):
        error = api_error(api.get(f"{ME}?days={days}"), 422)
        assert set(error["fields"]) == {"days"}, days


# Room insights


def test_the_host_sees_the_rooms_engagement(app, user, other_user, activity):
    body = ApiClient(app, user).get(f"{room_url(activity['room_id'])}?days=7").json
    lines = series(body)
    assert list(lines) == ["messages", "active", "joined", "left"]
    assert lines["messages"]["values"][-2:] == [1, 3]
    assert lines["active"]["values"][-2:] == [1, 2]
    assert lines["joined"]["total"] >= 1 and lines["left"]["total"] == 0
    first, second = body["top_contributors"]
    assert (first["username"], first["full_name"], first["messages"]) == (
        "alice",
        "Alice Archer",
        3,
    )
    assert set(first) == {
        "id", "username", "first_name", "last_name", "full_name", "avatar_url", "messages"
    }  # fmt: skip
    assert (second["id"], second["messages"]) == (other_user.id, 1)
    hours = body["busiest_hours"]
    assert hours["weekdays"][0] == "Monday" and len(hours["weekdays"]) == 7
    assert len(hours["hours"]) == 7 and all(len(day) == 24 for day in hours["hours"])
    assert sum(map(sum, hours["hours"])) == 4
    now = datetime.now(UTC)
    assert hours["hours"][now.weekday()][now.hour] >= 3  # today's, unless the hour just turned


def test_a_room_of_someone_else_is_404(app, user, other_user, activity):
    api_error(ApiClient(app, other_user).get(room_url(activity["room_id"])), 404)  # a member
    api_error(ApiClient(app, user).get(room_url(activity["room_id"] + 1000)), 404)
    api_error(ApiClient(app, user).get(f"{room_url(activity['room_id'])}?days=1"), 422)


# Site overview


def test_the_site_overview_is_for_administrators(app, user, other_user, activity):
    api_error(ApiClient(app, user).get(SITE), 404)
    update_user(app, user, is_admin=True)
    body = ApiClient(app, user).get(f"{SITE}?days=7").json
    lines = series(body)
    assert list(lines) == ["signups", "active", "messages", "posts", "rooms"]
    assert lines["signups"]["total"] == 2
    assert lines["messages"]["values"][-2:] == [1, 3]
    assert lines["active"]["values"][-1] == 2  # alice wrote, bob wrote and liked
    assert lines["posts"]["total"] == 1 and lines["rooms"]["total"] == 1
    api_error(ApiClient(app, other_user).get(SITE), 404)
    api_error(ApiClient(app, user).get(f"{SITE}?days=365"), 422)


def test_every_insight_needs_a_token(app, activity):
    client = ApiClient(app)
    for url in (ME, SITE, room_url(activity["room_id"])):
        assert api_error(client.get(url), 401)["code"] == "unauthorized"


# Queries


def queries(app, account, url: str) -> int:
    api = ApiClient(app, account)
    with count_queries(app) as log:
        assert api.get(url).status_code == 200
    return len(log)


def test_the_queries_do_not_grow_with_the_rows(app, user, other_user, make_user, activity):
    update_user(app, user, is_admin=True)
    urls = [ME, SITE, room_url(activity["room_id"])]
    few = [queries(app, user, url) for url in urls]
    for n in range(6):
        person = make_user(username=f"guest{n}")
        factories.with_room(app, activity["room_id"], room_actions.join, person)
        factories.say_in_room(app, person, activity["room_id"], f"hi {n}")
        factories.like_post(app, person, factories.write_post(app, user, f"post {n}"))
        other_room = factories.make_room(app, user, name=f"Room {n}")
        factories.say_in_room(app, user, other_room, "more")
    assert [queries(app, user, url) for url in urls] == few
    # The token's user, then the reads: 3 for mine, 1 for the site; for the room its access
    # and 4 for the charts (the contributors come with their accounts).
    assert few == [4, 2, 6]
