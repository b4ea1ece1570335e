"""Insights rollups: counts per UTC quarter-hour, kept by database triggers.

Insights read a period's counts from here instead of the rows themselves: a year of a busy
site is millions of rows, its rollup a few per quarter-hour. Counts are per UTC
quarter-hour ("slot"): every time zone's offset is a whole number of quarter-hours, so any
viewer's days, and hours of the week, are still cut exactly from slots.

Triggers keep them, not the actions, because the database makes some of the changes itself:
ON DELETE CASCADE (an account's posts, a room's messages) and SET NULL (a deleted
commenter's comments) never pass through Python. A trigger sees every insert, delete and
update, in the writer's transaction, however it was made. The rollups therefore always equal
what `rebuild` computes from the rows present (tested after random sequences of actions),
and a deleted message leaves the counts as if it had never been sent, as the rows do.

Distinct people per day cannot be summed from counts: `active_days` holds how many things
each person did on each UTC day, and the site's "active" series counts the people whose
number went from 0 to 1. Those days are UTC days (SQLite has no time zones to cut others
in), so the site overview is shown in UTC.

Changing SOURCES needs a migration that calls `install` again (it replaces the triggers)
and `rebuild`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from qosyl.models.base import db

SLOT_SECONDS = 900
SLOTS_PER_DAY = 96
USER, ROOM, SITE = "user", "room", "site"
ACTIVE = "active"


class ActivityCount(db.Model):
    """How many things of one series happened in one UTC quarter-hour, for one person,
    one room or the whole site (scope_id 0)."""

    __tablename__ = "activity_counts"
    # Rows kept in key order on SQLite; on PostgreSQL the key's index carries n too (see
    # migration 0011). A period's counts are then read from the index alone.
    __table_args__ = {"sqlite_with_rowid": False}

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class ActiveDay(db.Model):
    """How many things a person did on a UTC day (days since 1970-01-01); kept at 0 once
    they are all deleted, so that the site's active count can tell 1 -> 0 apart."""

    __tablename__ = "active_days"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Count:
    """One series a row counts towards. `owner` and `when` are SQL over the row, written
    with {row} for it: the scope's id (NULL: not counted) and an extra condition."""

    scope: str
    series: str
    owner: str
    when: str = ""


@dataclass(frozen=True)
class Source:
    table: str
    # The columns whose change moves a row from one count to another.
    columns: tuple[str, ...]
    counts: tuple[Count, ...]
    # SQL for the person the row makes active on its day, if it does.
    active: str | None = None


def _received(author_column: str) -> str:
    """The author of the row's post, when the row is not theirs (reactions from others)."""
    return (
        "(SELECT posts.author_id FROM posts WHERE posts.id = {row}.post_id "
        f"AND posts.author_id <> {{row}}.{author_column})"
    )


SOURCES: tuple[Source, ...] = (
    Source(
        "room_messages",
        ("room_id", "author_id", "created_at"),
        (
            Count(USER, "messages", "{row}.author_id"),
            Count(ROOM, "messages", "{row}.room_id"),
            Count(SITE, "messages", "0"),
        ),
        active="{row}.author_id",
    ),
    Source(
        "messages",
        ("author_id", "created_at"),
        (Count(USER, "messages", "{row}.author_id"), Count(SITE, "messages", "0")),
        active="{row}.author_id",
    ),
    Source(
        "posts",
        ("author_id", "created_at"),
        (Count(USER, "posts", "{row}.author_id"), Count(SITE, "posts", "0")),
        active="{row}.author_id",
    ),
    Source(
        "post_likes",
        ("post_id", "user_id", "created_at"),
        (Count(USER, "likes", _received("user_id")),),
        active="{row}.user_id",
    ),
    Source(
        "comments",
        ("post_id", "author_id", "created_at"),
        (Count(USER, "comments", _received("author_id")),),
        active="{row}.author_id",
    ),
    Source(
        "follows", ("followed_id", "created_at"), (Count(USER, "followers", "{row}.followed_id"),)
    ),
    Source("friendships", ("user_id", "created_at"), (Count(USER, "friends", "{row}.user_id"),)),
    Source(
        "room_membership_events",
        ("room_id", "user_id", "kind", "created_at"),
        (
            Count(USER, "rooms_joined", "{row}.user_id", "{row}.kind = 'joined'"),
            Count(ROOM, "joined", "{row}.room_id", "{row}.kind = 'joined'"),
            Count(ROOM, "left", "{row}.room_id", "{row}.kind = 'left'"),
        ),
    ),
    Source("users", ("created_at",), (Count(SITE, "signups", "0"),)),
    Source("rooms", ("created_at",), (Count(SITE, "rooms", "0"),)),
)


# SQL per dialect


def _slot(dialect: str, row: str) -> str:
    """The UTC quarter-hour of the row's created_at (rounded down, as days are)."""
    if dialect == "sqlite":
        return f"(CAST(strftime('%s', {row}.created_at) AS INTEGER) / {SLOT_SECONDS})"
    return f"CAST(floor(date_part('epoch', {row}.created_at) / {SLOT_SECONDS}) AS INTEGER)"


def _day(dialect: str, row: str) -> str:
    return f"({_slot(dialect, row)} / {SLOTS_PER_DAY})"


_BUMP = (
    "ON CONFLICT (scope, scope_id, series, slot) DO UPDATE SET n = activity_counts.n + excluded.n"
)


def _add(dialect: str, source: Source, row: str) -> list[str]:
    """Statements counting one row in (row is NEW)."""
    slot = _slot(dialect, row)
    statements = []
    for count in source.counts:
        when = f" AND {count.when.format(row=row)}" if count.when else ""
        statements.append(
            "INSERT INTO activity_counts (scope, scope_id, series, slot, n) "
            f"SELECT '{count.scope}', owner.id, '{count.series}', {slot}, 1 "
            f"FROM (SELECT {count.owner.format(row=row)} AS id) AS owner "
            f"WHERE owner.id IS NOT NULL{when} {_BUMP}"
        )
    if source.active:
        day, who = _day(dialect, row), source.active.format(row=row)
        statements += [
            "INSERT INTO active_days (day, user_id, n) "
            f"SELECT {day}, who.id, 1 FROM (SELECT {who} AS id) AS who WHERE who.id IS NOT NULL "
            "ON CONFLICT (day, user_id) DO UPDATE SET n = active_days.n + 1",
            # The day's first thing for this person: one more active person that day.
            "INSERT INTO activity_counts (scope, scope_id, series, slot, n) "
            f"SELECT '{SITE}', 0, '{ACTIVE}', {day} * {SLOTS_PER_DAY}, 1 FROM active_days "
            f"WHERE active_days.day = {day} AND active_days.user_id = {who} "
            f"AND active_days.n = 1 {_BUMP}",
        ]
    return statements


def _subtract(dialect: str, source: Source, row: str) -> list[str]:
    """Statements counting one row out (row is OLD)."""
    slot = _slot(dialect, row)
    statements = []
    for count in source.counts:
        when = f" AND {count.when.format(row=row)}" if count.when else ""
        statements.append(
            "UPDATE activity_counts SET n = n - 1 "
            f"WHERE scope = '{count.scope}' AND series = '{count.series}' AND slot = {slot} "
            f"AND scope_id = {count.owner.format(row=row)}{when}"
        )
    if source.active:
        day, who = _day(dialect, row), source.active.format(row=row)
        statements += [
            f"UPDATE active_days SET n = n - 1 WHERE day = {day} AND user_id = {who}",
            # The day's last thing for this person is gone: one active person fewer.
            "UPDATE activity_counts SET n = n - 1 "
            f"WHERE scope = '{SITE}' AND scope_id = 0 AND series = '{ACTIVE}' "
            f"AND slot = {day} * {SLOTS_PER_DAY} AND EXISTS (SELECT 1 FROM active_days "
            f"WHERE active_days.day = {day} AND active_days.user_id = {who} "
            "AND active_days.n = 0)",
        ]
    return statements


def _trigger_names(source: Source) -> list[str]:
    return [f"rollup_{source.table}_{op}" for op in ("insert", "delete", "update")]


def _sqlite_install(source: Source) -> list[str]:
    insert, delete, update = _trigger_names(source)

    def body(statements: list[str]) -> str:
        return " ".join(f"{statement};" for statement in statements)

    return [
        f"CREATE TRIGGER {insert} AFTER INSERT ON {source.table} "
        f"BEGIN {body(_add('sqlite', source, 'NEW'))} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {source.table} "
        f"BEGIN {body(_subtract('sqlite', source, 'OLD'))} END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF {', '.join(source.columns)} ON {source.table} "
        f"BEGIN {body(_subtract('sqlite', source, 'OLD') + _add('sqlite', source, 'NEW'))} END",
    ]


def _postgresql_install(source: Source) -> list[str]:
    name = f"rollup_{source.table}"

    def body(statements: list[str]) -> str:
        return " ".join(f"{statement};" for statement in statements)

    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {body(_subtract('postgresql', source, 'OLD'))} "
        "END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {body(_add('postgresql', source, 'NEW'))} "
        "END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {', '.join(source.columns)} "
        f"ON {source.table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


# A post's likes and comments count for its author, found through the post: they are
# deleted before it (not after, by the cascade), while their triggers can still find it.
_SQLITE_POST_CHILDREN = (
    "CREATE TRIGGER rollup_posts_children BEFORE DELETE ON posts BEGIN "
    "DELETE FROM comments WHERE post_id = OLD.id; DELETE FROM post_likes WHERE post_id = OLD.id; "
    "END"
)
_POSTGRESQL_POST_CHILDREN = [
    "CREATE OR REPLACE FUNCTION rollup_posts_children() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM comments WHERE post_id = OLD.id; "
    "DELETE FROM post_likes WHERE post_id = OLD.id; RETURN OLD; END $$",
    "CREATE TRIGGER rollup_posts_children BEFORE DELETE ON posts "
    "FOR EACH ROW EXECUTE FUNCTION rollup_posts_children()",
]


def install(connection: Connection) -> None:
    """Create (or replace) the triggers that keep the rollups."""
    uninstall(connection)
    dialect = connection.dialect.name
    statements: list[str] = []
    for source in SOURCES:
        if dialect == "sqlite":
            statements += _sqlite_install(source)
        else:
            statements += _postgresql_install(source)
    if dialect == "sqlite":
        statements.append(_SQLITE_POST_CHILDREN)
    else:
        statements += _POSTGRESQL_POST_CHILDREN
    for statement in statements:
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    dialect = connection.dialect.name
    for source in SOURCES:
        if dialect == "sqlite":
            for trigger in _trigger_names(source):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            connection.exec_driver_sql(
                f"DROP TRIGGER IF EXISTS rollup_{source.table} ON {source.table}"
            )
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS rollup_{source.table}()")
    if dialect == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS rollup_posts_children")
    else:
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS rollup_posts_children ON posts")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS rollup_posts_children()")


def rebuild(connection: Connection) -> dict[str, int]:
    """Compute the rollups again from the rows, in the caller's transaction; the number of
    rows written to each table.

    On PostgreSQL the counted tables are locked against writes meanwhile (reads go on), so
    that no write lands between the count and the commit.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        tables = ", ".join(source.table for source in SOURCES)
        connection.exec_driver_sql(f"LOCK TABLE {tables} IN SHARE MODE")
    connection.exec_driver_sql("DELETE FROM activity_counts")
    connection.exec_driver_sql("DELETE FROM active_days")
    for source in SOURCES:
        slot = _slot(dialect, "r")
        for count in source.counts:
            owner = count.owner.format(row="r")
            when = f" AND {count.when.format(row='r')}" if count.when else ""
            connection.exec_driver_sql(
                "INSERT INTO activity_counts (scope, scope_id, series, slot, n) "
                f"SELECT '{count.scope}', owned.id, '{count.series}', owned.slot, count(*) "
                f"FROM (SELECT {owner} AS id, {slot} AS slot FROM {source.table} AS r "
                f"WHERE true{when}) AS owned WHERE owned.id IS NOT NULL "
                f"GROUP BY owned.id, owned.slot {_BUMP}"
            )
        if source.active:
            connection.exec_driver_sql(
                "INSERT INTO active_days (day, user_id, n) "
                f"SELECT did.day, did.id, count(*) FROM (SELECT {_day(dialect, 'r')} AS day, "
                f"{source.active.format(row='r')} AS id FROM {source.table} AS r) AS did "
                "WHERE did.id IS NOT NULL GROUP BY did.day, did.id "
                "ON CONFLICT (day, user_id) DO UPDATE SET n = active_days.n + excluded.n"
            )
    connection.exec_driver_sql(
        "INSERT INTO activity_counts (scope, scope_id, series, slot, n) "
        f"SELECT '{SITE}', 0, '{ACTIVE}', day * {SLOTS_PER_DAY}, count(*) FROM active_days "
        "WHERE n > 0 GROUP BY day"
    )
    tables = ("activity_counts", "active_days")
    if dialect == "postgresql":
        # Fresh statistics: the planner would otherwise guess the new rows' spread.
        connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
    return {
        table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in tables
    }
