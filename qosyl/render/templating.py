"""Helpers templates call: image URLs, times, the bell count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import UTC
from functools import lru_cache
from urllib.parse import quote

import pycountry
from flask import Flask
from flask import g
from flask.globals import _cv_request
from flask_login import current_user
from markupsafe import escape
from markupsafe import Markup

from qosyl.actions.chat import EDIT_WINDOW
from qosyl.live.watching import MAX_WATCHED_POSTS
from qosyl.notification_kinds import sentence_html
from qosyl.reads.notifications import header_badges
from qosyl.render import markup
from qosyl.render import media
from qosyl.render.chat_markup import message_html
from qosyl.render.chat_markup import messages_html


def avatar_url(user, variant: str = "thumb") -> str | None:
    return media.image_url("avatar", user.avatar_key, variant)


# Background colours for avatars without a photo, picked by user id.
AVATAR_COLOURS = (
    "#0f766e",
    "#7c3aed",
    "#b45309",
    "#be185d",
    "#1d4ed8",
    "#15803d",
    "#9f1239",
    "#4338ca",
)


@lru_cache(maxsize=4096)
def _initials_svg(initials: str, colour: str) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" fill="{colour}"/>'
        '<text x="48" y="50" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui,sans-serif" font-size="40" font-weight="700">'
        f"{escape(initials)}</text></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


def initials_avatar(user) -> str:
    """A picture of the user's initials, as an image: no text in the page to misread."""
    return _initials_svg(user.initials, AVATAR_COLOURS[user.id % len(AVATAR_COLOURS)])


def cover_url(user, variant: str = "display") -> str | None:
    return media.image_url("cover", user.cover_key, variant)


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else ""


def _header_counts() -> tuple[int, int]:
    """Unread notifications and messages of the signed-in user, counted once per request."""
    if "header_counts" not in g:
        g.header_counts = header_badges(current_user.id)
    return g.header_counts


def bell_count() -> int:
    return _header_counts()[0]


def unread_messages() -> int:
    return _header_counts()[1]


def ago(moment: datetime) -> str:
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            if unit == "day" and count > 30:
                return moment.strftime("%-d %b %Y")
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def time_tag(moment: datetime) -> Markup:
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC"), ago(moment)
    )


def filesize(size: int) -> str:
    """Bytes as people read them: 340 bytes, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    return media.limit_text(size) if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def csrf_field() -> Markup:
    """The hidden CSRF input of a hand-made form (WTForms forms have form.hidden_tag())."""
    # Once per request: a feed page has a form per card, and generate_csrf (which keeps
    # the token in g as well) costs several lookups a call.
    if "csrf_field" not in g:
        from flask_wtf.csrf import generate_csrf

        token = generate_csrf()
        g.csrf_field = Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)
    return g.csrf_field


class PostCardParts:
    """The parts of a post card that read the same for every viewer, rendered once per
    content and remembered in this process (macros/posts.html).

    The key holds every value those parts show (the post's text, photo and counters; its
    author's names, username and photo; the script root its links start with), so an
    edit, a like, a rename or a new photo, made in this process or any other, makes a new
    key: nothing to invalidate, and a stale entry is never found again. Oldest entries go
    first once there are `size`.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.parts: dict[tuple, Markup] = {}

    def __call__(self, part: str, post, render: Callable[[object], str]) -> Markup:
        author = post.author
        context = _cv_request.get(None)
        key = (
            part,
            context.request.root_path if context else None,
            post.id,
            post.body_html,
            post.image_key,
            post.like_count,
            post.comment_count,
            author.id,
            author.username,
            author.first_name,
            author.last_name,
            author.avatar_key,
        )
        markup = self.parts.get(key)
        if markup is None:
            markup = self.parts[key] = Markup(render(post))
            if len(self.parts) > self.size:
                self.parts.pop(next(iter(self.parts)), None)
        return markup


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        # A global, not only the context processor's: imported macros see it too.
        current_user=current_user,
        avatar_url=avatar_url,
        initials_avatar=initials_avatar,
        cover_url=cover_url,
        country_name=country_name,
        bell_count=bell_count,
        unread_messages=unread_messages,
        notification_sentence=lambda n: sentence_html(
            n.kind, n.actor.full_name if n.actor else None
        ),
        image_url=media.image_url,
        limit_text=media.limit_text,
        csrf_field=csrf_field,
        chat_edit_window_seconds=int(EDIT_WINDOW.total_seconds()),
        watched_posts_limit=MAX_WATCHED_POSTS,
        message_html=message_html,
        messages_html=messages_html,
        # One per app: apps in one process (tests) may be configured differently.
        post_card_part=PostCardParts(),
    )
    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["plain_text"] = markup.plain_text
