"""Insights aggregates (ANA-1 to ANA-3) against hand-computed fixtures: empty days, the
edges of a day in the viewer's zone, daylight-saving changes, the previous period, and
queries that do not grow with the rows they count."""

from __future__ import annotations

import zoneinfo
from datetime import date
from datetime import datetime
from datetime import UTC

import pytest

from qosyl.actions import rooms
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Follow
from qosyl.models import Friendship
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import RoomMembershipEvent
from qosyl.models import RoomMessage
from qosyl.reads import insights
from tests import factories
from tests.helpers import assert_query_count

UTC = UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def by_day(series: insights.Series, period: insights.Window) -> dict[str, int]:
    """The non-zero days of a series, for short assertions."""
    return {day: n for day, n in zip(insights.labels(period), series.values, strict=True) if n}


@pytest.fixture
def room_id(app, user):
    return factories.make_room(app, user)


def room_messages(app, room_id: int, author, *moments: str) -> None:
    with app.app_context():
        for moment in moments:
            db.session.add(
                RoomMessage(room_id=room_id, author_id=author.id, body="x", created_at=at(moment))
            )
        db.session.commit()


# The period and its days


def test_the_period_is_the_last_days_in_the_zone_with_the_same_number_before():
    now = at("2026-11-30 23:30")  # already 1 December in Berlin
    period = insights.window(BERLIN, 7, now)
    assert insights.labels(period) == [f"2026-11-{d}" for d in range(25, 31)] + ["2026-12-01"]
    assert period.previous[0] == date(2026, 11, 18)
    assert period.start == at("2026-11-17 23:00")  # 18 November, 00:00 in Berlin
    assert period.end == at("2026-12-01 23:00")


def test_offsets_follow_each_daylight_saving_change_to_the_second():
    period = insights.window(BERLIN, 90, at("2026-12-31 12:00"))
    # Summer time until 25 October 2026, 01:00 UTC; the period began in July.
    assert period.offsets == ((None, 7200), (at("2026-10-25 01:00"), 3600))
    assert insights.window(KOLKATA, 90).offsets == ((None, 19800),)
    spring = insights.window(NEW_YORK, 30, at("2026-03-20 12:00"))
    assert spring.offsets == ((None, -18000), (at("2026-03-08 07:00"), -14400))


def test_time_zones_are_checked_against_the_iana_list(user):
    assert insights.valid_time_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "../../etc/passwd", None, 7, "europe/berlin"):
        assert insights.valid_time_zone(bad) is None
    user.time_zone = "Not/AZone"
    assert insights.zone_of(user).key == "UTC"


# My insights


def test_empty_days_are_zeros(app, user):
    with app.app_context():
        period = insights.window(BERLIN, 30)
        mine = insights.my_insights(user, period)
    assert set(mine.series) == set(insights.MY_SERIES)
    for series in mine.series.values():
        assert series.values == [0] * 30
        assert (series.total, series.previous_total, series.change_percent) == (0, 0, None)
    assert mine.top_rooms == [] and mine.top_posts == []


def test_a_message_counts_on_the_day_of_the_viewers_zone(app, user, room_id):
    # 23:30 UTC on the 24th: the 25th in Berlin and Kolkata, the 24th in New York.
    room_messages(app, room_id, user, "2026-11-24 23:30")
    now = at("2026-11-28 12:00")
    with app.app_context():
        for zone, day in ((BERLIN, "2026-11-25"), (KOLKATA, "2026-11-25"), (NEW_YORK, "2026-11-24"),
                          (zoneinfo.ZoneInfo("UTC"), "2026-11-24")):  # fmt: skip
            period = insights.window(zone, 7, now)
            messages = insights.my_insights(user, period).series["messages"]
            assert by_day(messages, period) == {day: 1}, zone


def test_the_last_fraction_of_a_second_belongs_to_its_own_day(app, user, room_id):
    # Rounding the epoch instead of flooring it would count this on the 21st.
    with app.app_context():
        db.session.add(
            RoomMessage(room_id=room_id, author_id=user.id, body="x",
                        created_at=datetime(2026, 11, 20, 23, 59, 59, 900_000, UTC))
        )  # fmt: skip
        db.session.commit()
        period = insights.window(zoneinfo.ZoneInfo("UTC"), 7, at("2026-11-22 12:00"))
        room = db.session.get(Room, room_id)
        engagement = insights.room_insights(room, period)
        mine = insights.my_insights(user, period)
    assert by_day(engagement.series["messages"], period) == {"2026-11-20": 1}
    assert by_day(engagement.series["active"], period) == {"2026-11-20": 1}
    assert by_day(mine.series["messages"], period) == {"2026-11-20": 1}


def test_active_members_are_counted_per_local_day_across_a_change(app, user, make_user, room_id):
    # Berlin's 25 October 2026 lasts 25 hours: 24 Oct 22:00 to 25 Oct 23:00 UTC.
    carol, dan = make_user(username="carol"), make_user(username="dan")
    room_messages(app, room_id, user, "2026-10-24 22:00")  # 00:00 on the 25th, first second
    room_messages(app, room_id, carol, "2026-10-25 22:59")  # 23:59 on the 25th, after the change
    room_messages(app, room_id, dan, "2026-10-25 23:00")  # 00:00 on the 26th
    room_messages(app, room_id, dan, "2026-10-24 21:59")  # 23:59 on the 24th
    with app.app_context():
        period = insights.window(BERLIN, 7, at("2026-10-28 12:00"))
        engagement = insights.room_insights(db.session.get(Room, room_id), period)
    assert by_day(engagement.series["active"], period) == {
        "2026-10-24": 1, "2026-10-25": 2, "2026-10-26": 1,
    }  # fmt: skip
    assert by_day(engagement.series["messages"], period) == by_day(
        engagement.series["active"], period
    )


def test_days_across_the_autumn_change_have_their_own_length(app, user, room_id):
    """Berlin, 25 October 2026: 25 hours long, from 22:00 UTC the day before to 23:00."""
    room_messages(
        app, room_id, user,
        "2026-10-24 21:59",  # 23:59 summer time: the 24th
        "2026-10-24 22:00",  # 00:00 summer time: the 25th
        "2026-10-25 22:59",  # 23:59 winter time: still the 25th
        "2026-10-25 23:00",  # 00:00 winter time: the 26th
    )  # fmt: skip
    with app.app_context():
        period = insights.window(BERLIN, 7, at("2026-10-27 12:00"))
        messages = insights.my_insights(user, period).series["messages"]
    assert by_day(messages, period) == {"2026-10-24": 1, "2026-10-25": 2, "2026-10-26": 1}


def test_days_across_the_spring_change_have_their_own_length(app, user, room_id):
    """New York, 8 March 2026: 23 hours long, from 05:00 UTC to 04:00 the next day."""
    room_messages(
        app, room_id, user,
        "2026-03-08 04:59",  # 23:59 on the 7th, standard time
        "2026-03-08 05:00",  # 00:00 on the 8th
        "2026-03-09 03:59",  # 23:59 on the 8th, daylight time
        "2026-03-09 04:00",  # 00:00 on the 9th
    )  # fmt: skip
    with app.app_context():
        period = insights.window(NEW_YORK, 7, at("2026-03-10 12:00"))
        messages = insights.my_insights(user, period).series["messages"]
    assert by_day(messages, period) == {"2026-03-07": 1, "2026-03-08": 2, "2026-03-09": 1}


def test_every_series_counts_what_others_did_to_me_and_what_i_did(
    app, user, other_user, make_user, room_id
):
    carol = make_user(username="carol")
    day = "2026-11-20"
    conversation_id = factories.start_conversation(app, user, other_user)
    with app.app_context():
        # The counters as the actions keep them: the likes and comments below.
        post = Post(
            author_id=user.id,
            body="Mine",
            created_at=at(f"{day} 10:00"),
            like_count=3,
            comment_count=2,
        )
        theirs = Post(
            author_id=other_user.id, body="Theirs", created_at=at(f"{day} 10:00"), like_count=1
        )
        # Much liked, but written before the period: not one of its top posts.
        old = Post(author_id=user.id, body="Old", created_at=at("2026-11-01 10:00"), like_count=9)
        db.session.add_all([post, theirs, old])
        db.session.flush()
        db.session.add_all([
            Message(conversation_id=conversation_id, author_id=user.id, body="hi",
                    created_at=at(f"{day} 11:00")),
            Message(conversation_id=conversation_id, author_id=other_user.id, body="hey",
                    created_at=at(f"{day} 11:00")),  # theirs: not mine
            PostLike(post_id=post.id, user_id=other_user.id, created_at=at(f"{day} 12:00")),
            PostLike(post_id=post.id, user_id=carol.id, created_at=at("2026-11-21 12:00")),
            PostLike(post_id=post.id, user_id=user.id, created_at=at(f"{day} 12:00")),  # mine
            PostLike(post_id=theirs.id, user_id=carol.id, created_at=at(f"{day} 12:00")),
            Comment(post_id=post.id, author_id=carol.id, body="Nice",
                    created_at=at(f"{day} 13:00")),
            Comment(post_id=post.id, author_id=user.id, body="Ta", created_at=at(f"{day} 13:00")),
            Follow(follower_id=carol.id, followed_id=user.id, created_at=at(f"{day} 14:00")),
            Follow(follower_id=user.id, followed_id=other_user.id, created_at=at(f"{day} 14:00")),
            Friendship(user_id=user.id, friend_id=other_user.id, created_at=at(f"{day} 15:00")),
            Friendship(user_id=other_user.id, friend_id=user.id, created_at=at(f"{day} 15:00")),
            RoomMembershipEvent(room_id=room_id, user_id=user.id, kind="joined",
                                created_at=at(f"{day} 16:00")),
            RoomMembershipEvent(room_id=room_id, user_id=user.id, kind="left",
                                created_at=at(f"{day} 17:00")),
        ])  # fmt: skip
        db.session.commit()
    room_messages(app, room_id, user, f"{day} 09:00", f"{day} 09:30")
    with app.app_context():
        period = insights.window(zoneinfo.ZoneInfo("UTC"), 7, at("2026-11-22 12:00"))
        mine = insights.my_insights(user, period)
    counted = {name: by_day(series, period) for name, series in mine.series.items()}
    assert counted == {
        "messages": {day: 3},
        "posts": {day: 1},
        "likes": {day: 1, "2026-11-21": 1},
        "comments": {day: 1},
        "followers": {day: 1},
        "friends": {day: 1},
        "rooms_joined": {day: 1},
    }
    assert [(r.name, r.messages) for r in mine.top_rooms] == [("Tea lovers", 2)]
    # The period's posts by their likes and comments, as the posts show them.
    assert [(p.excerpt, p.likes, p.comments) for p in mine.top_posts] == [("Mine", 3, 2)]


def test_totals_compare_with_the_period_before(app, user, room_id):
    room_messages(
        app, room_id, user,
        "2026-11-29 10:00", "2026-11-29 11:00", "2026-11-28 10:00",  # this week: 3
        "2026-11-21 10:00", "2026-11-22 10:00",  # the week before: 2
        "2026-11-10 10:00",  # before both: not counted
    )  # fmt: skip
    with app.app_context():
        period = insights.window(zoneinfo.ZoneInfo("UTC"), 7, at("2026-11-29 12:00"))
        messages = insights.my_insights(user, period).series["messages"]
    assert (messages.total, messages.previous_total, messages.change) == (3, 2, 1)
    assert messages.change_percent == 50.0


def test_my_insights_take_three_queries_however_much_there_is(app, user, room_id):
    period = insights.window(BERLIN, 30)

    def run() -> None:
        with app.app_context():
            db.session.expire_all()
            insights.my_insights(user, period)

    with assert_query_count(app, 3):
        run()
    for n in range(20):
        factories.write_post(app, user, f"post {n}")
        factories.say_in_room(app, user, room_id, f"message {n}")
    with assert_query_count(app, 3):
        run()


# Room engagement


def test_room_series_count_messages_active_members_joins_and_leaves(app, user, other_user, room_id):
    room_messages(app, room_id, user, "2026-11-20 10:00", "2026-11-20 11:00")
    room_messages(app, room_id, other_user, "2026-11-20 12:00", "2026-11-21 12:00")
    with app.app_context():
        room = db.session.get(Room, room_id)
        db.session.add_all([
            RoomMembershipEvent(room_id=room_id, user_id=other_user.id, kind="joined",
                                created_at=at("2026-11-19 10:00")),
            RoomMembershipEvent(room_id=room_id, user_id=other_user.id, kind="left",
                                created_at=at("2026-11-21 13:00")),
        ])  # fmt: skip
        db.session.commit()
        period = insights.window(zoneinfo.ZoneInfo("UTC"), 7, at("2026-11-22 12:00"))
        engagement = insights.room_insights(room, period)
    counted = {name: by_day(series, period) for name, series in engagement.series.items()}
    assert counted == {
        "messages": {"2026-11-20": 3, "2026-11-21": 1},
        "active": {"2026-11-20": 2, "2026-11-21": 1},
        "joined": {"2026-11-19": 1},
        "left": {"2026-11-21": 1},
    }
    assert [(c.username, c.messages) for c in engagement.top_contributors] == [
        (user.username, 2),
        (other_user.username, 2),
    ]


def test_the_heat_map_is_weekday_by_local_hour(app, user, room_id):
    room_messages(
        app, room_id, user,
        "2026-11-23 08:15",  # Monday 09:15 in Berlin
        "2026-11-23 08:45",  # Monday 09:45
        "2026-11-29 22:30",  # Sunday 23:30
        "2026-11-29 23:30",  # Monday 30 November, 00:30
    )  # fmt: skip
    with app.app_context():
        room = db.session.get(Room, room_id)
        period = insights.window(BERLIN, 30, at("2026-11-30 12:00"))
        hours = insights.room_insights(room, period).busiest_hours
    assert len(hours) == 7 and all(len(day) == 24 for day in hours)
    cells = {(d, h): n for d, day in enumerate(hours) for h, n in enumerate(day) if n}
    assert cells == {(0, 9): 2, (6, 23): 1, (0, 0): 1}


def test_room_insights_take_four_queries_however_much_there_is(app, user, make_user, room_id):
    def run() -> None:
        with app.app_context():
            room = db.session.get(Room, room_id)
            insights.room_insights(room, insights.window(BERLIN, 90))

    with assert_query_count(app, 5):  # the room, then four
        run()
    for n in range(6):
        member = make_user(username=f"member{n}")
        factories.with_room(app, room_id, lambda room, m=member: rooms.join(m, room))
        factories.say_in_room(app, member, room_id, f"hello {n}")
    with assert_query_count(app, 5):
        run()


# Site overview


def test_site_series_count_sign_ups_activity_and_what_was_made(app, user, other_user, room_id):
    room_messages(app, room_id, user, "2026-11-20 10:00")
    with app.app_context():
        db.session.add_all([
            Post(author_id=user.id, body="a", created_at=at("2026-11-20 11:00")),
            Post(author_id=other_user.id, body="b", created_at=at("2026-11-21 11:00")),
        ])  # fmt: skip
        db.session.commit()
        period = insights.window(zoneinfo.ZoneInfo("UTC"), 7, at("2026-11-22 12:00"))
        site = insights.site_insights(period)
        today = datetime.now(UTC).date().isoformat()
    counted = {name: by_day(series, period) for name, series in site.series.items()}
    assert counted["messages"] == {"2026-11-20": 1}
    assert counted["posts"] == {"2026-11-20": 1, "2026-11-21": 1}
    # The same person twice on the 20th (a message and a post) is one active user.
    assert counted["active"] == {"2026-11-20": 1, "2026-11-21": 1}
    # The accounts and the room were made now, outside this fixed week.
    assert counted["signups"] == {} and counted["rooms"] == {} and today > "2026-11-22"


def test_site_insights_take_one_query(app, user):
    with assert_query_count(app, 1):
        with app.app_context():
            insights.site_insights(insights.window(insights.SITE_ZONE, 90))


# The history of joins and leaves, written by the room actions


def test_joining_leaving_and_removal_are_recorded_with_the_change(app, user, other_user, room_id):
    def history() -> list[tuple[int, str]]:
        with app.app_context():
            events = db.session.scalars(
                db.select(RoomMembershipEvent)
                .where(RoomMembershipEvent.room_id == room_id)
                .order_by(RoomMembershipEvent.id)
            )
            return [(e.user_id, e.kind) for e in events]

    assert history() == [(user.id, "joined")]  # the host, by making the room
    factories.with_room(app, room_id, lambda room: rooms.join(other_user, room))
    factories.with_room(app, room_id, lambda room: rooms.join(other_user, room))  # again
    factories.with_room(app, room_id, lambda room: rooms.leave(other_user, room))
    factories.with_room(app, room_id, lambda room: rooms.join(other_user, room))
    factories.with_room(app, room_id, lambda room: rooms.remove_member(room, other_user))
    factories.with_room(app, room_id, lambda room: rooms.readmit_member(room, other_user))
    them = other_user.id
    assert history() == [
        (user.id, "joined"),
        (them, "joined"),
        (them, "left"),
        (them, "joined"),
        (them, "left"),
        (them, "joined"),
    ]


def test_the_migration_counts_present_members_as_their_first_join(app, user, other_user, room_id):
    """Migration 0010 starts the history from room_members: present members joined when
    they did; someone the host removed is not in the room."""
    import warnings

    from flask_migrate import downgrade
    from flask_migrate import upgrade
    from sqlalchemy import text

    factories.with_room(app, room_id, lambda room: rooms.join(other_user, room))
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        db.session.remove()
        downgrade(revision="0009")
        db.session.execute(
            text("UPDATE room_members SET removed_at = joined_at WHERE user_id = :id"),
            {"id": other_user.id},
        )
        db.session.commit()
        upgrade()
        history = db.session.execute(
            text("SELECT room_id, user_id, kind FROM room_membership_events")
        ).all()
    assert [tuple(row) for row in history] == [(room_id, user.id, "joined")]
