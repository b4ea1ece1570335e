"""Posts, the feed, comments and tags.

Each query carries the eager loads its page needs.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import joinedload

from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Follow
from qosyl.models import Friendship
from qosyl.models import Hashtag
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostLike
from qosyl.reads.people import blocked_ids

# The feed looks for a page among the site's newest this many posts first (see feed_page).
FEED_WINDOW = 2000


def _visible_posts(viewer_id: int):
    """Posts, minus those of anyone in a block with the viewer."""
    return select(Post).where(Post.author_id.not_in(blocked_ids(viewer_id)))


def _page(query, before: int | None, limit: int) -> tuple[list[Post], int | None]:
    """A page of posts newest first, with the cursor for the next page.

    The ids come first, from the (author_id, id) index alone; only the page's rows are then
    read with their authors. Reading and sorting every matching row with its author before
    cutting the page cost 3x more on a feed of 200 followed authors (bench/feed.py).
    """
    ids = query.with_only_columns(Post.id).order_by(Post.id.desc()).limit(limit + 1)
    if before is not None:
        ids = ids.where(Post.id < before)
    return _posts_of(ids, limit)


def _posts_of(ids, limit: int) -> tuple[list[Post], int | None]:
    """The posts of a SELECT of at most limit + 1 ids, newest first, and the next cursor."""
    rows = list(
        db.session.scalars(
            select(Post)
            # Every card shows its author: load them in the same query.
            .options(joinedload(Post.author))
            .where(Post.id.in_(ids.scalar_subquery()))
            .order_by(Post.id.desc())
        ).unique()
    )
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def feed_page(viewer_id: int, before: int | None = None, limit: int = 20):
    """The viewer's own posts and those of people they follow or befriended, newest first.

    One query, which first looks at the site's newest FEED_WINDOW posts (before the
    cursor): when the viewer's authors wrote a page of them, the page comes from there.
    Reading every post of the authors to keep the newest took 51 ms for someone with 3,000
    friends (78,667 posts, bench/scale.py); the window, 4 ms. Otherwise (few authors, or
    quiet ones) the posts older than the window come from the (author_id, id) index as
    before: the authors then wrote under limit / FEED_WINDOW of the posts, few to read.
    """
    authors = (
        select(Follow.followed_id.label("id"))
        .where(Follow.follower_id == viewer_id)
        .union(
            select(Friendship.friend_id).where(Friendship.user_id == viewer_id),
            select(literal(viewer_id)),
        )
        .cte("authors")
    )
    hidden = blocked_ids(viewer_id)
    recent = select(Post.id, Post.author_id).order_by(Post.id.desc()).limit(FEED_WINDOW)
    if before is not None:
        recent = recent.where(Post.id < before)
    recent = recent.cte("recent")
    hits = (
        select(recent.c.id)
        .where(recent.c.author_id.in_(select(authors.c.id)), recent.c.author_id.not_in(hidden))
        .cte("hits")
    )
    older = select(Post.id).where(
        Post.author_id.in_(select(authors.c.id)),
        Post.author_id.not_in(hidden),
        # Below the window (an empty window: no posts there, NULL matches nothing) ...
        Post.id < select(func.min(recent.c.id)).scalar_subquery(),
        # ... and only when the window lacks a page: otherwise PostgreSQL skips this part.
        select(func.count()).select_from(hits).scalar_subquery() <= limit,
    )
    feed = union_all(select(hits.c.id), older).subquery("feed")
    return _posts_of(select(feed.c.id).order_by(feed.c.id.desc()).limit(limit + 1), limit)


def posts_by(author_id: int, viewer_id: int, before: int | None = None, limit: int = 20):
    return _page(_visible_posts(viewer_id).where(Post.author_id == author_id), before, limit)


def hashtag_posts(tag: str, viewer_id: int, before: int | None = None, limit: int = 20):
    tagged = (
        select(PostHashtag.post_id)
        .join(Hashtag, Hashtag.id == PostHashtag.hashtag_id)
        .where(Hashtag.name == tag.lower())
    )
    return _page(_visible_posts(viewer_id).where(Post.id.in_(tagged)), before, limit)


def liked_post_ids(viewer_id: int, post_ids: list[int]) -> set[int]:
    """Which of these posts the viewer likes: one query for a whole page."""
    if not post_ids:
        return set()
    return set(
        db.session.scalars(
            select(PostLike.post_id).where(
                PostLike.user_id == viewer_id, PostLike.post_id.in_(post_ids)
            )
        )
    )


def tags_of(post_ids: list[int]) -> dict[int, list[str]]:
    """The hashtags of each of these posts, alphabetically: one query for a whole page (the
    pages show tags inside the rendered body; the API lists them)."""
    tags: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return tags
    rows = db.session.execute(
        select(PostHashtag.post_id, Hashtag.name)
        .join(Hashtag, Hashtag.id == PostHashtag.hashtag_id)
        .where(PostHashtag.post_id.in_(post_ids))
        .order_by(Hashtag.name)
    )
    for post_id, name in rows:
        tags[post_id].append(name)
    return tags


def comment_thread(
    post_id: int, viewer_id: int, *, after: int | None = None, limit: int | None = None
) -> list[Comment]:
    """Top-level comments oldest first, each with `.replies` (oldest first); one query.

    Comments by anyone in a block with the viewer are left out, with their replies. A
    deleted comment kept for its replies (no author) stays.

    With `limit`, only the first limit + 1 top-level comments after the one with id `after`
    come (with all their replies), so the caller can tell whether more follow; the page
    loads them all.
    """
    visible = or_(Comment.author_id.is_(None), Comment.author_id.not_in(blocked_ids(viewer_id)))
    query = (
        select(Comment)
        # Each comment shows its author.
        .options(joinedload(Comment.author))
        .where(Comment.post_id == post_id, visible)
        .order_by(Comment.id)
    )
    if limit is not None:
        tops = (
            select(Comment.id)
            .where(Comment.post_id == post_id, Comment.parent_id.is_(None), visible)
            .order_by(Comment.id)
            .limit(limit + 1)
        )
        if after is not None:
            tops = tops.where(Comment.id > after)
        page = tops.scalar_subquery()
        query = query.where(or_(Comment.id.in_(page), Comment.parent_id.in_(page)))
    rows = db.session.scalars(query).all()
    top = [comment for comment in rows if comment.parent_id is None]
    by_id = {comment.id: comment for comment in top}
    for comment in top:
        comment.replies = []
    for comment in rows:
        if comment.parent_id in by_id:
            by_id[comment.parent_id].replies.append(comment)
    return top


def trending_hashtags(limit: int = 8) -> list[tuple[str, int]]:
    """Tags on the most of the latest 1,000 posts."""
    recent = select(Post.id).order_by(Post.id.desc()).limit(1000).subquery()
    uses = func.count(PostHashtag.post_id)
    return [
        (name, count)
        for name, count in db.session.execute(
            select(Hashtag.name, uses)
            .join(PostHashtag, PostHashtag.hashtag_id == Hashtag.id)
            .where(PostHashtag.post_id.in_(select(recent.c.id)))
            .group_by(Hashtag.name)
            .order_by(uses.desc(), Hashtag.name)
            .limit(limit)
        )
    ]
