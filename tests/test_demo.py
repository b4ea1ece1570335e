"""The demo seed: the counts it reports, the invariants the app relies on, `flask seed`.

Self-contained: each test builds its own SQLite database with create_all(), so it
can seed several fresh databases and compare them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

import pycountry
import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from qosyl import create_app
from qosyl.demo import seed_demo
from qosyl.extensions import db
from qosyl.models import Block
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import Hashtag
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostLike
from qosyl.models import PostMention
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User
from qosyl.models.user import SOCIAL_LINKS
from qosyl.passwords import verify_password
from qosyl.render import markup

USERS = 12
SEED = 7
USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")


def _make_app(folder: Path) -> Flask:
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI="sqlite:///" + str(folder / "demo.sqlite3"),
        UPLOAD_FOLDER=str(folder / "uploads"),
    )
    with app.app_context():
        db.create_all()
    return app


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _quiet(items: Iterable, label: str):
    return nullcontext(items)


def _seed(app: Flask, *, users: int = USERS, random_seed: int = SEED, progress=_quiet) -> dict:
    with app.app_context(), app.app_context():
        return seed_demo(users=users, random_seed=random_seed, progress=progress)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counts_by_post(column) -> dict[int, int]:
    return {
        post_id: count
        for post_id, count in db.session.execute(select(column, func.count()).group_by(column))
    }


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[Flask]:
    app = _make_app(tmp_path / "demo")
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[Flask, dict[str, int], list[str]]]:
    """One demo shared by the read-only tests: the app, the summary, the progress labels."""
    app = _make_app(tmp_path_factory.mktemp("seeded"))
    labels: list[str] = []

    def progress(items: Iterable, label: str):
        labels.append(label)
        return nullcontext(items)

    summary = _seed(app, progress=progress)
    yield app, summary, labels
    _dispose(app)


@pytest.fixture
def demo(seeded) -> Iterator[Flask]:
    """The shared demo's app, with an app context pushed for reading."""
    app = seeded[0]
    with app.app_context():
        yield app


def test_summary_counts_match_the_database(seeded, demo):
    summary = seeded[1]
    assert summary["users"] == USERS == _count(User)
    # The summary counts pairs of friends; the table holds one row per direction.
    assert 2 * summary["friendships"] == _count(Friendship) > 0
    assert summary["friend requests"] == _count(FriendRequest) > 0
    assert summary["follows"] == _count(Follow) > 0
    assert summary["rooms"] == _count(Room) == 13
    assert summary["room messages"] == _count(RoomMessage) >= 13 * 15
    assert summary["posts"] == _count(Post) >= 3 * USERS
    assert summary["likes"] == _count(PostLike) > 0
    assert summary["comments"] == _count(Comment) > 0


def test_every_phase_reports_progress(seeded):
    assert len(seeded[2]) >= 5


def test_first_user_is_aigerim_and_every_user_can_sign_in(demo):
    users = db.session.scalars(select(User).order_by(User.id)).all()
    assert users[0].username == "aigerim"
    # She administers the demo site (its overview of insights); nobody else does.
    assert [user.username for user in users if user.is_admin] == ["aigerim"]
    assert len({user.username for user in users}) == len(users)
    for user in users:
        assert USERNAME.match(user.username), user.username
        assert user.email == f"{user.username}@example.com"
        assert user.is_verified and user.onboarded_at is not None
        assert verify_password(user.password_hash, demo.config["DEMO_PASSWORD"])
        assert user.first_name and user.last_name and user.address
        assert 0 < len(user.bio) <= 160
        assert pycountry.countries.get(alpha_2=user.country) is not None
    assert sum(bool(user.about) for user in users) > len(users) / 2


def test_social_links_are_full_urls_on_the_right_hosts(demo):
    users = db.session.scalars(select(User)).all()
    links = 0
    for user in users:
        for name, _, hosts in SOCIAL_LINKS:
            url = getattr(user, name)
            if not url:
                continue
            links += 1
            parts = urlsplit(url)
            host = parts.hostname or ""
            assert parts.scheme == "https" and "." in host, url
            if hosts:
                assert any(host == h or host.endswith("." + h) for h in hosts), url
    assert links > 0


def test_every_user_has_an_avatar_stored_by_the_image_pipeline(demo):
    uploads = Path(demo.config["UPLOAD_FOLDER"])
    users = db.session.scalars(select(User)).all()
    for user in users:
        assert user.avatar_key
        for variant in ("thumb", "display"):
            assert (uploads / "avatar" / f"{user.avatar_key}_{variant}.webp").is_file()
        if user.cover_key:
            assert (uploads / "cover" / f"{user.cover_key}_display.webp").is_file()
    for key in db.session.scalars(select(Post.image_key).where(Post.image_key.is_not(None))):
        assert (uploads / "post" / f"{key}_thumb.webp").is_file()


def test_friendships_are_symmetric_and_requests_are_between_strangers(demo):
    rows = {(row.user_id, row.friend_id) for row in db.session.scalars(select(Friendship))}
    assert rows
    assert all((friend, user) in rows for user, friend in rows)
    assert all(user != friend for user, friend in rows)
    requests = db.session.scalars(select(FriendRequest)).all()
    pairs = [frozenset((r.sender_id, r.receiver_id)) for r in requests]
    assert len(set(pairs)) == len(pairs)
    for request in requests:
        assert request.sender_id != request.receiver_id
        assert (request.sender_id, request.receiver_id) not in rows
    follows = db.session.scalars(select(Follow)).all()
    assert all(follow.follower_id != follow.followed_id for follow in follows)
    assert _count(Block) == 0


def test_post_counters_match_likes_and_comments_by_others(demo):
    likes = _counts_by_post(PostLike.post_id)
    comments = _counts_by_post(Comment.post_id)
    for post in db.session.scalars(select(Post)):
        assert post.like_count == likes.get(post.id, 0)
        assert post.comment_count == comments.get(post.id, 0)
    own_likes = db.session.scalar(
        select(func.count())
        .select_from(PostLike)
        .join(Post, Post.id == PostLike.post_id)
        .where(PostLike.user_id == Post.author_id)
    )
    assert own_likes == 0


def test_replies_answer_top_level_comments_of_the_same_post(demo):
    comments = {comment.id: comment for comment in db.session.scalars(select(Comment))}
    replies = [comment for comment in comments.values() if comment.parent_id is not None]
    assert replies
    for reply in replies:
        parent = comments[reply.parent_id]
        assert parent.post_id == reply.post_id
        assert parent.parent_id is None
        assert parent.id < reply.id and parent.created_at <= reply.created_at


def test_one_lobby_and_every_room_host_is_a_member(demo):
    rooms = db.session.scalars(select(Room)).all()
    lobbies = [room for room in rooms if room.is_lobby]
    assert len(lobbies) == 1
    lobby = lobbies[0]
    assert lobby.name == "Lobby"
    assert db.session.get(Topic, lobby.topic_id).name == "General"
    assert db.session.get(User, lobby.host_id).username == "aigerim"
    members = {(m.room_id, m.user_id) for m in db.session.scalars(select(RoomMember))}
    # The lobby needs no joining: its only member row is its host's, as create_room wrote it.
    assert {user for room, user in members if room == lobby.id} == {lobby.host_id}
    for room in rooms:
        assert (room.id, room.host_id) in members
        messages = db.session.scalars(
            select(RoomMessage).where(RoomMessage.room_id == room.id)
        ).all()
        assert 15 <= len(messages) <= 60
        if not room.is_lobby:
            assert all((room.id, message.author_id) in members for message in messages)
    assert _count(Topic) >= 10


def test_ids_and_times_agree_and_times_are_in_the_last_two_months(demo):
    now = datetime.now(UTC)
    for model in (User, Room, RoomMessage, Post, Comment, FriendRequest):
        times = db.session.scalars(select(model.created_at).order_by(model.id)).all()
        assert times == sorted(times), model.__name__
        assert all(now - timedelta(days=61) <= moment <= now for moment in times)
    # The actions stamp the present; the seed moves every row it wrote into the demo's past.
    started = db.session.scalar(select(func.min(User.created_at)))
    for column in (
        Friendship.created_at,
        Follow.created_at,
        PostLike.created_at,
        Notification.created_at,
        RoomMember.joined_at,
        Topic.created_at,
        Conversation.created_at,
        Conversation.last_message_at,
        ConversationMember.joined_at,
        Message.created_at,
        User.onboarded_at,
    ):
        times = db.session.scalars(select(column)).all()
        assert times, column
        assert all(started <= moment <= now for moment in times), column


def test_mentions_name_existing_users(demo):
    usernames = set(db.session.scalars(select(User.username)))
    mentions = 0
    for body in db.session.scalars(select(Post.body)):
        # Code may hold decorators (@cache); only prose mentions count.
        prose = re.sub(r"```.*?```|`[^`]*`", "", body, flags=re.DOTALL)
        for name in re.findall(r"(?<![\w@])@(\w+)", prose):
            assert name in usernames
            mentions += 1
    assert mentions > 0


def test_posts_use_markdown_code_and_hashtags(demo):
    bodies = db.session.scalars(select(Post.body)).all()
    assert any("#" in body for body in bodies)
    chat = db.session.scalars(select(RoomMessage.body)).all()
    assert any("```python" in body for body in chat)


def test_same_seed_gives_the_same_demo(tmp_path):
    apps = [_make_app(tmp_path / name) for name in ("one", "two")]
    try:
        snapshots = []
        for app in apps:
            _seed(app, users=8, random_seed=42)
            with app.app_context():
                snapshots.append(
                    (
                        db.session.scalars(select(User.username).order_by(User.id)).all(),
                        db.session.scalars(select(Post.body).order_by(Post.id)).all(),
                        db.session.scalars(select(RoomMessage.body).order_by(RoomMessage.id)).all(),
                        db.session.scalars(select(Comment.body).order_by(Comment.id)).all(),
                    )
                )
        assert snapshots[0] == snapshots[1]
    finally:
        for app in apps:
            _dispose(app)


def test_flask_seed_if_empty_seeds_once(demo_app):
    runner = demo_app.test_cli_runner()
    first = runner.invoke(args=["seed", "--if-empty", "--users", "12"])
    assert first.exit_code == 0, first.output
    assert "Seeded 12 users" in first.output
    with demo_app.app_context():
        before = [_count(model) for model in (User, Post, Room, RoomMessage, Comment)]
    second = runner.invoke(args=["seed", "--if-empty", "--users", "12"])
    assert second.exit_code == 0, second.output
    assert "not seeding" in second.output
    with demo_app.app_context():
        assert [_count(model) for model in (User, Post, Room, RoomMessage, Comment)] == before


def test_seeding_again_adds_people_but_no_second_lobby(demo_app):
    _seed(demo_app, users=4)
    _seed(demo_app, users=4)
    with demo_app.app_context():
        assert _count(User) == 8
        assert db.session.scalar(select(func.count()).where(Room.is_lobby)) == 1
        # Only the first seed's login administers the site.
        assert db.session.scalar(select(func.count()).where(User.is_admin)) == 1
        assert _count(Topic) == 11


def test_a_one_person_demo_works(demo_app):
    summary = _seed(demo_app, users=1)
    assert summary["users"] == 1
    assert summary["friendships"] == summary["likes"] == summary["comments"] == 0
    with demo_app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["aigerim"]


def test_no_users_is_refused(demo_app):
    with pytest.raises(ValueError):
        _seed(demo_app, users=0)


def test_a_failed_seed_leaves_no_rows_and_no_image_files(demo_app, monkeypatch):
    import qosyl.demo

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(qosyl.demo, "_create_reactions", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        _seed(demo_app, users=3)
    uploads = Path(demo_app.config["UPLOAD_FOLDER"])
    assert not [path for path in uploads.rglob("*") if path.is_file()]
    with demo_app.app_context():
        assert _count(User) == 0


def test_the_first_person_has_conversations_a_group_and_an_invitation(demo):
    from qosyl.reads.conversations import conversation_rows
    from qosyl.reads.conversations import pending_invites

    first = db.session.scalars(select(User).order_by(User.id)).first()
    rows = conversation_rows(first.id)
    names = [row.conversation.name for row in rows]
    assert "Weekend hike" in names and len(rows) >= 4
    assert all(row.last_message is not None for row in rows)
    assert [conversation.name for conversation, _ in pending_invites(first)] == ["Book swap"]


def test_passwords_are_stored_hashed(demo):
    password = demo.config["DEMO_PASSWORD"]
    hashes = db.session.scalars(select(User.password_hash)).all()
    assert all(password not in stored for stored in hashes)


def test_every_text_is_rendered_as_the_actions_render_it(demo):
    for model in (RoomMessage, Message):
        for body, body_html in db.session.execute(select(model.body, model.body_html)):
            assert body_html == str(markup.render(body)), body
    for model in (Post, Comment):
        empty = db.session.scalar(
            select(func.count()).select_from(model).where(model.body != "", model.body_html == "")
        )
        assert empty == 0, model.__name__


def test_hashtags_and_mentions_of_posts_are_indexed(demo):
    users = {user.username.lower(): user.id for user in db.session.scalars(select(User))}
    tags = dict(db.session.execute(select(Hashtag.id, Hashtag.name)).all())
    indexed_tags: dict[int, set[str]] = {}
    for post_id, tag_id in db.session.execute(select(PostHashtag.post_id, PostHashtag.hashtag_id)):
        indexed_tags.setdefault(post_id, set()).add(tags[tag_id])
    indexed_mentions: dict[int, set[int]] = {}
    for post_id, user_id in db.session.execute(select(PostMention.post_id, PostMention.user_id)):
        indexed_mentions.setdefault(post_id, set()).add(user_id)
    for post in db.session.scalars(select(Post)):
        assert indexed_tags.get(post.id, set()) == set(markup.hashtags(post.body))
        named = {
            users[name.lower()] for name in markup.mentions(post.body) if name.lower() in users
        }
        assert indexed_mentions.get(post.id, set()) == named
    assert indexed_tags and indexed_mentions


def test_notifications_are_the_ones_the_actions_send(demo):
    notifications = db.session.scalars(select(Notification)).all()
    kinds = {notification.kind for notification in notifications}
    assert {"welcome", "follow", "friend_request", "friend_accept", "like", "comment"} <= kinds
    assert all(n.actor_id != n.recipient_id for n in notifications)
    waiting = {(n.recipient_id, n.dedupe_key) for n in notifications if n.kind == "friend_request"}
    requests = db.session.scalars(select(FriendRequest)).all()
    # A pending request is announced to its receiver; an accepted one was withdrawn.
    assert waiting == {(r.receiver_id, f"friend_request:{r.sender_id}") for r in requests}
    welcomed = [n.recipient_id for n in notifications if n.kind == "welcome"]
    assert sorted(welcomed) == sorted(db.session.scalars(select(User.id)))
    # Old news has been read; the last two days' may still be waiting.
    old = datetime.now(UTC) - timedelta(days=3)
    assert all(n.read_at is not None for n in notifications if n.created_at < old)


def test_conversations_keep_their_last_message_time_and_read_positions(demo):
    for conversation in db.session.scalars(select(Conversation)):
        newest = db.session.execute(
            select(Message.id, Message.created_at)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id.desc())
            .limit(1)
        ).one()
        assert conversation.last_message_at == newest.created_at
        members = db.session.scalars(
            select(ConversationMember).where(
                ConversationMember.conversation_id == conversation.id,
                ConversationMember.status == MemberStatus.ACTIVE,
            )
        ).all()
        assert members
        for member in members:
            assert member.last_read_id <= newest.id
            unread_notice = db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.recipient_id == member.user_id,
                    Notification.dedupe_key == f"message:{conversation.id}",
                )
            )
            # Whoever has read the conversation has no message notice left (mark_read withdraws it).
            if member.last_read_id == newest.id:
                assert unread_notice == 0


def test_the_demo_words_ship_with_the_package():
    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["qosyl"]
    words = sorted((root / "qosyl" / "demo_data").iterdir())
    assert words
    for path in words:
        relative = path.relative_to(root / "qosyl")
        assert any(relative.match(pattern) for pattern in patterns), relative
