"""Comments: editing and deleting one (they are listed and written under their post, in
posts.py)."""

from __future__ import annotations

from flask_login import current_user

from qosyl.actions import posts as actions
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.posts import comment_view
from qosyl.blueprints.api.posts import CommentSchema
from qosyl.blueprints.api.posts import CommentUpdate
from qosyl.reads.access import access_own_comment
from qosyl.reads.access import access_removable_comment

bp = ApiBlueprint("comments", "/api/comments", "Comments: edit or delete one.")


@bp.route("/<int:comment_id>/", methods=["PUT", "PATCH"])
@bp.errors(403, 404, 422)
@bp.arguments(CommentUpdate)
@bp.response(200, CommentSchema)
def update(fields, comment_id: int):
    """Edit the caller's own comment."""
    comment, post = access_own_comment(current_user, comment_id)
    actions.edit_comment(comment, fields["body"])
    return comment_view(comment, post)


@bp.route("/<int:comment_id>/", methods=["DELETE"])
@bp.errors(403, 404)
@bp.response(204)
def delete(comment_id: int):
    """Delete a comment with its replies: its author may, and so may the post's owner."""
    comment, post = access_removable_comment(current_user, comment_id)
    actions.delete_comment(comment, post)
