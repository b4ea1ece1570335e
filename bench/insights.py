"""Insights benchmark (issue 13): the three insights endpoints of the JSON API on a large
PostgreSQL database, for 7, 30 and 90 days, against a cheap endpoint measured in the same run.

Builds its own database with the real migrations, fills it with COPY (10,000 users, 200,000
posts and 1,000,000 messages over the last 365 days by default, with likes, comments,
follows, friendships, rooms and their membership history), then calls each endpoint
in-process through Flask's test client with a bearer token: server time, no network.
See bench/README.md.

    .venv/bin/python bench/insights.py --help
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from typing import Any

import click
from feed import app_env
from feed import BenchError
from feed import migrate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qosyl_bench_insights"
HEAVY = 1  # posts a lot, gets many likes, hosts the busy room (room 1)
ADMIN = 2
YEAR = 365 * 86_400
PERIODS = (7, 30, 90)
TARGET_P99_MS = 100.0


# --- database -----------------------------------------------------------------------------


def fresh_database(url: str) -> str:
    """Drop and create the database the URL names (one with "bench" in its name only: this
    never empties anyone's data); the URL as psycopg takes it."""
    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or ""
    if not target.drivername.startswith("postgres") or "bench" not in name:
        raise BenchError(
            f"--database-url must name a PostgreSQL database with 'bench' in its name, not {name!r}"
        )
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return target.set(drivername="postgresql").render_as_string(hide_password=False)


# --- data ---------------------------------------------------------------------------------


@dataclass
class Sizes:
    users: int
    posts: int
    messages: int
    rooms: int
    conversations: int
    likes: int
    comments: int


class Generator:
    """Rows for COPY, drawn from one seeded random source; times uniform over the year."""

    def __init__(self, sizes: Sizes, seed: int, now: datetime):
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.now = now

    def moment(self, after: datetime | None = None) -> datetime:
        """A time in the last 365 days (after `after`, when given)."""
        start = self.now - timedelta(seconds=YEAR)
        if after is not None and after > start:
            start = after
        span = (self.now - start).total_seconds()
        return start + timedelta(seconds=self.rng.random() * span)

    def person(self, heavy_share: float = 0.0) -> int:
        """A user id: the heavy user with probability `heavy_share`, else anyone."""
        if self.rng.random() < heavy_share:
            return HEAVY
        return self.rng.randint(1, self.sizes.users)


def copy_rows(conn, table: str, columns: tuple[str, ...], rows: Iterable[tuple], total: int) -> int:
    """COPY the rows into `table`, with a progress bar."""
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        with click.progressbar(
            length=total, label=table.ljust(24), show_pos=True, file=sys.stderr
        ) as bar:
            for row in rows:
                copy.write_row(row)
                count += 1
                if count % 10_000 == 0:
                    bar.update(10_000)
            bar.update(count % 10_000)
    return count


def generate(
    dsn: str,
    sizes: Sizes,
    seed: int,
    post_body: Callable[[int, random.Random], str] | None = None,
) -> dict[str, int]:
    """Fill the migrated database; the row count per table. `post_body(n, rng)` writes post
    n's text (default: the same words in every post; scale.py varies them for search)."""
    import psycopg

    from qosyl.passwords import hash_password

    now = datetime.now(UTC)
    data = Generator(sizes, seed, now)
    rng = data.rng
    counts: dict[str, int] = {}
    password_hash = hash_password("bench-password-2026")

    def users():
        for n in range(1, sizes.users + 1):
            name = {HEAVY: "heavy", ADMIN: "admin"}.get(n, f"user{n:05d}")
            zone = {HEAVY: "Europe/Berlin", ADMIN: "America/New_York"}.get(n)
            # Two years of sign-ups: half fall in the year the activity covers.
            joined = now - timedelta(seconds=rng.random() * 2 * YEAR)
            yield (n, name, f"{name}@example.com", password_hash, "Bench", f"User {n}",
                   joined, joined, joined, joined, zone, n == ADMIN,
                   "", "", "", "", "", "", "", "", "", "")  # fmt: skip

    user_columns = (
        "id", "username", "email", "password_hash", "first_name", "last_name", "created_at",
        "updated_at", "email_verified_at", "onboarded_at", "time_zone", "is_admin", "bio",
        "about", "address", "country", "website", "github", "twitter", "linkedin", "instagram",
        "facebook",
    )  # fmt: skip

    # Posts: the heavy user writes 5% of them; likes and comments are drawn first so that
    # the posts' counters match.
    post_authors = [data.person(0.05) for _ in range(sizes.posts)]
    post_times = [data.moment() for _ in range(sizes.posts)]
    heavy_posts = [i + 1 for i, author in enumerate(post_authors) if author == HEAVY]

    def reacted_post() -> int:
        # A quarter of the reactions go to the heavy user's posts.
        if heavy_posts and rng.random() < 0.25:
            return rng.choice(heavy_posts)
        return rng.randint(1, sizes.posts)

    likes: dict[tuple[int, int], datetime] = {}
    while len(likes) < sizes.likes:
        post_id, user_id = reacted_post(), data.person()
        likes.setdefault((post_id, user_id), data.moment(post_times[post_id - 1]))
    comments = []
    for _ in range(sizes.comments):
        post_id = reacted_post()
        comments.append((post_id, data.person(), data.moment(post_times[post_id - 1])))
    like_count = [0] * (sizes.posts + 1)
    comment_count = [0] * (sizes.posts + 1)
    for post_id, _ in likes:
        like_count[post_id] += 1
    for post_id, _, _ in comments:
        comment_count[post_id] += 1

    def posts():
        for n in range(1, sizes.posts + 1):
            body = post_body(n, rng) if post_body else f"Post {n} about tea and code"
            yield (n, post_authors[n - 1], body, post_times[n - 1],
                   like_count[n], comment_count[n])  # fmt: skip

    def follows_and_friends():
        follows: set[tuple[int, int]] = set()
        friends: set[tuple[int, int]] = set()
        for user_id in range(1, sizes.users + 1):
            for _ in range(20):
                followed = data.person(0.02)
                if followed != user_id:
                    follows.add((user_id, followed))
            for _ in range(3):
                friend = data.person(0.01)
                if friend != user_id:
                    friends.add((min(user_id, friend), max(user_id, friend)))
        return follows, friends

    follows, friends = follows_and_friends()

    # Rooms: room 1, the heavy user's, is busy (a fifth of the room messages, 2,000 members).
    members: dict[int, set[int]] = {}
    for room_id in range(1, sizes.rooms + 1):
        size = 2_000 if room_id == 1 else rng.randint(5, 80)
        members[room_id] = {HEAVY if room_id == 1 else rng.randint(1, sizes.users)}
        while len(members[room_id]) < min(size, sizes.users):
            members[room_id].add(rng.randint(1, sizes.users))
    room_members = {room_id: sorted(people) for room_id, people in members.items()}
    hosts = {
        room_id: people[0] if room_id != 1 else HEAVY for room_id, people in room_members.items()
    }

    def rooms():
        for room_id in range(1, sizes.rooms + 1):
            made = now - timedelta(seconds=rng.random() * 1.5 * YEAR)
            yield (
                room_id,
                f"Room {room_id}",
                1 + room_id % 10,
                hosts[room_id],
                "",
                False,
                made,
                made,
            )

    membership_events = []
    memberships = []
    for room_id, people in room_members.items():
        for user_id in people:
            joined = data.moment()
            memberships.append((room_id, user_id, joined))
            membership_events.append((room_id, user_id, "joined", joined))
        # People who came and went: a tenth as many again.
        for _ in range(len(people) // 10):
            joined = data.moment()
            user_id = rng.randint(1, sizes.users)
            membership_events.append((room_id, user_id, "joined", joined))
            membership_events.append((room_id, user_id, "left", data.moment(joined)))

    room_message_count = sizes.messages * 7 // 10

    def room_messages():
        busy = room_members[1]
        for n in range(1, room_message_count + 1):
            if rng.random() < 0.2:
                room_id, people = 1, busy
            else:
                room_id = rng.randint(2, sizes.rooms) if sizes.rooms > 1 else 1
                people = room_members[room_id]
            author = HEAVY if HEAVY in people and rng.random() < 0.1 else rng.choice(people)
            yield (n, room_id, author, f"Message {n}", "", data.moment())

    # Conversations: direct ones of two, groups of 3-12; the heavy user is in a tenth.
    conversation_people: dict[int, list[int]] = {}
    direct_pairs: set[tuple[int, ...]] = set()
    for conversation_id in range(1, sizes.conversations + 1):
        size = 2 if conversation_id % 4 else rng.randint(3, 12)
        people = {HEAVY} if conversation_id % 10 == 0 else set()
        while len(people) < size:
            people.add(rng.randint(1, sizes.users))
        if len(people) == 2 and tuple(sorted(people)) in direct_pairs:
            continue  # one direct conversation per pair
        direct_pairs.add(tuple(sorted(people)))
        conversation_people[conversation_id] = sorted(people)

    conversation_ids = list(conversation_people)

    def conversations():
        for conversation_id, people in conversation_people.items():
            made = now - timedelta(seconds=YEAR)
            if len(people) == 2:
                yield (conversation_id, "direct", f"{people[0]}:{people[1]}", "", None, made, now)
            else:
                yield (
                    conversation_id,
                    "group",
                    None,
                    f"Group {conversation_id}",
                    people[0],
                    made,
                    now,
                )

    def conversation_members():
        for conversation_id, people in conversation_people.items():
            for user_id in people:
                yield (conversation_id, user_id, "active", now - timedelta(seconds=YEAR), 0)

    def messages():
        for n in range(1, sizes.messages - room_message_count + 1):
            conversation_id = rng.choice(conversation_ids)
            author = rng.choice(conversation_people[conversation_id])
            yield (n, conversation_id, author, f"Message {n}", "", data.moment())

    topics = [(n, f"Topic {n}", now - timedelta(seconds=2 * YEAR)) for n in range(1, 11)]
    jobs: list[tuple[str, tuple[str, ...], Callable[[], Iterable[tuple]], int]] = [
        ("users", user_columns, users, sizes.users),
        ("topics", ("id", "name", "created_at"), lambda: topics, len(topics)),
        ("posts", ("id", "author_id", "body", "created_at", "like_count", "comment_count"),
         posts, sizes.posts),
        ("post_likes", ("post_id", "user_id", "created_at"),
         lambda: ((p, u, at) for (p, u), at in likes.items()), len(likes)),
        ("comments", ("post_id", "author_id", "body", "created_at"),
         lambda: ((p, a, "A comment", at) for p, a, at in comments), len(comments)),
        ("follows", ("follower_id", "followed_id", "created_at"),
         lambda: ((a, b, data.moment()) for a, b in follows), len(follows)),
        ("friendships", ("user_id", "friend_id", "created_at"),
         lambda: _both_ways(friends, data), 2 * len(friends)),
        ("rooms", ("id", "name", "topic_id", "host_id", "description", "is_lobby", "created_at",
                   "updated_at"), rooms, sizes.rooms),
        ("room_members", ("room_id", "user_id", "joined_at"), lambda: memberships,
         len(memberships)),
        ("room_membership_events", ("room_id", "user_id", "kind", "created_at"),
         lambda: membership_events, len(membership_events)),
        ("room_messages", ("id", "room_id", "author_id", "body", "body_html", "created_at"),
         room_messages, room_message_count),
        ("conversations", ("id", "kind", "direct_key", "name", "admin_id", "created_at",
                           "last_message_at"), conversations, len(conversation_ids)),
        ("conversation_members", ("conversation_id", "user_id", "status", "joined_at",
                                  "last_read_id"), conversation_members,
         sum(map(len, conversation_people.values()))),
        ("messages", ("id", "conversation_id", "author_id", "body", "body_html", "created_at"),
         messages, sizes.messages - room_message_count),
    ]  # fmt: skip
    with psycopg.connect(dsn) as conn:
        # No triggers while loading (and no foreign-key checks: the rows are consistent by
        # construction): the rollups are rebuilt once afterwards, as after a restore.
        conn.execute("SET session_replication_role = replica")
        for table, columns, rows, total in jobs:
            counts[table] = copy_rows(conn, table, columns, rows(), total)
            conn.commit()
        conn.autocommit = True
        for table in (
            "users",
            "topics",
            "posts",
            "rooms",
            "room_messages",
            "conversations",
            "messages",
        ):
            # Explicit ids: move the sequences past them.
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        click.echo("VACUUM ANALYZE ...", err=True)
        conn.execute("VACUUM ANALYZE")
    return counts


def flask_command(env: dict[str, str], *args: str) -> None:
    """Run `flask ARGS` on the bench's database, echoing what it says."""
    command = [sys.executable, "-m", "flask", *args]
    done = subprocess.run(
        command, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    click.echo(done.stdout.strip(), err=True)


def rebuild_rollups(env: dict[str, str]) -> None:
    """`flask insights rebuild`: the counts the insights read, from the rows just loaded."""
    flask_command(env, "insights", "rebuild")


def recount_counters(env: dict[str, str]) -> None:
    """`flask counters recount`: the profiles' counts, from the rows just loaded."""
    flask_command(env, "counters", "recount")


def vacuum(dsn: str, *tables: str) -> None:
    """What autovacuum does to a table written at once: mark its pages all-visible, so that
    index-only scans skip the table, and count its values for the planner."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def _both_ways(pairs: set[tuple[int, int]], data: Generator):
    """A friendship is stored once per side, with the same time."""
    for a, b in pairs:
        at = data.moment()
        yield a, b, at
        yield b, a, at


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    url: str
    p50: float
    p99: float
    queries: int
    statements: list[tuple[str, Any]] = field(default_factory=list, repr=False)


def measure(env: dict[str, str], warmup: int, requests: int, plans: Path | None) -> list[Timing]:
    """Each endpoint, in-process with a bearer token: `warmup` calls, then `requests` timed."""
    os.environ.update(env)
    from sqlalchemy import event

    from qosyl import create_app
    from qosyl.actions.accounts import open_api_session
    from qosyl.blueprints.api.core import issue_tokens
    from qosyl.extensions import db
    from qosyl.models import User

    app = create_app()
    client = app.test_client()

    def token_of(user_id: int) -> dict[str, str]:
        with app.test_request_context():
            person = db.session.get(User, user_id)
            login_id, refresh_id = open_api_session(person)
            return {
                "Authorization": "Bearer "
                + issue_tokens(person, login_id, refresh_id)["access_token"]
            }

    heavy, admin = token_of(HEAVY), token_of(ADMIN)
    targets = [("baseline: GET /api/users/me/", "/api/users/me/", heavy)]
    for days in PERIODS:
        targets.append((f"me, {days} days", f"/api/insights/me/?days={days}", heavy))
        targets.append((f"room 1, {days} days", f"/api/rooms/1/insights/?days={days}", heavy))
        targets.append((f"site, {days} days", f"/api/insights/site/?days={days}", admin))

    with app.app_context():
        engine = db.engine
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    timings = []
    for name, url, headers in targets:
        for _ in range(warmup):
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                raise BenchError(f"{url}: {response.status_code} {response.get_data(True)[:300]}")
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        client.get(url, headers=headers)
        event.remove(engine, "before_cursor_execute", record)
        queries = list(statements)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
        timing = Timing(
            name, url, statistics.median(samples), percentile(samples, 99), len(queries), queries
        )
        timings.append(timing)
        click.echo(f"{name:32} p50 {timing.p50:7.1f} ms  p99 {timing.p99:7.1f} ms", err=True)
    if plans is not None:
        slowest = max(timings[1:], key=lambda t: t.p99)
        write_plans(engine, slowest, plans)
    return timings


def percentile(samples: list[float], p: int) -> float:
    """The nearest-rank percentile: with 50 samples, p99 is the largest."""
    ordered = sorted(samples)
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]


def write_plans(engine, timing: Timing, path: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each query of the endpoint's request."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        lines = [
            f"{timing.name}: GET {timing.url} (p50 {timing.p50:.1f} ms, p99 {timing.p99:.1f} ms)"
        ]
        for statement, parameters in timing.statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines += ["", "-" * 100, statement, str(parameters), ""]
            lines += [row[0] for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    path.write_text("\n".join(lines) + "\n")
    click.echo(f"Plans of {timing.name} written to {path}", err=True)


def report(
    timings: list[Timing],
    counts: dict[str, int],
    seconds: dict[str, float],
    requests: int,
) -> None:
    baseline = timings[0]
    if counts:
        click.echo("\nRows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    click.echo("Seconds: " + ", ".join(f"{step} {s:.0f}" for step, s in seconds.items()))
    click.echo(
        f"\nIn-process (Flask test client, bearer token), {requests} requests each after warm-up:\n"
    )
    click.echo(
        f"{'endpoint':32} {'queries':>7} {'p50 ms':>8} {'p99 ms':>8} {'p50 vs baseline':>16}"
        f"  p99 < {TARGET_P99_MS:.0f} ms"
    )
    for t in timings:
        verdict = "" if t is baseline else ("ok" if t.p99 < TARGET_P99_MS else "MISSED")
        ratio = f"{t.p50 / baseline.p50:.1f}x" if t is not baseline else ""
        click.echo(f"{t.name:32} {t.queries:>7} {t.p50:8.1f} {t.p99:8.1f} {ratio:>16}  {verdict}")


@click.command()
@click.option(
    "--database-url",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="A PostgreSQL database of the bench's own (dropped and created unless --reuse).",
)
@click.option("--reuse", is_flag=True, help="Measure the database a previous run filled.")
@click.option("--users", default=10_000, show_default=True)
@click.option("--posts", default=200_000, show_default=True)
@click.option(
    "--messages", default=1_000_000, show_default=True, help="70% in rooms, 30% in conversations."
)
@click.option("--rooms", default=300, show_default=True)
@click.option("--conversations", default=500, show_default=True)
@click.option("--likes", default=400_000, show_default=True)
@click.option("--comments", default=150_000, show_default=True)
@click.option(
    "--requests", "requests_", default=50, show_default=True, help="Timed requests per endpoint."
)
@click.option("--warmup", default=5, show_default=True)
@click.option(
    "--plans",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write EXPLAIN ANALYZE of the slowest endpoint's queries here.",
)
@click.option("--random-seed", default=2026, show_default=True)
def main(
    database_url: str,
    reuse: bool,
    requests_: int,
    warmup: int,
    plans: Path | None,
    random_seed: int,
    **size_options: int,
) -> None:
    """Fill a PostgreSQL database and time the insights endpoints (me, room, site) for 7, 30
    and 90 days against GET /api/users/me/."""
    sizes = Sizes(**size_options)
    if sizes.users < 100 or sizes.posts < 1 or sizes.rooms < 1 or sizes.conversations < 1:
        raise BenchError("need --users >= 100 and at least one post, room and conversation")
    sys.path.insert(0, str(REPO))  # config.py and qosyl/ live at the repo root
    instance = Path(os.environ.get("TMPDIR", "/tmp")) / "qosyl-bench-insights"
    instance.mkdir(exist_ok=True)
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    if reuse:
        from sqlalchemy.engine import make_url

        dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
    else:
        dsn = fresh_database(database_url)
    env = app_env(instance, dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    if not reuse:
        started = time.perf_counter()
        migrate(env)
        seconds["migrate"] = time.perf_counter() - started
        started = time.perf_counter()
        os.environ.update(env)
        counts = generate(dsn, sizes, random_seed)
        seconds["generate"] = time.perf_counter() - started
        started = time.perf_counter()
        rebuild_rollups(env)
        seconds["rebuild rollups"] = time.perf_counter() - started
        started = time.perf_counter()
        recount_counters(env)
        seconds["recount counters"] = time.perf_counter() - started
        vacuum(dsn, "activity_counts", "active_days", "users")
    started = time.perf_counter()
    timings = measure(env, warmup, requests_, plans)
    seconds["measure"] = time.perf_counter() - started
    report(timings, counts, seconds, requests_)


if __name__ == "__main__":
    main()
