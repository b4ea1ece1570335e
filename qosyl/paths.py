"""Where things live on the site, as the paths a notification stores and a page links to.

Built from the URL map (url_for), which needs no request (see `qosyl.Qosyl`). Actions name
places through these.
"""

from __future__ import annotations

from flask import url_for


def home() -> str:
    return url_for("main.home")


def post(post_id: int) -> str:
    return url_for("posts.show", post_id=post_id)


def comment(post_id: int, comment_id: int) -> str:
    return f"{post(post_id)}#comment-{comment_id}"


def profile(username: str) -> str:
    return url_for("profiles.show", username=username)


def friend_requests() -> str:
    return url_for("people.requests")


def conversation(conversation_id: int) -> str:
    return url_for("messages.show", conversation_id=conversation_id)
