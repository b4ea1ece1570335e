"""Declarative base shared by every model: naming convention and UTC times."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


# Objects stay readable after commit: a view commits through an action, then renders them.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def render_migration_item(type_, obj, autogen_context):
    """Write UTCDateTime columns into migrations as plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Full-text search objects live outside the models (see search.py and migration 0002):
# an FTS5 table on SQLite, a generated tsvector column on PostgreSQL; and the trigram
# indexes people search uses on PostgreSQL (migration 0013).
SEARCH_OBJECTS = {
    "search_vector",
    "ix_posts_search_vector",
    "ix_rooms_search_vector",
    "ix_users_username_trgm",
    "ix_users_names_trgm",
}
SEARCH_TABLE_PREFIXES = ("posts_fts", "rooms_fts")


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Keep autogenerate from proposing to drop the search objects."""
    if name in SEARCH_OBJECTS:
        return False
    return not (type_ == "table" and (name or "").startswith(SEARCH_TABLE_PREFIXES))
