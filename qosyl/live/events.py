"""The events actions publish: one small dataclass per kind, data only.

An event names its audience as Socket.IO rooms (`to`, see `qosyl/live/realtime.py` and
`qosyl/live/watching.py` for who is in which) and the tabs left out (`skip`). Its other fields
are its payload, as every client receives it; fields marked `loaded` carry the row the
action already holds, so that a subscriber rendering HTML needs no second query. They are
never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from typing import Any
from typing import ClassVar

from qosyl.live.realtime import user_room


def loaded() -> Any:
    """A row the action holds, handed to subscribers but not part of the payload."""
    return field(default=None, compare=False, repr=False, metadata={"payload": False})


@dataclass(frozen=True, kw_only=True)
class Event:
    # The Socket.IO event name clients listen for.
    name: ClassVar[str]
    to: tuple[str, ...]
    skip: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("to", "skip") and f.metadata.get("payload", True)
        }


# Chat: rooms (the lobby included) and conversations


@dataclass(frozen=True, kw_only=True)
class ChatMessageSent(Event):
    kind: str  # "room" or "conversation"
    stream_id: int
    id: int
    author_id: int
    message: Any = loaded()

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.kind}:message"


@dataclass(frozen=True, kw_only=True)
class ChatMessageEdited(Event):
    kind: str
    stream_id: int
    id: int
    message: Any = loaded()

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.kind}:message-updated"


@dataclass(frozen=True, kw_only=True)
class ChatMessageDeleted(Event):
    kind: str
    stream_id: int
    id: int

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.kind}:message-deleted"


@dataclass(frozen=True, kw_only=True)
class ConversationRead(Event):
    name: ClassVar[str] = "conversation:read"
    conversation_id: int
    reader_id: int
    up_to_id: int


@dataclass(frozen=True, kw_only=True)
class RoomClosed(Event):
    name: ClassVar[str] = "room:closed"
    room_id: int


@dataclass(frozen=True, kw_only=True)
class RemovedFromRoom(Event):
    name: ClassVar[str] = "room:removed"
    room_id: int
    room_name: str
    lobby: bool


@dataclass(frozen=True, kw_only=True)
class ConversationMembersChanged(Event):
    name: ClassVar[str] = "conversation:members"
    conversation_id: int


@dataclass(frozen=True, kw_only=True)
class ConversationRenamed(Event):
    name: ClassVar[str] = "conversation:renamed"
    conversation_id: int
    conversation_name: str


@dataclass(frozen=True, kw_only=True)
class RemovedFromConversation(Event):
    name: ClassVar[str] = "conversation:removed"
    conversation_id: int


# Posts


@dataclass(frozen=True, kw_only=True)
class PostCountsChanged(Event):
    name: ClassVar[str] = "post:counts"
    post_id: int
    like_count: int
    comment_count: int
    post: Any = loaded()


@dataclass(frozen=True, kw_only=True)
class CommentAdded(Event):
    """Ids only: each viewer fetches the comment over HTTP, where their blocks apply."""

    name: ClassVar[str] = "comment"
    post_id: int
    id: int
    parent_id: int | None


@dataclass(frozen=True, kw_only=True)
class CommentsDeleted(Event):
    name: ClassVar[str] = "comment:deleted"
    post_id: int
    ids: list[int]


# People


@dataclass(frozen=True, kw_only=True)
class NotificationAdded(Event):
    """No HTML for anyone: list items carry forms with the recipient's own CSRF token, so
    tabs refetch the list over HTTP when they hear of it."""

    name: ClassVar[str] = "notification"
    id: int
    kind: str
    text: str
    url: str


@dataclass(frozen=True, kw_only=True)
class FriendRequestSent(Event):
    """For API clients (browsers hear of it through the notification and their friend
    lists' refetch)."""

    name: ClassVar[str] = "friend_request"
    id: int
    sender_id: int
    sender: Any = loaded()


@dataclass(frozen=True, kw_only=True)
class ProfilePictureChanged(Event):
    name: ClassVar[str] = "profile:picture"
    user_id: int
    user: Any = loaded()


@dataclass(frozen=True, kw_only=True)
class Changed(Event):
    """Something that reads differently for each viewer changed (a badge, a list of
    friends, of conversations, of participants ...): their tabs refetch it over HTTP.
    `what` is the name regions listen for (`hx-trigger="<what> from:body"`)."""

    name: ClassVar[str] = "trigger"
    what: str

    @classmethod
    def for_users(cls, what: str, user_ids) -> Changed:
        """Every open tab of these users refetches `what`."""
        return cls(what=what, to=tuple(user_room(user_id) for user_id in user_ids))


# Meetings


@dataclass(frozen=True, kw_only=True)
class MeetingStarted(Event):
    """To the members of the room or conversation it is for (a live notice with a Join
    link); `meeting_id` is the public id links use."""

    name: ClassVar[str] = "meeting:started"
    meeting_id: str
    host_id: int
    host_name: str
    room_id: int | None
    conversation_id: int | None


@dataclass(frozen=True, kw_only=True)
class MeetingEnded(Event):
    """To the meeting's participants (its Socket.IO room) and to those told it started."""

    name: ClassVar[str] = "meeting:ended"
    meeting_id: str
    room_id: int | None
    conversation_id: int | None
