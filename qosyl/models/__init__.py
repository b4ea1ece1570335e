"""All models, imported here so Alembic and the app see the whole schema."""

from qosyl.models.meeting import Meeting
from qosyl.models.message import Attachment
from qosyl.models.message import Conversation
from qosyl.models.message import ConversationKind
from qosyl.models.message import ConversationMember
from qosyl.models.message import MemberStatus
from qosyl.models.message import Message
from qosyl.models.notification import Notification
from qosyl.models.notification import NotificationMute
from qosyl.models.post import Comment
from qosyl.models.post import Hashtag
from qosyl.models.post import Post
from qosyl.models.post import PostHashtag
from qosyl.models.post import PostLike
from qosyl.models.post import PostMention
from qosyl.models.rollups import ActiveDay
from qosyl.models.rollups import ActivityCount
from qosyl.models.room import Room
from qosyl.models.room import RoomMember
from qosyl.models.room import RoomMembershipEvent
from qosyl.models.room import RoomMessage
from qosyl.models.room import Topic
from qosyl.models.social import Block
from qosyl.models.social import Follow
from qosyl.models.social import FriendRequest
from qosyl.models.social import Friendship
from qosyl.models.user import LoginSession
from qosyl.models.user import User

__all__ = [
    "ActiveDay",
    "ActivityCount",
    "Attachment",
    "Block",
    "Comment",
    "Conversation",
    "ConversationKind",
    "ConversationMember",
    "Follow",
    "FriendRequest",
    "Friendship",
    "Hashtag",
    "LoginSession",
    "Meeting",
    "MemberStatus",
    "Message",
    "Notification",
    "NotificationMute",
    "Post",
    "PostHashtag",
    "PostLike",
    "PostMention",
    "Room",
    "RoomMember",
    "RoomMembershipEvent",
    "RoomMessage",
    "Topic",
    "User",
]
