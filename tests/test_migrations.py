"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from qosyl.extensions import db
from qosyl.models.base import include_in_migrations
from tests import factories


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                # The full-text objects are the migration's own, not the models'.
                "include_object": include_in_migrations,
            },
        )
        with warnings.catch_warnings():
            # Expression indexes (lower(username)) are written by hand; Alembic says so.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            warnings.filterwarnings("ignore", message=".*functional index.*")
            differences = compare_metadata(context, db.metadata)
    # Alembic cannot compare expression indexes; it reports them as missing from the
    # database even though the migration creates them (checked below).
    expression_indexes = {"uq_users_username_lower", "uq_users_email_lower", "uq_topics_name_lower"}
    real = [
        diff
        for diff in differences
        if not (diff[0] in ("add_index", "remove_index") and diff[1].name in expression_indexes)
    ]
    assert real == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"username": "Dana", "email": "a@example.com"}, {"username": "dANA", "email": "b@x.com"}),
        (
            {"username": "dana1", "email": "dana@example.com"},
            {"username": "dana2", "email": "DANA@Example.com"},
        ),
    ],
)
def test_database_refuses_names_differing_only_in_case(app, first, second):
    """The expression indexes the migration creates by hand are really there."""
    with app.app_context():
        factories.user(**first)
        with pytest.raises(IntegrityError):
            factories.user(**second)
        db.session.rollback()


def test_downgrade_to_nothing_and_back(app):
    with app.app_context(), warnings.catch_warnings():
        # SQLite's batch mode rebuilds posts and reflects users on the way, whose
        # lower() indexes it cannot read; they are not the table being rebuilt.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
