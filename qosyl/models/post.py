"""Posts, their likes and their comments (one level of replies)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from qosyl.models.base import db
from qosyl.models.base import utcnow
from qosyl.models.user import User


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    # The body rendered by markup.render() when it was written: pages never parse markdown.
    body_html: Mapped[str] = mapped_column(Text, default="")
    image_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    # Counters kept by the actions, so a feed page needs no COUNT per post.
    like_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)

    # Lists load authors eagerly; a lazy load here would be an N+1.
    author: Mapped[User] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        Index("ix_posts_author_id_id", "author_id", "id"),
        # Insights list a person's posts of a period.
        Index("ix_posts_author_id_created_at", "author_id", "created_at"),
    )


class PostLike(db.Model):
    __tablename__ = "post_likes"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_post_likes_user_id", "user_id"),)


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # None once the author deleted their account while others had replied: the comment
    # keeps its place, emptied, as "deleted comment" above the replies (the "tombstone").
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A reply points at a top-level comment; replies to replies attach to that same parent.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]

    author: Mapped[User | None] = relationship(lazy="raise_on_sql")

    # Filled by queries.comment_thread for top-level comments; not a column.
    replies = ()

    @property
    def is_deleted(self) -> bool:
        return self.author_id is None

    __table_args__ = (
        Index("ix_comments_post_id_id", "post_id", "id"),
        Index("ix_comments_author_id", "author_id"),
        Index("ix_comments_parent_id", "parent_id"),
    )


class Hashtag(db.Model):
    __tablename__ = "hashtags"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: #Python and #python are one tag.
    name: Mapped[str] = mapped_column(String(64), unique=True)


class PostHashtag(db.Model):
    __tablename__ = "post_hashtags"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    hashtag_id: Mapped[int] = mapped_column(
        ForeignKey("hashtags.id", ondelete="CASCADE"), primary_key=True
    )

    # The hashtag page lists a tag's posts newest first.
    __table_args__ = (Index("ix_post_hashtags_hashtag_id_post_id", "hashtag_id", "post_id"),)


class PostMention(db.Model):
    """Who a post mentions: searching "@name" finds posts by them and about them."""

    __tablename__ = "post_mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_post_mentions_user_id_post_id", "user_id", "post_id"),)
