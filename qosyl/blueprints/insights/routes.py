"""Insights pages (issue 13): my activity, a room's engagement for its host, and the site
overview for administrators. Each chart comes with its numbers as a table and as a CSV
download; static/js/insights.js draws the charts."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.reads import insights
from qosyl.reads.access import access_room_insights
from qosyl.reads.access import access_site_insights
from qosyl.web.csv_export import csv_response
from qosyl.web.htmx import render

bp = Blueprint("insights", __name__)

HEAT_LEVELS = 5  # the heat map's darkest class, heat-5; heat-0 is an hour without messages


@bp.before_request
@login_required
def require_login():
    """Insights are for signed-in users."""


@dataclass(frozen=True)
class Chart:
    """One chart of a page: a few series drawn together, as one table and one CSV."""

    slug: str
    title: str
    series: tuple[str, ...]


MY_CHARTS = (
    Chart("activity", "Messages and posts", ("messages", "posts")),
    Chart("reactions", "Likes and comments received", ("likes", "comments")),
    Chart("connections", "Followers, friends and rooms", ("followers", "friends", "rooms_joined")),
)
ROOM_CHARTS = (
    Chart("messages", "Messages and active members", ("messages", "active")),
    Chart("membership", "Members joined and left", ("joined", "left")),
)
SITE_CHARTS = (
    Chart("people", "Sign-ups and daily active users", ("signups", "active")),
    Chart("content", "Messages, posts and rooms created", ("messages", "posts", "rooms")),
)


def _slugs(charts: tuple[Chart, ...]) -> str:
    """The `any` converter matching the charts' names: any other name is a 404."""
    return f"<any({', '.join(chart.slug for chart in charts)}):chart>"


@dataclass
class ChartView:
    chart: Chart
    series: list[insights.Series]
    rows: list[list[object]]
    csv_url: str

    @property
    def data(self) -> dict:
        """What insights.js draws: the days and each series' values."""
        return {
            "labels": [row[0] for row in self.rows],
            "series": [{"label": s.label, "values": s.values} for s in self.series],
        }


def _period(zone: ZoneInfo | None = None) -> insights.Window:
    """The days asked for (?days=7, 30 or 90; anything else is the default), in the viewer's
    time zone unless another is given."""
    days = request.args.get("days", type=int)
    if days not in insights.PERIODS:
        days = insights.DEFAULT_PERIOD
    return insights.window(zone or insights.zone_of(current_user), days)


def _views(charts, series, period, csv_endpoint: str, **url_values) -> list[ChartView]:
    views = []
    for chart in charts:
        chosen = [series[name] for name in chart.series]
        views.append(
            ChartView(
                chart=chart,
                series=chosen,
                rows=insights.rows_of(chosen, period),
                csv_url=url_for(csv_endpoint, chart=chart.slug, days=period.days, **url_values),
            )
        )
    return views


def _page(template: str, period: insights.Window, charts: list[ChartView], **context):
    return render(
        template,
        period=period,
        periods=insights.PERIODS,
        charts=charts,
        zone_unset=current_user.time_zone is None,
        **context,
    )


def _csv(prefix: str, charts, slug: str, series, period: insights.Window):
    chart = next(chart for chart in charts if chart.slug == slug)
    chosen = [series[name] for name in chart.series]
    return csv_response(
        f"{prefix}-{chart.slug}-{period.days}-days.csv",
        ["Day", *(s.label for s in chosen)],
        insights.rows_of(chosen, period),
    )


@bp.app_template_filter("change")
def change_text(series: insights.Series) -> str:
    """The change against the previous period: "+12 (+20%)", "-3 (-50%)", or "+4" when
    there was nothing before to compare with."""
    text = f"{series.change:+d}"
    if series.change_percent is not None:
        text += f" ({series.change_percent:+g}%)"
    return text


# My insights (ANA-1)


@bp.get("/insights")
def mine():
    period = _period()
    found = insights.my_insights(current_user, period)
    return _page(
        "insights/mine.html",
        period,
        _views(MY_CHARTS, found.series, period, "insights.mine_csv"),
        top_rooms=found.top_rooms,
        top_posts=found.top_posts,
    )


@bp.get(f"/insights/{_slugs(MY_CHARTS)}.csv")
def mine_csv(chart: str):
    period = _period()
    found = insights.my_insights(current_user, period)
    return _csv("my-insights", MY_CHARTS, chart, found.series, period)


# Room engagement (ANA-2), for the room's host


def heat_map(hours: list[list[int]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """(weekday, [(messages, heat level)] per hour): the level grows with the count, from 1
    for the quietest hour with a message to HEAT_LEVELS for the busiest."""
    busiest = max(max(row) for row in hours)
    return [
        (day, [(n, ceil(HEAT_LEVELS * n / busiest) if n else 0) for n in row])
        for day, row in zip(insights.WEEKDAYS, hours, strict=True)
    ]


@bp.get("/rooms/<int:room_id>/insights")
def room(room_id: int):
    place = access_room_insights(current_user, room_id)
    period = _period()
    found = insights.room_insights(place, period)
    return _page(
        "insights/room.html",
        period,
        _views(ROOM_CHARTS, found.series, period, "insights.room_csv", room_id=place.id),
        room=place,
        top_contributors=found.top_contributors,
        heat_map=heat_map(found.busiest_hours),
    )


@bp.get(f"/rooms/<int:room_id>/insights/{_slugs(ROOM_CHARTS)}.csv")
def room_csv(room_id: int, chart: str):
    place = access_room_insights(current_user, room_id)
    period = _period()
    found = insights.room_insights(place, period)
    return _csv(f"room-{place.id}", ROOM_CHARTS, chart, found.series, period)


# Site overview (ANA-3), for administrators


@bp.get("/insights/site")
def site():
    access_site_insights(current_user)
    period = _period(insights.SITE_ZONE)
    found = insights.site_insights(period)
    return _page(
        "insights/site.html",
        period,
        _views(SITE_CHARTS, found.series, period, "insights.site_csv"),
        site_wide=True,
    )


@bp.get(f"/insights/site/{_slugs(SITE_CHARTS)}.csv")
def site_csv(chart: str):
    access_site_insights(current_user)
    period = _period(insights.SITE_ZONE)
    found = insights.site_insights(period)
    return _csv("site", SITE_CHARTS, chart, found.series, period)
