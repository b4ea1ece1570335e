from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import TextAreaField

from qosyl.actions.posts import MAX_COMMENT_LENGTH
from qosyl.actions.posts import MAX_POST_LENGTH
from qosyl.web.forms import ImageField


def _text(label: str, limit: int, rows: int, **kwargs) -> TextAreaField:
    """A post or comment text; the action judges its length (posts._check_length)."""
    return TextAreaField(label, render_kw={"rows": rows, "maxlength": limit}, **kwargs)


class PostForm(FlaskForm):
    body = _text(
        "Write a post",
        MAX_POST_LENGTH,
        3,
        description="Markdown works: **bold**, `code`, fenced code blocks, #hashtags, @mentions.",
    )
    image = ImageField("Photo")


class EditPostForm(PostForm):
    body = _text("Edit your post", MAX_POST_LENGTH, 6)
    image = ImageField("New photo")
    remove_image = BooleanField("Remove the photo")


def edit_post_form(post, formdata=None) -> EditPostForm:
    """Fields named post-<id>-*: the edit form sits in the feed beside the composer."""
    if formdata is None:
        return EditPostForm(formdata=None, obj=post, prefix=f"post-{post.id}")
    return EditPostForm(formdata=formdata, prefix=f"post-{post.id}")


class CommentForm(FlaskForm):
    body = _text("Write a comment", MAX_COMMENT_LENGTH, 2)


class ReplyForm(CommentForm):
    body = _text("Write a reply", MAX_COMMENT_LENGTH, 2)


class EditCommentForm(FlaskForm):
    body = _text("Edit your comment", MAX_COMMENT_LENGTH, 3)


def comment_form(formdata=None) -> CommentForm:
    """The form under a post; its fields are named comment-*, apart from reply forms."""
    return CommentForm(formdata=formdata, prefix="comment")


def reply_form(parent_id: int, formdata=None) -> ReplyForm:
    """Each comment has its own reply form: reply-<id>-* keeps their ids apart on the page."""
    return ReplyForm(formdata=formdata, prefix=f"reply-{parent_id}")
