"""What every chat stream's history shares (rooms, the lobby, conversations): pages of
messages by id, older ones by cursor, and what came after an id (a tab catching up)."""

from __future__ import annotations

from qosyl.extensions import db


def chat_page(query, model, before: int | None, limit: int):
    """The latest rows of a chat query (before `before`), oldest first, and the cursor for
    older ones: rooms and conversations page their history alike."""
    query = query.order_by(model.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(model.id < before)
    rows = list(db.session.scalars(query))
    older = rows[limit - 1].id if len(rows) > limit else None
    return list(reversed(rows[:limit])), older


def chat_after(query, model, after_id: int, limit: int) -> list:
    """What a reconnecting tab missed, oldest first (at most `limit` + 1, to tell "too many")."""
    return list(
        db.session.scalars(query.where(model.id > after_id).order_by(model.id).limit(limit + 1))
    )
