"""All models, imported here so Alembic and the app see the whole schema."""

from qosyl.models.notification import Notification
from qosyl.models.notification import NotificationMute
from qosyl.models.post import Comment
from qosyl.models.post import Hashtag
from qosyl.models.post import Post
from qosyl.models.post import PostHashtag
from qosyl.models.post import PostLike
from qosyl.models.post import PostMention
from qosyl.models.room import Room
from qosyl.models.room import RoomMember
from qosyl.models.room import RoomMessage
from qosyl.models.room import Topic
from qosyl.models.social import Block
from qosyl.models.social import Follow
from qosyl.models.social import FriendRequest
from qosyl.models.social import Friendship
from qosyl.models.user import User

__all__ = [
    "Block",
    "Comment",
    "Follow",
    "FriendRequest",
    "Friendship",
    "Hashtag",
    "Notification",
    "NotificationMute",
    "Post",
    "PostHashtag",
    "PostLike",
    "PostMention",
    "Room",
    "RoomMember",
    "RoomMessage",
    "Topic",
    "User",
]
