"""The notifications service: every feature notifies through `notify`."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from qosyl.actions import unproxy
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.realtime import user_room
from qosyl.models import Notification
from qosyl.models import NotificationMute
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.notification_kinds import KINDS
from qosyl.notification_kinds import sentence_text
from qosyl.reads.people import blocked_between
from qosyl.render import markup

CHANGED_EVENT = "notifications-changed"
# Notifications became read by being seen: the bell refreshes, an open list keeps the
# unread styling it showed (the list refreshes on CHANGED_EVENT only).
SEEN_EVENT = "notifications-seen"


def notify(
    recipient: User,
    kind: str,
    *,
    actor: User | None = None,
    target_url: str = "",
    excerpt: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """Store a notification and push it to every open tab of `recipient`.

    The caller commits; the push leaves after that commit. Returns None when the
    notification is suppressed: acting on your own things, a block between the two
    people (either way), a kind the recipient muted, or already notified of the same
    event (`dedupe_key`).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and actor.id == recipient.id:
        return None
    if db.session.scalar(select(_suppressed(recipient.id, kind, actor, dedupe_key))):
        return None
    notification = Notification(
        recipient_id=recipient.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        target_url=target_url,
        # Excerpts quote markdown (posts, comments, messages): keep the words, not the marks.
        excerpt=markup.plain_text(excerpt)[:200],
        dedupe_key=dedupe_key,
    )
    try:
        # A savepoint, so a concurrent duplicate only loses this row, not the caller's work.
        with db.session.begin_nested():
            db.session.add(notification)
    except IntegrityError:
        return None
    # Hand over the loaded actor: callers may render the row without another query.
    set_committed_value(notification, "actor", unproxy(actor))
    actor_name = actor.full_name if actor else None
    publish(
        events.NotificationAdded(
            id=notification.id,
            kind=kind,
            text=sentence_text(kind, actor_name),
            url=target_url,
            to=(user_room(recipient.id),),
        )
    )
    return notification


def _suppressed(recipient_id: int, kind: str, actor: User | None, dedupe_key: str | None):
    """One EXISTS query for every reason not to notify."""
    reasons = [
        exists().where(NotificationMute.user_id == recipient_id, NotificationMute.kind == kind)
    ]
    if actor is not None:
        reasons.append(blocked_between(recipient_id, actor.id))
    if dedupe_key is not None:
        reasons.append(
            exists().where(
                Notification.recipient_id == recipient_id, Notification.dedupe_key == dedupe_key
            )
        )
    return or_(*reasons)


def withdraw(recipient_id: int, dedupe_key: str) -> None:
    """Remove a notification whose cause is gone (a cancelled friend request). Caller commits."""
    result = db.session.execute(
        delete(Notification).where(
            Notification.recipient_id == recipient_id, Notification.dedupe_key == dedupe_key
        )
    )
    if result.rowcount:
        publish(events.Changed.for_users(CHANGED_EVENT, [recipient_id]))


def withdraw_about(target_url: str) -> None:
    """Remove every notification pointing at something deleted (a post). Caller commits."""
    recipients = db.session.scalars(
        delete(Notification)
        .where(
            or_(
                Notification.target_url == target_url,
                Notification.target_url.startswith(target_url + "#", autoescape=True),
            )
        )
        .returning(Notification.recipient_id)
    ).all()
    publish(events.Changed.for_users(CHANGED_EVENT, sorted(set(recipients))))


def set_muted_kinds(user: User, muted: set[str]) -> None:
    """Receive every kind but `muted` from now on (NOTE-3)."""
    unknown = muted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown notification kinds {sorted(unknown)}")
    db.session.execute(delete(NotificationMute).where(NotificationMute.user_id == user.id))
    db.session.add_all(NotificationMute(user_id=user.id, kind=kind) for kind in sorted(muted))
    db.session.commit()


def choose_kinds(user: User, choices: dict[str, bool]) -> set[str]:
    """Receive (True) or mute (False) each kind named in `choices`; the kinds left out stay
    as they are. Returns the kinds muted now."""
    if unknown := set(choices) - set(KINDS):
        raise ValueError(f"unknown notification kinds {sorted(unknown)}")
    muted = (muted_kinds(user.id) | {k for k, on in choices.items() if not on}) - {
        k for k, on in choices.items() if on
    }
    set_muted_kinds(user, muted)
    return muted


def muted_kinds(user_id: int) -> set[str]:
    return set(
        db.session.scalars(select(NotificationMute.kind).where(NotificationMute.user_id == user_id))
    )


def mark_read(user: User, notification: Notification) -> None:
    """Precondition: `notification` belongs to `user` (see access.access_notification)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        publish(events.Changed.for_users(CHANGED_EVENT, [user.id]))
    db.session.commit()


def mark_seen(user: User, up_to_id: int) -> int:
    """The notifications page showed `user` everything up to `up_to_id`: those and older
    ones are read (a read marker, as Mastodon keeps). Returns how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user.id,
            Notification.id <= up_to_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    if result.rowcount:
        publish(events.Changed.for_users(SEEN_EVENT, [user.id]))
    db.session.commit()
    return result.rowcount


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if result.rowcount:
        publish(events.Changed.for_users(CHANGED_EVENT, [user.id]))
    db.session.commit()
    return result.rowcount


def delete_notification(user: User, notification: Notification) -> None:
    """Precondition: `notification` belongs to `user`."""
    db.session.execute(delete(Notification).where(Notification.id == notification.id))
    publish(events.Changed.for_users(CHANGED_EVENT, [user.id]))
    db.session.commit()
