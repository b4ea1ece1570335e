"""Insights through the API (issue 13): the caller's activity, a hosted room's engagement
and the site overview, as counts per day in the caller's time zone.

The same reads as the insights pages (reads/insights.py) and the same access rules: a
room's insights are its host's alone and the site overview is for administrators; to
anyone else they do not exist (404).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import url_for
from flask_login import current_user

from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.schemas import absolute
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.blueprints.api.schemas import With
from qosyl.reads.access import access_room_insights
from qosyl.reads.access import access_site_insights
from qosyl.reads.insights import Contributor
from qosyl.reads.insights import DEFAULT_PERIOD
from qosyl.reads.insights import my_insights
from qosyl.reads.insights import PERIODS
from qosyl.reads.insights import room_insights
from qosyl.reads.insights import site_insights
from qosyl.reads.insights import SITE_ZONE
from qosyl.reads.insights import WEEKDAYS
from qosyl.reads.insights import Window
from qosyl.reads.insights import window
from qosyl.reads.insights import zone_of

bp = ApiBlueprint(
    "insights",
    "/api",
    "Counts per day in the caller's time zone: one's own activity, a hosted room's "
    "engagement, and the site overview (administrators).",
)


# Input


class PeriodArgs(ma.Schema):
    days = ma.fields.Integer(
        load_default=DEFAULT_PERIOD,
        validate=ma.validate.OneOf(PERIODS),
        metadata={
            "description": "The period: the last 7, 30 or 90 days, today included, compared "
            "with as many days before them."
        },
    )


# Shapes


class SeriesSchema(ma.Schema):
    """One line of a chart: a count per day, and the totals against the previous period."""

    name = ma.fields.String(required=True, metadata={"example": "messages"})
    label = ma.fields.String(required=True, metadata={"example": "Messages sent"})
    values = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "One count per day of `labels`, oldest first."},
    )
    total = ma.fields.Integer(required=True, metadata={"description": "In the period."})
    previous_total = ma.fields.Integer(
        required=True, metadata={"description": "In the as many days before the period."}
    )
    change = ma.fields.Integer(required=True, metadata={"description": "total - previous_total"})
    change_percent = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "The change against previous_total, in percent (one decimal); "
            "null when previous_total is 0."
        },
    )


class InsightsSchema(ma.Schema):
    time_zone = ma.fields.String(
        required=True,
        metadata={
            "example": "Europe/Berlin",
            "description": "The caller's time zone, where the days begin and end (UTC when "
            "the caller chose none).",
        },
    )
    days = ma.fields.Integer(required=True, metadata={"description": "7, 30 or 90."})
    labels = ma.fields.List(
        ma.fields.Date(),
        required=True,
        metadata={"description": "The period's days, oldest first: the charts' x axis."},
    )
    series = ma.fields.List(ma.fields.Nested(SeriesSchema), required=True)


class TopRoomSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    messages = ma.fields.Integer(
        required=True, metadata={"description": "Sent there by the caller in the period."}
    )
    url = ma.fields.Function(
        lambda room: absolute(url_for("rooms.show", room_id=room.id)),
        required=True,
        metadata={"type": "string", "format": "uri"},
    )


class TopPostSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    excerpt = ma.fields.String(required=True, metadata={"description": "Plain text, shortened."})
    likes = ma.fields.Integer(required=True, metadata={"description": "As the post shows them."})
    comments = ma.fields.Integer(required=True, metadata={"description": "As the post shows them."})
    url = ma.fields.Function(
        lambda post: absolute(url_for("posts.show", post_id=post.id)),
        required=True,
        metadata={"type": "string", "format": "uri"},
    )


class MyInsightsSchema(InsightsSchema):
    top_rooms = ma.fields.List(
        ma.fields.Nested(TopRoomSchema),
        required=True,
        metadata={"description": "Where the caller wrote most in the period (up to 5)."},
    )
    top_posts = ma.fields.List(
        ma.fields.Nested(TopPostSchema),
        required=True,
        metadata={
            "description": "The caller's posts written in the period with the most likes "
            "and comments (up to 5)."
        },
    )


class ContributorSchema(UserSummary):
    messages = ma.fields.Integer(required=True, metadata={"description": "In the period."})


class BusiestHoursSchema(ma.Schema):
    weekdays = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Monday first."}
    )
    hours = ma.fields.List(
        ma.fields.List(ma.fields.Integer()),
        required=True,
        metadata={
            "description": "hours[weekday][hour]: messages in the period sent in that hour "
            "of that weekday (7 lists of 24, local time)."
        },
    )


class RoomInsightsSchema(InsightsSchema):
    top_contributors = ma.fields.List(
        ma.fields.Nested(ContributorSchema),
        required=True,
        metadata={"description": "Who wrote most in the period (up to 5)."},
    )
    busiest_hours = ma.fields.Nested(BusiestHoursSchema, required=True)


# The operations


def _period(days: int, zone: ZoneInfo | None = None) -> Window:
    return window(zone or zone_of(current_user), days)


def _dumpable(result, **extra) -> With:
    """A read's result with what InsightsSchema dumps: the period's terms, the series in order."""
    period = result.period
    return With(
        result,
        time_zone=period.zone.key,
        days=period.days,
        labels=period.current,
        series=list(result.series.values()),
        **extra,
    )


@bp.route("/insights/me/")
@bp.errors()
@bp.arguments(PeriodArgs, location="query")
@bp.response(200, MyInsightsSchema)
def mine(args):
    """The caller's activity per day: messages sent, posts, likes and comments received,
    new followers and friends, rooms joined; with the top rooms and posts."""
    return _dumpable(my_insights(current_user, _period(args["days"])))


@bp.route("/rooms/<int:room_id>/insights/")
@bp.errors(404)
@bp.arguments(PeriodArgs, location="query")
@bp.response(200, RoomInsightsSchema)
def room(args, room_id: int):
    """A room's engagement per day (messages, active members, joins, leaves), its top
    contributors and busiest hours. For the room's host only."""
    result = room_insights(access_room_insights(current_user, room_id), _period(args["days"]))
    return _dumpable(
        result,
        top_contributors=_as_people(result.top_contributors),
        busiest_hours={"weekdays": WEEKDAYS, "hours": result.busiest_hours},
    )


@bp.route("/insights/site/")
@bp.errors(404)
@bp.arguments(PeriodArgs, location="query")
@bp.response(200, InsightsSchema)
def site(args):
    """The whole site per day: sign-ups, daily active users, messages, posts, rooms
    created. Days are UTC days, whoever asks. For administrators only."""
    access_site_insights(current_user)
    return _dumpable(site_insights(_period(args["days"], SITE_ZONE)))


def _as_people(contributors: list[Contributor]) -> list[With]:
    """The contributors as UserSummary dumps them (with their avatars)."""
    return [With(c.person, messages=c.messages) for c in contributors]
