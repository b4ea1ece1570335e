"""The insights rollups (qosyl/models/rollups.py) kept by triggers always equal what a
rebuild from the rows computes: after random sequences of the real actions (posting,
liking, chatting, following, joining and leaving, deleting posts, comments, rooms and whole
accounts, and rows moved in time), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from qosyl.actions import accounts
from qosyl.actions import posts as post_actions
from qosyl.actions import rooms as room_actions
from qosyl.actions import social
from qosyl.errors import ActionError
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import rollups
from qosyl.models import Room
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.reads import insights
from qosyl.reads.rooms import room_membership
from tests import factories


def counted(app) -> tuple[set, set]:
    """The rollups' non-zero rows (a count that went back to 0 may stay as a row)."""
    with app.app_context(), db.engine.connect() as connection:
        counts = set(
            connection.execute(
                text("SELECT scope, scope_id, series, slot, n FROM activity_counts WHERE n <> 0")
            )
        )
        days = set(connection.execute(text("SELECT day, user_id, n FROM active_days WHERE n <> 0")))
    return counts, days


def rebuilt(app) -> tuple[set, set]:
    """What a rebuild computes from the rows, rolled back afterwards."""
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        rollups.rebuild(connection)
        counts = set(
            connection.execute(text("SELECT scope, scope_id, series, slot, n FROM activity_counts"))
        )
        days = set(connection.execute(text("SELECT day, user_id, n FROM active_days")))
        transaction.rollback()
    return counts, days


def assert_in_step(app) -> None:
    kept, computed = counted(app), rebuilt(app)
    assert kept[0] == computed[0], (
        f"counts kept but not computed: {sorted(kept[0] - computed[0])[:10]}; "
        f"computed but not kept: {sorted(computed[0] - kept[0])[:10]}"
    )
    assert kept[1] == computed[1]


class World:
    """Random actions on a small site, each through the real action, in its own app
    context (as a request would)."""

    def __init__(self, app, seed: int):
        self.app = app
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)

    def pick(self, model, *where):
        query = select(model).where(*where).order_by(*model.__mapper__.primary_key)
        if model is Post:  # the post actions read its author, as views load it
            query = query.options(joinedload(Post.author))
        rows = db.session.scalars(query).all()
        return self.rng.choice(rows) if rows else None

    def post_of(self, post_id: int) -> Post:
        return self.pick(Post, Post.id == post_id)

    def person(self) -> User | None:
        return self.pick(User)

    def step(self) -> str:
        name = self.rng.choice(
            ["sign_up", "post", "post", "like", "like", "unlike", "comment", "comment", "reply",
             "delete_comment", "delete_post", "follow", "unfollow", "befriend", "unfriend",
             "room", "join", "leave", "remove", "say", "say", "say", "unsay", "delete_room",
             "delete_account", "backdate"]
        )  # fmt: skip
        with self.app.app_context():
            try:
                getattr(self, name)()
            except ActionError:  # refused by a rule (blocked, removed ...): nothing written
                db.session.rollback()
        return name

    def sign_up(self):
        factories.user(username=f"p{self.rng.randrange(10**9)}")

    def post(self):
        if author := self.person():
            post_actions.create_post(author, "tea " * self.rng.randint(1, 3))

    def like(self):
        user, post = self.person(), self.pick(Post)
        if user and post:
            post_actions.like_post(user, post)

    def unlike(self):
        if like := self.pick(PostLike):
            post_actions.unlike_post(db.session.get(User, like.user_id), self.post_of(like.post_id))

    def comment(self):
        user, post = self.person(), self.pick(Post)
        if user and post:
            post_actions.add_comment(user, post, "nice")

    def reply(self):
        parent, user = self.pick(Comment, Comment.parent_id.is_(None)), self.person()
        if parent and user:
            post = self.post_of(parent.post_id)
            post_actions.add_comment(user, post, "agreed", parent)

    def delete_comment(self):
        if comment := self.pick(Comment):
            post_actions.delete_comment(comment, self.post_of(comment.post_id))

    def delete_post(self):
        if post := self.pick(Post):
            post_actions.delete_post(post)

    def follow(self):
        a, b = self.person(), self.person()
        if a and b and a.id != b.id:
            social.follow(a, b)

    def unfollow(self):
        a, b = self.person(), self.person()
        if a and b and a.id != b.id:
            social.unfollow(a, b)

    def befriend(self):
        a, b = self.person(), self.person()
        if a and b and a.id != b.id and social.send_friend_request(a, b) == "sent":
            social.accept_friend_request(b, a)

    def unfriend(self):
        a, b = self.person(), self.person()
        if a and b and a.id != b.id:
            social.unfriend(a, b)

    def room(self):
        if host := self.person():
            room_actions.create_room(host, f"Room {self.rng.randrange(10**6)}", "Tea")

    def _member_pair(self):
        room, user = self.pick(Room), self.person()
        return (room, user) if room and user else (None, None)

    def _is_member(self, room: Room, user: User) -> bool:
        member = room_membership(room, user.id)
        return room.is_lobby or (member is not None and member.removed_at is None)

    def join(self):
        room, user = self._member_pair()
        if room and user.id != room.host_id:
            room_actions.join(user, room)

    def leave(self):
        room, user = self._member_pair()
        if room and self._is_member(room, user):
            room_actions.leave(user, room)

    def remove(self):
        room, user = self._member_pair()
        if room and user.id != room.host_id and self._is_member(room, user):
            room_actions.remove_member(room, user)

    def say(self):
        room, user = self._member_pair()
        if room and self._is_member(room, user):
            room_actions.send_message(user, room, "hello")

    def unsay(self):
        if message := self.pick(RoomMessage):
            room_actions.delete_message(message, db.session.get(Room, message.room_id))

    def delete_room(self):
        if room := self.pick(Room):
            room_actions.delete_room(room)

    def delete_account(self):
        # Rarely: it takes much of the small site with it.
        if self.rng.random() < 0.4 and (user := self.person()):
            accounts.delete_account(user, factories.PASSWORD)

    def backdate(self):
        """Move a row back in time, as the demo does (an UPDATE of created_at)."""
        model = self.rng.choice([Post, PostLike, Comment, RoomMessage, User, Room])
        if row := self.pick(model):
            when = self.now - timedelta(seconds=self.rng.randrange(100 * 86_400))
            key = {c.name: getattr(row, c.key) for c in model.__mapper__.primary_key}
            db.session.execute(
                update(model)
                .where(*[getattr(model, name) == value for name, value in key.items()])
                .values(created_at=when)
            )
            db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_actions_keep_the_rollups_equal_to_a_rebuild(app, seed):
    world = World(app, seed)
    with app.app_context():
        for _ in range(6):
            world.sign_up()
    done = [world.step() for _ in range(70)]
    assert_in_step(app)
    # The sequence did the things that exercise the triggers: not a vacuous pass.
    assert {"post", "like", "say", "backdate"} <= set(done)
    assert counted(app)[0], "the actions counted nothing"


def test_a_deleted_post_takes_its_likes_and_comments_out_of_its_authors_counts(
    app, user, other_user
):
    post_id = factories.write_post(app, user, "tea")
    factories.like_post(app, other_user, post_id)
    factories.write_comment(app, other_user, post_id, "yes")
    factories.like_post(app, user, post_id)  # one's own like is not "received"

    def received() -> dict[str, int]:
        with app.app_context():
            period = insights.window(insights.zoneinfo.ZoneInfo("UTC"), 7)
            found = insights.my_insights(db.session.get(User, user.id), period)
            return {name: found.series[name].total for name in ("likes", "comments", "posts")}

    assert received() == {"likes": 1, "comments": 1, "posts": 1}
    factories.with_post(app, post_id, post_actions.delete_post)
    assert received() == {"likes": 0, "comments": 0, "posts": 0}
    assert_in_step(app)


def test_a_day_stays_active_until_the_persons_last_thing_that_day_goes(app, user, other_user):
    room_id = factories.make_room(app, user)
    first = factories.say_in_room(app, user, room_id, "one")
    second = factories.say_in_room(app, user, room_id, "two")

    def active_today() -> int:
        with app.app_context():
            site = insights.site_insights(insights.window(insights.SITE_ZONE, 7))
            return site.series["active"].values[-1]

    assert active_today() == 1
    for message_id, left in ((first, 1), (second, 0)):
        with app.app_context():
            message = db.session.get(RoomMessage, message_id)
            room_actions.delete_message(message, db.session.get(Room, room_id))
        assert active_today() == left
    factories.write_post(app, other_user, "back")
    assert active_today() == 1
    assert_in_step(app)


def test_a_deleted_commenters_kept_comment_is_no_longer_received(app, user, other_user, make_user):
    """Deleting an account keeps its answered comments with no author (SET NULL, done by the
    database): they count for nobody, as the rows say."""
    post_id = factories.write_post(app, user, "tea")
    comment_id = factories.write_comment(app, other_user, post_id, "first")
    factories.write_comment(app, make_user(username="carol"), post_id, "reply", comment_id)
    with app.app_context():
        accounts.delete_account(db.session.get(User, other_user.id), factories.PASSWORD)
        assert db.session.get(Comment, comment_id).author_id is None
        period = insights.window(insights.zoneinfo.ZoneInfo("UTC"), 7)
        found = insights.my_insights(db.session.get(User, user.id), period)
    assert found.series["comments"].total == 1  # carol's reply
    assert_in_step(app)


def test_the_rebuild_command_reports_what_it_wrote(app, runner, user, other_user):
    post_id = factories.write_post(app, user, "tea")
    factories.like_post(app, other_user, post_id)
    with app.app_context():
        db.session.execute(text("DELETE FROM activity_counts"))
        db.session.commit()
    result = runner.invoke(args=["insights", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "activity_counts" in result.output
    kept, computed = counted(app), rebuilt(app)
    assert kept == computed and kept[0]


def test_the_migration_counts_the_rows_already_there(app, user, other_user):
    """Migration 0011 fills the rollups from what the site already holds."""
    import warnings

    from flask_migrate import downgrade
    from flask_migrate import upgrade

    post_id = factories.write_post(app, user, "tea")
    factories.like_post(app, other_user, post_id)
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        db.session.remove()
        downgrade(revision="0010")
        # Written while no trigger counts: only the migration can.
        db.session.add(Post(author_id=other_user.id, body="older", created_at=datetime.now(UTC)))
        db.session.commit()
        upgrade()
        period = insights.window(insights.SITE_ZONE, 7)
        site = insights.site_insights(period)
        mine = insights.my_insights(db.session.get(User, user.id), period)
    assert site.series["posts"].total == 2 and site.series["active"].values[-1] == 2
    assert mine.series["likes"].total == 1
    assert_in_step(app)
