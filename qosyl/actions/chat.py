"""Rules every chat message follows, in rooms and in conversations alike."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from qosyl.actions import ActionError
from qosyl.actions import RateLimited
from qosyl.actions import unproxy
from qosyl.extensions import db
from qosyl.ratelimits import chat_retry_after

MAX_MESSAGE_LENGTH = 4000
# A tab that missed more than this reloads the page instead of catching up message by message.
CATCH_UP_LIMIT = 200


def message_body(body: str) -> str:
    """The text to store, or ActionError (on the `body` field) when it is empty or too long."""
    body = body.strip()
    if not body:
        raise ActionError("Write a message first.", "body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ActionError(
            f"Messages are at most {MAX_MESSAGE_LENGTH:,} characters; this one has {len(body):,}.",
            "body",
        )
    return body


def client_id_of(value: str | None) -> str | None:
    """The sending tab's id for a message (a resend carries the same one), if any."""
    return (value or "").strip()[:64] or None


def too_fast(author_id: int) -> RateLimited:
    """The refusal of a message over the chat limit; the tab sends it again after the wait."""
    seconds = max(1, chat_retry_after(author_id))
    wait = "a second" if seconds == 1 else f"{seconds} seconds"
    return RateLimited(
        f"You are sending messages too fast. Wait {wait}.", "body", retry_after=seconds
    )


def insert_once(model, **values):
    """INSERT ... ON CONFLICT DO NOTHING on (author_id, client_id): the new row, or None
    when this author already sent this client id. One statement, where a check first
    would be two round trips."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["author_id", "client_id"])
        .returning(model)
    )
    return db.session.scalars(statement).first()


def sent_before(model, author, client_id: str | None):
    """The `model` message this author stored under this client id, if any."""
    if client_id is None:
        return None
    sent = db.session.scalar(
        select(model).where(model.author_id == author.id, model.client_id == client_id)
    )
    if sent is not None:
        set_committed_value(sent, "author", unproxy(author))
    return sent
