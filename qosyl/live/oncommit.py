"""Work that must wait for the database: run after COMMIT, dropped on ROLLBACK.

Live pushes and mail are queued on the session while an action runs; a browser
or an inbox only ever hears of rows that are committed.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction

_COMMIT_KEY = "qosyl.on_commit"
_ROLLBACK_KEY = "qosyl.on_rollback"


def on_commit(callback: Callable[[], None], session: Session | None = None) -> None:
    """Run `callback` once the current transaction commits."""
    _session(session).info.setdefault(_COMMIT_KEY, []).append(callback)


def on_rollback(callback: Callable[[], None], session: Session | None = None) -> None:
    """Run `callback` if the current transaction rolls back (e.g. delete a written file)."""
    _session(session).info.setdefault(_ROLLBACK_KEY, []).append(callback)


def _session(session: Session | None) -> Session:
    if session is not None:
        return session
    from qosyl.extensions import db

    return db.session()


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed push or mail must not hide the others
            current_app.logger.exception("after-transaction callback failed")


def _after_commit(session: Session) -> None:
    session.info.pop(_ROLLBACK_KEY, None)
    _run(session.info.pop(_COMMIT_KEY, []))


def _after_rollback(session: Session) -> None:
    session.info.pop(_COMMIT_KEY, None)
    _run(session.info.pop(_ROLLBACK_KEY, []))


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit or rollback (nothing was flushed) keeps nothing.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_COMMIT_KEY, None)
        _run(session.info.pop(_ROLLBACK_KEY, []))


def install(scoped_session) -> None:
    """Attach the hooks to Flask-SQLAlchemy's session once per process."""
    for name, fn in (
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(scoped_session, name, fn):
            event.listen(scoped_session, name, fn)
