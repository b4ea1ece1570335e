"""The "live:watch" event (qosyl/blueprints/main/watch.py): a tab hears of changes to the
posts and the room participants it shows, once the access helpers allow it, and nothing else."""

from __future__ import annotations

import pytest

from qosyl.access import access_removable_comment
from qosyl.actions import posts as post_actions
from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import User
from qosyl.watching import MAX_WATCHED_POSTS
from tests.factories import block
from tests.factories import like_post
from tests.factories import make_room
from tests.factories import with_room
from tests.factories import write_comment
from tests.factories import write_post
from tests.helpers import count_queries
from tests.helpers import signed_in_tab

MALFORMED = {"error": 'Send {"posts": [post ids], "room": a room id or null}.'}


def received(socket, name: str) -> list[dict]:
    return [e["args"][0] for e in socket.get_received() if e["name"] == name]


def test_watchers_of_a_post_hear_its_counts_and_comments(app, user, other_user, make_user):
    post_id = write_post(app, user, "hello")
    other_post = write_post(app, user, "another")
    bob = signed_in_tab(app, other_user)
    carol = signed_in_tab(app, make_user(username="carol"))
    assert bob.emit("live:watch", {"posts": [post_id, 999999], "room": None}, callback=True) == {
        "ok": True,
        "posts": [post_id],  # what does not exist is left out
        "room": None,
    }
    assert carol.emit("live:watch", {"posts": [other_post]}, callback=True)["ok"]
    bob.get_received()
    carol.get_received()

    like_post(app, make_user(username="dan"), post_id)
    comment_id = write_comment(app, other_user, post_id, "nice")
    counts = received(bob, "html")
    assert [c["target"] for c in counts] == [f"#post-{post_id}-stats"] * 2
    assert "1 like<" in counts[-1]["html"] and "1 comment<" in counts[-1]["html"]
    assert received(bob, "comment") == []  # get_received emptied the queue above
    assert carol.get_received() == []  # she watches another post

    # Watching again replaces the list: Bob now hears the other post only.
    assert bob.emit("live:watch", {"posts": [other_post]}, callback=True)["posts"] == [other_post]
    write_comment(app, user, post_id, "unheard")
    assert bob.get_received() == []
    bob.emit("live:watch", {"posts": [post_id]}, callback=True)
    bob.get_received()
    with app.test_request_context():
        target, post = access_removable_comment(db.session.get(User, user.id), comment_id)
        post_actions.delete_comment(target, post)
    assert received(bob, "comment:deleted") == [{"post_id": post_id, "ids": [comment_id]}]


def test_a_new_comment_is_announced_by_ids_with_its_parent(app, user, other_user):
    post_id = write_post(app, user, "hello")
    top = write_comment(app, user, post_id, "first")
    bob = signed_in_tab(app, other_user)
    bob.emit("live:watch", {"posts": [post_id]}, callback=True)
    reply = write_comment(app, user, post_id, "a reply", parent_id=top)
    assert received(bob, "comment") == [{"post_id": post_id, "id": reply, "parent_id": top}]


@pytest.mark.parametrize("bob_blocks", [True, False])
def test_a_comment_by_someone_in_a_block_is_not_announced(
    app, user, other_user, make_user, bob_blocks
):
    post_id = write_post(app, user, "hello")
    carol = make_user(username="carol")
    bob = signed_in_tab(app, other_user)
    assert bob.emit("live:watch", {"posts": [post_id]}, callback=True)["posts"] == [post_id]
    block(app, *((other_user, carol) if bob_blocks else (carol, other_user)))
    bob.get_received()
    write_comment(app, carol, post_id, "unseen")
    # The count changes for Bob; the comment itself is not even announced to his tab.
    events = bob.get_received()
    assert [e["name"] for e in events] == ["html"]
    assert "1 comment<" in events[0]["args"][0]["html"]


@pytest.mark.parametrize("blocker_is_author", [True, False])
def test_a_post_behind_a_block_is_not_watched(app, user, other_user, blocker_is_author):
    post_id = write_post(app, user, "hello")
    if blocker_is_author:
        block(app, user, other_user)
    else:
        block(app, other_user, user)
    bob = signed_in_tab(app, other_user)
    assert bob.emit("live:watch", {"posts": [post_id]}, callback=True)["posts"] == []
    bob.get_received()
    like_post(app, user, post_id)
    assert bob.get_received() == []


def test_a_block_after_watching_stops_the_counts_once_the_tab_asks_again(app, user, other_user):
    post_id = write_post(app, user, "hello")
    bob = signed_in_tab(app, other_user)
    assert bob.emit("live:watch", {"posts": [post_id]}, callback=True)["posts"] == [post_id]
    block(app, user, other_user)
    # The block tells Bob's tabs that relations changed; live.js then watches again.
    assert {"name": "relations-changed"} in received(bob, "trigger")
    assert bob.emit("live:watch", {"posts": [post_id]}, callback=True)["posts"] == []
    like_post(app, user, post_id)
    assert received(bob, "html") == []


@pytest.mark.parametrize(
    "data",
    [
        None,
        "posts",
        [1, 2],
        {"posts": "1,2"},
        {"posts": [1, "2"]},
        {"posts": [1.5]},
        {"posts": [True]},
        {"posts": [-1]},
        {"posts": [2**40]},
        {"posts": [], "room": "1"},
        {"posts": [], "room": True},
        {"posts": [], "extra": 1},
    ],
)
def test_malformed_watch_lists_are_refused_with_a_message(app, user, data):
    tab = signed_in_tab(app, user)
    assert tab.emit("live:watch", data, callback=True) == MALFORMED


def test_an_oversized_list_is_refused(app, user):
    tab = signed_in_tab(app, user)
    reply = tab.emit("live:watch", {"posts": list(range(1, MAX_WATCHED_POSTS + 2))}, callback=True)
    assert reply == {"error": f"Watch at most {MAX_WATCHED_POSTS} posts at once."}
    reply = tab.emit("live:watch", {"posts": list(range(1, MAX_WATCHED_POSTS + 1))}, callback=True)
    assert reply["ok"]


def test_an_anonymous_socket_is_refused(app):
    socket = socketio.test_client(app, flask_test_client=app.test_client())
    assert not socket.is_connected()


def test_the_watch_list_is_checked_in_one_query(app, user):
    post_ids = [write_post(app, user, f"post {n}") for n in range(30)]
    tab = signed_in_tab(app, user)
    with count_queries(app) as queries:
        assert len(tab.emit("live:watch", {"posts": post_ids}, callback=True)["posts"]) == 30
    # Loading the signed-in user, then the posts.
    assert len(queries) <= 2, str(queries)


def test_room_watchers_hear_when_people_join_leave_or_are_removed(app, user, other_user, make_user):
    room_id = make_room(app, user)
    carol = make_user(username="carol")
    watcher = signed_in_tab(app, carol)
    assert watcher.emit("live:watch", {"posts": [], "room": room_id}, callback=True) == {
        "ok": True,
        "posts": [],
        "room": room_id,
    }
    assert watcher.emit("live:watch", {"room": 999999}, callback=True)["room"] is None
    assert watcher.emit("live:watch", {"room": room_id}, callback=True)["room"] == room_id
    watcher.get_received()

    changed = {"name": "participants-changed"}
    with_room(app, room_id, room_actions.join, other_user)
    assert received(watcher, "trigger") == [changed]
    with_room(app, room_id, room_actions.leave, other_user)
    assert received(watcher, "trigger") == [changed]
    with_room(app, room_id, room_actions.join, other_user)
    watcher.get_received()
    with_room(app, room_id, room_actions.remove_member, other_user)
    assert received(watcher, "trigger") == [changed]
    with_room(app, room_id, room_actions.readmit_member, other_user)
    assert received(watcher, "trigger") == [changed]

    # Watching no room any more: nothing.
    watcher.emit("live:watch", {"posts": []}, callback=True)
    with_room(app, room_id, room_actions.leave, other_user)
    assert received(watcher, "trigger") == []
