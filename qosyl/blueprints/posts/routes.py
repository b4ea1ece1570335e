"""Posts: the home feed, writing, editing, likes, comments, hashtags and search."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from werkzeug.datastructures import CombinedMultiDict

from qosyl.actions import ActionError
from qosyl.actions import posts as actions
from qosyl.actions.posts import MAX_COMMENT_LENGTH
from qosyl.blueprints.posts.forms import comment_form
from qosyl.blueprints.posts.forms import edit_post_form
from qosyl.blueprints.posts.forms import EditCommentForm
from qosyl.blueprints.posts.forms import PostForm
from qosyl.blueprints.posts.forms import reply_form
from qosyl.blueprints.rooms.forms import message_form
from qosyl.cache import remember
from qosyl.reads.access import access_comment
from qosyl.reads.access import access_own_comment
from qosyl.reads.access import access_own_post
from qosyl.reads.access import access_post
from qosyl.reads.access import access_removable_comment
from qosyl.reads.people import suggestions
from qosyl.reads.posts import comment_thread
from qosyl.reads.posts import feed_page
from qosyl.reads.posts import hashtag_posts
from qosyl.reads.posts import liked_post_ids
from qosyl.reads.posts import trending_hashtags
from qosyl.reads.rooms import can_read_room
from qosyl.reads.rooms import lobby
from qosyl.reads.rooms import room_messages_page
from qosyl.reads.search import PER_PAGE as SEARCH_PER_PAGE
from qosyl.reads.search import ranked_only_the_newest
from qosyl.reads.search import search_people
from qosyl.reads.search import search_posts
from qosyl.render.markup import hashtags
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.forms import INVALID_FORM
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import form_id
from qosyl.web.inputs import page_number
from qosyl.web.inputs import query_int

bp = Blueprint("posts", __name__)
# The blank reply form's maxlength (macros/comments.html), as ReplyForm renders it.
bp.add_app_template_global(MAX_COMMENT_LENGTH, "max_comment_length")


@bp.before_request
@login_required
def require_login():
    """Posts are for signed-in users."""


def _liked(posts) -> set[int]:
    return liked_post_ids(current_user.id, [post.id for post in posts])


def home_feed():
    """The signed-in home page (main.home hands over to it)."""
    me = current_user._get_current_object()
    before = query_int("before")
    posts, cursor = feed_page(me.id, before=before)
    the_lobby = lobby()
    lobby_open = the_lobby is not None and can_read_room(the_lobby, me.id)
    lobby_messages, lobby_older = (
        room_messages_page(the_lobby.id, limit=30) if lobby_open else ([], None)
    )
    return render(
        "posts/feed.html",
        lobby=the_lobby,
        lobby_open=lobby_open,
        lobby_messages=lobby_messages,
        lobby_older=lobby_older,
        lobby_form=message_form(the_lobby.id) if the_lobby else None,
        form=PostForm(),
        posts=posts,
        liked=_liked(posts),
        next_url=url_for("posts.feed", before=cursor) if cursor else None,
        suggested=remember(
            "suggestions", current_user.id, 60, lambda: suggestions(current_user.id)
        ),
        trending=remember("trending", None, 60, trending_hashtags),
    )


@bp.get("/feed")
def feed():
    """More of the home feed, for infinite scroll."""
    before = query_int("before")
    if not wants_fragment():
        return redirect(url_for("main.home", before=before))
    posts, cursor = feed_page(current_user.id, before=before)
    return render_template(
        "components/_post_page.html",
        posts=posts,
        liked=_liked(posts),
        next_url=url_for("posts.feed", before=cursor) if cursor else None,
    )


@bp.post("/posts")
def create():
    form = PostForm()
    if form.validate_on_submit():
        try:
            post = actions.create_post(current_user, form.body.data or "", form.image.upload())
        except ActionError as error:
            apply_action_error(form, error)
        else:
            if not wants_fragment():
                flash("Posted.", "success")
                return redirect(url_for("main.home"))
            return render_template(
                "components/_composer.html", form=PostForm(formdata=None), new_post=post
            )
    if wants_fragment():
        return render_template("components/_composer.html", form=form), INVALID_FORM
    return home_feed()[0], INVALID_FORM


@bp.get("/p/<int:post_id>")
def show(post_id: int):
    post = access_post(current_user, post_id)
    return render(
        "posts/show.html",
        post=post,
        liked=_liked([post]),
        comments=comment_thread(post.id, current_user.id),
        form=comment_form(),
    )


@bp.get("/p/<int:post_id>/card")
def card(post_id: int):
    post = access_post(current_user, post_id)
    return render_template("components/_post.html", post=post, liked=_liked([post]))


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
def edit(post_id: int):
    post = access_own_post(current_user, post_id)
    # With the files: the form has a photo field.
    formdata = CombinedMultiDict((request.files, request.form))
    form = edit_post_form(post, formdata if request.method == "POST" else None)
    if form.validate_on_submit():
        try:
            actions.edit_post(
                post,
                form.body.data or "",
                form.image.upload(),
                remove_image=form.remove_image.data,
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            if wants_fragment():
                return render_template("components/_post.html", post=post, liked=_liked([post]))
            flash("Your post is updated.", "success")
            return redirect(url_for("posts.show", post_id=post.id))
    return render("posts/edit.html", "edit_form", form_status(form), post=post, form=form)


@bp.post("/p/<int:post_id>/delete")
def delete(post_id: int):
    post = access_own_post(current_user, post_id)
    actions.delete_post(post)
    if wants_fragment():
        return ""
    flash("Your post is deleted.", "success")
    return redirect(url_for("main.home"))


def _like_response(post):
    if wants_fragment():
        return render_template("components/_like.html", post=post, liked=_liked([post]), oob=True)
    return redirect(url_for("posts.show", post_id=post.id))


@bp.post("/p/<int:post_id>/like")
def like(post_id: int):
    post = access_post(current_user, post_id)
    actions.like_post(current_user, post)
    return _like_response(post)


@bp.post("/p/<int:post_id>/unlike")
def unlike(post_id: int):
    post = access_post(current_user, post_id)
    actions.unlike_post(current_user, post)
    return _like_response(post)


@bp.post("/p/<int:post_id>/comments")
def comment(post_id: int):
    post = access_post(current_user, post_id)
    parent_id = form_id("parent_id")
    parent = access_comment(current_user, parent_id)[0] if parent_id is not None else None
    form = reply_form(parent.id, request.form) if parent else comment_form(request.form)
    if form.validate_on_submit():
        try:
            new = actions.add_comment(current_user, post, form.body.data or "", parent)
        except ActionError as error:
            apply_action_error(form, error)
        else:
            if not wants_fragment():
                return redirect(url_for("posts.show", post_id=post.id, _anchor=f"comment-{new.id}"))
            return render_template(
                "components/_comment_form.html",
                form=reply_form(parent.id) if parent else comment_form(),
                post=post,
                parent=parent,
                new_comment=new,
            )
    if wants_fragment():
        return render_template(
            "components/_comment_form.html", form=form, post=post, parent=parent
        ), INVALID_FORM
    flash(" ".join(form.body.errors or form.form_errors), "error")
    return redirect(url_for("posts.show", post_id=post.id))


@bp.get("/comments/<int:comment_id>")
def comment_item(comment_id: int):
    comment, post = access_comment(current_user, comment_id)
    return render_template("components/_comment.html", comment=comment, post=post)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
def edit_comment(comment_id: int):
    comment, post = access_own_comment(current_user, comment_id)
    # Its own field names: a page can hold several comments being edited.
    form = EditCommentForm(
        formdata=request.form if request.method == "POST" else None,
        obj=comment,
        prefix=f"comment-{comment.id}",
    )
    if form.validate_on_submit():
        try:
            actions.edit_comment(comment, form.body.data or "")
        except ActionError as error:
            apply_action_error(form, error)
        else:
            if wants_fragment():
                return render_template("components/_comment.html", comment=comment, post=post)
            return redirect(url_for("posts.show", post_id=post.id, _anchor=f"comment-{comment.id}"))
    return render(
        "posts/edit_comment.html",
        "edit_form",
        form_status(form),
        comment=comment,
        post=post,
        form=form,
    )


@bp.post("/comments/<int:comment_id>/delete")
def delete_comment(comment_id: int):
    comment, post = access_removable_comment(current_user, comment_id)
    actions.delete_comment(comment, post)
    if wants_fragment():
        return render_template("components/_post_stats.html", post=post, oob=True)
    flash("The comment is deleted.", "success")
    return redirect(url_for("posts.show", post_id=post.id))


@bp.get("/tags/<name>")
def hashtag(name: str):
    tags = hashtags("#" + name)
    tag = tags[0] if tags else name.lower()
    before = query_int("before")
    posts, cursor = hashtag_posts(tag, current_user.id, before=before)
    next_url = url_for("posts.hashtag", name=tag, before=cursor) if cursor else None
    if before and wants_fragment():
        return render_template(
            "components/_post_page.html", posts=posts, liked=_liked(posts), next_url=next_url
        )
    return render(
        "posts/hashtag.html", tag=tag, posts=posts, liked=_liked(posts), next_url=next_url
    )


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()[:200]
    page = page_number()
    posts, has_more = search_posts(current_user.id, query, page=page) if query else ([], False)
    people = search_people(current_user.id, query, limit=5) if query and page == 1 else []
    return render(
        "posts/search.html",
        "results",
        query=query,
        page=page,
        posts=posts,
        people=people,
        liked=_liked(posts),
        has_more=has_more,
        newest_only=ranked_only_the_newest(query, page, SEARCH_PER_PAGE, len(posts), has_more),
    )
