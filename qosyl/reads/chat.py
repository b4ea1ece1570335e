"""What every chat stream's history shares (rooms, the lobby, conversations): pages of
messages by id, older ones by cursor, and what came after an id (a tab catching up)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

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


def chat_after(query, model, after_id: int, limit: int, since: datetime | None = None) -> list:
    """What a reconnecting tab missed, oldest first (at most `limit` + 1, to tell "too many").

    With `since`, from the last message before that moment the tab holds, even when it holds
    later ones: after a Redis outage (qosyl/live/queue.py) a tab has its own process's
    messages of the outage but not the others'. The walk back from `after_id` meets only the
    messages written since."""
    if since is not None:
        held_before = select(model.id).where(
            query.whereclause, model.id <= after_id, model.created_at < since
        )
        after_id = db.session.scalar(held_before.order_by(model.id.desc()).limit(1)) or 0
    return list(
        db.session.scalars(query.where(model.id > after_id).order_by(model.id).limit(limit + 1))
    )
