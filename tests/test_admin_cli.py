"""`flask admin grant` and `flask admin revoke`: who sees the site overview (issue 13)."""

from __future__ import annotations

from qosyl.extensions import db
from qosyl.models import User


def is_admin(app, account) -> bool:
    with app.app_context():
        return db.session.get(User, account.id).is_admin


def test_grant_and_revoke(app, runner, user):
    result = runner.invoke(args=["admin", "grant", "Alice"])
    assert result.exit_code == 0, result.output
    assert "@alice is now an administrator." in result.output
    assert is_admin(app, user)

    again = runner.invoke(args=["admin", "grant", "alice"])
    assert again.exit_code == 0 and "@alice was an administrator already." in again.output

    result = runner.invoke(args=["admin", "revoke", "alice"])
    assert result.exit_code == 0, result.output
    assert "@alice is no longer an administrator." in result.output
    assert not is_admin(app, user)

    again = runner.invoke(args=["admin", "revoke", "alice"])
    assert again.exit_code == 0 and "@alice was not an administrator." in again.output


def test_an_unknown_username_is_an_error(app, runner, user):
    for command in ("grant", "revoke"):
        result = runner.invoke(args=["admin", command, "nobody"])
        assert result.exit_code != 0
        assert "No account is called @nobody." in result.output
    assert not is_admin(app, user)
