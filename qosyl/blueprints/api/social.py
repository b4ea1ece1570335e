"""How people connect, through the API: friend requests, friends, follows and blocks.

The same actions as the people pages' buttons (qosyl/actions/social.py), on a person found
by id as the profile finds them (access_person: 404 for someone who blocked the caller).
A change answers with the person and the caller's relation to them after it.
"""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from qosyl.actions import social
from qosyl.actions import unproxy
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import encode_cursor
from qosyl.blueprints.api.core import page
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import UserWithRelation
from qosyl.blueprints.api.schemas import With
from qosyl.blueprints.api.schemas import with_relations
from qosyl.reads.access import access_connections
from qosyl.reads.access import access_friend_request
from qosyl.reads.access import access_person
from qosyl.reads.people import blocked_page
from qosyl.reads.people import friend_request_page
from qosyl.reads.people import pending_request
from qosyl.reads.people import people_page
from qosyl.reads.people import relation
from qosyl.reads.people import relations_for
from qosyl.web.inputs import MAX_ID

bp = ApiBlueprint(
    "social",
    "/api",
    "Friends, friend requests, follows and blocks: the caller's connections and others'.",
)

DIRECTIONS = ("incoming", "outgoing")
SEND_RESULTS = ("sent", "accepted", "already")


class PersonArgs(ma.Schema):
    user_id = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={"description": "The person's account id."},
    )


class RequestListArgs(PageArgs):
    direction = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(DIRECTIONS),
        metadata={"description": "Only requests received (`incoming`) or sent (`outgoing`)."},
    )


class AnswerArgs(ma.Schema):
    action = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["accept", "reject"]),
        metadata={"description": "`accept` (you become friends) or `reject`."},
    )


class FriendRequestSchema(ma.Schema):
    """A friend request waiting for an answer."""

    id = ma.fields.Integer(required=True)
    direction = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(DIRECTIONS),
        metadata={
            "description": "`incoming`: they asked the caller; `outgoing`: the caller asked."
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    user = ma.fields.Nested(
        UserWithRelation, required=True, metadata={"description": "The other person."}
    )


class SendResult(ma.Schema):
    result = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SEND_RESULTS),
        metadata={
            "description": "`sent`: a new request; `accepted`: they had asked the caller, so "
            "they are friends now; `already`: friends already, or asked before."
        },
    )
    request = ma.fields.Nested(
        FriendRequestSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The caller's pending request; null once they are friends."},
    )
    user = ma.fields.Nested(UserWithRelation, required=True)


FriendRequestPage = page_schema(FriendRequestSchema, "FriendRequestPage")
UserPage = page_schema(UserWithRelation, "UserWithRelationPage")


def _person(person) -> With:
    """The person with the caller's relation to them, as it is now."""
    return With(person, relation=relation(current_user.id, person.id))


def _request(request, person, rel=None) -> With:
    direction = "incoming" if request.receiver_id == current_user.id else "outgoing"
    return With(
        request,
        direction=direction,
        user=With(person, relation=rel or relation(current_user.id, person.id)),
    )


def _people(kind: str, owner_id: int, args: dict) -> dict:
    """A page of `owner_id`'s friends, followers or following, as the web lists them."""
    after = decode_cursor(args["cursor"], int)
    people, cursor = people_page(
        kind, owner_id, current_user.id, before=after[0] if after else None, limit=args["limit"]
    )
    return {"items": with_relations(people), "next": encode_cursor(cursor) if cursor else None}


# Friend requests


@bp.route("/friends/request/", methods=["POST"])
@bp.errors(404, 409)
@bp.arguments(PersonArgs)
@bp.response(201, SendResult, description="A new request was sent.")
@bp.alt_response(
    200, schema=SendResult, description="They had asked the caller (friends now), or nothing new."
)
def send_request(args):
    """Ask someone to be friends. If they already asked you, you become friends at once
    (200, `accepted`); asking again changes nothing (200, `already`)."""
    person = access_person(current_user, args["user_id"])
    result = social.send_friend_request(unproxy(current_user), person)
    rel = relation(current_user.id, person.id)
    pending = pending_request(current_user.id, person.id) if rel.request_sent else None
    body = {
        "result": result,
        "request": _request(pending, person, rel) if pending else None,
        "user": With(person, relation=rel),
    }
    return body, 201 if result == "sent" else 200


@bp.route("/friends/requests/")
@bp.errors()
@bp.arguments(RequestListArgs, location="query")
@bp.response(200, FriendRequestPage)
def list_requests(args):
    """Friend requests waiting for an answer, received and sent, newest first."""
    after = decode_cursor(args["cursor"], int)
    rows = friend_request_page(
        current_user.id,
        args["direction"],
        before=after[0] if after else None,
        limit=args["limit"],
    )
    result = page(rows, args["limit"], key=lambda row: (row[0].id,))
    relations = relations_for(current_user.id, [person.id for _, person in result["items"]])
    result["items"] = [
        _request(request, person, relations[person.id]) for request, person in result["items"]
    ]
    return result


@bp.route("/friends/request/<int:request_id>/", methods=["PUT"])
@bp.errors(404, 409)
@bp.arguments(AnswerArgs)
@bp.response(200, UserWithRelation)
def answer_request(args, request_id: int):
    """Accept or reject a friend request sent to you (only its receiver may answer it)."""
    _request_row, sender = access_friend_request(current_user, request_id, as_="receiver")
    if args["action"] == "accept":
        social.accept_friend_request(unproxy(current_user), sender)
    else:
        social.reject_friend_request(unproxy(current_user), sender)
    return _person(sender)


@bp.route("/friends/request/<int:request_id>/", methods=["DELETE"])
@bp.errors(404)
@bp.response(200, UserWithRelation)
def cancel_request(request_id: int):
    """Cancel a friend request you sent (only its sender may)."""
    _request_row, receiver = access_friend_request(current_user, request_id, as_="sender")
    social.cancel_friend_request(unproxy(current_user), receiver)
    return _person(receiver)


# Friends, followers, following


@bp.route("/friends/")
@bp.errors()
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def my_friends(args):
    """The caller's friends, newest account first."""
    return _people("friends", current_user.id, args)


@bp.route("/friends/<int:user_id>/", methods=["DELETE"])
@bp.errors(404)
@bp.response(200, UserWithRelation)
def unfriend(user_id: int):
    """End a friendship (both stop being friends; follows stay)."""
    person = access_person(current_user, user_id)
    social.unfriend(unproxy(current_user), person)
    return _person(person)


def _connections_of(kind: str, user_id: int, args: dict) -> dict:
    person = access_connections(current_user, access_person(current_user, user_id))
    return _people(kind, person.id, args)


@bp.route("/users/<int:user_id>/friends/")
@bp.errors(404)
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def friends_of(args, user_id: int):
    """A person's friends, without anyone in a block with the caller. 404 for someone who
    blocked the caller or whom the caller blocked."""
    return _connections_of("friends", user_id, args)


@bp.route("/users/<int:user_id>/followers/")
@bp.errors(404)
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def followers_of(args, user_id: int):
    """Who follows a person, without anyone in a block with the caller. 404 as for friends."""
    return _connections_of("followers", user_id, args)


@bp.route("/users/<int:user_id>/following/")
@bp.errors(404)
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def following_of(args, user_id: int):
    """Whom a person follows, without anyone in a block with the caller. 404 as for friends."""
    return _connections_of("following", user_id, args)


# Follows


@bp.route("/follows/", methods=["POST"])
@bp.errors(404, 409)
@bp.arguments(PersonArgs)
@bp.response(200, UserWithRelation)
def follow(args):
    """Follow someone: their posts come to your feed (following twice changes nothing)."""
    person = access_person(current_user, args["user_id"])
    social.follow(unproxy(current_user), person)
    return _person(person)


@bp.route("/follows/<int:user_id>/", methods=["DELETE"])
@bp.errors(404)
@bp.response(200, UserWithRelation)
def unfollow(user_id: int):
    """Stop following someone."""
    person = access_person(current_user, user_id)
    social.unfollow(unproxy(current_user), person)
    return _person(person)


# Blocks


@bp.route("/blocks/")
@bp.errors()
@bp.arguments(PageArgs, location="query")
@bp.response(200, UserPage)
def blocked(args):
    """The people the caller blocked, newest account first."""
    after = decode_cursor(args["cursor"], int)
    rows = blocked_page(current_user.id, before=after[0] if after else None, limit=args["limit"])
    result = page(rows, args["limit"], key=lambda person: (person.id,))
    result["items"] = with_relations(result["items"])
    return result


@bp.route("/blocks/", methods=["POST"])
@bp.errors(404, 409)
@bp.arguments(PersonArgs)
@bp.response(200, UserWithRelation)
def block(args):
    """Block someone: follows both ways, the friendship and pending requests end, and they
    can no longer see you, message, follow, befriend, mention or notify you."""
    person = access_person(current_user, args["user_id"])
    social.block(unproxy(current_user), person)
    return _person(person)


@bp.route("/blocks/<int:user_id>/", methods=["DELETE"])
@bp.errors(404)
@bp.response(200, UserWithRelation)
def unblock(user_id: int):
    """Unblock someone (what the block ended stays ended)."""
    person = access_person(current_user, user_id)
    social.unblock(unproxy(current_user), person)
    return _person(person)
