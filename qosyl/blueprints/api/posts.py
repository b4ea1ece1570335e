"""Posts: the home feed, a person's posts, a hashtag, search; writing, editing, deleting,
likes, and the comments under a post (editing and deleting one is in comments.py)."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload as UploadField
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser
from webargs.flaskparser import is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.datastructures import FileStorage

from qosyl.actions import posts as actions
from qosyl.actions import unproxy
from qosyl.actions.uploads import Upload
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import encode_cursor
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import ImageUrl
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.blueprints.api.schemas import With
from qosyl.reads.access import access_comment
from qosyl.reads.access import access_own_post
from qosyl.reads.access import access_person
from qosyl.reads.access import access_post
from qosyl.reads.posts import comment_thread
from qosyl.reads.posts import feed_page
from qosyl.reads.posts import hashtag_posts
from qosyl.reads.posts import liked_post_ids
from qosyl.reads.posts import posts_by
from qosyl.reads.posts import tags_of
from qosyl.reads.search import search_posts
from qosyl.render.markup import hashtags
from qosyl.web.inputs import MAX_ID


class _BodyParser(FlaskParser):
    """webargs' parser, plus a body that is JSON or a multipart form with its files (a post
    with a photo): `location="json_or_multipart"`."""

    __location_map__ = {
        **FlaskParser.__location_map__,
        "json_or_multipart": "load_json_or_multipart",
    }

    def load_json_or_multipart(self, req, schema):
        if is_json_request(req):
            return self.load_json(req, schema)
        data = CombinedMultiDict((req.files, req.form))
        return self._makeproxy(data, schema) if data else webargs_core.missing


bp = ApiBlueprint("posts", "/api/posts", "Posts: the feed, writing, likes and comments.")
bp.ARGUMENTS_PARSER = _BodyParser()
# Documented as JSON; the views taking a photo add the multipart shape (_json_or_multipart).
bp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
    **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
    "json_or_multipart": "application/json",
}

# Far above the actions' limits: a long text gets the action's message, as on the web.
_TEXT_LIMIT = 50_000


class PostSchema(ma.Schema):
    """A post as the caller sees it."""

    id = ma.fields.Integer(required=True)
    author = ma.fields.Nested(UserSummary, required=True)
    body = ma.fields.String(required=True, metadata={"description": "Markdown, as written."})
    image_url = ImageUrl("post", "display", attribute="image_key")
    tags = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Its hashtags, lower-case, without '#', alphabetically."},
    )
    like_count = ma.fields.Integer(required=True)
    comment_count = ma.fields.Integer(required=True)
    liked_by_me = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    edited_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    can_edit = ma.fields.Boolean(required=True)
    can_delete = ma.fields.Boolean(required=True)


PostPage = page_schema(PostSchema, "PostPage")


class PostListArgs(PageArgs):
    author = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={"description": "A person's posts, as their profile shows them (by user id)."},
    )
    tag = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Posts with this hashtag (with or without '#')."},
    )
    q = ma.fields.String(
        validate=ma.validate.Length(max=1000),
        metadata={"description": "Search as the site does: words, #tags and @names; best first."},
    )

    @ma.validates_schema
    def one_filter(self, data, **kwargs):
        given = [name for name in ("author", "tag", "q") if name in data]
        if len(given) != 1:
            raise ma.ValidationError("Give one of author, tag or q.")


class PhotoField(UploadField):
    """An uploaded file; anything else (a string in JSON) is refused on its field."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the photo as a file in a multipart/form-data body.")
        return value


def _body(description: str, **kwargs) -> ma.fields.String:
    # A generous bound: the action refuses a long text with the web form's message.
    return ma.fields.String(
        validate=ma.validate.Length(max=_TEXT_LIMIT),
        metadata={"description": description},
        **kwargs,
    )


class PostCreate(ma.Schema):
    body = _body("Markdown: **bold**, `code`, #hashtags, @mentions.", load_default="")


class PostCreateForm(PostCreate):
    image = PhotoField(load_default=None, metadata={"description": "A JPEG, PNG, GIF or WebP."})


class PostUpdate(ma.Schema):
    body = _body("The new text (Markdown); left out, the text stays.", load_default=None)
    remove_image = ma.fields.Boolean(
        load_default=False, metadata={"description": "Remove the photo."}
    )


class PostUpdateForm(PostUpdate):
    image = PhotoField(
        load_default=None, metadata={"description": "A new photo: JPEG, PNG, GIF or WebP."}
    )


def _json_or_multipart(json_schema: type[ma.Schema], form_schema: type[ma.Schema]) -> dict:
    """The request body's two shapes, for the document (the parser takes either)."""
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": json_schema},
                "multipart/form-data": {"schema": form_schema},
            }
        }
    }


class LikeState(ma.Schema):
    like_count = ma.fields.Integer(required=True)
    liked = ma.fields.Boolean(required=True)


class CommentSchema(ma.Schema):
    """A comment or a reply as the caller sees it."""

    id = ma.fields.Integer(required=True)
    post_id = ma.fields.Integer(required=True)
    parent_id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The comment this replies to; null for a top-level one."},
    )
    author = ma.fields.Nested(
        UserSummary,
        required=True,
        allow_none=True,
        metadata={"description": "Null when its author deleted their account."},
    )
    deleted = ma.fields.Boolean(
        attribute="is_deleted",
        required=True,
        metadata={"description": "Its author deleted their account; kept for its replies."},
    )
    body = ma.fields.String(required=True, metadata={"description": "Markdown, as written."})
    created_at = ma.fields.AwareDateTime(required=True)
    edited_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    can_edit = ma.fields.Boolean(required=True)
    can_delete = ma.fields.Boolean(required=True)


class ThreadSchema(CommentSchema):
    """A top-level comment with its replies, oldest first."""

    replies = ma.fields.List(ma.fields.Nested(CommentSchema), required=True)


ThreadPage = page_schema(ThreadSchema, "CommentThreadPage")


class CommentCreate(ma.Schema):
    body = _body("Markdown.", load_default="")
    parent_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Reply to this comment (a reply to a reply joins its thread)."},
    )


class CommentUpdate(ma.Schema):
    body = _body("The new text (Markdown).", load_default="")


# Dumping: the per-caller extras beside the stored post or comment.


def post_view(post, liked: set[int], tags: dict[int, list[str]]) -> With:
    mine = post.author_id == current_user.id
    return With(
        post,
        tags=tags[post.id],
        liked_by_me=post.id in liked,
        can_edit=mine,
        can_delete=mine,
    )


def posts_view(posts) -> list[With]:
    """A page of posts: which of them the caller likes, and their tags, are a query each
    for the whole page. (Reading the tags from the text instead costs a markdown parse per
    post, far more than the query.)"""
    post_ids = [post.id for post in posts]
    liked, tags = liked_post_ids(current_user.id, post_ids), tags_of(post_ids)
    return [post_view(post, liked, tags) for post in posts]


def comment_view(comment, post) -> With:
    """As access_own_comment and access_removable_comment decide: its author edits it;
    its author and the post's owner delete it."""
    mine = comment.author_id is not None and comment.author_id == current_user.id
    extra = {}
    if comment.parent_id is None:
        extra["replies"] = [comment_view(reply, post) for reply in comment.replies]
    return With(
        comment,
        can_edit=mine,
        can_delete=mine or post.author_id == current_user.id,
        **extra,
    )


def _id_page(posts, before: int | None) -> dict:
    return {"items": posts_view(posts), "next": encode_cursor(before) if before else None}


def _upload(file: FileStorage | None) -> Upload | None:
    """As the web form hands a file over (web.forms.upload_of): none when no file was chosen."""
    if file is None or not file.filename:
        return None
    return Upload(file.stream, file.filename)


@bp.route("/feed/")
@bp.errors()
@bp.arguments(PageArgs, location="query")
@bp.response(200, PostPage)
def feed(args):
    """The caller's home feed: their posts and those of people they follow or befriended,
    newest first (what the home page shows them)."""
    after = decode_cursor(args["cursor"], int)
    posts, before = feed_page(
        current_user.id, before=after[0] if after else None, limit=args["limit"]
    )
    return _id_page(posts, before)


@bp.route("/")
@bp.errors(404)
@bp.arguments(PostListArgs, location="query")
@bp.response(200, PostPage)
def list_posts(args):
    """Posts by one person (`author`), with a hashtag (`tag`), or matching a search (`q`):
    give exactly one. People in a block with the caller, and their posts, are left out. A
    search with words ranks the newest 200 matching posts, best first."""
    limit = args["limit"]
    if "q" in args:
        # Ranked by relevance, so paged by number as the search page is.
        page_number = decode_cursor(args["cursor"], int)
        number = page_number[0] if page_number else 1
        posts, more = search_posts(current_user.id, args["q"], page=number, per_page=limit)
        return {"items": posts_view(posts), "next": encode_cursor(number + 1) if more else None}
    after = decode_cursor(args["cursor"], int)
    before = after[0] if after else None
    if "author" in args:
        # As the profile: 404 for someone who blocked the caller; posts_by leaves out the
        # posts of someone the caller blocked.
        person = access_person(current_user, args["author"])
        posts, next_before = posts_by(person.id, current_user.id, before, limit)
    else:
        tags = hashtags("#" + args["tag"].removeprefix("#"))
        tag = tags[0] if tags else args["tag"].lower()
        posts, next_before = hashtag_posts(tag, current_user.id, before=before, limit=limit)
    return _id_page(posts, next_before)


@bp.route("/", methods=["POST"])
@bp.errors(413, 422)
@bp.arguments(PostCreateForm, location="json_or_multipart")
@bp.doc(**_json_or_multipart(PostCreate, PostCreateForm))
@bp.response(201, PostSchema)
def create(fields):
    """Publish a post: JSON `{"body"}`, or multipart/form-data with `body` and an optional
    `image` file."""
    post = actions.create_post(unproxy(current_user), fields["body"], _upload(fields["image"]))
    return posts_view([post])[0]


@bp.route("/<int:post_id>/")
@bp.errors(404)
@bp.response(200, PostSchema)
def show(post_id: int):
    """One post (404 when a block stands between its author and the caller)."""
    post = access_post(current_user, post_id)
    return posts_view([post])[0]


@bp.route("/<int:post_id>/", methods=["PUT", "PATCH"])
@bp.errors(403, 404, 413, 422)
@bp.arguments(PostUpdateForm, location="json_or_multipart")
@bp.doc(**_json_or_multipart(PostUpdate, PostUpdateForm))
@bp.response(200, PostSchema)
def update(fields, post_id: int):
    """Edit the caller's own post: its text, a new photo (multipart `image`) or
    `remove_image`. What is left out stays."""
    post = access_own_post(current_user, post_id)
    body = post.body if fields["body"] is None else fields["body"]
    actions.edit_post(post, body, _upload(fields["image"]), remove_image=fields["remove_image"])
    return posts_view([post])[0]


@bp.route("/<int:post_id>/", methods=["DELETE"])
@bp.errors(403, 404)
@bp.response(204)
def delete(post_id: int):
    """Delete the caller's own post, with its likes and comments."""
    actions.delete_post(access_own_post(current_user, post_id))


@bp.route("/<int:post_id>/like/", methods=["POST"])
@bp.errors(404)
@bp.response(200, LikeState)
def like(post_id: int):
    """Like a post (liking it again changes nothing)."""
    post = access_post(current_user, post_id)
    actions.like_post(unproxy(current_user), post)
    return {"like_count": post.like_count, "liked": True}


@bp.route("/<int:post_id>/like/", methods=["DELETE"])
@bp.errors(404)
@bp.response(200, LikeState)
def unlike(post_id: int):
    """Take back a like."""
    post = access_post(current_user, post_id)
    actions.unlike_post(unproxy(current_user), post)
    return {"like_count": post.like_count, "liked": False}


@bp.route("/<int:post_id>/comments/")
@bp.errors(404)
@bp.arguments(PageArgs, location="query")
@bp.response(200, ThreadPage)
def comments(args, post_id: int):
    """A post's top-level comments oldest first, each with its replies (as the post's page
    shows them); the page's `limit` counts top-level comments."""
    post = access_post(current_user, post_id)
    after = decode_cursor(args["cursor"], int)
    limit = args["limit"]
    threads = comment_thread(
        post.id, current_user.id, after=after[0] if after else None, limit=limit
    )
    more = len(threads) > limit
    threads = threads[:limit]
    return {
        "items": [comment_view(comment, post) for comment in threads],
        "next": encode_cursor(threads[-1].id) if more else None,
    }


@bp.route("/<int:post_id>/comments/", methods=["POST"])
@bp.errors(404, 409, 422)
@bp.arguments(CommentCreate)
@bp.response(201, CommentSchema)
def add_comment(fields, post_id: int):
    """Comment on a post, or reply to one of its comments (`parent_id`)."""
    post = access_post(current_user, post_id)
    parent_id = fields["parent_id"]
    parent = access_comment(current_user, parent_id)[0] if parent_id is not None else None
    comment = actions.add_comment(unproxy(current_user), post, fields["body"], parent)
    return comment_view(comment, post)
