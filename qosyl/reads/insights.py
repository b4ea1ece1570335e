"""Insights (ANA-1 to ANA-3): counts per day (or per hour of the week) cut in the viewer's
time zone, for a person, a room's host and the site's administrators.

Each chart is one aggregate query that runs the same on SQLite and PostgreSQL, over the
rollups (qosyl/models/rollups.py): counts per UTC quarter-hour, which database triggers keep
as things happen. A quarter-hour's start is shifted by the zone's UTC offset, constant
between two daylight-saving changes, so the query carries one CASE branch per change in
the period (none in most periods, one or two in others) and the database groups by local
day. Different people per day cannot be summed from counts: a room's active members are
counted from its messages, one short index range per local day. Days with nothing in them
come back as zeros, filled in here.
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
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import ColumnElement
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.models.base import db
from qosyl.models.rollups import ActivityCount
from qosyl.models.rollups import ROOM
from qosyl.models.rollups import SITE
from qosyl.models.rollups import SLOT_SECONDS
from qosyl.models.rollups import USER

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

    # A rollup's UTC quarter-hours on the zone's calendar (exact: offsets and daylight-saving
    # changes fall on quarter-hours).

    def slot_local_seconds(self, slot) -> ColumnElement[int]:
        """The slot's start as seconds since the epoch on the zone's wall clock."""
        seconds = cast(slot, BigInteger) * SLOT_SECONDS
        if len(self.offsets) == 1:
            return seconds + self.offsets[0][1]
        # Later changes first: the first boundary the slot is past decides its offset.
        branches = [
            (slot >= _slot_after(since), offset) for since, offset in reversed(self.offsets[1:])
        ]
        return seconds + case(*branches, else_=self.offsets[0][1])

    def slot_local_day(self, slot) -> ColumnElement[int]:
        return self.slot_local_seconds(slot) // DAY

    def slot_hour_of_week(self, slot) -> ColumnElement[int]:
        return (self.slot_local_seconds(slot) // HOUR + MONDAY_SHIFT_HOURS) % WEEK_HOURS

    def slots_in_range(self, slot, current_only: bool = False) -> ColumnElement[bool]:
        start = self.current_start if current_only else self.start
        return and_(slot >= _slot_after(start), slot < _slot_after(self.end))

    def day_bounds(self) -> list[tuple[int, datetime, datetime]]:
        """Each day of both periods: its number and its UTC start and end."""
        days = self.previous + self.current
        starts = [_utc(datetime.combine(day, time(), self.zone)) for day in days]
        return [
            (day_number(day), start, end)
            for day, start, end in zip(days, starts, [*starts[1:], self.end], strict=True)
        ]

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


def _slot_after(moment: datetime) -> int:
    """The first quarter-hour slot starting at or after the moment."""
    return -(-int(moment.timestamp()) // SLOT_SECONDS)


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


def _rolled_up(
    period: Window, scope: str, scope_id: int, series: Iterable[str]
) -> dict[tuple[str, int], int]:
    """Counts per series and local day, summed from the rollups' quarter-hours: one query."""
    slots = (
        select(
            ActivityCount.series,
            period.slot_local_day(ActivityCount.slot).label("day"),
            ActivityCount.n,
        )
        .where(
            ActivityCount.scope == scope,
            ActivityCount.scope_id == scope_id,
            ActivityCount.series.in_(list(series)),
            period.slots_in_range(ActivityCount.slot),
        )
        .subquery()
    )
    # The day is computed in a subquery and grouped by name: PostgreSQL would not match a
    # GROUP BY expression to the selected one when each carries its own parameters.
    query = select(slots.c.series, slots.c.day, func.sum(slots.c.n)).group_by(
        slots.c.series, slots.c.day
    )
    return {(name, int(day)): int(n) for name, day, n in db.session.execute(query)}


@lru_cache(maxsize=8)
def _active_members_statement(days: int):
    """A count of different authors per day, each over its day's UTC bounds (parameters
    start_N and end_N), built once per number of days: building 180 subqueries anew took
    longer than running them."""
    counts = [
        select(func.count(distinct(RoomMessage.author_id)))
        .where(
            RoomMessage.room_id == bindparam("room_id"),
            RoomMessage.created_at >= bindparam(f"start_{n}", type_=RoomMessage.created_at.type),
            RoomMessage.created_at < bindparam(f"end_{n}", type_=RoomMessage.created_at.type),
        )
        .scalar_subquery()
        for n in range(days)
    ]
    return select(*counts)


def _active_members_per_day(room: Room, period: Window) -> dict[tuple[str, int], int]:
    """How many different people wrote in the room per local day: distinct people cannot
    be summed from counts. One count per day over its exact UTC bounds, each a short range
    scan of the index on (room, time, author); grouping every row by a computed day cost
    three times as much."""
    bounds = period.day_bounds()
    values: dict[str, object] = {"room_id": room.id}
    for n, (_, start, end) in enumerate(bounds):
        values[f"start_{n}"], values[f"end_{n}"] = start, end
    found = db.session.execute(_active_members_statement(len(bounds)), values).one()
    return {("active", day): int(count) for (day, _, _), count in zip(bounds, found, strict=True)}


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
    """Three queries: the series (from the rollups), the top rooms and the top posts."""
    me = user.id
    series = _series(period, _rolled_up(period, USER, me, MY_SERIES), MY_SERIES)
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
    """My posts of the period with the most likes and comments (as the posts show them)."""
    reactions = Post.like_count + Post.comment_count
    query = (
        select(Post.id, func.substr(Post.body, 1, 200), Post.like_count, Post.comment_count)
        .where(Post.author_id == me, period.in_range(Post.created_at, True), reactions > 0)
        .order_by(reactions.desc(), Post.id.desc())
        .limit(TOP)
    )
    return [
        TopPost(id, _excerpt(body), likes, comments)
        for id, body, likes, comments in db.session.execute(query)
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
    person: User
    messages: int

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def username(self) -> str:
        return self.person.username

    @property
    def full_name(self) -> str:
        return self.person.full_name


@dataclass
class RoomInsights:
    period: Window
    series: dict[str, Series]
    top_contributors: list[Contributor]
    # busiest_hours[weekday][hour]: messages in the current period, Monday first.
    busiest_hours: list[list[int]]


def room_insights(room: Room, period: Window) -> RoomInsights:
    """Four queries: the counts per day, the active members per day, the contributors and
    the heat map."""
    counts = _rolled_up(period, ROOM, room.id, ("messages", "joined", "left"))
    counts.update(_active_members_per_day(room, period))
    return RoomInsights(
        period=period,
        series=_series(period, counts, ROOM_SERIES),
        top_contributors=_top_contributors(room, period),
        busiest_hours=_busiest_hours(room, period),
    )


def _top_contributors(room: Room, period: Window) -> list[Contributor]:
    # The five counted first (from the index alone), then their accounts.
    sent = func.count().label("sent")
    top = (
        select(RoomMessage.author_id, sent)
        .where(RoomMessage.room_id == room.id, period.in_range(RoomMessage.created_at, True))
        .group_by(RoomMessage.author_id)
        .order_by(sent.desc(), RoomMessage.author_id)
        .limit(TOP)
        .subquery()
    )
    query = (
        select(User, top.c.sent)
        .join(top, top.c.author_id == User.id)
        .order_by(top.c.sent.desc(), User.id)
    )
    return [Contributor(person, count) for person, count in db.session.execute(query)]


def _busiest_hours(room: Room, period: Window) -> list[list[int]]:
    hours = (
        select(period.slot_hour_of_week(ActivityCount.slot).label("hour"), ActivityCount.n)
        .where(
            ActivityCount.scope == ROOM,
            ActivityCount.scope_id == room.id,
            ActivityCount.series == "messages",
            period.slots_in_range(ActivityCount.slot, True),
        )
        .subquery()
    )
    query = select(hours.c.hour, func.sum(hours.c.n)).group_by(hours.c.hour)
    cells = [0] * WEEK_HOURS
    for index, count in db.session.execute(query):
        cells[int(index)] = int(count)
    return [cells[day * 24 : day * 24 + 24] for day in range(7)]


# Site overview (ANA-3, administrators)

# The site's days are UTC days, whoever looks (see site_insights).
SITE_ZONE = zoneinfo.ZoneInfo("UTC")

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
    """One query, over the rollups. The period is cut in UTC (SITE_ZONE) for every
    administrator: the daily active people are counted per UTC day as things happen.

    Active means having sent a message, posted, commented or liked that day: what the
    database records of a person's day (reading leaves no trace, on purpose).
    """
    counts = _rolled_up(period, SITE, 0, SITE_SERIES)
    return SiteInsights(period=period, series=_series(period, counts, SITE_SERIES))


def labels(period: Window) -> list[str]:
    """The current period's days, ISO dates (the charts' x axis and the tables' rows)."""
    return [day.isoformat() for day in period.current]


def rows_of(series: Iterable[Series], period: Window) -> list[list[object]]:
    """A table of the series: one row per day, a column per series (also the CSV)."""
    columns = list(series)
    return [[day, *(s.values[index] for s in columns)] for index, day in enumerate(labels(period))]
