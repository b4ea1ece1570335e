"""The "live:watch" event: a tab says what it has on screen, to hear of changes to it.

{"posts": [post ids], "room": room id or null} replaces what the tab watched before. Each
post passes the rule access_post applies (visible_post_ids, one query) and the room the one
access_room applies; what does not pass is left out silently, as the page would not show it.
The answer lists what the tab now watches.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user
from flask_socketio import join_room
from flask_socketio import leave_room

from qosyl.errors import NotFound
from qosyl.live.sockets import signed_in_event
from qosyl.live.watching import MAX_WATCHED_POSTS
from qosyl.live.watching import post_room
from qosyl.live.watching import room_people
from qosyl.reads.access import access_room
from qosyl.reads.access import visible_post_ids
from qosyl.web.inputs import event_int

MALFORMED = {"error": 'Send {"posts": [post ids], "room": a room id or null}.'}
TOO_MANY = {"error": f"Watch at most {MAX_WATCHED_POSTS} posts at once."}
# Kept in the socket's own session, to leave what is no longer on screen.
WATCHED_POSTS = "watched_posts"
WATCHED_ROOM = "watched_room"


def _ids(value) -> set[int] | None:
    if not isinstance(value, list):
        return None
    ids = {event_int(item) for item in value}
    return None if None in ids else ids


def _room_id(value) -> int | None:
    """The room to watch if it exists; None for none (or one that does not exist)."""
    room_id = event_int(value)
    if room_id is None:
        return None
    try:
        return access_room(current_user, room_id).id
    except NotFound:
        return None


@signed_in_event("live:watch")
def watch(data=None):
    if not isinstance(data, dict) or not data.keys() <= {"posts", "room"}:
        return MALFORMED
    raw_posts = data.get("posts", [])
    if isinstance(raw_posts, list) and len(raw_posts) > MAX_WATCHED_POSTS:
        return TOO_MANY
    wanted = _ids(raw_posts)
    raw_room = data.get("room")
    if wanted is None or (raw_room is not None and event_int(raw_room) is None):
        return MALFORMED

    posts = visible_post_ids(current_user, wanted)
    before = set(session.get(WATCHED_POSTS, ()))
    for post_id in before - posts:
        leave_room(post_room(post_id))
    for post_id in posts - before:
        join_room(post_room(post_id))
    session[WATCHED_POSTS] = sorted(posts)

    room_id = _room_id(raw_room)
    previous = session.get(WATCHED_ROOM)
    if previous is not None and previous != room_id:
        leave_room(room_people(previous))
    if room_id is not None:
        join_room(room_people(room_id))
    session[WATCHED_ROOM] = room_id
    return {"ok": True, "posts": sorted(posts), "room": room_id}
