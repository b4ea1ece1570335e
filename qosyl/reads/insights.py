"""Insights (ANA-1 to ANA-3): counts per day (or per hour of the week) cut in the viewer's
time zone, for a person, a room's host and the site's administrators.

Each chart is one aggregate query that runs the same on SQLite and PostgreSQL. Rows are
bucketed by their seconds since the epoch, shifted by the zone's UTC offset: the offset is
constant between two daylight-saving changes, so the query carries one CASE branch per
change in the period (none in most periods, one or two in others) and the database does
the grouping. Days with nothing in them come back as zeros, filled in here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import UTC
from functools import lru_cache

from sqlalchemy import and_
from sqlalchemy import BigInteger
from sqlalchemy import case
from sqlalchemy import ColumnElement
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from qosyl.models import Comment
from qosyl.models import Follow
from qosyl.models import Friendship
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import RoomMembershipEvent
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.models.base import db

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
DAY = 86_400
HOUR = 3_600
WEEK_HOURS = 168
# 1970-01-01 was a Thursday: hours since the epoch, plus this, count from a Monday 00:00.
MONDAY_SHIFT_HOURS = 3 * 24
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP = 5
# How far apart offset samples are when looking for daylight-saving changes: changes are
# months apart, so none hides between two samples.
_SAMPLE = timedelta(hours=6)


# Time zones


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_time_zone(name: object) -> str | None:
    """The name if it is an IANA zone this machine knows, else None."""
    if isinstance(name, str) and name in time_zones():
        return name
    return None


def zone_of(user: User) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(valid_time_zone(user.time_zone) or "UTC")


# Epoch seconds, the same number on both databases


class epoch_seconds(FunctionElement):
    """Seconds since 1970-01-01 of a naive UTC timestamp column, as an integer."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


# The period


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """`days` local days ending today, and as many before them (the previous period).

    start/end are UTC instants; offsets are (from, seconds east of UTC) with the
    first `from` None: the zone's offset from that instant on.
    """

    zone: zoneinfo.ZoneInfo
    days: int
    first_day: date  # the first day of the current period
    start: datetime
    end: datetime
    offsets: tuple[tuple[datetime | None, int], ...] = field(repr=False)

    @property
    def current(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]

    @property
    def previous(self) -> list[date]:
        return [self.first_day - timedelta(days=self.days - n) for n in range(self.days)]

    @property
    def current_start(self) -> datetime:
        return _utc(datetime.combine(self.first_day, time(), self.zone))

    def local_seconds(self, column) -> ColumnElement[int]:
        """The column's instant as seconds since the epoch on the zone's wall clock."""
        seconds = epoch_seconds(column)
        if len(self.offsets) == 1:
            return seconds + self.offsets[0][1]
        # Later changes first: the first boundary the row is past decides its offset.
        branches = [(column >= since, offset) for since, offset in reversed(self.offsets[1:])]
        return seconds + case(*branches, else_=self.offsets[0][1])

    def local_day(self, column) -> ColumnElement[int]:
        """Days since 1970-01-01 on the zone's calendar."""
        return self.local_seconds(column) // DAY

    def hour_of_week(self, column) -> ColumnElement[int]:
        """0 for Monday 00:00-00:59 local, up to 167 for Sunday 23:00-23:59."""
        return (self.local_seconds(column) // HOUR + MONDAY_SHIFT_HOURS) % WEEK_HOURS

    def in_range(self, column, current_only: bool = False) -> ColumnElement[bool]:
        start = self.current_start if current_only else self.start
        return and_(column >= start, column < self.end)


def window(zone: zoneinfo.ZoneInfo, days: int, now: datetime | None = None) -> Window:
    """The last `days` local days, today included, and the `days` before them."""
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day - timedelta(days=days), time(), zone)
    end = datetime.combine(today + timedelta(days=1), time(), zone)
    return Window(
        zone=zone,
        days=days,
        first_day=first_day,
        start=_utc(start),
        end=_utc(end),
        offsets=_offsets(zone, start.astimezone(UTC), end.astimezone(UTC)),
    )


def _offset(zone: zoneinfo.ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def _offsets(
    zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's offset at `start`, then each change before `end`, to the second."""
    found: list[tuple[datetime | None, int]] = [(None, _offset(zone, start))]
    before = start
    while before < end:
        after = min(before + _SAMPLE, end)
        if _offset(zone, after) != found[-1][1]:
            # The change is in (low, high], in whole seconds as zones change.
            low, high = int(before.timestamp()), int(after.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, datetime.fromtimestamp(middle, UTC)) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            change = datetime.fromtimestamp(high, UTC)
            found.append((change, _offset(zone, change)))
        before = after
    return tuple(found)


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


# Series


@dataclass
class Series:
    """One line of a chart: a count per day of the current period, and the totals of the
    current and previous periods."""

    name: str
    label: str
    values: list[int]
    total: int
    previous_total: int

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_percent(self) -> float | None:
        if self.previous_total == 0:
            return None
        return round(100 * self.change / self.previous_total, 1)


def _series(
    period: Window, counts: dict[tuple[str, int], int], labels: dict[str, str]
) -> dict[str, Series]:
    current = [day_number(day) for day in period.current]
    previous = [day_number(day) for day in period.previous]
    result = {}
    for name, label in labels.items():
        values = [counts.get((name, n), 0) for n in current]
        result[name] = Series(
            name=name,
            label=label,
            values=values,
            total=sum(values),
            previous_total=sum(counts.get((name, n), 0) for n in previous),
        )
    return result


def _counted(period: Window, rows, *, distinct_who: bool = False) -> dict[tuple[str, int], int]:
    """GROUP BY kind, local day over a UNION ALL of (kind, at[, who]) selects: one query."""
    both = union_all(*rows).subquery()
    # The day is computed in a subquery and grouped by name: PostgreSQL would not match a
    # GROUP BY expression to the selected one when each carries its own parameters.
    days = select(
        both.c.kind,
        period.local_day(both.c.at).label("day"),
        *([both.c.who] if distinct_who else []),
    ).subquery()
    count = func.count(distinct(days.c.who)) if distinct_who else func.count()
    query = select(days.c.kind, days.c.day, count).group_by(days.c.kind, days.c.day)
    return {(kind, int(n)): int(c) for kind, n, c in db.session.execute(query)}


def _counted_with_people(
    period: Window, rows
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """Like _counted, with the number of different people per day too, in the same query."""
    both = union_all(*rows).subquery()
    days = select(both.c.kind, period.local_day(both.c.at).label("day"), both.c.who).subquery()
    query = select(
        days.c.kind, days.c.day, func.count(), func.count(distinct(days.c.who))
    ).group_by(days.c.kind, days.c.day)
    counts, people = {}, {}
    for kind, n, count, who in db.session.execute(query):
        counts[(kind, int(n))] = int(count)
        people[(kind, int(n))] = int(who)
    return counts, people


def _rows(kind: str, column, *where, who=None):
    # A literal in the SQL text, not a parameter: the kinds are this module's constants, and
    # PostgreSQL cannot type a parameter that only a UNION's GROUP BY uses.
    columns = [literal_column(f"'{kind}'").label("kind"), column.label("at")]
    if who is not None:
        columns.append(who.label("who"))
    return select(*columns).where(*where)


# My insights (ANA-1)

MY_SERIES = {
    "messages": "Messages sent",
    "posts": "Posts",
    "likes": "Likes received",
    "comments": "Comments received",
    "followers": "New followers",
    "friends": "New friends",
    "rooms_joined": "Rooms joined",
}


@dataclass
class TopRoom:
    id: int
    name: str
    messages: int


@dataclass
class TopPost:
    id: int
    excerpt: str
    likes: int
    comments: int


@dataclass
class MyInsights:
    period: Window
    series: dict[str, Series]
    top_rooms: list[TopRoom]
    top_posts: list[TopPost]


def my_insights(user: User, period: Window) -> MyInsights:
    """Three queries: the series, the top rooms and the top posts."""
    me = user.id
    my_post_ids = select(Post.id).where(Post.author_id == me).scalar_subquery()
    rows = [
        _rows("messages", RoomMessage.created_at, RoomMessage.author_id == me,
              period.in_range(RoomMessage.created_at)),
        _rows("messages", Message.created_at, Message.author_id == me,
              period.in_range(Message.created_at)),
        _rows("posts", Post.created_at, Post.author_id == me, period.in_range(Post.created_at)),
        _rows("likes", PostLike.created_at, PostLike.post_id.in_(my_post_ids),
              PostLike.user_id != me, period.in_range(PostLike.created_at)),
        _rows("comments", Comment.created_at, Comment.post_id.in_(my_post_ids),
              Comment.author_id != me, period.in_range(Comment.created_at)),
        _rows("followers", Follow.created_at, Follow.followed_id == me,
              period.in_range(Follow.created_at)),
        _rows("friends", Friendship.created_at, Friendship.user_id == me,
              period.in_range(Friendship.created_at)),
        _rows("rooms_joined", RoomMembershipEvent.created_at, RoomMembershipEvent.user_id == me,
              RoomMembershipEvent.kind == RoomMembershipEvent.JOINED,
              period.in_range(RoomMembershipEvent.created_at)),
    ]  # fmt: skip
    series = _series(period, _counted(period, rows), MY_SERIES)
    return MyInsights(
        period=period,
        series=series,
        top_rooms=_my_top_rooms(me, period),
        top_posts=_my_top_posts(me, period),
    )


def _my_top_rooms(me: int, period: Window) -> list[TopRoom]:
    sent = func.count(RoomMessage.id)
    query = (
        select(Room.id, Room.name, sent)
        .join(RoomMessage, RoomMessage.room_id == Room.id)
        .where(RoomMessage.author_id == me, period.in_range(RoomMessage.created_at, True))
        .group_by(Room.id, Room.name)
        .order_by(sent.desc(), Room.id)
        .limit(TOP)
    )
    return [TopRoom(id, name, count) for id, name, count in db.session.execute(query)]


def _my_top_posts(me: int, period: Window) -> list[TopPost]:
    """My posts with the most likes and comments from others in the period."""
    reactions = union_all(
        select(PostLike.post_id, literal(1).label("like"), literal(0).label("comment"))
        .join(Post, Post.id == PostLike.post_id)
        .where(Post.author_id == me, PostLike.user_id != me,
               period.in_range(PostLike.created_at, True)),
        select(Comment.post_id, literal(0), literal(1))
        .join(Post, Post.id == Comment.post_id)
        .where(Post.author_id == me, Comment.author_id != me,
               period.in_range(Comment.created_at, True)),
    ).subquery()  # fmt: skip
    likes = func.sum(reactions.c.like).label("likes")
    comments = func.sum(reactions.c.comment).label("comments")
    # The five first, then their posts: joining every reaction to its post reads them all.
    top = (
        select(reactions.c.post_id, likes, comments)
        .group_by(reactions.c.post_id)
        .order_by((likes + comments).desc(), reactions.c.post_id.desc())
        .limit(TOP)
        .subquery()
    )
    query = (
        select(Post.id, func.substr(Post.body, 1, 200), top.c.likes, top.c.comments)
        .join(top, top.c.post_id == Post.id)
        .order_by((top.c.likes + top.c.comments).desc(), Post.id.desc())
    )
    return [
        TopPost(id, _excerpt(body), int(n_likes), int(n_comments))
        for id, body, n_likes, n_comments in db.session.execute(query)
    ]


def _excerpt(body: str, length: int = 80) -> str:
    text = " ".join(body.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# Room engagement (ANA-2)

ROOM_SERIES = {
    "messages": "Messages",
    "active": "Active members",
    "joined": "Joined",
    "left": "Left",
}


@dataclass
class Contributor:
    id: int
    username: str
    full_name: str
    messages: int


@dataclass
class RoomInsights:
    period: Window
    series: dict[str, Series]
    top_contributors: list[Contributor]
    # busiest_hours[weekday][hour]: messages in the current period, Monday first.
    busiest_hours: list[list[int]]


def room_insights(room: Room, period: Window) -> RoomInsights:
    """Four queries: messages and who wrote them, joins and leaves, contributors, the heat
    map."""
    messages = _rows(
        "messages",
        RoomMessage.created_at,
        RoomMessage.room_id == room.id,
        period.in_range(RoomMessage.created_at),
        who=RoomMessage.author_id,
    )
    counts, active = _counted_with_people(period, [messages])
    membership = [
        _rows(kind, RoomMembershipEvent.created_at, RoomMembershipEvent.room_id == room.id,
              RoomMembershipEvent.kind == kind, period.in_range(RoomMembershipEvent.created_at))
        for kind in (RoomMembershipEvent.JOINED, RoomMembershipEvent.LEFT)
    ]  # fmt: skip
    counts.update({("active", n): c for (_, n), c in active.items()})
    counts.update(_counted(period, membership))
    return RoomInsights(
        period=period,
        series=_series(period, counts, ROOM_SERIES),
        top_contributors=_top_contributors(room, period),
        busiest_hours=_busiest_hours(room, period),
    )


def _top_contributors(room: Room, period: Window) -> list[Contributor]:
    sent = func.count(RoomMessage.id)
    query = (
        select(User.id, User.username, User.first_name, User.last_name, sent)
        .join(RoomMessage, RoomMessage.author_id == User.id)
        .where(RoomMessage.room_id == room.id, period.in_range(RoomMessage.created_at, True))
        .group_by(User.id, User.username, User.first_name, User.last_name)
        .order_by(sent.desc(), User.id)
        .limit(TOP)
    )
    return [
        Contributor(id, username, f"{first} {last}".strip(), count)
        for id, username, first, last, count in db.session.execute(query)
    ]


def _busiest_hours(room: Room, period: Window) -> list[list[int]]:
    hours = (
        select(period.hour_of_week(RoomMessage.created_at).label("hour"))
        .where(RoomMessage.room_id == room.id, period.in_range(RoomMessage.created_at, True))
        .subquery()
    )
    query = select(hours.c.hour, func.count()).group_by(hours.c.hour)
    cells = [0] * WEEK_HOURS
    for index, count in db.session.execute(query):
        cells[int(index)] = int(count)
    return [cells[day * 24 : day * 24 + 24] for day in range(7)]


# Site overview (ANA-3, administrators)

SITE_SERIES = {
    "signups": "Sign-ups",
    "active": "Daily active users",
    "messages": "Messages",
    "posts": "Posts",
    "rooms": "Rooms created",
}


@dataclass
class SiteInsights:
    period: Window
    series: dict[str, Series]


def site_insights(period: Window) -> SiteInsights:
    """Two queries: what was made per day, and who did something per day.

    Active means having sent a message, posted, commented or liked that day: what the
    database records of a person's day (reading leaves no trace, on purpose).
    """
    made = [
        _rows("signups", User.created_at, period.in_range(User.created_at)),
        _rows("messages", RoomMessage.created_at, period.in_range(RoomMessage.created_at)),
        _rows("messages", Message.created_at, period.in_range(Message.created_at)),
        _rows("posts", Post.created_at, period.in_range(Post.created_at)),
        _rows("rooms", Room.created_at, period.in_range(Room.created_at)),
    ]
    activity = [
        _rows("active", RoomMessage.created_at, period.in_range(RoomMessage.created_at),
              who=RoomMessage.author_id),
        _rows("active", Message.created_at, period.in_range(Message.created_at),
              who=Message.author_id),
        _rows("active", Post.created_at, period.in_range(Post.created_at), who=Post.author_id),
        _rows("active", Comment.created_at, period.in_range(Comment.created_at),
              who=Comment.author_id),
        _rows("active", PostLike.created_at, period.in_range(PostLike.created_at),
              who=PostLike.user_id),
    ]  # fmt: skip
    counts = _counted(period, made)
    counts.update(_counted(period, activity, distinct_who=True))
    return SiteInsights(period=period, series=_series(period, counts, SITE_SERIES))


def labels(period: Window) -> list[str]:
    """The current period's days, ISO dates (the charts' x axis and the tables' rows)."""
    return [day.isoformat() for day in period.current]


def rows_of(series: Iterable[Series], period: Window) -> list[list[object]]:
    """A table of the series: one row per day, a column per series (also the CSV)."""
    columns = list(series)
    return [[day, *(s.values[index] for s in columns)] for index, day in enumerate(labels(period))]
