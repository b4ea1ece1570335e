"""One chat: what every stream of messages shares, rooms (the lobby too) and conversations.

A stream kind (rooms.py, messages.py) decides who may write and who hears (its audience
rule), and adds what only it keeps (attachments, read positions); storing, the limits,
resends, editing, deleting and the events published are written here once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from qosyl.actions import ActionError
from qosyl.actions import check_storable
from qosyl.actions import RateLimited
from qosyl.actions import unproxy
from qosyl.actions import without_unstorable
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.models.base import utcnow
from qosyl.ratelimits import allow_chat_message
from qosyl.ratelimits import chat_retry_after
from qosyl.render.markup import render as render_markup

MAX_MESSAGE_LENGTH = 4000
# How long after sending its author may still edit a message.
EDIT_WINDOW = timedelta(minutes=15)
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
    return check_storable(body, "body")


def client_id_of(value: str | None) -> str | None:
    """The sending tab's id for a message (a resend carries the same one), if any."""
    return without_unstorable(value or "").strip()[:64] or None


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


class NotAMember(ActionError):
    """The user may not read or write this stream: never joined, left, removed, or only
    invited. The one refusal every kind of stream and every transport shares."""


def store(model, author, body: str, client_id: str | None, *, allow_empty=False, **columns):
    """Store a message once: `(message, True)`, or `(the copy stored before, False)` for a
    resend of the same client id. Raises ActionError on "body" for an empty or too long
    text, RateLimited over the chat limit. Precondition: the caller checked the author may
    write to the stream named in `columns`.
    """
    body = body.strip() if allow_empty and not body.strip() else message_body(body)
    client_id = client_id_of(client_id)
    if not allow_chat_message(author.id):
        # A resend of a message stored before is not refused: it was sent in time.
        stored = sent_before(model, author, client_id)
        if stored is None:
            raise too_fast(author.id)
        return stored, False
    message = insert_once(
        model,
        author_id=author.id,
        body=body,
        body_html=str(render_markup(body)),
        client_id=client_id,
        **columns,
    )
    if message is None:  # this client id was stored before: no second copy
        return sent_before(model, author, client_id), False
    set_committed_value(message, "author", unproxy(author))
    return message, True


def announce(kind: str, stream_id: int, message, to: tuple[str, ...]) -> None:
    """Tell the stream's audience (after commit) of a message just stored."""
    publish(
        events.ChatMessageSent(
            kind=kind,
            stream_id=stream_id,
            id=message.id,
            author_id=message.author_id,
            message=message,
            to=to,
        )
    )


def edit(kind: str, stream_id: int, message, body: str, to: tuple[str, ...]) -> None:
    """Change a message's text within EDIT_WINDOW of sending. Precondition: the caller wrote
    it. The caller commits."""
    if utcnow() - message.created_at > EDIT_WINDOW:
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise ActionError(f"Messages can be edited for {minutes} minutes after sending.", "body")
    body = body.strip()
    if not body:
        raise ActionError("A message cannot be empty. Delete it instead.", "body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ActionError(f"Messages are at most {MAX_MESSAGE_LENGTH:,} characters.", "body")
    check_storable(body, "body")
    message.body, message.body_html = body, str(render_markup(body))
    message.edited_at = utcnow()
    db.session.flush()
    publish(
        events.ChatMessageEdited(
            kind=kind, stream_id=stream_id, id=message.id, message=message, to=to
        )
    )


def delete(kind: str, stream_id: int, message, to: tuple[str, ...]) -> None:
    """Delete a message. Precondition: the caller may (its author, or the stream's
    moderator). The caller commits."""
    model = type(message)
    db.session.execute(sql_delete(model).where(model.id == message.id))
    publish(events.ChatMessageDeleted(kind=kind, stream_id=stream_id, id=message.id, to=to))
