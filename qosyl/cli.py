"""Command-line tasks: `flask seed`, `flask rerender`, `flask lobby`, `flask admin`,
`flask insights rebuild`, `flask counters recount`."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import User


def register_cli(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
    @click.option(
        "--users",
        default=50,
        show_default=True,
        type=click.IntRange(1, 5000),
        help="How many demo users.",
    )
    @click.option("--random-seed", default=2026, show_default=True, help="Same seed, same demo.")
    def seed(if_empty: bool, users: int, random_seed: int) -> None:
        """Fill the database with a demo: people, friendships, rooms, posts."""
        from qosyl.demo import seed_demo

        existing = db.session.scalar(select(func.count()).select_from(User))
        if existing and if_empty:
            click.echo(f"The database has {existing} users already; not seeding.")
            return
        from qosyl.actions.posts import rerender as rerender_rows

        summary = seed_demo(users=users, random_seed=random_seed, progress=_progress)
        # The demo writes markdown; render it, tags and mentions as posting would.
        rerender_rows(missing_only=True, progress=_progress)
        click.echo(
            "Seeded " + ", ".join(f"{count} {name}" for name, count in summary.items()) + "."
        )
        password = current_app.config["DEMO_PASSWORD"]
        click.echo(f"Sign in as any demo user, e.g. 'aigerim', with the password '{password}'.")

    @app.cli.command("rerender")
    @click.option("--missing", is_flag=True, help="Only rows never rendered (e.g. after 0002).")
    def rerender(missing: bool) -> None:
        """Render posts, comments and chat messages again; re-index tags and mentions."""
        from qosyl.actions.posts import rerender as rerender_rows

        count = rerender_rows(missing_only=missing, progress=_progress)
        click.echo(f"Rendered {count} posts, comments and messages.")

    @app.cli.command("lobby")
    @click.option("--host", "username", help="Make this person the lobby's host.")
    def lobby_host(username: str | None) -> None:
        """Show who hosts (moderates) the lobby, or name a new host. The lobby outlives its
        host's account and waits for a new one here."""
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.rooms import set_host
        from qosyl.reads.rooms import lobby

        room = lobby()
        if room is None:
            raise click.ClickException("There is no lobby yet: `flask seed` creates one.")
        if username is None:
            host = db.session.get(User, room.host_id) if room.host_id else None
            click.echo(
                f"The lobby's host is @{host.username}." if host else "The lobby has no host."
            )
            return
        person = user_by_username(username)
        if person is None or not person.is_verified:
            raise click.ClickException(f"No verified account is called @{username}.")
        set_host(room, person)
        click.echo(f"@{person.username} now hosts the lobby.")

    @app.cli.group("admin")
    def admin() -> None:
        """Administrators: who sees the site overview of the insights (GET /api/insights/site/)."""

    @admin.command("grant")
    @click.argument("username")
    def grant(username: str) -> None:
        """Make this person an administrator."""
        _set_admin(username, True)

    @admin.command("revoke")
    @click.argument("username")
    def revoke(username: str) -> None:
        """Make this person an administrator no more."""
        _set_admin(username, False)

    @app.cli.group("insights")
    def insights_group() -> None:
        """The counts insights read (per UTC quarter-hour, kept by database triggers)."""

    @insights_group.command("rebuild")
    def rebuild() -> None:
        """Count everything again from the rows, in one transaction (on PostgreSQL, writes to
        the counted tables wait meanwhile). For after a restore or a bulk load that bypassed
        the triggers."""
        from qosyl.models import rollups

        started = time.perf_counter()
        with db.engine.begin() as connection:
            written = rollups.rebuild(connection)
        took = time.perf_counter() - started
        for table, rows in written.items():
            click.echo(f"{table}: {rows} rows")
        click.echo(f"Rebuilt in {took:.1f} s.")

    @app.cli.group("counters")
    def counters_group() -> None:
        """The counts profiles show (stored on users, kept by database triggers)."""

    @counters_group.command("recount")
    def recount() -> None:
        """Count every user's posts, friends, followers and following again from the rows,
        in one transaction (on PostgreSQL, writes to those tables wait meanwhile). For after
        a restore or a bulk load that bypassed the triggers."""
        from qosyl.models import counters

        started = time.perf_counter()
        with db.engine.begin() as connection:
            fixed = counters.recount(connection)
        took = time.perf_counter() - started
        click.echo(f"Recounted in {took:.1f} s: {fixed} users' counts were wrong, now right.")


def _set_admin(username: str, admin: bool) -> None:
    from qosyl.actions.accounts import set_admin
    from qosyl.actions.accounts import user_by_username

    person = user_by_username(username)
    if person is None:
        raise click.ClickException(f"No account is called @{username}.")
    changed = set_admin(person, admin)
    if admin:
        done = "is now an administrator" if changed else "was an administrator already"
    else:
        done = "is no longer an administrator" if changed else "was not an administrator"
    click.echo(f"@{person.username} {done}.")


def _progress(items, label: str):
    return click.progressbar(items, label=label.ljust(22), show_pos=True)
