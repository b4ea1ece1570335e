"""Load benchmark: the home feed, a profile page and the like toggle against a bare page.

Builds a fresh database (SQLite in a temporary instance directory, or its own PostgreSQL
database), migrates it with the real migrations, seeds it in bulk, serves the app as
`make run` does (`python wsgi.py`, eventlet) and measures each target with wrk, alternating
with the baseline (GET /about, same layout, static content). See bench/README.md.

    .venv/bin/python bench/feed.py --help
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from itertools import islice
from pathlib import Path
from typing import Any

import click
import requests

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-2026"
BENCH_USER = "bench_user"
BENCH_DB = "qosyl_bench"
USER_AGENT = "qosyl-bench"  # same in requests and wrk: flask-login's session check sees one client
CHUNK = 5_000
LIKE_POSTS = 50  # posts the like toggle rotates over (more than connections: no two fight)
# The post, room and conversation pages: a page's worth of comments and chat history.
COMMENTS = 40  # on one post; every fourth is a reply
ROOM_MEMBERS = 20  # besides the bench user
CHAT_MESSAGES = 120  # in the room and in the conversation: the pages show the latest 50
PASS_TARGET = 0.6  # each page >= 0.6x the bare page's req/s (issue 14)
PASS_BARE = 0.3  # the bare page >= 0.3x /healthz

FIRST = "Aigerim Dias Madina Arman Dana Ana Kwame Jiwoo Sean Valentina Chidi Lena Omar Mei".split()
LAST = "Sadykova Akhmetov Kovac Park Murphy Okafor Rossi Tanaka Silva Novak Haddad Berg".split()
CODE = {
    "python": "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
    "    return a\n\nprint([fib(i) for i in range(10)])",
    "sql": "SELECT author_id, count(*) AS n\nFROM posts\nWHERE created_at > now() - interval "
    "'7 days'\nGROUP BY author_id\nORDER BY n DESC\nLIMIT 10;",
    "js": "const debounce = (fn, ms) => {\n  let t;\n  return (...args) => {\n"
    "    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n};",
    "bash": 'for f in *.jpg; do\n  convert "$f" -resize 50% "small/$f"\ndone',
    "rust": "fn main() {\n    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n"
    '    println!("{:?}", v);\n}',
}
TEMPLATES = [
    "Morning run along the river, 8 km before work. #running #almaty",
    "Finally finished **The Left Hand of Darkness**. What a book. #books #scifi",
    "Anyone else going to the meetup on Thursday? #python #meetup",
    "Hot take: tabs vs spaces does not matter, *consistency* does. #programming",
    "New recipe tonight: beshbarmak with homemade noodles.\nIt took three hours. Worth it. #food",
    "Three things I learned this week:\n\n1. Indexes matter\n2. Sleep matters more\n"
    "3. Coffee is not sleep\n\n#learning",
    "Our team shipped the new onboarding flow today! #startup #product",
    "> The best way to predict the future is to invent it.\n\nStill true. #quotes",
    "Trying out a new keyboard layout. Typing at half speed for now. #keyboards",
    "Sunset over the mountains from the office window. #photography #mountains",
    "Reading about CRDTs for the weekend project. Links welcome! #distributed #crdt",
    "Weekly reminder to back up your photos. #tech #backups",
    "Just learned that `git switch -` goes back to the previous branch. #git #til",
    "Rainy day, good day for soup and a long novel. #weekend",
    "Is anyone using HTMX in production? How does it feel after a year? #htmx #webdev",
    "Planted tomatoes on the balcony. Expecting great things by August. #gardening",
    "Conference talk accepted! I will be speaking about **query budgets**. #talks #python",
    "The new bike lanes downtown are a real improvement. #cycling #city",
    "Small wins: fixed a flaky test that haunted us for a month. #testing",
    "Board game night: we played *Wingspan* for the first time. #boardgames",
    "Quick tip for SQLite users:\n\n```sql\nPRAGMA journal_mode=WAL;\n```\n\n#sqlite #til",
    f"Fibonacci, the readable way:\n\n```python\n{CODE['python']}\n```\n\n#python #snippets",
    f"Top authors this week:\n\n```sql\n{CODE['sql']}\n```\n\n#sql #postgres",
    f"My favourite little helper:\n\n```js\n{CODE['js']}\n```\n\n#javascript",
    f"Resizing a folder of photos:\n\n```bash\n{CODE['bash']}\n```\n\n#bash #photography",
    f"Learning Rust, day 3:\n\n```rust\n{CODE['rust']}\n```\n\n#rust #learning",
    "Visited the Central State Museum today. The gold warrior is stunning. #history #museums",
    "Language exchange: I help with Kazakh, you help with Portuguese? #languages",
    "Coffee count today: 4. Productivity: unclear. #worklife",
    "What are you reading this month? Drop your recommendations below. #books",
    "Hiked to Big Almaty Lake. The water really is that turquoise. #hiking #nature",
    "Pair programming session went great, we deleted 600 lines. #refactoring",
    "Moving to a new flat next week. Boxes everywhere. #life",
    "Design review tomorrow; I have **opinions** about the colour palette. #design",
    "Volunteering at the animal shelter on Saturday, come along! #volunteering #dogs",
    "Tried sourdough for the first time.\n- Flour: everywhere\n- Bread: edible\n#baking",
    "Shoutout to everyone maintaining open source in their free time. #opensource",
    "The city marathon is in 6 weeks. Training plan is on track. #running",
    "Learning to draw with a pencil and an eraser only. Day 12. #art #sketching",
    "Deployed on a Friday. Nothing broke. Suspicious. #devops",
    "Best dumplings in town? Asking for a friend (me). #food #almaty",
    "Reminder: drink water, stretch, look away from the screen. #health",
    "Our football team won 3-1 tonight! #football #sports",
    "Started a podcast about local history. Episode 1 is out. #podcast #history",
    "Migrated our monitoring to a new stack, graphs are prettier now. #observability",
    "Learning chess openings. The Sicilian is confusing. #chess",
    "Jazz concert at the philharmonic was magical. #music #jazz",
    "Wrote a long post on [my blog](https://example.com/blog) about caching. #caching",
    "Photo walk this Sunday, meeting at the Green Bazaar at 10. #photography #meetup",
    "Grateful for this community. You all make the internet better. #community",
]


@dataclass
class Sizes:
    users: int
    posts: int
    follows: int
    bench_follows: int
    friends: int
    bench_friends: int
    like_rate: float


@dataclass
class Seeded:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    profile_user: str = ""
    profile_posts: int = 0
    like_post_ids: list[int] = field(default_factory=list)
    post_page_id: int = 0
    room_id: int = 0
    conversation_id: int = 0


@dataclass
class Run:
    target: str
    round: int
    rps: float
    avg_ms: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    wrk_non_2xx_3xx: int
    socket_errors: str
    statuses: dict[str, int]
    vs_rps: float = 1.0  # this run / the baseline run just before it
    vs_p50: float = 1.0
    baseline: str = ""  # what vs_* compare with: "bare page" or, for a bare page, "healthz"
    # Latencies that cannot be: with c connections the mean is at most c / (req/s).
    suspect: bool = False


class BenchError(click.ClickException):
    """Stops the run with a message and exit status 1."""


# --- database -----------------------------------------------------------------------------


@contextmanager
def bench_database(
    admin_url: str | None, instance_dir: Path, keep: bool, name: str = BENCH_DB
) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, label): a SQLite file, or a PostgreSQL database `name` of our own,
    dropped after (unless `keep`; the next run drops it first)."""
    if not admin_url:
        path = instance_dir / "bench.sqlite3"
        yield f"sqlite:///{path}", "SQLite (file, WAL)"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    if not admin.drivername.startswith("postgres") or admin.database in (name, None):
        raise BenchError(
            f"--database-url must be a PostgreSQL URL of an admin database (not {name}),"
            " e.g. postgresql://postgres@127.0.0.1:5432/postgres"
        )
    admin = admin.set(drivername="postgresql")
    bench = admin.set(database=name).render_as_string(hide_password=False)

    def admin_sql(statement: str) -> str | None:
        dsn = admin.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(statement)
            row = cursor.fetchone() if cursor.description else None
            return str(row[0]) if row else None

    try:
        version = admin_sql("SHOW server_version")
        admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a crashed earlier run
        admin_sql(f"CREATE DATABASE {name}")
    except psycopg.Error as error:
        raise BenchError(f"PostgreSQL at {admin.render_as_string()}: {error}") from error
    try:
        fate = f"kept: {bench}" if keep else "dropped afterwards"
        yield bench, f"PostgreSQL {version} (database {name}, {fate})"
    finally:
        if not keep:
            try:
                admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except psycopg.Error as error:
                click.echo(f"Could not drop database {name}: {error}", err=True)


def app_env(instance_dir: Path, database_url: str) -> dict[str, str]:
    return {
        "FLASK_APP": "wsgi:app",
        "QOSYL_ENV": "development",
        "QOSYL_INSTANCE_DIR": str(instance_dir),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "UPLOAD_FOLDER": str(instance_dir / "uploads"),
        "RATELIMIT_ENABLED": "false",
        "SOCKETIO_MESSAGE_QUEUE": "",  # in-process: measure the app, not a queue
        "MAIL_SERVER": "",
        "FLASK_DEBUG": "0",
        # The API target's token outlives the run.
        "JWT_ACCESS_MINUTES": "240",
    }


def migrate(env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "flask", "db", "upgrade"]
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError("`flask db upgrade` did not finish within 300s") from error
    if done.returncode != 0:
        raise BenchError(f"`flask db upgrade` failed:\n{done.stdout}{done.stderr}")


# --- seeding ------------------------------------------------------------------------------


def insert(conn: Any, table: Any, rows: Iterable[dict], total: int, label: str) -> int:
    """Core executemany in chunks of CHUNK rows, with a progress bar."""
    count = 0
    batch: list[dict] = []
    with click.progressbar(length=total, label=label.ljust(16), file=sys.stderr) as bar:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                conn.execute(table.insert(), batch)
                bar.update(len(batch))
                count += len(batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
            bar.update(len(batch))
            count += len(batch)
    return count


class Dataset:
    """Every row to insert, drawn from one random.Random: the same seed gives the same data."""

    def __init__(self, sizes: Sizes, rng: random.Random, rendered: list[tuple[str, list[str]]]):
        self.sizes, self.rng, self.rendered = sizes, rng, rendered
        n_users, n_posts = sizes.users, sizes.posts
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.post_start, self.step = self.now - timedelta(days=60), timedelta(days=60) / n_posts
        names = sorted({tag for _, tags in rendered for tag in tags})
        self.tag_ids = {name: i for i, name in enumerate(names, 1)}
        self.others = range(2, n_users + 1)  # never the bench user: the like toggle starts unliked
        # Skewed authorship: a few prolific people and a long tail (weight 1/(rank + 10)).
        ranked = list(range(1, n_users + 1))
        rng.shuffle(ranked)
        cum, total = [], 0.0
        for rank in range(n_users):
            total += 1.0 / (rank + 10)
            cum.append(total)
        self.authors = rng.choices(ranked, cum_weights=cum, k=n_posts)
        self.template_of = [rng.randrange(len(rendered)) for _ in range(n_posts)]
        self.like_counts = {
            pid: min(rng.randint(1, 12), len(self.others))
            for pid in range(1, n_posts + 1)
            if rng.random() < sizes.like_rate
        }
        low, high = sizes.follows // 2, sizes.follows
        self.follow_k = [0, min(sizes.bench_follows, n_users - 1)] + [
            min(rng.randint(low, high), n_users - 1) for _ in self.others
        ]
        self.pairs = {
            (1, f) for f in rng.sample(self.others, min(sizes.bench_friends, n_users - 1))
        }
        for _ in range(n_users * sizes.friends // 2):
            a, b = rng.sample(self.others, 2)
            self.pairs.add((min(a, b), max(a, b)))

    def users(self, password_hash: str) -> Iterator[dict]:
        start = self.now - timedelta(days=400)
        for uid in range(1, self.sizes.users + 1):
            name = BENCH_USER if uid == 1 else f"user{uid:06d}"
            when = start + timedelta(minutes=uid)
            yield {
                "id": uid,
                "username": name,
                "email": f"{name}@bench.example",
                "password_hash": password_hash,
                "first_name": self.rng.choice(FIRST),
                "last_name": self.rng.choice(LAST),
                "email_verified_at": when,
                "onboarded_at": when,
                "created_at": when,
                "updated_at": when,
                "bio": "Benchmark account",
            }

    def hashtags(self) -> Iterator[dict]:
        return ({"id": i, "name": name} for name, i in self.tag_ids.items())

    def posts(self) -> Iterator[dict]:
        for i, (author, t) in enumerate(zip(self.authors, self.template_of, strict=True)):
            yield {
                "id": i + 1,
                "author_id": author,
                "body": TEMPLATES[t],
                "body_html": self.rendered[t][0],
                "created_at": self.post_start + self.step * i,
                "like_count": self.like_counts.get(i + 1, 0),
                "comment_count": 0,
            }

    def post_hashtags(self) -> Iterator[dict]:
        for i, t in enumerate(self.template_of):
            for name in self.rendered[t][1]:
                yield {"post_id": i + 1, "hashtag_id": self.tag_ids[name]}

    def likes(self) -> Iterator[dict]:
        for pid, k in self.like_counts.items():
            when = self.post_start + self.step * pid
            for uid in self.rng.sample(self.others, k):
                yield {"post_id": pid, "user_id": uid, "created_at": when}

    def follows(self) -> Iterator[dict]:
        for uid in range(1, self.sizes.users + 1):
            chosen = self.rng.sample(range(1, self.sizes.users), self.follow_k[uid])
            for followed in sorted(x if x < uid else x + 1 for x in chosen):  # never uid itself
                yield {"follower_id": uid, "followed_id": followed, "created_at": self.now}

    def friendships(self) -> Iterator[dict]:
        for a, b in sorted(self.pairs):
            yield {"user_id": a, "friend_id": b, "created_at": self.now}
            yield {"user_id": b, "friend_id": a, "created_at": self.now}

    def counts(self) -> dict[str, int]:
        return {
            "users": self.sizes.users,
            "hashtags": len(self.tag_ids),
            "posts": self.sizes.posts,
            "post_hashtags": sum(len(self.rendered[t][1]) for t in self.template_of),
            "post_likes": sum(self.like_counts.values()),
            "follows": sum(self.follow_k),
            "friendships": 2 * len(self.pairs),
        }


def seed_threads(conn: Any, data: Dataset, post_id: int, out: Seeded) -> None:
    """Comments on `post_id`, a room with members and history, and a conversation between
    the bench user and user 2 with history: the post, room and conversation pages."""
    from qosyl import models

    rng, rendered, now = data.rng, data.rendered, data.now
    others = list(data.others)

    def body() -> tuple[str, str]:  # a random template, rendered
        t = rng.randrange(len(rendered))
        return TEMPLATES[t], rendered[t][0]

    comments = models.Comment.__table__
    top_ids: list[int] = []
    for i in range(COMMENTS):
        text_, html = body()
        row = {
            "post_id": post_id,
            "author_id": rng.choice(others),
            "parent_id": rng.choice(top_ids) if top_ids and i % 4 == 3 else None,
            "body": text_,
            "body_html": html,
            "created_at": now - timedelta(minutes=COMMENTS - i),
        }
        new_id = conn.execute(comments.insert().returning(comments.c.id), row).scalar_one()
        if row["parent_id"] is None:
            top_ids.append(new_id)
    posts = models.Post.__table__
    conn.execute(posts.update().where(posts.c.id == post_id).values(comment_count=COMMENTS))

    def new_row(model: Any, **values: Any) -> int:
        table = model.__table__
        return conn.execute(table.insert().returning(table.c.id), values).scalar_one()

    topic = new_row(models.Topic, name="Benchmarks", created_at=now)
    room = new_row(
        models.Room,
        name="Bench room",
        topic_id=topic,
        host_id=1,
        description="Where the benchmark talks",
        is_lobby=False,
        created_at=now,
        updated_at=now,
    )
    members = [1, *rng.sample(others, ROOM_MEMBERS)]
    conn.execute(
        models.RoomMember.__table__.insert(),
        [{"room_id": room, "user_id": uid, "joined_at": now} for uid in members],
    )
    conversation = new_row(
        models.Conversation,
        kind=models.ConversationKind.DIRECT,
        direct_key="1:2",
        name="",
        created_at=now,
        last_message_at=now,
    )
    conn.execute(
        models.ConversationMember.__table__.insert(),
        [
            {
                "conversation_id": conversation,
                "user_id": uid,
                "status": models.MemberStatus.ACTIVE,
                "joined_at": now,
            }
            for uid in (1, 2)
        ],
    )
    room_rows, conversation_rows = [], []
    for i in range(CHAT_MESSAGES):
        when = now - timedelta(minutes=CHAT_MESSAGES - i)
        text_, html = body()
        room_rows.append(
            {
                "room_id": room,
                "author_id": rng.choice(members),
                "body": text_,
                "body_html": html,
                "created_at": when,
            }
        )
        text_, html = body()
        conversation_rows.append(
            {
                "conversation_id": conversation,
                "author_id": 1 + i % 2,
                "body": text_,
                "body_html": html,
                "created_at": when,
            }
        )
    conn.execute(models.RoomMessage.__table__.insert(), room_rows)
    conn.execute(models.Message.__table__.insert(), conversation_rows)
    out.post_page_id, out.room_id, out.conversation_id = post_id, room, conversation
    out.rows.update(comments=COMMENTS, room_messages=CHAT_MESSAGES, messages=CHAT_MESSAGES)


def seed(env: dict[str, str], sizes: Sizes, rng: random.Random, analyze: bool) -> Seeded:
    """Bulk inserts through SQLAlchemy Core inside an app pointed at the bench database."""
    os.environ.update(env)  # config.py reads the environment when first imported
    sys.path.insert(0, str(REPO))  # config.py and qosyl/ live at the repo root
    from sqlalchemy import text

    from qosyl import create_app
    from qosyl import models
    from qosyl.extensions import db
    from qosyl.passwords import hash_password
    from qosyl.render import markup

    app = create_app()
    with app.test_request_context():  # each template rendered once, the HTML reused
        rendered = [(str(markup.render(body)), markup.hashtags(body)) for body in TEMPLATES]
    data = Dataset(sizes, rng, rendered)
    password_hash = hash_password(PASSWORD)  # scrypt: once, not per user
    jobs = [
        ("users", models.User, data.users(password_hash)),
        ("hashtags", models.Hashtag, data.hashtags()),
        ("posts", models.Post, data.posts()),
        ("post_hashtags", models.PostHashtag, data.post_hashtags()),
        ("post_likes", models.PostLike, data.likes()),
        ("follows", models.Follow, data.follows()),
        ("friendships", models.Friendship, data.friendships()),
    ]
    expected = data.counts()
    out = Seeded()
    recent = (pid for pid in range(sizes.posts, 0, -1) if data.authors[pid - 1] != 1)
    out.like_post_ids = list(islice(recent, LIKE_POSTS))
    post_page_id = next(recent, out.like_post_ids[-1])
    with app.app_context():
        for name, model, rows in jobs:
            started = time.perf_counter()
            with db.engine.begin() as conn:
                out.rows[name] = insert(conn, model.__table__, rows, expected[name], name)
            out.seconds[name] = time.perf_counter() - started
        started = time.perf_counter()
        with db.engine.begin() as conn:
            seed_threads(conn, data, post_page_id, out)
        out.seconds["threads"] = time.perf_counter() - started
        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("users", "posts", "hashtags"):  # explicit ids: move the sequences
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
                conn.execute(text("VACUUM ANALYZE"))  # autovacuum would, in the middle of a run
        else:
            raw = db.engine.raw_connection()  # autocommit: the app's connections run BEGIN
            try:
                if analyze:
                    raw.execute("ANALYZE")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the server starts on a clean WAL
            finally:
                raw.close()
        out.seconds["finish"] = time.perf_counter() - started
        db.engine.dispose()
    per_author: dict[int, int] = {}
    for author in data.authors:
        per_author[author] = per_author.get(author, 0) + 1
    top = max((uid for uid in per_author if uid != 1), key=per_author.__getitem__)
    out.profile_user, out.profile_posts = f"user{top:06d}", per_author[top]
    return out


# --- server and session -------------------------------------------------------------------


def free_port() -> int:
    ports = list(range(8100, 9000))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BenchError("no free port in 8100-8999")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Server:
    """A server in a subprocess, logging to a file, ready once `ready_path` answers 200.

    By default `python wsgi.py` as `make run` starts it (eventlet); chat_fanout.py also
    runs its bare relay through it.
    """

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        log: Path,
        *,
        name: str = "app",
        command: list[str] | None = None,
        ready_path: str = "/healthz",
    ):
        self.name, self.log, self.ready_path = name, log, ready_path
        self.command = command or [sys.executable, "wsgi.py"]
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"}

    def __enter__(self) -> Server:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=REPO, env=self.env, stdout=log, stderr=log
            )
        try:
            self.wait_ready(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float) -> None:
        url = f"{self.base}{self.ready_path}"
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive("before answering")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the {self.name} server did not answer {url} within {timeout:.0f}s;"
                    f" the end of its log ({self.log}):\n{tail(self.log)}"
                )
            time.sleep(0.2)

    def check_alive(self, when: str = "") -> None:
        if self.proc.poll() is not None:
            raise BenchError(
                f"the {self.name} server exited with status {self.proc.returncode} {when};"
                f" the end of its log ({self.log}):\n{tail(self.log)}"
            )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"\bvalue=\"([^\"]+)\"")
HX_HEADERS = re.compile(r"hx-headers='([^']*)'")


def csrf_from(page: str) -> str:
    headers = HX_HEADERS.search(page)
    if headers:
        token = json.loads(headers.group(1)).get("X-CSRFToken")
        if token:
            return token
    for tag in CSRF_INPUT.findall(page):
        value = VALUE.search(tag)
        if value:
            return value.group(1)
    raise BenchError("no CSRF token in the page")


def sign_in(base: str) -> tuple[requests.Session, str]:
    """Sign in over HTTP as the bench user; returns the session and a CSRF token for POSTs."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    page = http.get(f"{base}/login", timeout=30)
    data = {"login": BENCH_USER, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    done = http.post(f"{base}/login", data=data, timeout=30)
    if done.status_code != 200 or done.url.rstrip("/") != base or "session" not in http.cookies:
        raise BenchError(f"sign-in failed: {done.status_code} at {done.url}")
    return http, csrf_from(done.text)


def api_sign_in(base: str) -> str:
    """An access token of the bench user, from POST /api/auth/login/."""
    done = requests.post(
        f"{base}/api/auth/login/", json={"login": BENCH_USER, "password": PASSWORD}, timeout=30
    )
    if done.status_code != 200:
        raise BenchError(f"API sign-in failed: {done.status_code} {done.text[:200]}")
    return done.json()["access_token"]


# --- wrk ----------------------------------------------------------------------------------

LUA_COMMON = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses") or {}) do
      io.write(string.format("STATUS %d %d\\n", code, count))
    end
  end
end
"""
LUA_LIKE = """
-- Request n goes to post ids[n %% #ids], liking on even passes and unliking on odd ones:
-- each post alternates like/unlike, and the <= 10 requests in flight touch different posts.
local ids = {%(ids)s}
local n = 0
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["HX-Request"] = "true"
wrk.headers["X-CSRFToken"] = "%(csrf)s"
function request()
  local id = ids[(n %% #ids) + 1]
  local action = (math.floor(n / #ids) %% 2 == 0) and "like" or "unlike"
  n = n + 1
  return wrk.format(nil, "/p/" .. id .. "/" .. action)
end
"""

# --target keys and the names the output uses.
TARGETS = {
    "feed": "home feed",
    "api": "API feed",
    "profile": "profile",
    "post": "post page",
    "room": "room page",
    "conversation": "conversation",
    "like": "like toggle",
}
# The pages issue 14 holds to PASS_TARGET x the bare page.
PAGES = ("home feed", "profile", "post page", "room page", "conversation")

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def grab(pattern: str, text: str, default: str | None = None) -> str:
    found = re.search(pattern, text, re.M)
    if found:
        return found.group(1)
    if default is None:
        raise BenchError(f"wrk output without {pattern!r}:\n{text}")
    return default


def parse_ms(value: str) -> float:
    number, unit = grab(r"^([\d.]+)", value), grab(r"([a-z]+)$", value)
    return float(number) * UNITS[unit]


def wrk_run(wrk: str, url: str, auth: str, script: Path, seconds: float, conns: int) -> dict:
    """`auth` is the header that signs requests in: "Cookie: ..." or "Authorization: ..."."""
    command = [wrk, "-t1", f"-c{conns}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    command += ["-H", auth, "-H", f"User-Agent: {USER_AGENT}", "-s", str(script)]
    try:
        done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"wrk did not finish within {seconds + 60:.0f}s on {url}") from error
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise BenchError(f"wrk failed ({done.returncode}):\n{out}{done.stderr}")
    statuses = {code: int(n) for code, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    return {
        "rps": float(grab(r"^Requests/sec:\s+([\d.]+)", out)),
        "avg_ms": parse_ms(grab(r"^\s+Latency\s+(\S+)", out)),
        "p50_ms": parse_ms(grab(r"^\s+50%\s+(\S+)\s*$", out)),
        "p99_ms": parse_ms(grab(r"^\s+99%\s+(\S+)\s*$", out)),
        "requests": int(grab(r"(\d+) requests in", out)),
        # wrk counts only >= 400 here; the Lua status counts below also catch 3xx.
        "wrk_non_2xx_3xx": int(grab(r"Non-2xx or 3xx responses: (\d+)", out, "0")),
        "socket_errors": grab(r"Socket errors: (.*)$", out, "none"),
        "statuses": statuses,
        "non_2xx": sum(n for code, n in statuses.items() if not code.startswith("2")),
    }


# --- the run ------------------------------------------------------------------------------


class Runner:
    """Signed-in wrk runs against one server, each target alternating with the baseline."""

    def __init__(self, wrk: str, srv: Server, instance: Path, seeded: Seeded, opts: dict[str, Any]):
        self.wrk, self.server, self.opts = wrk, srv, opts
        self.base = base = srv.base
        self.http, csrf = sign_in(base)
        self.cookie = "Cookie: " + "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.bearer = "Authorization: Bearer " + api_sign_in(base)
        self.hx = {"HX-Request": "true", "X-CSRFToken": csrf}
        self.ids = seeded.like_post_ids
        status_lua, like_lua = instance / "status.lua", instance / "like.lua"
        status_lua.write_text(LUA_COMMON)
        like_lua.write_text(LUA_LIKE % {"ids": ", ".join(map(str, self.ids)), "csrf": csrf})
        like_lua.write_text(like_lua.read_text() + LUA_COMMON)
        self.healthz = ("healthz", f"{base}/healthz", status_lua)
        self.baseline = ("bare page", f"{base}/about", status_lua)
        self.targets = [
            ("home feed", f"{base}/", status_lua),
            ("API feed", f"{base}/api/posts/feed/", status_lua),
            ("profile", f"{base}/u/{seeded.profile_user}", status_lua),
            ("post page", f"{base}/p/{seeded.post_page_id}", status_lua),
            ("room page", f"{base}/rooms/{seeded.room_id}", status_lua),
            ("conversation", f"{base}/messages/{seeded.conversation_id}", status_lua),
            ("like toggle", f"{base}/p/{self.ids[0]}/like", like_lua),
        ]
        chosen = {TARGETS[key] for key in opts["target"]} or set(TARGETS.values())
        if not opts["api"]:
            chosen.discard("API feed")
        self.targets = [target for target in self.targets if target[0] in chosen]
        self.runs: list[Run] = []

    def check(self, url: str, method: str = "GET", marker: str = "", **kw: Any) -> None:
        """One request as wrk sends it: 200, no redirect, signed in."""
        response = self.http.request(method, url, allow_redirects=False, timeout=60, **kw)
        if response.status_code != 200 or marker not in response.text:
            raise BenchError(f"{method} {url}: {response.status_code}, expected 200 {marker!r}")

    def reset_likes(self) -> None:
        """Every like-toggle run starts from "not liked"."""
        for pid in self.ids:
            self.check(f"{self.base}/p/{pid}/unlike", "POST", headers=self.hx)

    def wrk_run(self, url: str, script: Path, seconds: float) -> dict:
        auth = self.bearer if "/api/" in url else self.cookie
        try:
            return wrk_run(self.wrk, url, auth, script, seconds, self.opts["connections"])
        except BenchError:
            self.server.check_alive(f"during the wrk run on {url}")
            raise

    def measure(self, name: str, rnd: int, url: str, script: Path) -> Run:
        run = Run(name, rnd, **self.wrk_run(url, script, self.opts["duration"]))
        run.suspect = run.avg_ms > 1.5 * 1000 * self.opts["connections"] / max(run.rps, 0.001)
        self.runs.append(run)
        click.echo(
            f"  round {rnd} {name:<12}{run.rps:6.0f} req/s  avg {run.avg_ms:6.1f} ms"
            f"  p50 {run.p50_ms:6.1f} ms"
            f"  p99 {run.p99_ms:7.1f} ms  statuses {run.statuses}"
            f"  (wrk: non-2xx/3xx {run.wrk_non_2xx_3xx}; socket errors: {run.socket_errors})"
            + ("  ! avg > connections / req/s: latencies disturbed" if run.suspect else "")
        )
        return run

    def run(self) -> list[Run]:
        self.check(self.healthz[1], marker="ok")
        for name, url, _ in (self.baseline, *self.targets):
            if name == "API feed":
                self.check(url, marker='"items"', headers={"Authorization": self.bearer[15:]})
            elif name != "like toggle":
                self.check(url, marker='action="/logout"')
        self.check(f"{self.base}/p/{self.ids[0]}/like", "POST", headers=self.hx)
        self.reset_likes()
        if self.opts["warmup"] > 0:  # templates compiled, caches filled
            for _, url, script in (self.healthz, self.baseline, *self.targets):
                self.wrk_run(url, script, self.opts["warmup"])
            self.reset_likes()
        click.echo("Runs (the baseline just before each target):")
        for rnd in range(1, self.opts["rounds"] + 1):
            # The bare page against /healthz: what the layout and the session cost.
            health = self.measure(self.healthz[0], rnd, *self.healthz[1:])
            bare = self.measure(self.baseline[0], rnd, *self.baseline[1:])
            compare(bare, health)
            for name, url, script in self.targets:
                bare = self.measure(self.baseline[0], rnd, *self.baseline[1:])
                run = self.measure(name, rnd, url, script)
                compare(run, bare)
                if name == "like toggle":
                    self.reset_likes()
        return self.runs


def compare(run: Run, baseline: Run) -> None:
    run.vs_rps, run.vs_p50 = run.rps / baseline.rps, run.p50_ms / baseline.p50_ms
    run.baseline = baseline.target


def median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(run, attr) for run in runs)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--users", default=10_000, help="Users to seed.")
@click.option("--posts", default=200_000, help="Posts to seed.")
@click.option("--follows", default=50, help="Each user follows n/2..n people.")
@click.option("--bench-follows", default=200, help="People the bench user follows.")
@click.option("--friends", default=5, help="Average friendships per user.")
@click.option("--bench-friends", default=30, help="Friends of the bench user.")
@click.option("--like-rate", default=0.15, help="Share of posts with 1-12 likes.")
@click.option("--duration", default=10.0, help="Seconds per wrk run.")
@click.option("--rounds", default=3, help="Rounds of (baseline, target) per target.")
@click.option("--connections", default=10, help="wrk connections (1 thread).")
@click.option(
    "--api/--no-api", default=True, help="Also measure GET /api/posts/feed/ (bearer token)."
)
@click.option(
    "--target",
    multiple=True,
    type=click.Choice(list(TARGETS)),
    help="Measure only these targets (repeat the option); default: all.",
)
@click.option("--warmup", default=2.0, help="Unmeasured seconds per URL before round 1.")
@click.option(
    "--database-url",
    help="PostgreSQL admin URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the bench"
    f" creates and drops its own database {BENCH_DB}. Default: SQLite in a temporary directory.",
)
@click.option("--analyze", is_flag=True, help="Run ANALYZE on SQLite after seeding.")
@click.option("--random-seed", default=1, help="Same seed, same data.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Save the raw figures.")
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the instance directory (server log, SQLite database)"
    f" and the PostgreSQL database {BENCH_DB}.",
)
def main(**opts: Any) -> None:
    """Seed a big database, serve it as `make run` does and measure with wrk: the home feed,
    a profile and the like toggle, each alternating with a bare page of the same layout."""
    began = time.monotonic()
    wrk = shutil.which("wrk")
    if not wrk:
        raise BenchError("wrk is missing: install it with `apt-get install -y wrk` (Debian).")
    if opts["posts"] < 1 or opts["users"] < LIKE_POSTS + 2 or opts["rounds"] < 1:
        raise BenchError(f"need --posts >= 1, --users >= {LIKE_POSTS + 2} and --rounds >= 1")
    sizes = Sizes(**{name: opts[name] for name in Sizes.__dataclass_fields__})
    context = {"load_before": os.getloadavg()[0]}
    instance = Path(tempfile.mkdtemp(prefix="qosyl-bench-"))
    try:
        with bench_database(opts["database_url"], instance, opts["keep"]) as (
            database_url,
            db_label,
        ):
            env = app_env(instance, database_url)
            click.echo(f"Database: {db_label}; instance directory {instance}", err=True)
            started = time.perf_counter()
            migrate(env)
            context["migrate_s"] = time.perf_counter() - started
            started = time.perf_counter()
            seeded = seed(env, sizes, random.Random(opts["random_seed"]), opts["analyze"])
            context["seed_s"] = time.perf_counter() - started
            click.echo(f"Seeded in {context['seed_s']:.1f}s; starting the server", err=True)
            log = instance / "server.log"
            with Server(env, free_port(), log) as srv:
                try:
                    runs = Runner(wrk, srv, instance, seeded, opts).run()
                except requests.RequestException as error:
                    srv.check_alive(f"after a failed request ({error})")
                    raise BenchError(f"a request to the server failed: {error}") from error
            problems = log.read_text(errors="replace").count("Traceback")
            if problems:
                click.echo(f"The server logged {problems} tracebacks:\n{tail(log)}", err=True)
    finally:
        if opts["keep"]:
            click.echo(f"Kept {instance}", err=True)
        else:
            shutil.rmtree(instance, ignore_errors=True)
    context.update(load_after=os.getloadavg()[0], total_s=time.monotonic() - began)
    report(opts, sizes, seeded, db_label, context, runs)


def verdict(name: str, runs: list[Run]) -> str:
    """One line: the ratio to the baseline and, for the pages issue 14 names, PASS or FAIL."""
    ratio, base = median(runs, "vs_rps"), runs[0].baseline
    goal = PASS_BARE if name == "bare page" else PASS_TARGET if name in PAGES else None
    outcome = "" if goal is None else f" (goal >= {goal}x): {'PASS' if ratio >= goal else 'FAIL'}"
    return (
        f"{name}: {median(runs, 'rps'):.0f} req/s = {ratio:.2f}x of {base}; p50"
        f" {median(runs, 'p50_ms'):.1f} ms = {median(runs, 'vs_p50'):.2f}x{outcome}"
    )


def report(
    opts: dict[str, Any],
    sizes: Sizes,
    seeded: Seeded,
    db_label: str,
    context: dict[str, float],
    runs: list[Run],
) -> None:
    import sqlite3

    echo = click.echo
    load = f"load average {context['load_before']:.2f} before, {context['load_after']:.2f} after"
    if db_label.startswith("SQLite"):
        db_label += f", SQLite {sqlite3.sqlite_version}"
    echo("\nQosyl feed benchmark")
    echo(f"  machine   {os.cpu_count()} CPUs, {platform.platform()}, {load}")
    echo(f"  python    {platform.python_version()}; server: python wsgi.py (eventlet, 1 process)")
    echo(f"  database  {db_label}")
    echo("  rows      " + ", ".join(f"{k} {v:,}" for k, v in seeded.rows.items()))
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in seeded.seconds.items())
    echo(f"  seed      {context['seed_s']:.1f}s ({steps}); migrations {context['migrate_s']:.1f}s")
    echo(
        f"  load      wrk -t1 -c{opts['connections']} -d{opts['duration']:g}s --latency,"
        f" {opts['rounds']} rounds of (bare page, target) per target; medians of the rounds"
    )
    echo(
        f"  targets   GET / as {BENCH_USER} (follows {sizes.bench_follows}, friends"
        f" {sizes.bench_friends}); GET /u/{seeded.profile_user} ({seeded.profile_posts:,} posts);"
        f" POST /p/<id>/like|unlike over {len(seeded.like_post_ids)} posts;"
        f" GET /p/{seeded.post_page_id} ({COMMENTS} comments);"
        f" GET /rooms/{seeded.room_id} and GET /messages/{seeded.conversation_id}"
        f" ({CHAT_MESSAGES} messages each); bare page GET /about, itself against GET /healthz"
        + ("; GET /api/posts/feed/ with the bench user's bearer token" if opts["api"] else "")
    )
    by_target: dict[str, list[Run]] = {}
    for run in runs:
        by_target.setdefault(run.target, []).append(run)
    header = f"{'target':<13}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
    echo("\n" + header + f"{'req/s vs base':>15}{'p50 vs base':>13}  (base: bare page;")
    echo(" " * len(header) + "  for the bare page, /healthz)")
    echo("-" * (len(header) + 28))
    errors = 0
    for name, group in by_target.items():
        bad = sum(run.non_2xx for run in group)
        errors += bad
        line = f"{name:<13}{median(group, 'rps'):>8.0f}{median(group, 'p50_ms'):>9.1f}"
        line += f"{median(group, 'p99_ms'):>9.1f}{bad:>9}"
        compared = [run for run in group if run.baseline]
        if compared:  # median of the ratios to the baseline run just before
            line += f"{median(compared, 'vs_rps'):>14.2f}x{median(compared, 'vs_p50'):>12.2f}x"
        echo(line)
    echo("")
    for name, group in by_target.items():
        compared = [run for run in group if run.baseline]
        if compared:
            echo(verdict(name, compared))
    suspect = sum(run.suspect for run in runs)
    if suspect:
        echo(
            f"\n! {suspect} run(s) report a mean latency above connections / req/s, which cannot"
            " be right (seen here when other processes load the machine): their p50/p99 are"
            " unreliable, req/s holds. Rerun for clean latencies."
        )
    echo(f"\nTotal run time {context['total_s']:.0f}s (seeding {context['seed_s']:.0f}s).")
    if opts["json_path"]:
        raw = {
            "options": opts,
            "database": db_label,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "python": platform.python_version(),
            "context": context,
            "seeded": asdict(seeded),
            "runs": [asdict(run) for run in runs],
        }
        Path(opts["json_path"]).write_text(json.dumps(raw, indent=2))
    if errors:
        raise BenchError(f"{errors} responses were not 2xx: the figures above are not valid.")


if __name__ == "__main__":
    main()
