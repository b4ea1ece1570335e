"""Test data. Users get a password hashed once per session: hashing is slow on purpose."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC
from functools import cache
from itertools import count

from flask.testing import FlaskClient

from qosyl.extensions import db
from qosyl.models import User
from qosyl.passwords import hash_password

PASSWORD = "correct horse battery staple"
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
