"""What each tab has on screen, for pushes that concern only those who see it.

A tab tells the server (the "live:watch" event) which posts it shows and which chat room's
participants; the server checks each against the access helpers and puts the tab in one
Socket.IO room per thing watched. Actions publish to those rooms after commit:
- ``post_room``: a post's counts (the same markup for every viewer) and its new or deleted
  comments (ids only: each viewer fetches a new comment over HTTP, where access_comment
  applies the blocks of that viewer);
- ``room_people``: a trigger that makes the participant lists refetch.
"""

from __future__ import annotations

from qosyl.live.bus import publish
from qosyl.live.events import Changed

# A page of the feed holds 20 posts and infinite scroll appends more: a tab watching more
# than this has scrolled far; the posts it showed first stop changing live.
MAX_WATCHED_POSTS = 100
PARTICIPANTS_EVENT = "participants-changed"


def post_room(post_id: int) -> str:
    return f"post:{post_id}"


def room_people(room_id: int) -> str:
    return f"room-people:{room_id}"


def participants_changed(room_id: int) -> None:
    """Open participant lists of the room refetch (after commit)."""
    publish(Changed(what=PARTICIPANTS_EVENT, to=(room_people(room_id),)))
