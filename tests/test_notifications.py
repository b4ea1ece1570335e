"""The notifications service, page, bell and live pushes (NOTE-2)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions.notifications import notify
from qosyl.extensions import db
from qosyl.models import Notification
from qosyl.models import User
from tests import factories
from tests.helpers import assert_query_count
from tests.helpers import hx_get
from tests.helpers import post


def make_notifications(app, recipient: User, count: int, actor: User | None = None) -> list[int]:
    with app.app_context():
        actor = db.session.get(User, actor.id) if actor else None
        recipient = db.session.get(User, recipient.id)
        ids = [
            notify(recipient, "welcome", actor=actor, excerpt=f"number {n}", target_url="/").id
            for n in range(count)
        ]
        db.session.commit()
    return ids


def notification_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Notification))


# The service


def test_notify_pushes_only_after_commit(app, user, pushes):
    with app.app_context():
        recipient = db.session.get(User, user.id)
        notify(recipient, "welcome")
        assert pushes == []  # nothing leaves before the row is committed
        db.session.commit()
    assert len(pushes) == 1
    push = pushes[0]
    assert (push.event, push.to) == ("notification", f"user:{user.id}")
    assert set(push.data) == {"id", "kind", "text", "url"}


def test_a_rolled_back_notification_is_never_pushed(app, user, pushes):
    with app.app_context():
        notify(db.session.get(User, user.id), "welcome")
        db.session.rollback()
        db.session.commit()
    assert pushes == []
    assert notification_count(app) == 0


def test_acting_on_your_own_things_notifies_nobody(app, user, pushes):
    with app.app_context():
        me = db.session.get(User, user.id)
        assert notify(me, "welcome", actor=me) is None
        db.session.commit()
    assert pushes == [] and notification_count(app) == 0


def test_the_same_event_notifies_once(app, user, other_user, pushes):
    with app.app_context():
        recipient, actor = db.session.get(User, user.id), db.session.get(User, other_user.id)
        assert notify(recipient, "welcome", actor=actor, dedupe_key="like:post:1") is not None
        db.session.commit()
        assert notify(recipient, "welcome", actor=actor, dedupe_key="like:post:1") is None
        db.session.commit()
    assert notification_count(app) == 1
    assert len(pushes) == 1


def test_unknown_kinds_are_a_programming_error(app, user):
    with app.app_context(), pytest.raises(ValueError):
        notify(db.session.get(User, user.id), "no-such-kind")


# The page and the bell


def test_page_lists_newest_first_with_actor_and_excerpt(app, logged_in, user, other_user):
    make_notifications(app, user, 3, actor=other_user)
    html = logged_in.get("/notifications").get_data(as_text=True)
    assert html.index("number 2") < html.index("number 1") < html.index("number 0")
    assert "<strong>Bob Baker</strong>" in html
    assert html.count("Mark as read") == 3


def test_page_is_paginated_by_cursor(app, logged_in, user):
    ids = make_notifications(app, user, 25)
    first = logged_in.get("/notifications").get_data(as_text=True)
    assert first.count('class="notification ') == 20
    assert f"/notifications?before={ids[5]}" in first
    more = hx_get(logged_in, f"/notifications?before={ids[5]}").get_data(as_text=True)
    assert more.count('class="notification ') == 5
    assert "<html" not in more
    assert "Show older" not in more


@pytest.mark.parametrize("rows", [2, 20])
def test_page_runs_the_same_queries_whatever_the_number(app, logged_in, user, other_user, rows):
    make_notifications(app, user, rows, actor=other_user)
    # user, bell count, the page of notifications with their actors
    with assert_query_count(app, 3):
        assert logged_in.get("/notifications").status_code == 200
    with assert_query_count(app, 2):
        assert hx_get(logged_in, "/notifications").status_code == 200


def test_bell_shows_the_unread_count(app, logged_in, user):
    assert 'aria-label="Notifications"' in logged_in.get("/notifications/bell").get_data(True)
    make_notifications(app, user, 3)
    bell = logged_in.get("/notifications/bell").get_data(as_text=True)
    assert 'aria-label="Notifications, 3 unread"' in bell
    assert ">3</span>" in bell
    assert 'hx-trigger="notifications-changed from:body, notifications-seen from:body"' in bell


def test_mark_one_read_over_htmx(app, logged_in, user, pushes):
    first, second = make_notifications(app, user, 2)
    pushes.clear()
    response = post(logged_in, f"/notifications/{first}/read", htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="notification" id="notification-{first}"')
    assert "Mark as read" not in html
    assert response.headers["HX-Trigger"] == '{"notifications-changed": true}'
    # Other tabs hear of it too.
    assert [(p.event, p.data) for p in pushes] == [("trigger", {"name": "notifications-changed"})]
    assert "Notifications, 1 unread" in logged_in.get("/notifications/bell").get_data(True)


def unread_ids(app) -> list[int]:
    with app.app_context():
        return sorted(
            db.session.scalars(select(Notification.id).where(Notification.read_at.is_(None)))
        )


def test_the_page_shows_unread_then_marks_what_it_showed_read(app, logged_in, user, pushes):
    first, second = make_notifications(app, user, 2)
    page = logged_in.get("/notifications").get_data(as_text=True)
    # Viewing changes nothing by itself (a GET); the page shows them unread and fires the POST.
    assert page.count("notification--unread") == 2
    assert 'hx-post="/notifications/seen" hx-trigger="load"' in page
    assert f'name="up_to" value="{second}"' in page
    assert unread_ids(app) == [first, second]
    pushes.clear()
    response = post(logged_in, "/notifications/seen", {"up_to": second}, htmx=True)
    assert response.status_code == 204
    assert unread_ids(app) == []
    # Every tab's bell refreshes; open lists keep what they showed.
    assert [(p.event, p.data) for p in pushes] == [("trigger", {"name": "notifications-seen"})]
    assert 'hx-trigger="load"' not in logged_in.get("/notifications").get_data(True)


def test_seen_marks_nothing_newer_nor_anyone_elses(app, logged_in, user, other_user, pushes):
    first, second = make_notifications(app, user, 2)
    (theirs,) = make_notifications(app, other_user, 1)
    pushes.clear()
    post(logged_in, "/notifications/seen", {"up_to": first})
    assert unread_ids(app) == [second, theirs]
    post(logged_in, "/notifications/seen", {"up_to": "junk"})
    assert unread_ids(app) == [second, theirs]
    post(logged_in, "/notifications/seen", {"up_to": first})
    assert pushes == [pushes[0]]  # nothing changed the second time: no push


def test_excerpts_are_plain_text_new_and_old(app, logged_in, user):
    with app.app_context():
        recipient = db.session.get(User, user.id)
        notify(recipient, "welcome", excerpt="**bold** and `code`\n```py\nx = 1\n```")
        db.session.add(Notification(recipient_id=user.id, kind="welcome", excerpt="_old_ **row**"))
        db.session.commit()
        stored = db.session.scalars(select(Notification.excerpt).order_by(Notification.id)).all()
    assert stored[0] == "bold and code x = 1"
    page = logged_in.get("/notifications").get_data(as_text=True)
    assert "“old row”" in page and "“bold and code x = 1”" in page
    assert "**" not in page and "```" not in page


def test_opening_a_notification_marks_it_read_and_leads_on(app, logged_in, user, pushes):
    first, second = make_notifications(app, user, 2)
    page = logged_in.get("/notifications").get_data(as_text=True)
    links = re.findall(r'href="(/notifications/\d+/open\?token=[^"]+)"', page)
    assert len(links) == 2
    link = next(url for url in links if url.startswith(f"/notifications/{first}/"))
    pushes.clear()
    response = logged_in.get(link.replace("&amp;", "&"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert unread_ids(app) == [second]
    assert [p.data for p in pushes] == [{"name": "notifications-changed"}]


def test_an_unsigned_open_link_leads_on_but_marks_nothing(app, logged_in, user, other_user):
    (mine,) = make_notifications(app, user, 1)
    (theirs,) = make_notifications(app, other_user, 1)
    response = logged_in.get(f"/notifications/{mine}/open?token=forged")
    assert response.status_code == 302
    assert logged_in.get(f"/notifications/{mine}/open").status_code == 302
    assert logged_in.get(f"/notifications/{theirs}/open").status_code == 404
    assert unread_ids(app) == [mine, theirs]


def test_seen_without_csrf_is_refused(app, logged_in, user):
    (mine,) = make_notifications(app, user, 1)
    assert post(logged_in, "/notifications/seen", {"up_to": mine}, csrf=False).status_code == 400
    assert unread_ids(app) == [mine]


def test_mark_all_read_and_delete_without_javascript(app, logged_in, user):
    first, _ = make_notifications(app, user, 2)
    response = post(logged_in, "/notifications/read-all")
    assert response.status_code == 302
    assert 'aria-label="Notifications"' in logged_in.get("/notifications/bell").get_data(True)
    response = post(logged_in, f"/notifications/{first}/delete")
    assert response.status_code == 302
    assert notification_count(app) == 1


def test_delete_over_htmx_returns_nothing_to_swap_in(app, logged_in, user):
    (only,) = make_notifications(app, user, 1)
    response = post(logged_in, f"/notifications/{only}/delete", htmx=True)
    assert response.status_code == 200
    assert response.data == b""
    assert notification_count(app) == 0


@pytest.mark.parametrize("action", ["read", "delete"])
def test_another_users_notification_is_not_found(app, logged_in, other_user, action):
    (theirs,) = make_notifications(app, other_user, 1)
    assert post(logged_in, f"/notifications/{theirs}/{action}").status_code == 404
    with app.app_context():
        row = db.session.get(Notification, theirs)
        assert row is not None and row.read_at is None


def test_mark_all_read_touches_only_my_notifications(app, logged_in, user, other_user):
    make_notifications(app, user, 1)
    make_notifications(app, other_user, 1)
    post(logged_in, "/notifications/read-all")
    with app.app_context():
        unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
        assert [n.recipient_id for n in unread] == [other_user.id]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/notifications"),
        ("get", "/notifications/bell"),
        ("post", "/notifications/read-all"),
        ("post", "/notifications/1/read"),
        ("post", "/notifications/1/delete"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 if method == "get" else response.status_code in (302, 400)
    if method == "post":
        response = post(client, url)
        assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("action", ["read", "delete"])
def test_changes_without_csrf_are_refused(app, logged_in, user, action):
    (mine,) = make_notifications(app, user, 1)
    assert post(logged_in, f"/notifications/{mine}/{action}", csrf=False).status_code == 400
    assert post(logged_in, "/notifications/read-all", csrf=False).status_code == 400
    with app.app_context():
        assert db.session.get(Notification, mine).read_at is None


def test_a_session_of_an_old_password_sees_nothing(app, client, user):
    factories.login(client, user)
    with app.app_context():
        factories.end_sign_ins(user)
    assert client.get("/notifications").status_code == 302


def test_the_header_counts_to_99_plus_and_the_api_exactly(app, logged_in, user):
    """The header's counts stop at the cap (bounded work on every page, bench/scale.py);
    the API's unread count stays exact."""
    make_notifications(app, user, 120)
    bell = logged_in.get("/notifications/bell").get_data(as_text=True)
    assert 'aria-label="Notifications, more than 99 unread"' in bell
    assert ">99+</span>" in bell
    with app.app_context():
        from qosyl.reads.notifications import header_badges
        from qosyl.reads.notifications import header_counts

        assert header_badges(user.id)[0] == 100
        assert header_counts(user.id)[0] == 120
