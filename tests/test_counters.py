"""The counts a profile shows (posts, friends, followers, following) are stored on users
and kept by triggers (qosyl/models/counters.py): they always equal a count of the rows,
after each action and after random sequences of them, account deletions included, on
SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy import text

from qosyl.actions import accounts
from qosyl.actions import posts as post_actions
from qosyl.actions import social
from qosyl.errors import ActionError
from qosyl.extensions import db
from qosyl.models import counters
from qosyl.models import Follow
from qosyl.models import Post
from qosyl.models import User
from qosyl.reads.people import profile_counts
from tests import factories
from tests.helpers import assert_query_count


def shown(app, person: User) -> dict[str, int]:
    with app.app_context():
        return profile_counts(person.id)


def stored(app) -> dict[int, tuple[int, ...]]:
    columns = ", ".join(counter.column for counter in counters.COUNTERS)
    with app.app_context():
        rows = db.session.execute(text(f"SELECT id, {columns} FROM users ORDER BY id"))
        return {row[0]: tuple(row[1:]) for row in rows}


def recounted(app) -> dict[int, tuple[int, ...]]:
    """What a recount from the rows gives, rolled back afterwards."""
    columns = ", ".join(counter.column for counter in counters.COUNTERS)
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        counters.recount(connection)
        rows = connection.execute(text(f"SELECT id, {columns} FROM users ORDER BY id"))
        fresh = {row[0]: tuple(row[1:]) for row in rows}
        transaction.rollback()
    return fresh


def assert_in_step(app) -> None:
    kept, computed = stored(app), recounted(app)
    wrong = {
        user_id: (kept[user_id], computed[user_id])
        for user_id in kept
        if kept[user_id] != computed[user_id]
    }
    assert not wrong, f"(kept, counted) per user: {wrong}"


def zeros() -> dict[str, int]:
    return {"posts": 0, "friends": 0, "followers": 0, "following": 0}


def test_posting_and_deleting_move_the_post_count(app, user, other_user):
    first = factories.write_post(app, user, "one")
    factories.write_post(app, user, "two")
    assert shown(app, user) == {**zeros(), "posts": 2}
    factories.with_post(app, first, post_actions.delete_post)
    assert shown(app, user) == {**zeros(), "posts": 1}
    assert shown(app, other_user) == zeros()


def test_follows_count_on_both_sides_once(app, user, other_user, make_user):
    carol = make_user(username="carol")
    with app.app_context():
        social.follow(factories.reload(user), factories.reload(other_user))
        # Twice (a double click): one row, counted once.
        social.follow(factories.reload(user), factories.reload(other_user))
        social.follow(factories.reload(carol), factories.reload(other_user))
    assert shown(app, other_user) == {**zeros(), "followers": 2}
    assert shown(app, user) == {**zeros(), "following": 1}
    with app.app_context():
        social.unfollow(factories.reload(user), factories.reload(other_user))
        # Unfollowing someone not followed changes nothing.
        social.unfollow(factories.reload(user), factories.reload(other_user))
    assert shown(app, other_user) == {**zeros(), "followers": 1}
    assert shown(app, user) == zeros()
    assert_in_step(app)


def test_friends_count_once_accepted_and_until_unfriended(app, user, other_user):
    with app.app_context():
        social.send_friend_request(factories.reload(user), factories.reload(other_user))
    # A request is no friendship yet.
    assert shown(app, user) == shown(app, other_user) == zeros()
    with app.app_context():
        social.accept_friend_request(factories.reload(other_user), factories.reload(user))
    assert shown(app, user) == shown(app, other_user) == {**zeros(), "friends": 1}
    with app.app_context():
        social.unfriend(factories.reload(other_user), factories.reload(user))
    assert shown(app, user) == shown(app, other_user) == zeros()


def test_a_block_ends_follows_both_ways_and_the_friendship(app, user, other_user):
    factories.befriend(app, user, other_user)
    with app.app_context():
        social.follow(factories.reload(user), factories.reload(other_user))
        social.follow(factories.reload(other_user), factories.reload(user))
    both = {**zeros(), "friends": 1, "followers": 1, "following": 1}
    assert shown(app, user) == shown(app, other_user) == both
    factories.block(app, user, other_user)
    assert shown(app, user) == shown(app, other_user) == zeros()


def test_a_deleted_account_leaves_the_counts_of_the_people_it_knew(
    app, user, other_user, make_user
):
    """The account's follows, friendships and posts go by ON DELETE CASCADE, which no
    action sees: the counts of the others still drop."""
    carol = make_user(username="carol")
    factories.befriend(app, user, carol)
    with app.app_context():
        social.follow(factories.reload(user), factories.reload(carol))
        social.follow(factories.reload(carol), factories.reload(user))
        social.follow(factories.reload(other_user), factories.reload(user))
    factories.write_post(app, user, "bye")
    with app.app_context():
        accounts.delete_account(factories.reload(user), factories.PASSWORD)
    assert shown(app, carol) == zeros()
    assert shown(app, other_user) == zeros()
    assert_in_step(app)


def test_rows_written_around_the_actions_are_counted_too(app, user, other_user):
    """The triggers count whatever writes the rows (the demo, a script, a test)."""
    with app.app_context():
        db.session.add(Post(author_id=user.id, body="direct", body_html=""))
        db.session.add(Follow(follower_id=other_user.id, followed_id=user.id))
        db.session.commit()
    assert shown(app, user) == {**zeros(), "posts": 1, "followers": 1}
    assert shown(app, other_user) == {**zeros(), "following": 1}


def test_the_profile_reads_its_counts_in_one_query(app, user, other_user):
    for n in range(3):
        factories.write_post(app, user, f"post {n}")
    with assert_query_count(app, 1), app.app_context():
        assert profile_counts(user.id)["posts"] == 3


def test_the_profile_page_shows_the_counts(client, user, other_user):
    factories.write_post(client.application, other_user, "hello")
    factories.befriend(client.application, user, other_user)
    factories.login(client, user)
    page = client.get("/u/bob").text
    assert "<strong>1</strong> post<" in page
    assert "<strong>1</strong> friend<" in page


class World:
    """Random social actions on a small site, each through the real action in its own app
    context (as a request would)."""

    def __init__(self, app, seed: int):
        self.app = app
        self.rng = random.Random(seed)

    def person(self) -> User | None:
        people = db.session.scalars(select(User).order_by(User.id)).all()
        return self.rng.choice(people) if people else None

    def pair(self) -> tuple[User, User] | None:
        a, b = self.person(), self.person()
        return (a, b) if a and b and a.id != b.id else None

    def step(self) -> str:
        name = self.rng.choice(
            ["sign_up", "post", "post", "delete_post", "follow", "follow", "unfollow",
             "befriend", "befriend", "unfriend", "block", "unblock", "delete_account"]
        )  # fmt: skip
        with self.app.app_context():
            try:
                getattr(self, name)()
            except ActionError:  # refused by a rule (blocked ...): nothing written
                db.session.rollback()
        return name

    def sign_up(self):
        factories.user(username=f"p{self.rng.randrange(10**9)}")

    def post(self):
        if author := self.person():
            post_actions.create_post(author, "tea")

    def delete_post(self):
        posts = db.session.scalars(select(Post).order_by(Post.id)).all()
        if posts:
            post_actions.delete_post(self.rng.choice(posts))

    def follow(self):
        if pair := self.pair():
            social.follow(*pair)

    def unfollow(self):
        if pair := self.pair():
            social.unfollow(*pair)

    def befriend(self):
        if (pair := self.pair()) and social.send_friend_request(*pair) == "sent":
            social.accept_friend_request(pair[1], pair[0])

    def unfriend(self):
        if pair := self.pair():
            social.unfriend(*pair)

    def block(self):
        if pair := self.pair():
            social.block(*pair)

    def unblock(self):
        if pair := self.pair():
            social.unblock(*pair)

    def delete_account(self):
        # Rarely: it takes much of the small site with it.
        if self.rng.random() < 0.3 and (user := self.person()):
            accounts.delete_account(user, factories.PASSWORD)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_actions_keep_the_counts_equal_to_a_recount(app, seed):
    world = World(app, seed)
    with app.app_context():
        for _ in range(6):
            world.sign_up()
    done = [world.step() for _ in range(80)]
    assert_in_step(app)
    # Not a vacuous pass: the sequence wrote rows that the counts follow.
    assert {"post", "follow", "befriend"} <= set(done)
    assert any(any(counts) for counts in stored(app).values())


def test_the_recount_command_mends_counts_a_bulk_load_left_wrong(app, runner, user, other_user):
    factories.write_post(app, user, "tea")
    factories.befriend(app, user, other_user)
    with app.app_context():
        db.session.execute(text("UPDATE users SET post_count = 7, friend_count = 0"))
        db.session.commit()
    result = runner.invoke(args=["counters", "recount"])
    assert result.exit_code == 0, result.output
    assert "2 users' counts were wrong" in result.output
    assert shown(app, user) == {**zeros(), "posts": 1, "friends": 1}
    assert shown(app, other_user) == {**zeros(), "friends": 1}
    # Right already: nothing to mend.
    assert "0 users' counts were wrong" in runner.invoke(args=["counters", "recount"]).output


def test_the_migration_counts_the_rows_already_there(app, user, other_user):
    """Migration 0012 fills the counts from what the site already holds."""
    import warnings

    from flask_migrate import downgrade
    from flask_migrate import upgrade

    factories.write_post(app, user, "tea")
    factories.befriend(app, user, other_user)
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        db.session.remove()
        downgrade(revision="0011")
        # Written while no trigger counts: only the migration can.
        db.session.execute(
            text("INSERT INTO follows (follower_id, followed_id, created_at) VALUES (:a, :b, :at)"),
            {"a": other_user.id, "b": user.id, "at": "2026-11-30 12:00:00"},
        )
        db.session.commit()
        upgrade()
    assert shown(app, user) == {"posts": 1, "friends": 1, "followers": 1, "following": 0}
    assert shown(app, other_user) == {"posts": 0, "friends": 1, "followers": 0, "following": 1}
    assert_in_step(app)
