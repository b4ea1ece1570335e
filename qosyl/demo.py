"""Demo data for `flask seed`: people, friendships, rooms with chat, posts and reactions.

One random.Random drives everything, so a seed always gives the same demo (only the
random file names of the images differ). The rows of each table are written in time
order, so "newest first" by id and by time agree.
"""

from __future__ import annotations

import bisect
import colorsys
import random
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any
from typing import TypeVar

from flask import current_app
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from qosyl.actions import messages as messages_actions
from qosyl.actions import rooms as rooms_actions
from qosyl.actions.accounts import complete_onboarding
from qosyl.actions.accounts import normalise_email
from qosyl.actions.accounts import set_admin
from qosyl.actions.groups import accept_invite
from qosyl.actions.groups import create_group
from qosyl.actions.messages import direct_conversation
from qosyl.actions.messages import mark_read
from qosyl.actions.posts import add_comment
from qosyl.actions.posts import create_post
from qosyl.actions.posts import like_post
from qosyl.actions.profiles import update_profile
from qosyl.actions.rooms import create_room
from qosyl.actions.rooms import join
from qosyl.actions.social import accept_friend_request
from qosyl.actions.social import follow
from qosyl.actions.social import send_friend_request
from qosyl.actions.uploads import Upload
from qosyl.extensions import db
from qosyl.live import oncommit
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import User
from qosyl.passwords import hash_password
from qosyl.render import media

T = TypeVar("T")
Progress = Callable[[Iterable[Any], str], AbstractContextManager[Iterable[Any]]]

HISTORY = timedelta(days=60)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

AVATAR_SIZE = 256
COVER_SIZE = (1500, 500)
POST_IMAGE_SIZE = (1024, 768)

# ---------------------------------------------------------------------------
# The words: people, rooms, chat, posts and comments live in qosyl/demo_data/*.toml
# ---------------------------------------------------------------------------


def _load(name: str) -> dict[str, Any]:
    """TOML keeps the multi-line posts (code blocks included) readable as written."""
    return tomllib.loads((files("qosyl") / "demo_data" / f"{name}.toml").read_text("utf-8"))


_PEOPLE = _load("people")
_ROOMS = _load("rooms")
_POSTS = _load("posts")
_CONVERSATIONS = _load("conversations")

# (first name, last name, city, ISO country code). The first is the demo login.
PEOPLE: tuple[tuple[str, str, str, str], ...] = tuple(tuple(row) for row in _PEOPLE["people"])
FIRST_INTERESTS: tuple[str, ...] = tuple(_PEOPLE["first_interests"])
TOPICS: tuple[str, ...] = tuple(_PEOPLE["topics"])
GENERAL: str = _PEOPLE["general"]
INTEREST_WORDS: dict[str, str] = _PEOPLE["interest_words"]
ROLES_BY_TOPIC: dict[str, tuple[str, ...]] = {
    topic: tuple(roles) for topic, roles in _PEOPLE["roles_by_topic"].items()
}
OTHER_ROLES: tuple[str, ...] = tuple(_PEOPLE["other_roles"])
BIO_LINES: dict[str, tuple[str, ...]] = {
    topic: tuple(lines) for topic, lines in _PEOPLE["bio_lines"].items()
}
ABOUT_LINES: dict[str, tuple[str, ...]] = {
    topic: tuple(lines) for topic, lines in _PEOPLE["about_lines"].items()
}
ABOUT_CLOSERS: tuple[str, ...] = tuple(_PEOPLE["about_closers"])


@dataclass(frozen=True)
class RoomPlan:
    name: str
    topic: str
    description: str
    opening: str  # the host's first message


class Opener(str):
    """A chat line said by whoever started the conversation ("Thanks, both!")."""

    __slots__ = ()


def _chat_line(line: str | dict[str, str]) -> str:
    return Opener(line["opener"]) if isinstance(line, dict) else line


LOBBY = RoomPlan(**_ROOMS["lobby"])
ROOMS: tuple[RoomPlan, ...] = tuple(RoomPlan(**plan) for plan in _ROOMS["rooms"])
# Short conversations: each line by a new voice, unless it is an Opener.
CHAT: dict[str, tuple[tuple[str, ...], ...]] = {
    topic: tuple(tuple(_chat_line(line) for line in thread) for thread in threads)
    for topic, threads in _ROOMS["chat"].items()
}
SMALL_TALK: tuple[str, ...] = tuple(_ROOMS["small_talk"])


# A comment is a line, or (line, the post author's answer to it).
Remark = str | tuple[str, str]


def _remarks(remarks: list[str | list[str]]) -> tuple[Remark, ...]:
    return tuple(remark if isinstance(remark, str) else tuple(remark) for remark in remarks)


INTRO_POSTS: tuple[str, ...] = tuple(_POSTS["intro_posts"])
POSTS: dict[str, tuple[str, ...]] = {
    topic: tuple(texts) for topic, texts in _POSTS["posts"].items()
}
GENERIC_COMMENTS: tuple[Remark, ...] = _remarks(_POSTS["generic_comments"])
TOPIC_COMMENTS: dict[str, tuple[Remark, ...]] = {
    topic: _remarks(remarks) for topic, remarks in _POSTS["topic_comments"].items()
}
AUTHOR_REPLIES: tuple[str, ...] = tuple(_POSTS["author_replies"])
OTHER_REPLIES: tuple[str, ...] = tuple(_POSTS["other_replies"])
PHOTO_TOPICS: tuple[str, ...] = tuple(_POSTS["photo_topics"])

DIRECT_LINES: tuple[str, ...] = tuple(_CONVERSATIONS["direct_lines"])
GROUP_LINES: tuple[str, ...] = tuple(_CONVERSATIONS["group_lines"])
HIKE: dict[str, str] = _CONVERSATIONS["hike"]
BOOK_SWAP: dict[str, str] = _CONVERSATIONS["book_swap"]

# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    first: str
    last: str
    city: str
    country: str


@dataclass
class Person:
    user: User
    interests: tuple[str, ...]
    role: str
    activity: float  # how much they post and chat, relative to others
    friends: set[int] = field(default_factory=set)  # indexes into Demo.people
    rooms: list[tuple[datetime, str]] = field(default_factory=list)  # joined, room name

    @property
    def joined(self) -> datetime:
        return self.user.created_at


@dataclass
class Demo:
    rng: random.Random
    now: datetime
    people: list[Person] = field(default_factory=list)
    follows: set[tuple[int, int]] = field(default_factory=set)
    # When each pair (lower index first) became friends.
    friend_times: dict[tuple[int, int], datetime] = field(default_factory=dict)
    posts: list[tuple[Post, int, str]] = field(default_factory=list)  # post, author, topic
    counts: dict[str, int] = field(default_factory=dict)
    # Rows the running action inserted (see _one_transaction), for _date to backdate.
    fresh: list[Any] = field(default_factory=list)
    # The times to write at the end: (model, primary key) -> column -> time.
    times: dict[tuple[Any, tuple[Any, ...]], dict[str, datetime]] = field(default_factory=dict)
    # Every picture written, as (kind, key): a failed seed deletes them again.
    pictures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.now - HISTORY

    def between(self, earliest: datetime, latest: datetime) -> datetime:
        """A random moment in [earliest, latest], never in the future."""
        latest = min(latest, self.now)
        if earliest >= latest:
            return latest
        return earliest + (latest - earliest) * self.rng.random()

    def soon_after(self, moment: datetime, within: timedelta) -> datetime:
        return self.between(moment, moment + within)


def seed_demo(*, users: int, random_seed: int, progress: Progress) -> dict[str, int]:
    """Fill the database with a demo community and return how many of each thing it made.

    Everything is written by the actions people use (qosyl/actions), so the demo keeps
    their rules: counters, rendered markup, the hashtag and mention index, notifications.
    All or nothing: a failure leaves no rows and no picture files.

    Needs an app context (the actions need no request context). "friendships" counts
    pairs of friends (the table holds a row per direction).
    """
    if users < 1:
        raise ValueError("The demo needs at least one user.")
    demo = Demo(rng=random.Random(random_seed), now=datetime.now(UTC))
    try:
        with _one_transaction(demo), _no_rate_limits():
            _create_people(demo, users, progress)
            _create_social_graph(demo, progress)
            _create_rooms(demo, progress)
            _create_posts(demo, progress)
            _create_reactions(demo, progress)
            _create_conversations(demo, progress)
            _write_times(demo)
    except BaseException:
        for kind, key in demo.pictures:
            media.delete_stored(kind, key)
        raise
    return demo.counts


@contextmanager
def _one_transaction(demo: Demo) -> Iterator[None]:
    """Run the seed in one database transaction, committed at the end.

    Each action commits; here its commit ends only the session's own work, not the
    connection's transaction (SQLAlchemy's "joining a session into an external
    transaction", in "rollback_only" mode: no statement per commit), so a seed that fails
    half-way rolls every action back. Flask-SQLAlchemy's session always picks the engine,
    never a connection, so for the seed `db.session` is a plain SQLAlchemy session on one
    connection (the command runs in one thread). Its hooks are the app's: pushes go out
    after each action, as they would for people; with no tab connected, nobody hears them.
    """
    app_session = db.session
    app_session.remove()
    with db.engine.connect() as connection:
        transaction = connection.begin()
        factory = sessionmaker(
            bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False
        )
        event.listen(factory, "pending_to_persistent", lambda _, row: demo.fresh.append(row))
        db.session = scoped_session(factory)
        oncommit.install(db.session)
        try:
            yield
            db.session.commit()
            transaction.commit()
        except BaseException:
            db.session.rollback()
            transaction.rollback()
            raise
        finally:
            db.session.remove()
            db.session = app_session


@contextmanager
def _no_rate_limits() -> Iterator[None]:
    """The demo's people do two months of posting and chatting in seconds."""
    config = current_app.config
    enabled = config["RATELIMIT_ENABLED"]
    config["RATELIMIT_ENABLED"] = False
    try:
        yield
    finally:
        config["RATELIMIT_ENABLED"] = enabled


# The columns an action fills with the present.
DATED = ("created_at", "updated_at", "joined_at")
# Notifications older than this are read: their people have been around since.
READ_AFTER = 2 * DAY


def _date(demo: Demo, moment: datetime, *rows: Any) -> None:
    """Backdate what the last action wrote (and `rows`) to `moment`: actions stamp rows
    with the present, and the demo shows two months of life."""
    for row in (*demo.fresh, *rows):
        values = {name: moment for name in DATED if name in inspect(row).mapper.columns}
        if isinstance(row, Notification) and moment < demo.now - READ_AFTER:
            values["read_at"] = moment + HOUR
        _stamp(demo, row, **values)
    demo.fresh.clear()


def _stamp(demo: Demo, row: Any, **values: datetime) -> None:
    """Give a row other times (only times): at once in memory, where the demo's plans
    read them, and in the database by _write_times at the end."""
    state = inspect(row)
    if state.key is None or not values:
        return
    for name, value in values.items():
        set_committed_value(row, name, value)
    demo.times.setdefault((state.mapper.class_, state.key[1]), {}).update(values)


def _write_times(demo: Demo) -> None:
    """Write the times _stamp gave: one UPDATE per table and set of columns, run for many
    rows at once (a direct UPDATE of times only; a row deleted since matches nothing)."""
    groups: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
    for (model, key), values in demo.times.items():
        names = tuple(sorted(values))
        keys = {
            f"key_{column.name}": part
            for column, part in zip(inspect(model).primary_key, key, strict=True)
        }
        groups.setdefault((model, names), []).append(
            {**keys, **{f"new_{name}": values[name] for name in names}}
        )
    for (model, names), params in groups.items():
        table = model.__table__
        statement = (
            update(table)
            .where(*(column == bindparam(f"key_{column.name}") for column in table.primary_key))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        db.session.execute(statement, params)
    demo.times.clear()


def _picture(png: bytes) -> Upload:
    """A generated picture, handed to the actions as a person's upload would be."""
    return Upload(BytesIO(png), "picture.png")


def _stored(demo: Demo, kind: str, key: str | None) -> None:
    """Remember a picture an action stored, so a failed seed takes it away again."""
    if key:
        demo.pictures.append((kind, key))


# ---------------------------------------------------------------------------
# Phase 1: people, avatars and covers
# ---------------------------------------------------------------------------


def _create_people(demo: Demo, count: int, progress: Progress) -> None:
    rng = demo.rng
    profiles = _pick_profiles(rng, count)
    taken = set(db.session.scalars(select(func.lower(User.username))))
    taken |= {email.split("@")[0] for email in db.session.scalars(select(func.lower(User.email)))}
    new_site = not taken
    joined = [demo.start + 10 * MINUTE] + sorted(
        demo.between(demo.start + HOUR, demo.now - 12 * DAY) for _ in range(count - 1)
    )
    # Hashing is slow on purpose: once for everybody.
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    with progress(range(count), "Users and avatars") as bar:
        for index in bar:
            profile = profiles[index]
            interests = FIRST_INTERESTS if index == 0 else _pick_interests(rng)
            role = rng.choice(ROLES_BY_TOPIC.get(interests[0], OTHER_ROLES))
            username = _username(rng, profile, taken, plain=index == 0)
            user = _make_user(
                demo, profile, username, joined[index], interests, role, password_hash
            )
            activity = 2.5 if index == 0 else rng.lognormvariate(0, 0.6)
            demo.people.append(Person(user, interests, role, activity))
    if new_site:
        # The demo login of a new site administers it: a newcomer sees the site overview.
        set_admin(demo.people[0].user, True)
    demo.counts["users"] = count


def _make_user(
    demo: Demo,
    profile: Profile,
    username: str,
    joined: datetime,
    interests: tuple[str, ...],
    role: str,
    password_hash: str,
) -> User:
    """An account as if it signed up, confirmed its address and set up its profile.

    Not through register_user: that hashes each password (slow on purpose) and mails a
    verification link. The row is what it writes, with the address already confirmed;
    the profile and pictures go through update_profile, and onboarding through
    complete_onboarding (the welcome notification).
    """
    rng = demo.rng
    verified = joined + rng.randint(1, 30) * MINUTE
    onboarded = verified + rng.randint(1, 15) * MINUTE
    fields = {
        "bio": _bio(rng, role, profile.city, interests),
        "about": _about(rng, profile, role, interests) if rng.random() < 0.8 else "",
        "address": profile.city,
        "country": profile.country,
        **_social_links(rng, username, profile, interests),
    }
    initials = (profile.first[:1] + profile.last[:1]).upper()
    avatar = _picture(_avatar_png(rng, initials))
    cover = _picture(_landscape_png(rng, COVER_SIZE)) if rng.random() < 1 / 3 else None
    user = User(
        username=username,
        email=normalise_email(f"{username}@example.com"),
        first_name=profile.first,
        last_name=profile.last,
        password_hash=password_hash,
        email_verified_at=verified,
        created_at=joined,
    )
    db.session.add(user)
    db.session.flush()
    update_profile(user, fields, avatar=avatar, cover=cover)
    _stored(demo, media.AVATAR.kind, user.avatar_key)
    _stored(demo, media.COVER.kind, user.cover_key)
    complete_onboarding(user)
    _date(demo, onboarded)
    _stamp(demo, user, created_at=joined, onboarded_at=onboarded, updated_at=onboarded)
    return user


def _pick_profiles(rng: random.Random, count: int) -> list[Profile]:
    first, *others = (Profile(*row) for row in PEOPLE)
    rng.shuffle(others)
    profiles = [first, *others][:count]
    while len(profiles) < count:  # more people than written: mix names and places
        name_from, place_from = rng.sample(others, 2)
        profiles.append(
            Profile(name_from.first, place_from.last, place_from.city, place_from.country)
        )
    return profiles


def _pick_interests(rng: random.Random) -> tuple[str, ...]:
    return tuple(rng.sample(TOPICS, rng.choice((2, 2, 3))))


_TRANSLITERATION = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae"})


def _ascii(name: str) -> str:
    """Lower-case ASCII letters only: "Yıldız" -> "yildiz", "Ji-woo" -> "jiwoo"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATION))
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def _username(rng: random.Random, profile: Profile, taken: set[str], *, plain: bool) -> str:
    first = _ascii(profile.first) or "user"
    last = _ascii(profile.last) or "qosyl"
    styles = (
        first,
        f"{first}_{last}",
        f"{first}{last[:1]}",
        f"{first[:1]}{last}",
        f"{first}_{rng.randint(10, 99)}",
        f"{last}_{first}",
    )
    preferred = first if plain else rng.choice(styles)
    for candidate in (preferred, f"{first}_{last}", f"{first}{last}"):
        candidate = candidate[:30]
        if len(candidate) >= 3 and candidate not in taken:
            taken.add(candidate)
            return candidate
    number = 2
    while f"{first[:24]}_{number}" in taken:
        number += 1
    taken.add(f"{first[:24]}_{number}")
    return f"{first[:24]}_{number}"


def _title(role: str) -> str:
    return role[:1].upper() + role[1:]


def _bio(rng: random.Random, role: str, city: str, interests: tuple[str, ...]) -> str:
    lines = [rng.choice(BIO_LINES[topic]) for topic in interests[:2]]
    bio = f"{_title(role)} in {city}."
    for line in lines:
        if len(bio) + 1 + len(line) <= 160:
            bio += " " + line
    return bio


def _about(rng: random.Random, profile: Profile, role: str, interests: tuple[str, ...]) -> str:
    article = "an" if role[:1].lower() in "aeiou" else "a"
    parts = [f"Hi! I'm {profile.first}, {article} {role} living in {profile.city}."]
    for topic in interests[:2]:
        parts.append(rng.choice(ABOUT_LINES[topic]).format(years=rng.randint(2, 8)))
    if rng.random() < 0.6:
        parts.append(rng.choice(ABOUT_CLOSERS))
    return " ".join(parts)


def _social_links(
    rng: random.Random, username: str, profile: Profile, interests: tuple[str, ...]
) -> dict[str, str]:
    slug = username.replace("_", "-")
    codes = {"Python", "JavaScript"} & set(interests)
    chances = {
        "website": 0.3,
        "github": 0.75 if codes else 0.08,
        "twitter": 0.3,
        "linkedin": 0.45,
        "instagram": 0.8 if "Photography" in interests else 0.35,
        "facebook": 0.15,
    }
    urls = {
        "website": f"https://{slug}.example.com",
        "github": f"https://github.com/{username}",
        "twitter": f"https://x.com/{username}",
        "linkedin": f"https://www.linkedin.com/in/{_ascii(profile.first)}-{_ascii(profile.last)}",
        "instagram": f"https://www.instagram.com/{username}",
        "facebook": f"https://www.facebook.com/{username}",
    }
    return {name: urls[name] for name, chance in chances.items() if rng.random() < chance}


# ---------------------------------------------------------------------------
# Phase 2: friendships, follows and pending friend requests
# ---------------------------------------------------------------------------


def _create_social_graph(demo: Demo, progress: Progress) -> None:
    people = demo.people
    pairs: set[tuple[int, int]] = set()
    extra_follows: set[tuple[int, int]] = set()
    with progress(range(len(people)), "Friends and follows") as bar:
        for index in bar:
            wanted = 8 if index == 0 else demo.rng.randint(1, 4)
            for other in _pick_others(demo, index, wanted):
                pairs.add((min(index, other), max(index, other)))
            for other in _pick_others(demo, index, demo.rng.randint(1, 6), by_activity=True):
                extra_follows.add((index, other))
    _add_friendships(demo, sorted(pairs))
    _add_follows(demo, extra_follows)
    _add_friend_requests(demo)


def _affinity(a: Person, b: Person) -> float:
    shared = len(set(a.interests) & set(b.interests))
    return 1.0 + 2.0 * shared + (2.0 if a.user.country == b.user.country else 0.0)


def _pick_others(demo: Demo, index: int, count: int, *, by_activity: bool = False) -> list[int]:
    people = demo.people
    others = [other for other in range(len(people)) if other != index]
    weights = [
        _affinity(people[index], people[other]) * (people[other].activity if by_activity else 1)
        for other in others
    ]
    return _weighted_sample(demo.rng, others, weights, count)


def _add_friendships(demo: Demo, pairs: list[tuple[int, int]]) -> None:
    people = demo.people
    timed = []
    for a, b in pairs:
        met = max(people[a].joined, people[b].joined) + HOUR
        timed.append((demo.soon_after(met, 10 * DAY), a, b))
    timed.sort()
    for moment, a, b in timed:
        people[a].friends.add(b)
        people[b].friends.add(a)
        asker, accepter = people[a].user, people[b].user
        send_friend_request(asker, accepter)
        accept_friend_request(accepter, asker)
        _date(demo, moment)
        # Friends nearly always follow each other too, from the day they became friends.
        for follower, followed in ((a, b), (b, a)):
            if demo.rng.random() < 0.9:
                demo.follows.add((follower, followed))
        demo.friend_times[(a, b)] = moment
    demo.counts["friendships"] = len(timed)


def _add_follows(demo: Demo, extra: set[tuple[int, int]]) -> None:
    people = demo.people
    demo.follows |= extra
    timed = []
    for follower, followed in sorted(demo.follows):
        pair = (min(follower, followed), max(follower, followed))
        if pair in demo.friend_times:
            moment = demo.soon_after(demo.friend_times[pair], 2 * HOUR)
        else:
            both = max(people[follower].joined, people[followed].joined)
            moment = demo.soon_after(both + 10 * MINUTE, 14 * DAY)
        timed.append((moment, follower, followed))
    timed.sort()
    for moment, follower, followed in timed:
        follow(people[follower].user, people[followed].user)
        _date(demo, moment)
    demo.counts["follows"] = len(timed)


def _add_friend_requests(demo: Demo) -> None:
    people, rng = demo.people, demo.rng
    # Unordered pairs of strangers, so no pair gets a request each way.
    strangers = [
        (a, b)
        for a in range(len(people))
        for b in range(a + 1, len(people))
        if b not in people[a].friends
    ]
    rng.shuffle(strangers)
    # The demo login finds a couple of requests waiting for her.
    to_first = [(b, a) for a, b in strangers if a == 0][:2]
    others = [rng.choice((pair, pair[::-1])) for pair in strangers if pair[0] != 0]
    chosen = to_first + others[: max(1, len(people) // 6)]
    timed = []
    for sender, receiver in chosen:
        both = max(people[sender].joined, people[receiver].joined, demo.now - 10 * DAY)
        timed.append((demo.between(both, demo.now - 30 * MINUTE), sender, receiver))
    timed.sort()
    for moment, sender, receiver in timed:
        send_friend_request(people[sender].user, people[receiver].user)
        _date(demo, moment)
    demo.counts["friend requests"] = len(timed)


# ---------------------------------------------------------------------------
# Phase 3: topics, rooms, members and chat
# ---------------------------------------------------------------------------


def _create_rooms(demo: Demo, progress: Progress) -> None:
    people = demo.people
    # Seeding an existing database again must not make a second lobby.
    has_lobby = db.session.scalar(select(Room.id).where(Room.is_lobby).limit(1)) is not None
    plans = list(ROOMS) if has_lobby else [LOBBY, *ROOMS]
    planned = sorted((_plan_room(demo, plan) for plan in plans), key=lambda item: item[0])
    rooms: list[tuple[Room, RoomPlan, dict[int, datetime]]] = []
    for created, plan, members in planned:
        host = next(iter(members))
        room = create_room(people[host].user, plan.name, plan.topic, plan.description)
        if plan is LOBBY:
            # No action makes a lobby: `flask seed` is where the one lobby comes from.
            room.is_lobby = True
            db.session.commit()
        _date(demo, created)
        rooms.append((room, plan, members))
    messages: list[tuple[datetime, Room, int, str]] = []
    with progress(rooms, "Rooms and messages") as bar:
        for room, plan, members in bar:
            host = room.host_id
            for index, moment in members.items():
                if people[index].user.id != host:
                    join(people[index].user, room)
                    _date(demo, moment)
            messages.extend(_room_messages(demo, room, plan, members))
    messages.sort(key=lambda message: message[0])
    for moment, room, author, body in messages:
        message = rooms_actions.send_message(people[author].user, room, body)
        _date(demo, moment, message)
    demo.counts["rooms"] = len(rooms)
    demo.counts["room messages"] = len(messages)


def _plan_room(demo: Demo, plan: RoomPlan) -> tuple[datetime, RoomPlan, dict[int, datetime]]:
    """When a room opens, and its members: person index -> when they joined, host first."""
    rng, people = demo.rng, demo.people
    is_lobby = plan is LOBBY
    if is_lobby:
        host = 0
        created = people[0].joined + 5 * MINUTE
    else:
        fans = [index for index, person in enumerate(people) if plan.topic in person.interests]
        host = rng.choice(fans or range(len(people)))
        created = demo.soon_after(people[host].joined + HOUR, 10 * DAY)
    members = {host: created}
    for index, person in enumerate(people):
        chance = 0.6 if is_lobby else 0.75 if plan.topic in person.interests else 0.12
        if index != host and rng.random() < chance:
            members[index] = demo.soon_after(max(created, person.joined) + 5 * MINUTE, 7 * DAY)
    if not is_lobby:
        for index, joined in members.items():
            people[index].rooms.append((joined, plan.name))
    return created, plan, members


def _room_messages(
    demo: Demo, room: Room, plan: RoomPlan, members: dict[int, datetime]
) -> list[tuple[datetime, Room, int, str]]:
    """The room's chat, planned: (when, room, author's index, text)."""
    rng = demo.rng
    count = rng.randint(15, 60)
    threads = [(plan.opening,), *_chat_threads(rng, plan.topic, count - 1)]
    opened = room.created_at + rng.randint(1, 10) * MINUTE
    starts = [opened] + sorted(
        demo.between(opened + 10 * MINUTE, demo.now) for _ in range(len(threads) - 1)
    )
    host = next(iter(members))
    messages: list[tuple[datetime, Room, int, str]] = []
    for thread, start in zip(threads, starts, strict=True):
        moment = start
        speakers: list[int] = []
        for line in thread:
            if not messages:
                author = host
            elif speakers and isinstance(line, Opener):
                author = speakers[0]
            else:
                author = _chat_author(demo, members, moment, speakers)
            speakers.append(author)
            messages.append((moment, room, author, str(line)))
            moment = min(moment + rng.randint(20, 480) * timedelta(seconds=1), demo.now)
    return messages


def _chat_threads(rng: random.Random, topic: str, count: int) -> list[tuple[str, ...]]:
    """Conversations of the topic, each used once, with small talk in between."""
    exchanges = list(CHAT[topic])
    rng.shuffle(exchanges)
    threads: list[tuple[str, ...]] = []
    lines = 0
    while lines < count:
        if exchanges and rng.random() < 0.7:
            thread = exchanges.pop()[: count - lines]
        else:
            thread = (rng.choice(SMALL_TALK),)
        threads.append(thread)
        lines += len(thread)
    return threads


def _chat_author(
    demo: Demo, members: dict[int, datetime], moment: datetime, speakers: list[int]
) -> int:
    """A member present at that moment, preferring one not yet in the conversation."""
    present = [index for index, joined in members.items() if joined <= moment]
    candidates = (
        [index for index in present if index not in speakers]
        or [index for index in present if not speakers or index != speakers[-1]]
        or present
    )
    weights = [demo.people[index].activity for index in candidates]
    return demo.rng.choices(candidates, weights)[0]


# ---------------------------------------------------------------------------
# Phase 4: posts
# ---------------------------------------------------------------------------


def _create_posts(demo: Demo, progress: Progress) -> None:
    rng, people = demo.rng, demo.people
    total = round(len(people) * rng.uniform(3.0, 4.0))
    joined = [person.joined for person in people]
    times = sorted(demo.between(demo.start + 2 * HOUR, demo.now) for _ in range(total))
    usage: Counter[str] = Counter()
    has_posted: set[int] = set()
    image_budget = max(2, len(people) // 6)
    with progress(times, "Posts") as bar:
        for moment in bar:
            # Only people who had joined by then; the first joined before any post.
            present = range(max(1, bisect.bisect_right(joined, moment)))
            author = rng.choices(present, [people[i].activity for i in present])[0]
            first = author not in has_posted
            body, topic = _post_body(demo, author, moment, present, usage, first)
            has_posted.add(author)
            edited = demo.soon_after(moment, 30 * MINUTE) if rng.random() < 0.04 else None
            image = None
            if topic in PHOTO_TOPICS and image_budget and rng.random() < 0.5:
                image = _picture(_landscape_png(rng, POST_IMAGE_SIZE))
                image_budget -= 1
            post = create_post(people[author].user, body, image)
            _stored(demo, media.POST_IMAGE.kind, post.image_key)
            _date(demo, moment, post)
            if edited is not None:
                # Marked edited (the text is the same): the "edited" label shows on some posts.
                _stamp(demo, post, edited_at=edited)
            demo.posts.append((post, author, topic))
    demo.counts["posts"] = len(demo.posts)


def _post_body(
    demo: Demo,
    author: int,
    moment: datetime,
    present: Sequence[int],
    usage: Counter[str],
    first: bool,
) -> tuple[str, str]:
    """A post's text and its topic, preferring templates used least so far."""
    rng, person = demo.rng, demo.people[author]
    friends = [index for index in present if index in person.friends]
    others = [index for index in present if index != author]
    mention = rng.choice(friends or others) if others else None
    rooms = [name for joined, name in person.rooms if joined <= moment]
    context = {
        "first": person.user.first_name,
        "city": person.user.address,
        "role_title": _title(person.role),
        "interest_a": INTEREST_WORDS[person.interests[0]],
        "interest_b": INTEREST_WORDS[person.interests[-1]],
        "mention": demo.people[mention].user.username if mention is not None else "",
        "room": rng.choice(rooms) if rooms else "",
    }
    if first and rng.random() < 0.35:
        return _fill(rng.choice(INTRO_POSTS), context), GENERAL
    topic = GENERAL if rng.random() < 0.2 else rng.choice(person.interests)
    usable = [
        text
        for text in POSTS[topic]
        if not ("{mention}" in text and not context["mention"])
        and not ("{room}" in text and not context["room"])
    ]
    least = min(usage[text] for text in usable)
    template = rng.choice([text for text in usable if usage[text] == least])
    usage[template] += 1
    return _fill(template, context), topic


def _fill(template: str, context: dict[str, str]) -> str:
    """str.format for templates whose code blocks hold literal braces."""
    return re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), template)


# ---------------------------------------------------------------------------
# Phase 5: likes, comments and replies
# ---------------------------------------------------------------------------


def _create_reactions(demo: Demo, progress: Progress) -> None:
    likes: list[tuple[datetime, Post, int]] = []
    comments: list[_Remark] = []
    for post, author, topic in demo.posts:
        likes.extend(_likes_for(demo, post, author, topic))
        comments.extend(_comments_for(demo, post, author, topic))
    likes.sort(key=lambda like: like[0])
    with progress(likes, "Likes") as bar:
        for moment, post, liker in bar:
            like_post(demo.people[liker].user, post)
            _date(demo, moment)
    # Stable sort: a reply made in the same instant as its parent still comes after it.
    comments.sort(key=lambda remark: remark.created_at)
    with progress(comments, "Comments and replies") as bar:
        for remark in bar:
            parent = remark.parent.row if remark.parent is not None else None
            remark.row = add_comment(
                demo.people[remark.writer].user, remark.post, remark.body, parent
            )
            _date(demo, remark.created_at)
    demo.counts["likes"] = len(likes)
    demo.counts["comments"] = len(comments)


def _audience(demo: Demo, post: Post, author: int, topic: str) -> tuple[list[int], list[float]]:
    """Who reacts to a post: people around when it appeared, friends and fans most of all."""
    people = demo.people
    around = post.created_at + 2 * DAY
    others = [
        index for index, person in enumerate(people) if index != author and person.joined <= around
    ]
    weights = [
        1.0
        + 3.0 * (index in people[author].friends)
        + 2.0 * ((index, author) in demo.follows)
        + 1.5 * (topic in people[index].interests)
        for index in others
    ]
    return others, weights


def _likes_for(demo: Demo, post: Post, author: int, topic: str) -> list[tuple[datetime, Post, int]]:
    """The post's likes, planned: (when, post, liker's index)."""
    rng, people = demo.rng, demo.people
    others, weights = _audience(demo, post, author, topic)
    mean = max(1.0, len(people) * 0.08) * people[author].activity
    count = min(len(others), round(rng.expovariate(1 / mean)))
    return [
        (demo.soon_after(max(post.created_at, people[liker].joined), 3 * DAY), post, liker)
        for liker in _weighted_sample(rng, others, weights, count)
    ]


@dataclass
class _Remark:
    """A comment or reply, planned; `row` is the comment once add_comment wrote it."""

    post: Post
    writer: int
    body: str
    created_at: datetime
    parent: _Remark | None = None
    row: Comment | None = None


@dataclass
class _Thread:
    """A top-level comment, and the post author's answer it waits for, if any."""

    comment: _Remark
    writer: int
    answer: str | None
    answered: bool = False


def _comments_for(demo: Demo, post: Post, author: int, topic: str) -> list[_Remark]:
    rng, people = demo.rng, demo.people
    others, weights = _audience(demo, post, author, topic)
    if not others:
        return []
    pool = GENERIC_COMMENTS + TOPIC_COMMENTS.get(topic, ()) * 2
    context = {"name": people[author].user.first_name}
    entries: list[_Remark] = []
    threads: list[_Thread] = []
    unused = list(pool)
    said: set[str] = set()
    for _ in range(rng.choices(range(7), weights=(30, 22, 18, 12, 8, 6, 4))[0]):
        thread = rng.choice(threads) if threads and rng.random() < 0.35 else None
        if thread is None or thread.answered:
            writer = rng.choices(others, weights)[0]
            remark = rng.choice(unused or pool)
            unused = [other for other in unused if other != remark]
            line, answer = (remark, None) if isinstance(remark, str) else remark
            comment = _comment(demo, post, post.created_at, writer, _fill(line, context))
            threads.append(_Thread(comment, writer, answer))
            entries.append(comment)
            continue
        parent_context = {**context, "parent": people[thread.writer].user.username}
        if thread.answer is not None:
            # A question gets its answer from the post's author, and then rests.
            writer, line = author, thread.answer
            thread.answered = True
        elif rng.random() < 0.5 or len(others) < 2:
            writer, line = author, _unsaid(rng, AUTHOR_REPLIES, said)
        else:
            writer = rng.choice([index for index in others if index != thread.writer])
            line = _unsaid(rng, OTHER_REPLIES, said)
        body = _fill(line, parent_context)
        reply = _comment(demo, post, thread.comment.created_at, writer, body)
        reply.parent = thread.comment
        entries.append(reply)
    return entries


def _unsaid(rng: random.Random, lines: Sequence[str], said: set[str]) -> str:
    """A line not said yet under this post, while there is one."""
    line = rng.choice([line for line in lines if line not in said] or lines)
    said.add(line)
    return line


def _comment(demo: Demo, post: Post, since: datetime, writer: int, body: str) -> _Remark:
    person = demo.people[writer]
    moment = demo.soon_after(max(since, person.joined) + MINUTE, 2 * DAY)
    return _Remark(post, writer, body, moment)


# ---------------------------------------------------------------------------
# Randomness helpers
# ---------------------------------------------------------------------------


def _weighted_sample(
    rng: random.Random, items: Sequence[T], weights: Sequence[float], count: int
) -> list[T]:
    """Up to `count` distinct items, heavier ones more likely (Efraimidis-Spirakis)."""
    keyed = [(rng.random() ** (1 / weight), index) for index, weight in enumerate(weights)]
    keyed.sort(reverse=True)
    return [items[index] for _, index in keyed[:count]]


# ---------------------------------------------------------------------------
# Generated pictures
# ---------------------------------------------------------------------------


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _gradient(
    size: tuple[int, int], start: tuple[int, int, int], end: tuple[int, int, int], kind: str
) -> Image.Image:
    if kind == "radial":
        mask = Image.radial_gradient("L")
    else:
        mask = Image.linear_gradient("L")
        if kind == "horizontal":
            mask = mask.transpose(Image.Transpose.ROTATE_90)
    mask = mask.resize(size)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same letters on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _avatar_png(rng: random.Random, initials: str) -> bytes:
    """A colourful gradient with a few translucent shapes and the person's initials."""
    size = AVATAR_SIZE
    hue = rng.random()
    start = _hsv(hue, 0.45, 0.98)
    end = _hsv(hue + rng.uniform(0.08, 0.3), 0.75, 0.68)
    image = _gradient((size, size), start, end, rng.choice(("vertical", "horizontal", "radial")))
    draw = ImageDraw.Draw(image, "RGBA")
    rng.choice(_PATTERNS)(draw, rng, size, hue)
    font = _font(round(size * 0.38))
    centre = (size / 2, size / 2)
    draw.text((centre[0] + 3, centre[1] + 4), initials, font=font, anchor="mm", fill=(0, 0, 0, 70))
    # A white outline of the white letters makes the regular font bold enough.
    draw.text(
        centre, initials, font=font, anchor="mm", fill="white", stroke_width=2, stroke_fill="white"
    )
    return _png(image)


def _accent(rng: random.Random, hue: float) -> tuple[int, int, int, int]:
    red, green, blue = _hsv(hue + rng.uniform(-0.2, 0.2), rng.uniform(0.2, 0.8), 1.0)
    return red, green, blue, rng.randint(50, 120)


def _circles(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        radius = rng.uniform(size * 0.1, size * 0.45)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_accent(rng, hue))


def _stripes(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    width = rng.uniform(size * 0.08, size * 0.18)
    offset = rng.uniform(0, width * 2)
    x = -size + offset
    while x < size * 2:
        draw.polygon(
            ((x, 0), (x + width, 0), (x + width - size, size), (x - size, size)),
            fill=_accent(rng, hue),
        )
        x += width * 2


def _triangles(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    for _ in range(rng.randint(3, 7)):
        points = [(rng.uniform(-0.2, 1.2) * size, rng.uniform(-0.2, 1.2) * size) for _ in "abc"]
        draw.polygon(points, fill=_accent(rng, hue))


def _rings(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, hue: float) -> None:
    x, y = rng.choice((0, size)), rng.choice((0, size))
    colour = _accent(rng, hue)
    for radius in range(round(size * 0.2), round(size * 1.5), round(size * 0.14)):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=colour, width=12)


_PATTERNS = (_circles, _stripes, _triangles, _rings)

# Sky hues: day blue, sunset orange, dawn pink, dusk violet, sea teal.
_SKY_HUES = (0.58, 0.07, 0.95, 0.72, 0.5)


def _landscape_png(rng: random.Random, size: tuple[int, int]) -> bytes:
    """A sky, a sun and layers of hills fading into the haze."""
    width, height = size
    hue = rng.choice(_SKY_HUES) + rng.uniform(-0.03, 0.03)
    horizon = _hsv(hue + 0.05, 0.25, 1.0)
    image = _gradient(size, _hsv(hue, 0.6, 0.82), horizon, "vertical")
    draw = ImageDraw.Draw(image, "RGBA")
    sun_x, sun_y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.15, 0.45) * height
    radius = rng.uniform(0.06, 0.12) * height
    draw.ellipse(
        (sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius),
        fill=(*_hsv(0.13, 0.25, 1.0), 230),
    )
    ground = _hsv(rng.choice((0.3, 0.6, 0.08)), 0.5, 0.22)
    layers = rng.randint(3, 5)
    for layer in range(layers):
        share = (layer + 1) / layers
        colour = tuple(round(h + (g - h) * share) for h, g in zip(horizon, ground, strict=True))
        base = height * (0.42 + 0.5 * layer / layers)
        draw.polygon(_ridge(rng, width, height, base, 0.14 * (1 - 0.5 * share)), fill=colour)
    return _png(image)


def _ridge(
    rng: random.Random, width: int, height: int, base: float, roughness: float
) -> list[tuple[float, float]]:
    """The outline of a range of hills: a random walk across the picture, closed below."""
    step = width / rng.randint(12, 30)
    points = [(0.0, float(height))]
    x, y = 0.0, base
    while x <= width + step:
        points.append((x, y))
        x += step
        y = min(height * 0.95, max(height * 0.2, y + rng.uniform(-1, 1) * roughness * height))
    points.append((float(width), float(height)))
    return points


# ---------------------------------------------------------------------------
# Phase 6: private conversations and a group
# ---------------------------------------------------------------------------


def _create_conversations(demo: Demo, progress: Progress) -> None:
    """One-to-one conversations between some friends (the first person in several, with
    a few unread), a group hike the first person runs, and an invitation waiting for them."""
    rng = demo.rng
    pairs = sorted(demo.friend_times.items(), key=lambda item: item[1])
    first = [pair for pair in pairs if 0 in pair[0]][:6]
    others = [pair for pair in pairs if 0 not in pair[0]]
    chosen = first + rng.sample(others, min(len(others), 20))
    made = 0
    with progress(chosen, "Conversations") as bar:
        for (a, b), since in bar:
            people = (demo.people[a].user, demo.people[b].user)
            lines = rng.randint(2, len(DIRECT_LINES))
            moment = demo.between(since, demo.now)
            conversation = direct_conversation(*people)
            _date(demo, moment)
            topic = demo.people[a].interests[0] if demo.people[a].interests else "music"
            made += _converse(demo, conversation, people, DIRECT_LINES[:lines], moment, topic)
    group_people = [0, *sorted(demo.people[0].friends)[:3]]
    if len(group_people) > 1:
        users = [demo.people[index].user for index in group_people]
        since = max(u.created_at for u in users) + HOUR
        moment = demo.between(since, demo.now)
        group = create_group(users[0], HIKE["name"], users[1:])
        _date(demo, moment)
        for user in users[1:]:
            accept_invite(user, group)
        made += _converse(demo, group, users, GROUP_LINES, moment, HIKE["topic"])
        if len(demo.people) > 5:
            host = demo.people[len(demo.people) - 1].user
            moment = demo.between(since, demo.now)
            book_swap = create_group(host, BOOK_SWAP["name"], [users[0]])
            _date(demo, moment)
            made += _converse(demo, book_swap, [host], (BOOK_SWAP["opening"],), moment, "")
    demo.counts["conversations"] = made


def _converse(
    demo: Demo,
    conversation: Conversation,
    users: list[User] | tuple[User, ...],
    lines: Sequence[str],
    since: datetime,
    topic: str,
) -> int:
    """Write the conversation's lines in turn, from `since` on; everyone has read all
    but the first person, who has the last message of some unread."""
    # Members joined when the conversation began (accept_invite stamps the present).
    db.session.execute(
        update(ConversationMember)
        .where(ConversationMember.conversation_id == conversation.id)
        .values(joined_at=since)
    )
    moment = since
    sent: list[Message] = []
    for number, line in enumerate(lines):
        author = users[number % len(users)]
        if sent:  # who answers has read what came before (and its notice goes)
            mark_read(author, conversation, sent[-1].id)
        body = line.replace("{topic}", topic or "music")
        message = messages_actions.send_message(author, conversation, body)
        _date(demo, moment, message)
        _stamp(demo, conversation, last_message_at=moment)
        sent.append(message)
        moment = min(moment + demo.rng.randint(1, 90) * MINUTE, demo.now)
    for user in users:
        unread = user.id == demo.people[0].user.id and demo.rng.random() < 0.5
        last_read = sent[-2].id if unread and len(sent) > 1 else sent[-1].id
        mark_read(user, conversation, last_read)
    return 1
