"""What the insights rollups cost a write: the same actions timed with the rollup triggers
installed and removed, in turns, in one run, on SQLite and PostgreSQL.

Each round sends `--sends` room messages, writes as many posts and likes, through the real
actions (rooms.send_message, posts.create_post, posts.like_post), in process, each its own
transaction as a request's is. Rounds alternate between "with triggers" and "without", so
that both see the same machine. See bench/README.md.

    .venv/bin/python bench/rollup_writes.py --help
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/qosyl_bench_rollups"


def fresh_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if "bench" not in (target.database or ""):
        raise click.ClickException("the PostgreSQL database's name must contain 'bench'")
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target.database}"')


def measure(url: str, sends: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per action, per kind, with and without the triggers."""
    from flask_migrate import upgrade

    from qosyl import create_app
    from qosyl.actions import posts
    from qosyl.actions import rooms
    from qosyl.extensions import db
    from qosyl.models import rollups
    from qosyl.models import User
    from tests import factories

    # The testing settings: no rate limits, fast password hashes.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    times: dict[str, dict[str, list[float]]] = {"with": {}, "without": {}}
    with app.app_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        upgrade()
        people = [factories.user(username=f"writer{n}") for n in range(20)]
        room = rooms.create_room(people[0], "Bench room", "Bench")
        for person in people[1:]:
            rooms.join(person, room)
        made_posts: list = []
        for turn in range(rounds * 2):
            mode = "with" if turn % 2 == 0 else "without"
            with db.engine.begin() as connection:
                if mode == "with":
                    rollups.install(connection)
                else:
                    rollups.uninstall(connection)
            for kind in ("room message", "post", "like"):
                spent = times[mode].setdefault(kind, [])
                made = []
                for n in range(sends):
                    author = db.session.get(User, people[n % len(people)].id)
                    started = time.perf_counter()
                    if kind == "room message":
                        rooms.send_message(author, room, f"message {turn} {n}")
                    elif kind == "post":
                        made.append(posts.create_post(author, f"post {turn} {n}"))
                    else:
                        target = made_posts[n % len(made_posts)]
                        liker = db.session.get(User, people[(n + 1 + turn) % len(people)].id)
                        posts.like_post(liker, target)
                    spent.append((time.perf_counter() - started) * 1000)
                if kind == "post":
                    made_posts = made
        with db.engine.begin() as connection:
            rollups.install(connection)
    return times


@click.command()
@click.option("--sends", default=200, show_default=True, help="Actions of each kind per round.")
@click.option("--rounds", default=5, show_default=True, help="Rounds with and without each.")
@click.option("--postgres-url", default=DEFAULT_POSTGRES, show_default=True)
def main(sends: int, rounds: int, postgres_url: str) -> None:
    """Time room messages, posts and likes with and without the rollup triggers."""
    sys.path.insert(0, str(REPO))
    fresh_postgres(postgres_url)
    with tempfile.TemporaryDirectory() as folder:
        databases = {
            "SQLite": f"sqlite:///{folder}/bench.sqlite3",
            "PostgreSQL": postgres_url,
        }
        click.echo(f"{sends} actions of each kind per round, {rounds} rounds each way\n")
        click.echo(f"{'database':12} {'action':14} {'with ms p50':>12} {'without ms p50':>15} "
                   f"{'with / without':>15}")  # fmt: skip
        for name, url in databases.items():
            times = measure(url, sends, rounds)
            for kind in times["with"]:
                with_ = statistics.median(times["with"][kind])
                without = statistics.median(times["without"][kind])
                click.echo(
                    f"{name:12} {kind:14} {with_:12.2f} {without:15.2f} {with_ / without:15.2f}"
                )


if __name__ == "__main__":
    main()
