"""Finding people and connecting with them: search, suggestions, friends, follows, blocks."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from qosyl.actions import ActionError
from qosyl.actions import social
from qosyl.reads.access import access_connections
from qosyl.reads.access import access_profile
from qosyl.reads.people import friend_requests
from qosyl.reads.people import PEOPLE_LISTS
from qosyl.reads.people import people_page
from qosyl.reads.people import relation
from qosyl.reads.people import relations_for
from qosyl.reads.people import suggestions
from qosyl.reads.search import search_people
from qosyl.web.htmx import render
from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import query_int

bp = Blueprint("people", __name__)

# What each button does, and what it tells the user when JavaScript is off.
RELATION_ACTIONS = {
    "friend": (social.send_friend_request, "Friend request sent."),
    "cancel-request": (social.cancel_friend_request, "Friend request cancelled."),
    "accept": (social.accept_friend_request, "You are now friends."),
    "reject": (social.reject_friend_request, "Friend request declined."),
    "unfriend": (social.unfriend, "You are no longer friends."),
    "follow": (social.follow, "You follow them now."),
    "unfollow": (social.unfollow, "You no longer follow them."),
    "block": (social.block, "Blocked. They can no longer see your profile or posts."),
    "unblock": (social.unblock, "Unblocked."),
}


@bp.before_request
@login_required
def require_login():
    """People and their connections are for signed-in users."""


@bp.get("/people")
def index():
    query = request.args.get("q", "").strip()[:100]
    if query:
        people = search_people(current_user.id, query)
        suggested = []
    else:
        suggested = suggestions(current_user.id, limit=12)
        people = [suggestion.user for suggestion in suggested]
    relations = relations_for(current_user.id, [person.id for person in people])
    return render(
        "people/index.html",
        "results",
        query=query,
        people=people,
        suggested={s.user.id: s for s in suggested},
        relations=relations,
    )


@bp.get("/u/<username>/<any(friends, followers, following):kind>")
def connections(username: str, kind: str):
    person = access_connections(current_user, access_profile(current_user, username))
    before = query_int("before")
    people, cursor = people_page(kind, person.id, current_user.id, before=before)
    return render(
        "people/connections.html",
        "rows" if before else None,
        person=person,
        kind=kind,
        kinds=PEOPLE_LISTS,
        people=people,
        relations=relations_for(current_user.id, [p.id for p in people]),
        next_url=url_for("people.connections", username=username, kind=kind, before=cursor)
        if cursor
        else None,
    )


@bp.get("/friends/requests")
def requests():
    incoming, outgoing = friend_requests(current_user.id)
    relations = relations_for(current_user.id, [p.id for p in incoming + outgoing])
    return render(
        "people/requests.html", "lists", incoming=incoming, outgoing=outgoing, relations=relations
    )


@bp.post("/u/<username>/<any(" + ", ".join(f'"{a}"' for a in RELATION_ACTIONS) + "):action>")
def change_relation(username: str, action: str):
    person = access_profile(current_user, username)
    do, done_message = RELATION_ACTIONS[action]
    compact = request.form.get("compact") == "1"
    error = None
    try:
        do(current_user, person)
    except ActionError as problem:
        error = problem.message
    if wants_fragment():
        return render(
            "components/_relation.html",
            status=409 if error else 200,
            person=person,
            rel=relation(current_user.id, person.id),
            compact=compact,
            error=error,
        )
    flash(error or done_message, "error" if error else "success")
    return redirect(url_for("profiles.show", username=person.username))
