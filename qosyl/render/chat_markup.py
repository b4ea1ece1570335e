"""A chat message's markup, rendered once and kept while it stays what it shows.

The markup is the same for every reader (per-reader controls come from data attributes:
templates/macros/chat.html), so a message broadcast once is listed again, on the room page,
the home page's lobby and every history page, from here. Rendering it was a quarter of the
home page's time (cProfile: six macro calls, three url_for and an avatar per message).

The key holds everything the markup shows that can change: the message's text, time and
edit time, its author's `updated_at` (name and avatar; bumped by every change of the row), its
files, and the script root its links start with. A change made by any process therefore
gives a new key when the row is read again: nothing is forgotten explicitly, and no process
serves another's stale copy. Old keys fall out of the least-recently-used end.
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import urlsplit

from flask import current_app
from flask.globals import _cv_request
from markupsafe import Markup

CACHED_MESSAGES = 4096


class _Recent:
    """A least-recently-used map. Green threads switch only at I/O, never inside these
    methods, so no lock is needed."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[tuple, Markup] = OrderedDict()

    def get(self, key: tuple) -> Markup | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple, value: Markup) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_recent = _Recent(CACHED_MESSAGES)


def _link_root() -> str:
    """The path the markup's links start with: the request's script root, or outside a
    request (a broadcast from an action run elsewhere) PUBLIC_URL's path, as Qosyl.url_for
    builds them there."""
    context = _cv_request.get(None)
    if context is not None:
        return context.request.root_path
    return urlsplit(current_app.config.get("PUBLIC_URL") or "").path.rstrip("/")


def _key(message) -> tuple:
    author = message.author
    files = (
        tuple((f.id, f.thumbnail_name) for f in message.attachments)
        if message.kind == "conversation"
        else ()
    )
    return (
        _link_root(),
        message.kind,
        message.id,
        # SQLite gives a deleted last row's id to the next row: the id alone could find a
        # deleted message's markup. Its time and text tell them apart.
        message.created_at,
        message.body_html,
        getattr(message, "edited_at", None),  # conversation messages are not edited
        author.id,
        author.updated_at,
        files,
    )


# Consecutive messages by one person within this many seconds sit under one name and
# picture; chat/render.js's regroup() applies the same rule to the data-sent seconds.
GROUP_WITHIN_SECONDS = 5 * 60
_ITEM_START = '<li class="message"'
_CONTINUED_START = '<li class="message message--continued"'
_NOTHING = Markup("")


def message_html(message, *, continued: bool = False) -> Markup:
    """The message's list item (macros/chat.html message_item), from the cache if its key
    is there; `continued` when it sits under the previous message's name and picture."""
    key = _key(message)
    if continued:
        key = (*key, "continued")
    found = _recent.get(key)
    if found is None:
        if continued:
            found = Markup(str.replace(message_html(message), _ITEM_START, _CONTINUED_START, 1))
        else:
            macros = current_app.jinja_env.get_template("macros/chat.html").module
            found = Markup(macros.message_item(message))
        _recent.put(key, found)
    return found


def messages_html(messages) -> Markup:
    """A page of messages, oldest first, already grouped as chat/render.js groups them.
    Grouped only by the script, the list shrank by a picture and a name per grouped message
    after the first paint: Lighthouse counted a layout shift of 0.17 on the home page."""
    parts = []
    previous = None
    for message in messages:
        parts.append(message_html(message, continued=_continues(previous, message)))
        previous = message
    return _NOTHING.join(parts)


def _continues(previous, message) -> bool:
    return (
        previous is not None
        and previous.author_id == message.author_id
        and int(message.created_at.timestamp()) - int(previous.created_at.timestamp())
        < GROUP_WITHIN_SECONDS
    )


def forget_all() -> None:
    """Empty the cache (tests)."""
    _recent.items.clear()
