"""The kinds of notification, their wording and their label in settings."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import escape
from markupsafe import Markup


@dataclass(frozen=True)
class NotificationKind:
    name: str
    label: str  # in the settings list of what to receive
    sentence: str  # follows the actor's name, or stands alone when there is no actor


KINDS: dict[str, NotificationKind] = {
    kind.name: kind
    for kind in (
        NotificationKind("friend_request", "Friend requests", "sent you a friend request."),
        NotificationKind(
            "friend_accept", "Accepted friend requests", "accepted your friend request."
        ),
        NotificationKind("follow", "New followers", "started following you."),
        NotificationKind("like", "Likes on your posts", "liked your post."),
        NotificationKind("comment", "Comments on your posts", "commented on your post."),
        NotificationKind("reply", "Replies to your comments", "replied to your comment."),
        NotificationKind("mention", "Mentions", "mentioned you."),
        NotificationKind("group_invite", "Group invitations", "invited you to a group."),
        NotificationKind(
            "message", "Messages while the conversation is closed", "sent you a message."
        ),
        NotificationKind(
            "welcome",
            "Welcome and tips",
            "Welcome to Qosyl! Your profile is ready: find people to follow and rooms to join.",
        ),
    )
}


def sentence_html(kind: str, actor_name: str | None) -> Markup:
    text = KINDS[kind].sentence
    if actor_name:
        return Markup("<strong>{}</strong> {}").format(actor_name, text)
    return escape(text)


def sentence_text(kind: str, actor_name: str | None) -> str:
    text = KINDS[kind].sentence
    return f"{actor_name} {text}" if actor_name else text
