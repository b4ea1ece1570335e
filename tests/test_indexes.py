"""Every foreign key can be looked up by an index that starts with it."""

from __future__ import annotations

from qosyl.extensions import db


def leading_columns(table) -> set[str]:
    """Columns an index (primary key and unique constraints included) starts with."""
    leads = set()
    if table.primary_key.columns:
        leads.add(next(iter(table.primary_key.columns)).name)
    for index in table.indexes:
        first = next(iter(index.expressions), None)
        if getattr(first, "name", None):
            leads.add(first.name)
    for constraint in table.constraints:
        columns = getattr(constraint, "columns", None)
        if constraint.__class__.__name__ == "UniqueConstraint" and columns:
            leads.add(next(iter(columns)).name)
    return leads


def test_every_foreign_key_leads_an_index():
    missing = [
        f"{table.name}.{fk.parent.name}"
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.parent.name not in leading_columns(table)
    ]
    assert missing == []


def test_the_check_notices_a_missing_index():
    from sqlalchemy import Column
    from sqlalchemy import ForeignKey
    from sqlalchemy import Integer
    from sqlalchemy import MetaData
    from sqlalchemy import Table

    metadata = MetaData()
    Table("parents", metadata, Column("id", Integer, primary_key=True))
    child = Table(
        "children",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("parents.id")),
    )
    assert "parent_id" not in leading_columns(child)
