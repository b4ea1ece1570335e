"""Insights in Chromium (issue 13): the charts Chart.js draws hold the numbers of their data
tables, the period chooser redraws them, the browser's time zone is stored when none was,
and a room's host sees its busiest hours."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_until

CHARTS_DRAWN = (
    "(() => { const canvases = [...document.querySelectorAll('canvas[data-insights-chart]')];"
    " return canvases.length > 0 && Boolean(window.Chart)"
    " && canvases.every((canvas) => Chart.getChart(canvas)); })()"
)
# The first chart's points, one list per series.
FIRST_CHART_POINTS = (
    "Chart.getChart(document.querySelector('canvas[data-insights-chart]'))"
    ".data.datasets.map((set) => set.data)"
)


def room_with_messages(live_server, host_name: str, count: int) -> int:
    """A room of `host_name`'s in which they wrote `count` messages just now."""
    app = live_server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username

        host = user_by_username(host_name)
    room_id = factories.make_room(app, host, name="Steeping notes")
    for n in range(count):
        factories.say_in_room(app, host, room_id, f"note {n}")
    return room_id


def table_columns(table) -> list[list[int]]:
    """The table's numbers, one list per column after the day."""
    rows = [
        [int(cell) for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    return [list(column) for column in zip(*rows, strict=True)]


def test_my_charts_match_their_tables_and_follow_the_period(
    browser, base_url, live_server, make_live_user
):
    username = make_live_user(first_name="Ina", last_name="Sight")
    room_with_messages(live_server, username, 2)
    # No zone stored: the page stores the browser's and shows the days again cut in it.
    context = browser.new_context(base_url=base_url, timezone_id="Asia/Almaty")
    page = context.new_page()
    sign_in(page, username)
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_text("midnight to midnight in Asia/Almaty")).to_be_visible()
    wait_until(page, CHARTS_DRAWN)

    chart = page.get_by_role("region", name="Messages and posts")
    chart.get_by_text("Show data table").click()
    table = chart.get_by_role("table", name="Messages and posts per day")
    columns = table_columns(table)
    assert len(columns[0]) == 30
    assert columns[0][-1] == 2
    assert page.evaluate(FIRST_CHART_POINTS) == columns
    expect(chart.get_by_role("img", name="Messages and posts, per day")).to_be_visible()

    page.get_by_role("navigation", name="Period").get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
    wait_until(page, CHARTS_DRAWN)
    points = page.evaluate(FIRST_CHART_POINTS)
    assert [len(series) for series in points] == [7, 7]
    assert points[0][-1] == 2
    context.close()


def test_a_host_sees_the_busiest_hours_of_their_room(page, live_server, make_live_user):
    username = make_live_user(first_name="Hal", last_name="Host", time_zone="UTC")
    room_id = room_with_messages(live_server, username, 3)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone
    sign_in(page, username)
    page.goto(f"/rooms/{room_id}")
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Room engagement")).to_be_visible()
    heat_map = page.get_by_role("table", name="Messages by weekday and hour")
    expect(heat_map.locator("tbody tr")).to_have_count(7)
    counts = [int(cell) for cell in heat_map.locator("td").all_inner_texts()]
    assert (len(counts), sum(counts), max(counts)) == (7 * 24, 3, 3)
    expect(heat_map.locator("td.heat-5")).to_have_text("3")
    wait_until(page, CHARTS_DRAWN)
    # The wide table scrolls in its box; the page itself does not.
    wait_until(page, "document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "document.querySelector('.heat-map').parentElement.scrollWidth > window.innerWidth"
    )


def test_an_administrator_reads_the_site_overview(browser, base_url, make_live_user):
    admin = make_live_user(
        first_name="Ada", last_name="Admin", time_zone="Asia/Almaty", is_admin=True
    )
    someone = make_live_user(first_name="Sam", last_name="Else", time_zone="UTC")
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_in(page, someone)
    page.get_by_label("Account menu").click()
    expect(page.get_by_role("link", name="Insights")).to_be_visible()
    expect(page.get_by_role("link", name="Site overview")).to_have_count(0)
    assert page.goto("/insights/site").status == 404
    context.close()

    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_in(page, admin)
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Site overview").click()
    expect(page.get_by_role("heading", name="Site overview")).to_be_visible()
    # The same days for every administrator, whatever their own zone.
    expect(page.get_by_text("each from midnight to midnight in UTC")).to_be_visible()
    wait_until(page, CHARTS_DRAWN)
    chart = page.get_by_role("region", name="Sign-ups and daily active users")
    chart.get_by_text("Show data table").click()
    columns = table_columns(
        chart.get_by_role("table", name="Sign-ups and daily active users per day")
    )
    # The last two days' sign-ups (today may have begun since) count at least these two
    # accounts; the server's database is shared with other journeys.
    assert sum(columns[0][-2:]) >= 2
    assert page.evaluate(FIRST_CHART_POINTS) == columns
    context.close()
