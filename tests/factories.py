"""Test data, made through the app's actions as a request would make it. Users get a
password hashed once per session: hashing is slow on purpose.

Helpers taking `app` open their own app or request context and reload the users they
are given, so tests can pass the detached users the fixtures return."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC
from functools import cache
from itertools import count

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.actions import groups as group_actions
from qosyl.actions import meetings as meeting_actions
from qosyl.actions import messages as message_actions
from qosyl.actions import posts as post_actions
from qosyl.actions import rooms as room_actions
from qosyl.actions import social
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import User
from qosyl.passwords import hash_password

PASSWORD = "correct horse battery staple"
# What tests change a password to (a reset, the settings page).
NEW_PASSWORD = "quiet-harbour-lantern-77"
_serial = count(1)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def user(*, verified: bool = True, onboarded: bool = True, **fields) -> User:
    """A committed account; verified and past profile setup unless told otherwise."""
    n = next(_serial)
    username = fields.pop("username", f"user{n}")
    now = datetime.now(UTC)
    account = User(
        username=username,
        email=fields.pop("email", f"{username.lower()}@example.com"),
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", f"User{n}"),
        password_hash=password_hash(),
        email_verified_at=now if verified else None,
        onboarded_at=now if onboarded else None,
        **fields,
    )
    db.session.add(account)
    db.session.commit()
    return account


def login(client: FlaskClient, account: User) -> int:
    """Sign the client in without the form (the form has its own tests): a new sign-in of
    the account, whose id is returned."""
    from qosyl.actions.accounts import open_login_session

    with client.application.app_context():
        person = db.session.get(User, account.id)
        key = open_login_session(person)
        login_id = person.login_id
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return login_id


def end_sign_ins(account: User) -> None:
    """Delete every sign-in of the account behind the app's back (as if revoked elsewhere,
    with no socket told): whatever still holds its cookies must be refused."""
    from sqlalchemy import delete

    from qosyl.models import LoginSession

    db.session.execute(delete(LoginSession).where(LoginSession.user_id == account.id))
    db.session.commit()


def lobby(host: User) -> int:
    """The lobby (open to everyone signed in), hosted by `host`; its id."""
    from qosyl.models import Room
    from qosyl.models import Topic

    topic = Topic(name="General")
    db.session.add(topic)
    db.session.flush()
    room = Room(name="Lobby", topic_id=topic.id, host_id=host.id, is_lobby=True)
    db.session.add(room)
    db.session.commit()
    return room.id


def reload(account: User) -> User:
    """The account loaded in the current session (fixtures hand out detached copies)."""
    return db.session.get(User, account.id)


def make_lobby(app: Flask, host: User) -> int:
    with app.app_context():
        return lobby(host)


def befriend(app: Flask, a: User, b: User) -> None:
    """`a` asks and `b` accepts."""
    with app.app_context():
        social.send_friend_request(reload(a), reload(b))
        social.accept_friend_request(reload(b), reload(a))


def block(app: Flask, blocker: User, blocked: User) -> None:
    with app.app_context():
        social.block(reload(blocker), reload(blocked))


# Rooms


def make_room(
    app: Flask, host: User, name="Tea lovers", topic="Tea", description="Oolong and more"
) -> int:
    with app.app_context():
        return room_actions.create_room(reload(host), name, topic, description).id


def with_room(app: Flask, room_id: int, fn, *args):
    """Run a rooms action on a freshly loaded room, users reloaded; join and leave take the
    user first, the others take the room first."""
    with app.app_context():
        room = db.session.get(Room, room_id)
        users = [reload(a) if isinstance(a, User) else a for a in args]
        return (
            fn(*users, room) if fn in (room_actions.join, room_actions.leave) else fn(room, *users)
        )


def say_in_room(app: Flask, author: User, room_id: int, body: str, client_id=None) -> int:
    with app.app_context():
        return room_actions.send_message(
            reload(author), db.session.get(Room, room_id), body, client_id
        ).id


# Conversations


def start_conversation(app: Flask, sender: User, recipient: User) -> int:
    """The direct conversation of the two (made if new)."""
    with app.app_context():
        return message_actions.direct_conversation(reload(sender), reload(recipient)).id


def write_message(app: Flask, author: User, conversation_id: int, body: str, client_id=None) -> int:
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        return message_actions.send_message(reload(author), conversation, body, client_id).id


def make_group(app: Flask, admin: User, *members: User) -> int:
    """A group of `admin` whose invited `members` all accepted; its id."""
    with app.app_context():
        group = group_actions.create_group(reload(admin), "Tea club", [reload(m) for m in members])
        for member in members:
            group_actions.accept_invite(reload(member), group)
        return group.id


# Meetings


def start_meeting(app: Flask, host: User, *, room_id=None, conversation_id=None) -> str:
    """A meeting hosted by `host` (of the room or conversation given); its public id."""
    with app.app_context():
        room = db.session.get(Room, room_id) if room_id else None
        conversation = db.session.get(Conversation, conversation_id) if conversation_id else None
        meeting = meeting_actions.create_meeting(reload(host), room=room, conversation=conversation)
        return meeting.public_id


# Posts


def write_post(app: Flask, author: User, body: str) -> int:
    with app.app_context():
        return post_actions.create_post(reload(author), body).id


def with_post(app: Flask, post_id: int, fn, *args):
    """Run an action on a freshly loaded post (author included), as a view would."""
    with app.app_context():
        loaded = db.session.scalar(
            select(Post).options(joinedload(Post.author)).where(Post.id == post_id)
        )
        return fn(*[reload(a) if isinstance(a, User) else a for a in args], loaded)


def like_post(app: Flask, user: User, post_id: int):
    return with_post(app, post_id, post_actions.like_post, user)


def unlike_post(app: Flask, user: User, post_id: int):
    return with_post(app, post_id, post_actions.unlike_post, user)


def write_comment(app: Flask, user: User, post_id: int, body: str, parent_id=None) -> int:
    """A comment on the post, or a reply to comment `parent_id`."""

    def add(author, loaded):
        parent = db.session.get(Comment, parent_id) if parent_id else None
        return post_actions.add_comment(author, loaded, body, parent).id

    return with_post(app, post_id, add, user)
