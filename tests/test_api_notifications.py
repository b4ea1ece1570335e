"""Notifications through the JSON API: listing, the unread count, marking read, deleting and
which kinds to receive; only ever one's own (NOTE-2, NOTE-3)."""

from __future__ import annotations

import re

from qosyl.actions import social
from qosyl.actions.notifications import muted_kinds
from qosyl.actions.notifications import notify
from qosyl.extensions import db
from qosyl.models import Notification
from qosyl.models import User
from qosyl.notification_kinds import KINDS
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import notification_kinds
from tests.helpers import post

# A ticked checkbox of the settings page: the kind it names.
CHECKED = re.compile(r'<input checked id="kinds-(\w+)"')


def make_notifications(app, recipient, count: int, actor=None, kind="welcome") -> list[int]:
    with app.app_context():
        actor = db.session.get(User, actor.id) if actor else None
        recipient = db.session.get(User, recipient.id)
        ids = [
            notify(recipient, kind, actor=actor, excerpt=f"**number** {n}", target_url="/").id
            for n in range(count)
        ]
        db.session.commit()
    return ids


def read_at(app, notification_id: int):
    with app.app_context():
        return db.session.get(Notification, notification_id).read_at


# Listing


def test_my_notifications_newest_first_in_plain_text(app, user, other_user):
    follow_id = make_notifications(app, user, 1, actor=other_user, kind="follow")[0]
    with app.app_context():
        welcome = notify(factories.reload(user), "welcome").id
        db.session.commit()
    items = ApiClient(app, user).get("/api/notifications/").json["items"]
    assert [n["id"] for n in items] == [welcome, follow_id]
    first, second = items
    assert first["actor"] is None and first["url"] is None
    assert first["text"] == KINDS["welcome"].sentence
    assert second["kind"] == "follow"
    assert second["text"] == "Bob Baker started following you."
    assert second["excerpt"] == "number 0"
    assert second["url"] == "http://localhost/"
    assert second["read"] is False
    assert second["actor"]["username"] == "bob"
    assert second["created_at"].endswith("+00:00")
    assert "<" not in str(items)


def test_notifications_page_by_a_stable_cursor(app, user):
    ids = make_notifications(app, user, 5)
    api = ApiClient(app, user)
    first = api.get("/api/notifications/?limit=3").json
    assert [n["id"] for n in first["items"]] == ids[:1:-1]
    make_notifications(app, user, 1)
    second = api.get(f"/api/notifications/?limit=3&cursor={first['next']}").json
    assert [n["id"] for n in second["items"]] == [ids[1], ids[0]]
    assert second["next"] is None
    api_error(api.get("/api/notifications/?cursor=garbage"), 400)
    assert "limit" in api_error(api.get("/api/notifications/?limit=101"), 422)["fields"]


def test_listing_only_unread_ones(app, user):
    ids = make_notifications(app, user, 3)
    ApiClient(app, user).put(f"/api/notifications/{ids[1]}/read/")
    api = ApiClient(app, user)
    unread = api.get("/api/notifications/?unread=true").json["items"]
    assert [n["id"] for n in unread] == [ids[2], ids[0]]
    assert len(api.get("/api/notifications/?unread=false").json["items"]) == 3
    assert "unread" in api_error(api.get("/api/notifications/?unread=maybe"), 422)["fields"]
    # Listing marks nothing read.
    assert read_at(app, ids[0]) is None


def test_i_see_only_my_notifications(app, user, other_user):
    make_notifications(app, other_user, 2)
    api = ApiClient(app, user)
    assert api.get("/api/notifications/").json == {"items": [], "next": None}
    assert api.get("/api/notifications/unread-count/").json == {"count": 0}


def test_a_block_takes_away_what_the_blocked_told_me(app, user, other_user):
    make_notifications(app, user, 2, actor=other_user)
    make_notifications(app, user, 1)
    factories.block(app, user, other_user)
    items = ApiClient(app, user).get("/api/notifications/").json["items"]
    assert [n["actor"] for n in items] == [None]
    # And nothing new comes from them.
    with app.app_context():
        actor = factories.reload(other_user)
        assert notify(factories.reload(user), "follow", actor=actor) is None
    assert ApiClient(app, user).get("/api/notifications/unread-count/").json == {"count": 1}


def test_the_list_runs_the_same_queries_for_3_or_25(app, user, other_user):
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            assert api.get("/api/notifications/?limit=30").status_code == 200
        return len(log)

    make_notifications(app, user, 3, actor=other_user)
    few = queries()
    make_notifications(app, user, 22, actor=other_user)
    assert queries() == few <= 3


# The count, marking read


def test_the_unread_count(app, user):
    api = ApiClient(app, user)
    assert api.get("/api/notifications/unread-count/").json == {"count": 0}
    ids = make_notifications(app, user, 3)
    assert api.get("/api/notifications/unread-count/").json == {"count": 3}
    api.put(f"/api/notifications/{ids[0]}/read/")
    assert api.get("/api/notifications/unread-count/").json == {"count": 2}


def test_i_mark_one_read(app, user, other_user):
    ids = make_notifications(app, user, 2, actor=other_user)
    response = ApiClient(app, user).put(f"/api/notifications/{ids[0]}/read/")
    assert response.status_code == 200, response.json
    assert response.json["id"] == ids[0] and response.json["read"] is True
    assert response.json["actor"]["username"] == "bob"
    assert read_at(app, ids[0]) is not None and read_at(app, ids[1]) is None
    # Again: still read, nothing else changes.
    again = ApiClient(app, user).put(f"/api/notifications/{ids[0]}/read/")
    assert again.status_code == 200 and again.json["read"] is True


def test_i_cannot_touch_another_users_notification(app, user, other_user):
    theirs = make_notifications(app, other_user, 1)[0]
    api = ApiClient(app, user)
    api_error(api.put(f"/api/notifications/{theirs}/read/"), 404)
    api_error(api.delete(f"/api/notifications/{theirs}/"), 404)
    api_error(api.put("/api/notifications/999999/read/"), 404)
    api_error(api.delete("/api/notifications/999999/"), 404)
    assert read_at(app, theirs) is None
    assert count_rows(app, Notification) == 1


def test_i_mark_all_mine_read(app, user, other_user):
    make_notifications(app, user, 3)
    theirs = make_notifications(app, other_user, 1)[0]
    api = ApiClient(app, user)
    response = api.post("/api/notifications/read-all/")
    assert response.status_code == 200 and response.json == {"marked": 3}
    assert api.post("/api/notifications/read-all/").json == {"marked": 0}
    assert all(n["read"] for n in api.get("/api/notifications/").json["items"])
    assert read_at(app, theirs) is None


def test_i_delete_one(app, user):
    ids = make_notifications(app, user, 2)
    api = ApiClient(app, user)
    response = api.delete(f"/api/notifications/{ids[0]}/")
    assert response.status_code == 204 and response.get_data() == b""
    assert [n["id"] for n in api.get("/api/notifications/").json["items"]] == [ids[1]]
    api_error(api.delete(f"/api/notifications/{ids[0]}/"), 404)


# Preferences


def test_every_kind_is_received_by_default(app, user):
    body = ApiClient(app, user).get("/api/notifications/preferences/").json
    assert body == {kind: True for kind in KINDS}


def test_i_mute_and_unmute_kinds_as_the_settings_page_does(app, user, other_user):
    api = ApiClient(app, user)
    response = api.put("/api/notifications/preferences/", json={"follow": False, "like": False})
    assert response.status_code == 200, response.json
    assert response.json == {kind: kind not in {"follow", "like"} for kind in KINDS}
    # Kinds left out stay as they are.
    response = api.put("/api/notifications/preferences/", json={"like": True})
    assert response.json == {kind: kind != "follow" for kind in KINDS}
    assert api.get("/api/notifications/preferences/").json == response.json
    with app.app_context():
        assert muted_kinds(user.id) == {"follow"}
    # The settings page shows it, and a follow no longer notifies.
    client = app.test_client()
    factories.login(client, user)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert set(CHECKED.findall(page)) == set(KINDS) - {"follow"}
    with app.app_context():
        social.follow(factories.reload(other_user), factories.reload(user))
    assert notification_kinds(app, user) == []


def test_what_the_settings_page_saves_the_api_reads(app, user):
    client = app.test_client()
    factories.login(client, user)
    assert post(client, "/settings/notifications", {"kinds-comment": "y"}).status_code == 302
    body = ApiClient(app, user).get("/api/notifications/preferences/").json
    assert body == {kind: kind == "comment" for kind in KINDS}


def test_unknown_kinds_and_non_booleans_are_refused_on_their_field(app, user):
    api = ApiClient(app, user)
    error = api_error(
        api.put("/api/notifications/preferences/", json={"pokes": False, "like": "often"}), 422
    )
    assert set(error["fields"]) == {"pokes", "like"}
    with app.app_context():
        assert muted_kinds(user.id) == set()


def test_preferences_are_each_users_own(app, user, other_user):
    ApiClient(app, user).put("/api/notifications/preferences/", json={"message": False})
    assert ApiClient(app, other_user).get("/api/notifications/preferences/").json["message"]
    with app.app_context():
        assert muted_kinds(user.id) == {"message"} and muted_kinds(other_user.id) == set()
