"""People: the directory and search, a profile, editing one's own profile and avatar."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest.fields import Upload as UploadField

from qosyl.actions import Forbidden
from qosyl.actions import profiles
from qosyl.actions import unproxy
from qosyl.actions.uploads import Upload
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import decode_cursor
from qosyl.blueprints.api.core import page
from qosyl.blueprints.api.core import page_schema
from qosyl.blueprints.api.core import PageArgs
from qosyl.blueprints.api.schemas import ImageUrl
from qosyl.blueprints.api.schemas import RelationSchema
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.blueprints.api.schemas import UserWithRelation
from qosyl.blueprints.api.schemas import With
from qosyl.blueprints.api.schemas import with_relations
from qosyl.reads.access import access_person
from qosyl.reads.people import directory_page
from qosyl.reads.people import profile_counts
from qosyl.reads.people import relation
from qosyl.reads.search import search_people

bp = ApiBlueprint("users", "/api/users", "People: find them, read and edit profiles.")


class UserListArgs(PageArgs):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "Search names and usernames; best matches first, one page."},
    )


class Counts(ma.Schema):
    posts = ma.fields.Integer(required=True)
    friends = ma.fields.Integer(required=True)
    followers = ma.fields.Integer(required=True)
    following = ma.fields.Integer(required=True)


class UserProfile(UserSummary):
    bio = ma.fields.String(required=True)
    about = ma.fields.String(required=True)
    country = ma.fields.String(required=True)
    links = ma.fields.Function(
        lambda user: [{"label": label, "url": url} for label, url in user.social_links],
        required=True,
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "url": {"type": "string"}},
                "required": ["label", "url"],
            },
        },
    )
    cover_url = ImageUrl("cover", "display", attribute="cover_key")
    joined_at = ma.fields.AwareDateTime(attribute="created_at", required=True)
    counts = ma.fields.Nested(Counts, required=True)
    relation = ma.fields.Nested(RelationSchema, required=True)


class OwnProfile(UserProfile):
    email = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    website = ma.fields.String(required=True)
    github = ma.fields.String(required=True)
    twitter = ma.fields.String(required=True)
    linkedin = ma.fields.String(required=True)
    instagram = ma.fields.String(required=True)
    facebook = ma.fields.String(required=True)


# Every editable profile field, each optional: what is left out stays as it is.
ProfileUpdate = ma.Schema.from_dict(
    {
        name: ma.fields.String(validate=ma.validate.Length(max=5000))
        for name in profiles.TEXT_FIELDS
    },
    name="ProfileUpdate",
)


class AvatarUpload(ma.Schema):
    avatar = UploadField(required=True, metadata={"description": "A JPEG, PNG, GIF or WebP."})


UserPage = page_schema(UserWithRelation, "UserPage")


def _profile(person) -> With:
    """A profile with its counts and the caller's relation (OwnProfile adds the owner's
    private fields; other people get UserProfile, without them)."""
    return With(
        person,
        counts=profile_counts(person.id),
        relation=relation(current_user.id, person.id),
    )


@bp.route("/")
@bp.errors()
@bp.arguments(UserListArgs, location="query")
@bp.response(200, UserPage)
def list_users(args):
    """The people on Qosyl, newest first; with `q`, those whose names match, best first."""
    if args["q"].strip():
        people = search_people(current_user.id, args["q"], limit=args["limit"])
        return {"items": with_relations(people), "next": None}
    after = decode_cursor(args["cursor"], int)
    rows = directory_page(current_user.id, before=after[0] if after else None, limit=args["limit"])
    result = page(rows, args["limit"], key=lambda person: (person.id,))
    result["items"] = with_relations(result["items"])
    return result


@bp.route("/me/")
@bp.errors()
@bp.response(200, OwnProfile)
def me():
    """The caller's own profile, with their email address and link fields."""
    return _profile(unproxy(current_user))


@bp.route("/<int:user_id>/")
@bp.errors(404)
@bp.response(200, UserProfile)
def show(user_id: int):
    """A profile. People who blocked the caller, and unverified accounts, are 404."""
    return _profile(access_person(current_user, user_id))


@bp.route("/<int:user_id>/", methods=["PUT", "PATCH"])
@bp.errors(403, 404, 422)
@bp.arguments(ProfileUpdate)
@bp.response(200, OwnProfile)
def update(fields, user_id: int):
    """Edit the caller's own profile: send the fields to change (an empty string clears
    one; names cannot be empty)."""
    person = access_person(current_user, user_id)
    if person.id != current_user.id:
        raise Forbidden("You can only edit your own profile.")
    profiles.update_profile(person, fields)
    return _profile(person)


@bp.route("/<int:user_id>/avatar/", methods=["POST"])
@bp.errors(403, 404, 413, 422)
@bp.arguments(AvatarUpload, location="files")
@bp.response(200, OwnProfile)
def upload_avatar(files, user_id: int):
    """Replace the caller's profile picture (multipart/form-data, field `avatar`)."""
    person = access_person(current_user, user_id)
    if person.id != current_user.id:
        raise Forbidden("You can only change your own picture.")
    file = files["avatar"]
    profiles.update_profile(person, {}, avatar=Upload(file.stream, file.filename or ""))
    return _profile(person)


@bp.route("/<int:user_id>/avatar/", methods=["DELETE"])
@bp.errors(403, 404)
@bp.response(200, OwnProfile)
def remove_avatar(user_id: int):
    """Remove the caller's profile picture."""
    person = access_person(current_user, user_id)
    if person.id != current_user.id:
        raise Forbidden("You can only change your own picture.")
    profiles.update_profile(person, {}, remove_avatar=True)
    return _profile(person)
