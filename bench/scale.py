"""Data scale on PostgreSQL (issue 15): 100,000 users, 1,000,000 posts and 5,000,000 room and
conversation messages (with follows, friendships, likes, comments and notifications), loaded
with COPY, then the pages people open most timed in-process (Flask's test client, signed in):
p50 and p99 server time each, against a bare page, with EXPLAIN (ANALYZE, BUFFERS) of the
slowest pages' queries. See bench/README.md.

    .venv/bin/python bench/scale.py --help
    .venv/bin/python bench/scale.py --users 10000 --posts 100000 --messages 500000   # smaller
    .venv/bin/python bench/scale.py --reuse          # measure the database a --keep run left
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import click

# bench/ is on sys.path when this file runs as a script: insights.py generates the rows.
from feed import app_env
from feed import BenchError
from feed import csrf_from
from feed import migrate
from insights import copy_rows
from insights import fresh_database
from insights import generate
from insights import HEAVY
from insights import percentile
from insights import rebuild_rollups
from insights import recount_counters
from insights import Sizes
from insights import Timing
from insights import write_plans

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qosyl_bench_scale"
PASSWORD = "bench-password-2026"  # insights.py's, for every user
USER_AGENT = "qosyl-bench"
TARGET_P99_MS = 50.0
# Post bodies: words drawn with a skewed (Zipf-like) frequency, so search has common words
# (a tenth of the posts) and rare ones (a few hundred).
WORDS = [
    f"{stem}{suffix}"
    for stem in (
        "tea", "code", "river", "garden", "python", "music", "bread", "mountain", "lamp",
        "coffee", "winter", "market", "poem", "train", "violin", "harbor", "cactus", "atlas",
        "pepper", "copper", "meadow", "castle", "rocket", "velvet", "maple", "saffron",
        "lantern", "glacier", "orchid", "falcon",
    )
    for suffix in ("", "s", "ing", "wood", "light", "field", "stone", "craft", "berry", "fall")
]  # fmt: skip
WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]


def post_body(n: int, rng: random.Random) -> str:
    words = rng.choices(WORDS, WEIGHTS, k=8)
    return f"Post {n}: " + " ".join(words) + "."


def add_notifications(dsn: str, sizes: Sizes, count: int, seed: int) -> int:
    """`count` notifications, a tenth of them the heavy user's, four in five read; with
    triggers off as insights.generate loads (nothing fires on this table)."""
    from datetime import datetime
    from datetime import timedelta
    from datetime import UTC

    import psycopg

    rng = random.Random(seed + 1)
    now = datetime.now(UTC)
    kinds = ("like", "comment", "follow", "reply", "mention", "friend_request")

    def rows():
        for n in range(1, count + 1):
            recipient = HEAVY if rng.random() < 0.1 else rng.randint(1, sizes.users)
            actor = rng.randint(1, sizes.users)
            kind = kinds[n % len(kinds)]
            post = rng.randint(1, sizes.posts)
            at = now - timedelta(seconds=rng.random() * 365 * 86_400)
            read = at + timedelta(hours=1) if rng.random() < 0.8 else None
            yield (n, recipient, actor, kind, f"/p/{post}", "A post excerpt", f"b:{n}", at, read)

    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")
        columns = (
            "id", "recipient_id", "actor_id", "kind", "target_url", "excerpt", "dedupe_key",
            "created_at", "read_at",
        )  # fmt: skip
        done = copy_rows(conn, "notifications", columns, rows(), count)
        conn.commit()
        conn.autocommit = True
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('notifications', 'id'), "
            "(SELECT max(id) FROM notifications))"
        )
        conn.execute("VACUUM ANALYZE notifications")
    return done


def targets_of(dsn: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, headers): the pages, for the heavy user (50k posts, host of the busiest
    room, in a tenth of the conversations)."""
    import psycopg

    hx = {"HX-Request": "true"}
    with psycopg.connect(dsn) as conn:
        username = conn.execute("SELECT username FROM users WHERE id = %s", (HEAVY,)).fetchone()[0]
        room_id, room_mid = conn.execute(
            "SELECT room_id, percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM room_messages"
            " WHERE room_id = 1 GROUP BY room_id"
        ).fetchone()
        conversation_id, conversation_mid = conn.execute(
            "SELECT m.conversation_id, percentile_disc(0.5) WITHIN GROUP (ORDER BY m.id)"
            " FROM messages m JOIN conversation_members c ON c.conversation_id = m.conversation_id"
            " AND c.user_id = %s GROUP BY m.conversation_id ORDER BY count(*) DESC LIMIT 1",
            (HEAVY,),
        ).fetchone()
    return [
        ("baseline: bare page /about", "/about", {}),
        ("home feed", "/", {}),
        ("profile (50k posts)", f"/u/{username}", {}),
        ("room page (busiest)", f"/rooms/{room_id}", {}),
        ("room history (older)", f"/rooms/{room_id}/messages?before={room_mid}", hx),
        ("conversation", f"/messages/{conversation_id}", {}),
        (
            "conversation history",
            f"/messages/{conversation_id}/history?before={conversation_mid}",
            hx,
        ),
        ("search, common word", "/search?q=tea", {}),
        ("search, rare word", "/search?q=falconfall", {}),
        ("search, two words", "/search?q=river+garden", {}),
        ("notifications", "/notifications", {}),
    ]


def measure(
    env: dict[str, str],
    dsn: str,
    warmup: int,
    requests: int,
    plans: Path | None,
    slowest: int,
    only: tuple[str, ...] = (),
) -> list[Timing]:
    os.environ.update(env)
    from sqlalchemy import event

    from qosyl import create_app
    from qosyl.extensions import db

    app = create_app()
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    page = client.get("/login")
    done = client.post(
        "/login",
        data={"login": "heavy", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    if done.status_code not in (200, 302, 303):
        raise BenchError(f"sign-in failed: {done.status_code}")
    with app.app_context():
        engine = db.engine
    # As wsgi.py serves the app: what startup loaded is kept out of the cyclic collector.
    # Otherwise a full collection of those ~200,000 objects (~110 ms here) lands in some
    # page's 50 requests and is its p99, whichever page it is.
    gc.collect()
    gc.freeze()
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    timings = []
    targets = targets_of(dsn)
    if only:
        targets = targets[:1] + [t for t in targets[1:] if any(word in t[0] for word in only)]
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
        click.echo(
            f"{name:28} {timing.queries:3} queries  p50 {timing.p50:7.1f} ms"
            f"  p99 {timing.p99:7.1f} ms",
            err=True,
        )
    if plans is not None:
        worst = sorted(timings[1:], key=lambda t: t.p99, reverse=True)[:slowest]
        parts = []
        for timing in worst:
            one = plans.with_suffix(".part")
            write_plans(engine, timing, one)
            parts.append(one.read_text())
            one.unlink()
        plans.write_text(("\n" + "=" * 100 + "\n\n").join(parts))
    return timings


def report(timings: list[Timing], counts: dict[str, int], seconds: dict[str, float]) -> None:
    echo = click.echo
    load = os.getloadavg()
    echo(f"\nQosyl at scale on PostgreSQL; load average now {load[0]:.2f} {load[1]:.2f}")
    if counts:
        echo("Rows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    echo("Seconds: " + ", ".join(f"{step} {s:.0f}" for step, s in seconds.items()))
    baseline = timings[0]
    echo(
        f"\n{'page (signed in as heavy)':30} {'queries':>7} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'p50 vs bare':>12}  p99 < {TARGET_P99_MS:.0f} ms"
    )
    for t in timings:
        verdict = "" if t is baseline else ("ok" if t.p99 < TARGET_P99_MS else "MISSED")
        ratio = f"{t.p50 / baseline.p50:.1f}x" if t is not baseline else ""
        echo(f"{t.name:30} {t.queries:>7} {t.p50:8.1f} {t.p99:8.1f} {ratio:>12}  {verdict}")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option(
    "--database-url",
    default=DEFAULT_DATABASE_URL,
    help="A PostgreSQL database of the bench's own, with 'bench' in its name (dropped and"
    " created unless --reuse; dropped at the end unless --keep).",
)
@click.option("--reuse", is_flag=True, help="Measure the database a --keep run filled.")
@click.option("--keep", is_flag=True, help="Keep the database (for --reuse).")
@click.option("--users", default=100_000)
@click.option("--posts", default=1_000_000)
@click.option("--messages", default=5_000_000, help="70% in rooms, 30% in conversations.")
@click.option("--rooms", default=2_000)
@click.option("--conversations", default=20_000)
@click.option("--likes", default=3_000_000)
@click.option("--comments", default=500_000)
@click.option("--notifications", default=2_000_000)
@click.option("--requests", "requests_", default=50, help="Timed requests per page.")
@click.option("--warmup", default=5)
@click.option(
    "--plans",
    type=click.Path(dir_okay=False, path_type=Path),
    default=REPO / "bench" / "scale_plans.txt",
    help="EXPLAIN (ANALYZE, BUFFERS) of the slowest pages' queries.",
)
@click.option("--slowest", default=3, help="How many of the slowest pages get their plans.")
@click.option(
    "--only",
    multiple=True,
    help="Time only the pages whose name contains this (repeatable); the bare page always.",
)
@click.option("--random-seed", default=2026)
def main(
    database_url: str,
    reuse: bool,
    keep: bool,
    notifications: int,
    requests_: int,
    warmup: int,
    plans: Path,
    slowest: int,
    only: tuple[str, ...],
    random_seed: int,
    **size_options: int,
) -> None:
    """Fill PostgreSQL at issue 15's scale and time the main pages in-process."""
    sizes = Sizes(**size_options)
    if sizes.users < 100 or sizes.posts < 1 or sizes.rooms < 1 or sizes.conversations < 10:
        raise BenchError("need --users >= 100, --conversations >= 10, a post and a room")
    sys.path.insert(0, str(REPO))
    instance = Path(os.environ.get("TMPDIR", "/tmp")) / "qosyl-bench-scale"
    instance.mkdir(exist_ok=True)
    from sqlalchemy.engine import make_url

    target = make_url(database_url)
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    if reuse:
        dsn = target.set(drivername="postgresql").render_as_string(hide_password=False)
    else:
        dsn = fresh_database(database_url)
    env = app_env(instance, dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        if not reuse:
            began = time.perf_counter()
            migrate(env)
            seconds["migrate"] = time.perf_counter() - began
            began = time.perf_counter()
            os.environ.update(env)
            # Triggers (the insights rollups, profile counters, foreign keys) are off while
            # loading (session_replication_role = replica); their counts are rebuilt below.
            counts = generate(dsn, sizes, random_seed, post_body=post_body)
            counts["notifications"] = add_notifications(dsn, sizes, notifications, random_seed)
            seconds["generate"] = time.perf_counter() - began
            began = time.perf_counter()
            rebuild_rollups(env)
            seconds["rebuild rollups"] = time.perf_counter() - began
            began = time.perf_counter()
            recount_counters(env)
            seconds["recount counters"] = time.perf_counter() - began
            began = time.perf_counter()
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            seconds["vacuum analyze"] = time.perf_counter() - began
        began = time.perf_counter()
        timings = measure(env, dsn, warmup, requests_, plans, slowest, only)
        seconds["measure"] = time.perf_counter() - began
    finally:
        if not keep:
            import psycopg

            admin = target.set(drivername="postgresql", database="postgres")
            with psycopg.connect(
                admin.render_as_string(hide_password=False), autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            click.echo(f"Dropped {target.database}", err=True)
    report(timings, counts, seconds)
    click.echo(f"Plans of the {slowest} slowest pages: {plans}")


if __name__ == "__main__":
    main()
