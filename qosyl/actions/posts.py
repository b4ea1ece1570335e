"""Posts, likes and comments (POST-1, POST-3, POST-4)."""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from qosyl import paths
from qosyl.actions import ActionError
from qosyl.actions import check_storable
from qosyl.actions import unproxy
from qosyl.actions.notifications import notify
from qosyl.actions.notifications import withdraw_about
from qosyl.actions.uploads import image_from
from qosyl.actions.uploads import Upload
from qosyl.extensions import db
from qosyl.live import connections
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.oncommit import on_commit
from qosyl.live.oncommit import on_rollback
from qosyl.live.watching import post_room
from qosyl.models import Comment
from qosyl.models import Hashtag
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import PostHashtag
from qosyl.models import PostLike
from qosyl.models import PostMention
from qosyl.models import RoomMessage
from qosyl.models import User
from qosyl.models.base import utcnow
from qosyl.ratelimits import COMMENTS
from qosyl.ratelimits import POSTS
from qosyl.ratelimits import too_often
from qosyl.reads.people import blocked_ids
from qosyl.render import markup
from qosyl.render import media

MAX_POST_LENGTH = 5000
MAX_COMMENT_LENGTH = 2000
EXCERPT_LENGTH = 120


def post_url(post_id: int) -> str:
    return paths.post(post_id)


def comment_url(comment: Comment) -> str:
    return paths.comment(comment.post_id, comment.id)


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _check_length(body: str, limit: int, field: str = "body") -> None:
    check_storable(body, field)
    if len(body) > limit:
        raise ActionError(f"Use at most {limit:,} characters (this has {len(body):,}).", field)


def _mentionable(author: User, text: str) -> dict[str, User]:
    """Verified people the text mentions, minus anyone in a block with the author."""
    names = {name.lower() for name in markup.mentions(text)}
    if not names:
        return {}
    users = db.session.scalars(
        select(User).where(
            func.lower(User.username).in_(names),
            User.email_verified_at.is_not(None),
            User.id.not_in(blocked_ids(author.id)),
        )
    )
    return {user.username.lower(): user for user in users}


def _render(author: User, text: str) -> tuple[str, dict[str, User]]:
    mentioned = _mentionable(author, text)

    def mention_url(name: str) -> str | None:
        user = mentioned.get(name.lower())
        return paths.profile(user.username) if user else None

    return str(markup.render(text, mention_url=mention_url)), mentioned


def _index(post: Post, mentioned: dict[str, User]) -> None:
    """Keep the post's hashtag and mention rows in step with its text."""
    db.session.execute(delete(PostHashtag).where(PostHashtag.post_id == post.id))
    db.session.execute(delete(PostMention).where(PostMention.post_id == post.id))
    tags = markup.hashtags(post.body)
    if tags:
        known = {
            name: tag_id
            for name, tag_id in db.session.execute(
                select(Hashtag.name, Hashtag.id).where(Hashtag.name.in_(tags))
            )
        }
        for name in tags:
            if name not in known:
                known[name] = _new_hashtag(name)
        db.session.add_all(PostHashtag(post_id=post.id, hashtag_id=known[name]) for name in tags)
    db.session.add_all(PostMention(post_id=post.id, user_id=user.id) for user in mentioned.values())


def _new_hashtag(name: str) -> int:
    try:
        with db.session.begin_nested():
            tag = Hashtag(name=name)
            db.session.add(tag)
        return tag.id
    except IntegrityError:  # someone else created it a moment ago
        return db.session.scalar(select(Hashtag.id).where(Hashtag.name == name))


def _notify_mentions(
    author: User,
    mentioned: dict[str, User],
    *,
    target_url: str,
    text: str,
    key: str,
    skip: set[int] = frozenset(),
) -> None:
    for user in mentioned.values():
        if user.id not in skip:
            notify(
                user,
                "mention",
                actor=author,
                target_url=target_url,
                excerpt=excerpt(text),
                dedupe_key=f"mention:{key}:{user.id}",
            )


def _store_image(image: media.ProcessedImage) -> str:
    key = media.store(image)
    on_rollback(lambda: media.delete_stored("post", key))
    return key


def create_post(author: User, body: str, image: Upload | None = None) -> Post:
    """Publish a post, with a photo if `image` is given (decoded and checked here).

    Refusals are ActionErrors: an empty or over-long body on "body", a photo that is not
    an image we take on "image" (it counts against RATELIMIT_UPLOADS), and posting over the
    author's RATELIMIT_POSTS on "body". Nothing is stored for a refused post.
    """
    body = body.strip()
    if not body and image is None:
        raise ActionError("Write something or add a photo.", "body")
    _check_length(body, MAX_POST_LENGTH)
    photo = image_from(image, media.POST_IMAGE, user_id=author.id, field="image")
    refusal = too_often(POSTS, author.id, "posting")
    if refusal:
        raise ActionError(refusal, "body")
    body_html, mentioned = _render(author, body)
    post = Post(author_id=author.id, body=body, body_html=body_html)
    if photo is not None:
        post.image_key = _store_image(photo)
    db.session.add(post)
    db.session.flush()
    set_committed_value(post, "author", unproxy(author))
    _index(post, mentioned)
    _notify_mentions(
        author, mentioned, target_url=post_url(post.id), text=body, key=f"post:{post.id}"
    )
    db.session.commit()
    return post


def edit_post(
    post: Post,
    body: str,
    image: Upload | None = None,
    remove_image: bool = False,
) -> Post:
    """Change a post's text and photo (a new one is decoded and checked here, ActionError
    on "image"). Precondition: the caller is its author.

    People mentioned for the first time are notified; those mentioned before are not again.
    """
    author = post.author
    body = body.strip()
    keeps_image = image is not None or (post.image_key and not remove_image)
    if not body and not keeps_image:
        raise ActionError("Write something or add a photo.", "body")
    _check_length(body, MAX_POST_LENGTH)
    photo = image_from(image, media.POST_IMAGE, user_id=author.id, field="image")
    old_image = post.image_key
    if photo is not None:
        post.image_key = _store_image(photo)
    elif remove_image:
        post.image_key = None
    if post.image_key != old_image and old_image:
        on_commit(lambda: media.delete_stored("post", old_image))
    if body != post.body:
        post.body_html, mentioned = _render(author, body)
        post.body = body
        _index(post, mentioned)
        _notify_mentions(
            author, mentioned, target_url=post_url(post.id), text=body, key=f"post:{post.id}"
        )
    post.edited_at = utcnow()
    db.session.commit()
    return post


def delete_post(post: Post) -> None:
    """Delete a post with its likes and comments. Precondition: the caller is its author."""
    image_key = post.image_key
    withdraw_about(post_url(post.id))
    db.session.execute(delete(Post).where(Post.id == post.id))
    on_commit(lambda: media.delete_stored("post", image_key))
    db.session.commit()


def _update_counters(post: Post, **changes) -> None:
    """Add to the post's counters in SQL (safe under concurrency) and tell its author's tabs."""
    values = {name: getattr(Post, name) + delta for name, delta in changes.items()}
    likes, comments = db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(**values)
        .returning(Post.like_count, Post.comment_count)
        .execution_options(synchronize_session=False)
    ).one()
    set_committed_value(post, "like_count", likes)
    set_committed_value(post, "comment_count", comments)
    # Tabs showing the post watch it after access_post's check (see qosyl/live/watching.py).
    publish(
        events.PostCountsChanged(
            post_id=post.id,
            like_count=likes,
            comment_count=comments,
            post=post,
            to=(post_room(post.id),),
        )
    )


def like_post(user: User, post: Post) -> bool:
    """Like a post the user can see. Liking, unliking and liking again notifies once."""
    try:
        with db.session.begin_nested():
            db.session.add(PostLike(post_id=post.id, user_id=user.id))
    except IntegrityError:
        db.session.commit()
        return False
    _update_counters(post, like_count=1)
    notify(
        post.author,
        "like",
        actor=user,
        target_url=post_url(post.id),
        excerpt=excerpt(post.body),
        dedupe_key=f"like:post:{post.id}:{user.id}",
    )
    db.session.commit()
    return True


def unlike_post(user: User, post: Post) -> bool:
    result = db.session.execute(
        delete(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == user.id)
    )
    if result.rowcount:
        _update_counters(post, like_count=-1)
    db.session.commit()
    return bool(result.rowcount)


def _tabs_in_a_block_with(user_id: int) -> tuple[str, ...]:
    """The open tabs of everyone in a block with the user, either way."""
    return tuple(
        sid for uid in db.session.scalars(blocked_ids(user_id)) for sid in connections.sids(uid)
    )


def add_comment(author: User, post: Post, body: str, parent: Comment | None = None) -> Comment:
    """Comment on a post the author can see, or reply to one of its comments.

    A reply to a reply joins its thread: threads are one level deep. The post's
    author hears of a comment, a comment's author of a reply, people of a mention;
    nobody twice for one comment. Counts against the author's RATELIMIT_COMMENTS; over it,
    ActionError on "body".
    """
    refusal = too_often(COMMENTS, author.id, "commenting")
    if refusal:
        raise ActionError(refusal, "body")
    body = body.strip()
    if not body:
        raise ActionError("Write a comment first.", "body")
    _check_length(body, MAX_COMMENT_LENGTH)
    if parent is not None:
        if parent.post_id != post.id:
            raise ActionError("That comment belongs to another post.")
        if parent.parent_id is not None:
            parent = db.session.get(Comment, parent.parent_id)
    body_html, mentioned = _render(author, body)
    comment = Comment(
        post_id=post.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        body=body,
        body_html=body_html,
    )
    db.session.add(comment)
    db.session.flush()
    set_committed_value(comment, "author", unproxy(author))
    _update_counters(post, comment_count=1)
    # Ids only: each open post page fetches the comment as its viewer, and access_comment
    # applies that viewer's blocks. Tabs of people in a block with the author are not even
    # told (a tab opened since is refused by that fetch).
    publish(
        events.CommentAdded(
            post_id=post.id,
            id=comment.id,
            parent_id=comment.parent_id,
            to=(post_room(post.id),),
            skip=_tabs_in_a_block_with(author.id),
        )
    )

    target = comment_url(comment)
    told = {author.id}
    if parent is not None and parent.author_id is not None and parent.author_id not in told:
        parent_author = db.session.get(User, parent.author_id)
        notify(
            parent_author,
            "reply",
            actor=author,
            target_url=target,
            excerpt=excerpt(body),
            dedupe_key=f"reply:{comment.id}",
        )
        told.add(parent_author.id)
    if post.author_id not in told:
        notify(
            post.author,
            "comment",
            actor=author,
            target_url=target,
            excerpt=excerpt(body),
            dedupe_key=f"comment:{comment.id}",
        )
        told.add(post.author_id)
    _notify_mentions(
        author, mentioned, target_url=target, text=body, key=f"comment:{comment.id}", skip=told
    )
    db.session.commit()
    return comment


def edit_comment(comment: Comment, body: str) -> Comment:
    """Precondition: the caller is the comment's author."""
    body = body.strip()
    if not body:
        raise ActionError("A comment cannot be empty. Delete it instead.", "body")
    _check_length(body, MAX_COMMENT_LENGTH)
    if body != comment.body:
        comment.body_html, mentioned = _render(comment.author, body)
        comment.body = body
        _notify_mentions(
            comment.author,
            mentioned,
            target_url=comment_url(comment),
            text=body,
            key=f"comment:{comment.id}",
            skip={comment.author_id},
        )
        comment.edited_at = utcnow()
    db.session.commit()
    return comment


def delete_comment(comment: Comment, post: Post) -> int:
    """Delete a comment and its replies; returns how many comments went. The last reply
    under a deleted comment takes that empty comment along: it only held their place.

    Precondition: the caller wrote the comment or owns the post.
    """
    thread = db.session.execute(
        select(Comment.id, Comment.author_id).where(
            (Comment.id == comment.id) | (Comment.parent_id == comment.id)
        )
    ).all()
    doomed = [comment.id]
    if comment.parent_id is not None and _last_reply_under_deleted(comment):
        doomed.append(comment.parent_id)
    for comment_id, _ in thread:
        withdraw_about(f"{post_url(post.id)}#comment-{comment_id}")
    db.session.execute(delete(Comment).where(Comment.id.in_(doomed)))
    gone = sum(1 for _, author_id in thread if author_id is not None)
    _update_counters(post, comment_count=-gone)
    publish(events.CommentsDeleted(post_id=post.id, ids=doomed, to=(post_room(post.id),)))
    db.session.commit()
    return gone


def _last_reply_under_deleted(reply: Comment) -> bool:
    """Is `reply` the only reply left under a comment whose author deleted their account?"""
    siblings = db.session.execute(
        select(Comment.id)
        .where(Comment.parent_id == reply.parent_id, Comment.id != reply.id)
        .limit(1)
    ).first()
    parent_author = db.session.scalar(
        select(Comment.author_id).where(Comment.id == reply.parent_id)
    )
    return siblings is None and parent_author is None


def rerender(*, missing_only: bool, progress=None, batch: int = 500) -> int:
    """Render stored posts, comments, room and private messages again (re-indexing posts' tags and
    mentions).

    For rows written before body_html existed, or after the renderer changed. Sends no
    notifications. Returns how many rows were rendered.
    """
    done = 0
    for model in (Post, Comment, RoomMessage, Message):
        query = select(model.id).order_by(model.id)
        if missing_only:
            query = query.where(model.body_html == "", model.body != "")
        ids = db.session.scalars(query).all()
        chunks = [ids[start : start + batch] for start in range(0, len(ids), batch)]
        label = f"Rendering {model.__tablename__}"
        with progress(chunks, label) if progress else nullcontext(chunks) as bar:
            for chunk in bar:
                rows = db.session.scalars(
                    # Rendering resolves mentions against each author's blocks.
                    select(model).options(joinedload(model.author)).where(model.id.in_(chunk))
                ).all()
                for row in rows:
                    row.body_html, mentioned = _render(row.author, row.body)
                    if model is Post:
                        _index(row, mentioned)
                db.session.commit()
                done += len(rows)
    return done
