"""The counts a profile shows (posts, friends, followers, following), stored on `users` and
kept by database triggers.

Counting the rows on every view grows with the person: 50,000 posts and 33,000 followers
took 20 ms a view at issue 15's scale (bench/scale.py). The stored numbers cost one row.

Triggers keep them, not the actions, for the reason the insights rollups give
(models/rollups.py): the database deletes some rows itself. Deleting an account cascades to
its posts, follows and friendships without passing through Python, and every follower of
that account must then count one fewer. A trigger sees every insert and delete in the
writer's transaction, however it was made, so the numbers always equal a recount (tested
after random sequences of the real actions). A bulk load with triggers off (the benches)
runs `flask counters recount` afterwards.

Changing COUNTERS needs a migration that calls `install` again and `recount`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class Counter:
    """users.<column> counts the rows of `table` whose `owner` column names the user."""

    column: str
    table: str
    owner: str


COUNTERS: tuple[Counter, ...] = (
    Counter("post_count", "posts", "author_id"),
    Counter("friend_count", "friendships", "user_id"),
    Counter("follower_count", "follows", "followed_id"),
    Counter("following_count", "follows", "follower_id"),
)
TABLES = tuple(dict.fromkeys(counter.table for counter in COUNTERS))


def _of(table: str) -> list[Counter]:
    return [counter for counter in COUNTERS if counter.table == table]


def _bump(table: str, row: str, by: str) -> list[str]:
    return [
        f"UPDATE users SET {c.column} = {c.column} {by} 1 WHERE id = {row}.{c.owner}"
        for c in _of(table)
    ]


def _body(statements: list[str]) -> str:
    """Statements as a trigger's body runs them."""
    return " ".join(f"{statement};" for statement in statements)


def _owners(table: str) -> str:
    return ", ".join(counter.owner for counter in _of(table))


def _sqlite_install(table: str) -> list[str]:
    name = f"counter_{table}"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} "
        f"BEGIN {_body(_bump(table, 'NEW', '+'))} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} "
        f"BEGIN {_body(_bump(table, 'OLD', '-'))} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {_owners(table)} ON {table} "
        f"BEGIN {_body(_bump(table, 'OLD', '-') + _bump(table, 'NEW', '+'))} END",
    ]


def _postgresql_install(table: str) -> list[str]:
    name = f"counter_{table}"
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {_body(_bump(table, 'OLD', '-'))} END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {_body(_bump(table, 'NEW', '+'))} END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {_owners(table)} "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def install(connection: Connection) -> None:
    """Create (or replace) the triggers that keep the counts."""
    uninstall(connection)
    sqlite = connection.dialect.name == "sqlite"
    for table in TABLES:
        for statement in _sqlite_install(table) if sqlite else _postgresql_install(table):
            connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    for table in TABLES:
        name = f"counter_{table}"
        if connection.dialect.name == "sqlite":
            for op in ("insert", "delete", "update"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}_{op}")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")


def recount(connection: Connection) -> int:
    """Count every user's rows again, in the caller's transaction; how many users' numbers
    were wrong (and are now right).

    On PostgreSQL the counted tables are locked against writes meanwhile (reads go on), so
    that no write lands between the count and the commit.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"LOCK TABLE {', '.join(TABLES)} IN SHARE MODE")
    # One grouped count per counter (a pass over each table), joined to the users; only the
    # users whose numbers differ are written.
    joins = " ".join(
        f"LEFT JOIN (SELECT {c.owner} AS id, count(*) AS n FROM {c.table} GROUP BY {c.owner}) "
        f"AS {c.column} ON {c.column}.id = u.id"
        for c in COUNTERS
    )
    counted = ", ".join(f"coalesce({c.column}.n, 0) AS {c.column}" for c in COUNTERS)
    differs = " OR ".join(f"users.{c.column} <> fresh.{c.column}" for c in COUNTERS)
    assignments = ", ".join(f"{c.column} = fresh.{c.column}" for c in COUNTERS)
    result = connection.exec_driver_sql(
        f"UPDATE users SET {assignments} FROM (SELECT u.id, {counted} FROM users AS u {joins}) "
        f"AS fresh WHERE fresh.id = users.id AND ({differs})"
    )
    return result.rowcount
