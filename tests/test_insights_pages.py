"""Insights pages (issue 13) through the Flask test client: my insights, a room's engagement
for its host, the site overview for administrators, their tables and CSV downloads, and the
time zone they cut days in. The aggregates are qosyl/reads/insights.py's; the charts drawn
in a browser are tests/e2e/test_insights.py's."""

from __future__ import annotations

import zoneinfo
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions.profiles import CHOOSE_TIME_ZONE
from qosyl.actions.profiles import set_time_zone
from qosyl.extensions import db
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.web.csv_export import neutral
from tests import factories
from tests.factories import make_room
from tests.factories import reload
from tests.factories import say_in_room
from tests.helpers import count_queries
from tests.helpers import post


class Tables(HTMLParser):
    """The page's tables by caption: each a list of rows of cell texts, header row first."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._name = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self.tables[self._name] = self._rows
            self._rows = None

    def handle_data(self, data):
        for part in (self._caption, self._cell):
            if part is not None:
                part.append(data)


def tables_of(response) -> dict[str, list[list[str]]]:
    assert response.status_code == 200, response.status_code
    return Tables(response.get_data(as_text=True)).tables


def today() -> date:
    return datetime.now(UTC).date()


def backdate_messages(app, room_id: int, count: int, days: int) -> None:
    """Move `count` of the room's newest messages `days` days back."""
    with app.app_context():
        messages = db.session.scalars(
            select(RoomMessage)
            .where(RoomMessage.room_id == room_id)
            .order_by(RoomMessage.id.desc())
            .limit(count)
        ).all()
        for message in messages:
            message.created_at -= timedelta(days=days)
        db.session.commit()


@pytest.fixture
def busy_room(app, user, other_user) -> int:
    """Alice's room: Bob joined; Alice wrote once yesterday and twice today (UTC)."""
    room_id = make_room(app, user, name="Tea lovers")
    factories.with_room(app, room_id, factories.room_actions.join, other_user)
    say_in_room(app, user, room_id, "yesterday's tea")
    backdate_messages(app, room_id, 1, 1)
    say_in_room(app, user, room_id, "morning tea")
    say_in_room(app, user, room_id, "afternoon tea")
    return room_id


def make_admin(app, person) -> None:
    with app.app_context():
        reload(person).is_admin = True
        db.session.commit()


# My insights


def test_my_insights_count_my_messages_per_day(app, logged_in, busy_room):
    tables = tables_of(logged_in.get("/insights"))
    rows = tables["Messages and posts per day"]
    assert rows[0] == ["Day", "Messages sent", "Posts"]
    assert len(rows) == 1 + 30
    assert rows[-1] == [today().isoformat(), "2", "0"]
    assert rows[-2] == [(today() - timedelta(days=1)).isoformat(), "1", "0"]
    page = logged_in.get("/insights").get_data(as_text=True)
    assert "+3 vs previous 30 days" in page  # nothing before: no percentage
    assert f'href="/rooms/{busy_room}">Tea lovers</a>' in page
    assert "3 messages" in page
    assert "midnight to midnight in UTC" in page


def test_the_change_is_shown_against_the_previous_period(app, logged_in, busy_room):
    backdate_messages(app, busy_room, 1, 10)  # one of today's: now 10 days ago
    page = logged_in.get("/insights?days=7").get_data(as_text=True)
    # This week: today's one and yesterday's; the week before: the one moved back 10 days.
    assert "+1 (+100%) vs previous 7 days" in page


def test_top_posts_link_to_the_post(app, logged_in, user, other_user):
    post_id = factories.write_post(app, user, "Green tea is best")
    factories.like_post(app, other_user, post_id)
    page = logged_in.get("/insights").get_data(as_text=True)
    assert f'href="/p/{post_id}">Green tea is best</a>' in page
    assert "1 like, 0 comments" in page


@pytest.mark.parametrize(("asked", "days"), [("7", 7), ("30", 30), ("90", 90), ("", 30),
                                             ("31", 30), ("-7", 30), ("x", 30)])  # fmt: skip
def test_the_period_is_7_30_or_90_days_anything_else_30(logged_in, asked, days):
    response = logged_in.get(f"/insights?days={asked}")
    rows = tables_of(response)["Messages and posts per day"]
    assert len(rows) == 1 + days
    page = response.get_data(as_text=True)
    assert f'href="/insights?days={days}" hx-boost="false" aria-current="page">' in page


def test_my_insights_cut_days_in_my_time_zone(app, logged_in, user, busy_room):
    with app.app_context():
        reload(user).time_zone = "Pacific/Kiritimati"  # UTC+14: its today may be UTC's tomorrow
        db.session.commit()
    response = logged_in.get("/insights?days=7")
    assert "midnight to midnight in Pacific/Kiritimati" in response.get_data(as_text=True)
    rows = tables_of(response)["Messages and posts per day"]
    local_today = datetime.now(UTC).astimezone(zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    assert rows[-1][0] == local_today.date().isoformat()
    assert sum(int(row[1]) for row in rows[1:]) == 3


def test_my_insights_run_the_same_queries_whatever_there_is(app, client, user, other_user):
    factories.login(client, user)
    room_id = make_room(app, user)
    say_in_room(app, user, room_id, "one")
    with count_queries(app) as few:
        assert client.get("/insights").status_code == 200
    for n in range(6):
        more = make_room(app, user, name=f"Room {n}")
        say_in_room(app, user, more, "hi")
        factories.like_post(app, other_user, factories.write_post(app, user, f"Post {n}"))
    with count_queries(app) as many:
        assert client.get("/insights").status_code == 200
    assert len(many) == len(few), f"{few}\n---\n{many}"


def test_user_text_shows_as_text(app, logged_in, user):
    room_id = make_room(app, user, name="<script>alert(1)</script>")
    say_in_room(app, user, room_id, "hi")
    page = logged_in.get("/insights").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    page = logged_in.get(f"/rooms/{room_id}/insights").get_data(as_text=True)
    assert "<script>alert(1)" not in page


def test_the_account_menu_links_to_insights_and_admins_to_the_site(app, logged_in, user):
    page = logged_in.get("/insights").get_data(as_text=True)
    assert 'href="/insights" hx-boost="false">Insights</a>' in page
    assert 'href="/insights/site"' not in page
    make_admin(app, user)
    home = logged_in.get("/").get_data(as_text=True)
    assert 'href="/insights/site" hx-boost="false">Site overview</a>' in home


# CSV downloads


def test_my_chart_as_csv(app, logged_in, busy_room):
    response = logged_in.get("/insights/activity.csv?days=7")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="my-insights-activity-7-days.csv"'
    )
    lines = response.get_data(as_text=True).split("\r\n")
    days = [today() - timedelta(days=n) for n in range(6, -1, -1)]
    counts = {today(): 2, today() - timedelta(days=1): 1}
    assert lines == [
        "Day,Messages sent,Posts",
        *(f"{day.isoformat()},{counts.get(day, 0)},0" for day in days),
        "",
    ]


def test_room_and_site_charts_as_csv(app, logged_in, user, busy_room):
    response = logged_in.get(f"/rooms/{busy_room}/insights/messages.csv?days=7")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="room-{busy_room}-messages-7-days.csv"'
    )
    lines = response.get_data(as_text=True).split("\r\n")
    assert lines[0] == "Day,Messages,Active members"
    assert lines[-2] == f"{today().isoformat()},2,1"
    make_admin(app, user)
    lines = logged_in.get("/insights/site/people.csv").get_data(as_text=True).split("\r\n")
    assert lines[0] == "Day,Sign-ups,Daily active users"
    assert len(lines) == 1 + 30 + 1
    assert lines[-2] == f"{today().isoformat()},2,1"  # Alice and Bob signed up; Alice wrote


def test_an_unknown_chart_is_not_found(logged_in, busy_room):
    assert logged_in.get("/insights/nothing.csv").status_code == 404
    assert logged_in.get(f"/rooms/{busy_room}/insights/activity.csv").status_code == 404


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\r=x"])
def test_csv_cells_a_spreadsheet_would_run_are_made_text(text):
    assert neutral(text) == "'" + text
    assert neutral("Tea =1") == "Tea =1"
    assert neutral(-3) == -3


# Room engagement


def test_the_host_sees_the_rooms_engagement(app, logged_in, busy_room):
    response = logged_in.get(f"/rooms/{busy_room}/insights")
    tables = tables_of(response)
    rows = tables["Messages and active members per day"]
    assert rows[0] == ["Day", "Messages", "Active members"]
    assert rows[-1] == [today().isoformat(), "2", "1"]
    assert rows[-2] == [(today() - timedelta(days=1)).isoformat(), "1", "1"]
    joined = tables["Members joined and left per day"]
    assert joined[-1] == [today().isoformat(), "2", "0"]  # Alice made it, Bob joined
    heat = tables["Messages by weekday and hour, last 30 days"]
    assert heat[0] == ["Day", *(f"{hour:02d}" for hour in range(24))]
    assert [row[0] for row in heat[1:]] == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ]  # fmt: skip
    assert sum(int(cell) for row in heat[1:] for cell in row[1:]) == 3
    page = response.get_data(as_text=True)
    assert 'class="heat-5"' in page and 'class="heat-0"' in page
    assert "Top contributors" in page and "3 messages" in page


def test_the_room_page_links_its_host_to_the_insights(client, logged_in, other_user, busy_room):
    link = f'href="/rooms/{busy_room}/insights" hx-boost="false">Insights</a>'
    assert link in logged_in.get(f"/rooms/{busy_room}").get_data(as_text=True)
    factories.login(client, other_user)
    assert link not in client.get(f"/rooms/{busy_room}").get_data(as_text=True)


def test_room_insights_are_the_hosts_alone(app, client, other_user, busy_room):
    factories.login(client, other_user)  # a member, not the host
    assert client.get(f"/rooms/{busy_room}/insights").status_code == 404
    assert client.get(f"/rooms/{busy_room}/insights/messages.csv").status_code == 404
    assert client.get("/rooms/999999/insights").status_code == 404


# Site overview


def test_the_site_overview_is_for_administrators(app, client, logged_in, user, busy_room):
    assert logged_in.get("/insights/site").status_code == 404
    assert logged_in.get("/insights/site/people.csv").status_code == 404
    make_admin(app, user)
    tables = tables_of(logged_in.get("/insights/site"))
    people = tables["Sign-ups and daily active users per day"]
    assert people[-1] == [today().isoformat(), "2", "1"]
    content = tables["Messages, posts and rooms created per day"]
    assert content[0] == ["Day", "Messages", "Posts", "Rooms created"]
    assert content[-1] == [today().isoformat(), "2", "0", "1"]


def test_the_site_overview_is_in_utc_days_whatever_the_administrators_zone(
    app, logged_in, user, busy_room
):
    make_admin(app, user)
    with app.app_context():
        reload(user).time_zone = "Pacific/Kiritimati"  # UTC+14: a day ahead of UTC at times
        db.session.commit()
    response = logged_in.get("/insights/site")
    page = response.get_data(as_text=True)
    assert "midnight to midnight in UTC, the same for every administrator" in page
    assert "Kiritimati" not in page
    assert tables_of(response)["Sign-ups and daily active users per day"][-1][0] == (
        datetime.now(UTC).date().isoformat()
    )


@pytest.mark.parametrize(
    "url", ["/insights", "/insights/activity.csv", "/rooms/1/insights", "/insights/site",
            "/settings/time-zone"],
)  # fmt: skip
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# Time zone


def test_set_time_zone_stores_a_known_zone_and_refuses_others(app, user):
    with app.app_context():
        set_time_zone(reload(user), "Asia/Almaty")
        assert reload(user).time_zone == "Asia/Almaty"
        for name in ("Mars/Olympus", "", "asia/almaty", None):
            with pytest.raises(ActionError) as refused:
                set_time_zone(reload(user), name)
            assert (refused.value.message, refused.value.field) == (CHOOSE_TIME_ZONE, "time_zone")
        assert reload(user).time_zone == "Asia/Almaty"


def stored_zone(app, person) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.time_zone).where(User.id == person.id))


def test_the_settings_page_saves_a_time_zone(app, logged_in, user):
    page = logged_in.get("/settings/time-zone").get_data(as_text=True)
    assert '<label class="field__label" for="time_zone">Time zone</label>' in page
    assert '<option selected value="UTC">UTC</option>' in page
    assert '<option value="Asia/Almaty">Asia/Almaty</option>' in page
    response = post(logged_in, "/settings/time-zone", {"time_zone": "Asia/Almaty"})
    assert response.status_code == 302
    assert stored_zone(app, user) == "Asia/Almaty"
    page = logged_in.get("/insights").get_data(as_text=True)
    assert "midnight to midnight in Asia/Almaty" in page
    assert "data-zone-unset" not in page


def test_the_settings_page_refuses_an_unknown_zone_next_to_the_field(app, logged_in, user):
    response = post(logged_in, "/settings/time-zone", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="time_zone-error"><li>{CHOOSE_TIME_ZONE}</li></ul>' in page
    assert stored_zone(app, user) is None


def test_the_browsers_zone_is_stored_by_the_insights_script(app, logged_in, user):
    page = logged_in.get("/insights").get_data(as_text=True)
    assert 'data-zone-unset data-zone-url="/settings/time-zone"' in page
    headers = {"HX-Request": "true"}
    refused = post(logged_in, "/settings/time-zone", {"time_zone": "Nowhere/Else"}, headers=headers)
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, CHOOSE_TIME_ZONE)
    assert stored_zone(app, user) is None
    saved = post(logged_in, "/settings/time-zone", {"time_zone": "Europe/Paris"}, headers=headers)
    assert saved.status_code == 204
    assert stored_zone(app, user) == "Europe/Paris"


def test_a_time_zone_without_csrf_token_is_refused(app, logged_in, user):
    response = post(logged_in, "/settings/time-zone", {"time_zone": "Asia/Almaty"}, csrf=False)
    assert response.status_code == 400
    assert stored_zone(app, user) is None
