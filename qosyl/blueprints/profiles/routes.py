"""Profile pages and the first-run profile setup; editing a profile is a settings page."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.actions import accounts
from qosyl.actions import ActionError
from qosyl.actions import profiles
from qosyl.blueprints.profiles.forms import ProfileSetupForm
from qosyl.reads.access import access_profile
from qosyl.reads.people import profile_counts
from qosyl.reads.people import relation
from qosyl.reads.posts import liked_post_ids
from qosyl.reads.posts import posts_by
from qosyl.web.forms import apply_action_error
from qosyl.web.forms import form_status
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import query_int

bp = Blueprint("profiles", __name__)


@bp.get("/u/<username>")
@login_required
def show(username: str):
    user = access_profile(current_user, username)
    rel = relation(current_user.id, user.id)
    before = query_int("before")
    if before is None and wants_fragment():
        # The relation buttons alone, refetched when a relation of the viewer changes.
        return render("profiles/show.html", "relation", user=user, is_self=rel.is_self, rel=rel)
    posts, cursor = ([], None) if rel.blocking else posts_by(user.id, current_user.id, before)
    next_url = url_for("profiles.show", username=user.username, before=cursor) if cursor else None
    liked = liked_post_ids(current_user.id, [post.id for post in posts])
    if before and wants_fragment():
        return render_template(
            "components/_post_page.html", posts=posts, liked=liked, next_url=next_url
        )
    return render(
        "profiles/show.html",
        user=user,
        is_self=rel.is_self,
        rel=rel,
        counts=profile_counts(user.id),
        posts=posts,
        liked=liked,
        next_url=next_url,
    )


@bp.route("/welcome", methods=["GET", "POST"])
@login_required
def setup():
    """Profile setup after the first verification; saved in place, then the welcome arrives."""
    form = ProfileSetupForm(obj=current_user)
    if form.validate_on_submit():
        try:
            profiles.update_profile(
                current_user,
                form.profile_fields(),
                avatar=form.avatar.upload(),
                cover=form.cover.upload(),
            )
        except ActionError as error:
            apply_action_error(form, error)
        else:
            accounts.complete_onboarding(current_user)
            return render("profiles/setup.html", "setup", done=True, form=form)
    return render("profiles/setup.html", "setup", form_status(form), done=False, form=form)


@bp.post("/welcome/skip")
@login_required
def skip_setup():
    accounts.complete_onboarding(current_user)
    return redirect(url_for("main.home"))
