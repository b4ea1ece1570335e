"""The browser's subscriber: each event becomes the push `static/js/realtime.js` and
`static/js/chat/` read, with the HTML a tab swaps in rendered here, once per broadcast.

Markup is the same for every recipient; per-viewer controls come from data attributes
(`data-author-id` against `<body data-user-id>`), and the server checks every action again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template

from qosyl.live import events
from qosyl.live import realtime
from qosyl.live.bus import Delivery
from qosyl.live.realtime import Push

Wire = tuple[str, dict[str, Any]]
_formats: dict[type[events.Event], Callable[[Any], Wire]] = {}


def _format(kind: type[events.Event]):
    def register(fn):
        _formats[kind] = fn
        return fn

    return register


# Events only API clients hear (qosyl/live/api.py); browsers learn of them otherwise.
NOT_FOR_BROWSERS = (events.FriendRequestSent,)


def deliver(event: events.Event) -> Delivery | None:
    """Render now (inside the transaction), emit after the commit."""
    if not event.to or isinstance(event, NOT_FOR_BROWSERS):
        return None
    fmt = _formats.get(type(event))
    name, data = fmt(event) if fmt else (event.name, event.payload())
    # One room as a string, as Push has always been written for one audience.
    to = event.to[0] if len(event.to) == 1 else list(event.to)
    push = Push(name, data, to, event.skip)
    return lambda: realtime.emit(push)


def render_chat_message(message) -> str:
    """One markup for a message of any stream (rooms, the lobby, conversations)."""
    return render_template("components/_message.html", message=message)


def _stream_fields(event) -> dict[str, Any]:
    return {f"{event.kind}_id": event.stream_id, "id": event.id}


@_format(events.ChatMessageSent)
def _sent(event: events.ChatMessageSent) -> Wire:
    html = render_chat_message(event.message)
    return event.name, {**_stream_fields(event), "author_id": event.author_id, "html": html}


@_format(events.ChatMessageEdited)
def _edited(event: events.ChatMessageEdited) -> Wire:
    return event.name, {
        **_stream_fields(event),
        "html": render_chat_message(event.message),
    }


@_format(events.ChatMessageDeleted)
def _deleted(event: events.ChatMessageDeleted) -> Wire:
    return event.name, _stream_fields(event)


@_format(events.RemovedFromRoom)
def _removed_from_room(event: events.RemovedFromRoom) -> Wire:
    return event.name, {"room_id": event.room_id, "name": event.room_name, "lobby": event.lobby}


@_format(events.ConversationRenamed)
def _renamed(event: events.ConversationRenamed) -> Wire:
    return event.name, {"conversation_id": event.conversation_id, "name": event.conversation_name}


@_format(events.Changed)
def _changed(event: events.Changed) -> Wire:
    return "trigger", {"name": event.what}


def _html(target: str, html: str, swap: str) -> Wire:
    return "html", {"target": target, "html": html, "swap": swap}


@_format(events.PostCountsChanged)
def _post_counts(event: events.PostCountsChanged) -> Wire:
    # The counts read the same for everyone: one rendering for every tab showing the post.
    html = render_template("components/_post_stats.html", post=event.post)
    return _html(f"#post-{event.post_id}-stats", html, "outerHTML")


@_format(events.ProfilePictureChanged)
def _picture(event: events.ProfilePictureChanged) -> Wire:
    html = render_template("components/_header_avatar.html", user=event.user)
    return _html("#header-avatar", html, "outerHTML")
