"""How people connect: friend requests, friendships, follows and blocks (NET-1, NET-2, NET-4)."""

from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError

from qosyl import paths
from qosyl.actions import ActionError
from qosyl.actions import meetings
from qosyl.actions.notifications import CHANGED_EVENT
from qosyl.actions.notifications import notify
from qosyl.actions.notifications import withdraw
from qosyl.cache import forget
from qosyl.extensions import db
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.events import Changed
from qosyl.live.oncommit import on_commit
from qosyl.live.realtime import user_room
from qosyl.models import Block
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import Notification
from qosyl.models import User
from qosyl.reads.people import Relation
from qosyl.reads.people import relation

# Open pages that list friends, requests or follows refresh on this event.
RELATIONS_EVENT = "relations-changed"


def _changed(*user_ids: int) -> None:
    publish(Changed.for_users(RELATIONS_EVENT, user_ids))
    for user_id in user_ids:
        # Whom to suggest depends on whom one follows and befriends.
        on_commit(lambda user_id=user_id: forget("suggestions", user_id))


def _refuse_if_blocked(rel: Relation) -> None:
    if rel.blocking:
        raise ActionError("You blocked this person. Unblock them first.")
    if rel.blocked_by:
        raise ActionError("You cannot do that.")


def _add(row) -> bool:
    """Insert a row unless an identical one exists (double clicks, two tabs). True if added."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def send_friend_request(sender: User, receiver: User) -> str:
    """Ask `receiver` to be friends; if they already asked `sender`, become friends.

    Returns "sent", "accepted" or "already" (friends or asked before).
    """
    rel = relation(sender.id, receiver.id)
    if rel.is_self:
        raise ActionError("You cannot befriend yourself.")
    _refuse_if_blocked(rel)
    if rel.friends or rel.request_sent:
        return "already"
    if rel.request_received:
        _befriend(receiver, sender)
        db.session.commit()
        return "accepted"
    asked = FriendRequest(sender_id=sender.id, receiver_id=receiver.id)
    if _add(asked):
        publish(
            events.FriendRequestSent(
                id=asked.id, sender_id=sender.id, sender=sender, to=(user_room(receiver.id),)
            )
        )
        notify(
            receiver,
            "friend_request",
            actor=sender,
            target_url=paths.friend_requests(),
            dedupe_key=f"friend_request:{sender.id}",
        )
        _changed(sender.id, receiver.id)
    db.session.commit()
    return "sent"


def _delete_request(sender_id: int, receiver_id: int) -> bool:
    result = db.session.execute(
        delete(FriendRequest).where(
            FriendRequest.sender_id == sender_id, FriendRequest.receiver_id == receiver_id
        )
    )
    withdraw(receiver_id, f"friend_request:{sender_id}")
    return bool(result.rowcount)


def _befriend(asker: User, accepter: User) -> None:
    """`accepter` accepts `asker`'s request. Caller commits."""
    _delete_request(asker.id, accepter.id)
    _add(Friendship(user_id=asker.id, friend_id=accepter.id))
    _add(Friendship(user_id=accepter.id, friend_id=asker.id))
    notify(
        asker,
        "friend_accept",
        actor=accepter,
        target_url=paths.profile(accepter.username),
        dedupe_key=f"friend_accept:{accepter.id}",
    )
    _changed(asker.id, accepter.id)


def cancel_friend_request(sender: User, receiver: User) -> None:
    if _delete_request(sender.id, receiver.id):
        _changed(sender.id, receiver.id)
    db.session.commit()


def accept_friend_request(receiver: User, sender: User) -> None:
    """Raises ActionError when there is no request from `sender` (it was cancelled)."""
    if not relation(receiver.id, sender.id).request_received:
        raise ActionError("This friend request was cancelled.")
    _befriend(sender, receiver)
    db.session.commit()


def reject_friend_request(receiver: User, sender: User) -> None:
    if _delete_request(sender.id, receiver.id):
        _changed(sender.id, receiver.id)
    db.session.commit()


def _end_friendship(a_id: int, b_id: int) -> None:
    db.session.execute(
        delete(Friendship).where(
            or_(
                and_(Friendship.user_id == a_id, Friendship.friend_id == b_id),
                and_(Friendship.user_id == b_id, Friendship.friend_id == a_id),
            )
        )
    )


def unfriend(user: User, other: User) -> None:
    _end_friendship(user.id, other.id)
    _changed(user.id, other.id)
    db.session.commit()


def follow(follower: User, followed: User) -> None:
    rel = relation(follower.id, followed.id)
    if rel.is_self:
        raise ActionError("You cannot follow yourself.")
    _refuse_if_blocked(rel)
    if _add(Follow(follower_id=follower.id, followed_id=followed.id)):
        notify(
            followed,
            "follow",
            actor=follower,
            target_url=paths.profile(follower.username),
            dedupe_key=f"follow:{follower.id}",
        )
        _changed(follower.id, followed.id)
    db.session.commit()


def unfollow(follower: User, followed: User) -> None:
    db.session.execute(
        delete(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == followed.id)
    )
    _changed(follower.id, followed.id)
    db.session.commit()


def block(blocker: User, blocked: User) -> None:
    """Block `blocked`: follows both ways, the friendship and pending requests end at once,
    and what they told the blocker is withdrawn."""
    if blocker.id == blocked.id:
        raise ActionError("You cannot block yourself.")
    _add(Block(blocker_id=blocker.id, blocked_id=blocked.id))
    a, b = blocker.id, blocked.id
    db.session.execute(
        delete(Follow).where(
            or_(
                and_(Follow.follower_id == a, Follow.followed_id == b),
                and_(Follow.follower_id == b, Follow.followed_id == a),
            )
        )
    )
    _end_friendship(a, b)
    _delete_request(a, b)
    _delete_request(b, a)
    removed = db.session.execute(
        delete(Notification).where(Notification.recipient_id == a, Notification.actor_id == b)
    )
    if removed.rowcount:
        publish(Changed.for_users(CHANGED_EVENT, [a]))
    _changed(a, b)
    # Neither stays in a meeting the other hosts.
    meetings.place_lost(b, host_id=a)
    meetings.place_lost(a, host_id=b)
    db.session.commit()


def unblock(blocker: User, blocked: User) -> None:
    db.session.execute(
        delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == blocked.id)
    )
    _changed(blocker.id)
    db.session.commit()
