"""Every rule lives in an action (issue 10): called directly, with no form and no request,
an action refuses the same bad input with the same message on the same field as the page
shows, and writes nothing (no row, no file) when it refuses."""

from __future__ import annotations

import html
import re
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from qosyl.actions import accounts
from qosyl.actions import ActionError
from qosyl.actions import messages
from qosyl.actions import posts
from qosyl.actions import profiles
from qosyl.actions import rooms
from qosyl.actions.uploads import Upload
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import User
from tests import images
from tests.factories import PASSWORD
from tests.helpers import link_from
from tests.helpers import post

WEAK = "qwerty123"
NOT_AN_IMAGE = b"these are words, not pixels"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(200)


def page_errors(response, field_id: str) -> list[str]:
    """The messages the page shows under the field with this id."""
    page = response.get_data(as_text=True)
    match = re.search(
        rf'<ul class="field__errors" id="{re.escape(field_id)}-error">(.*?)</ul>', page
    )
    assert match, f"no errors shown for {field_id}"
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1))]


def refusal(app, action, *args, **kwargs) -> ActionError:
    """The ActionError the action raises, called in a bare request context (for url_for)."""
    with app.test_request_context(), pytest.raises(ActionError) as refused:
        action(*args, **kwargs)
    return refused.value


def assert_same(error: ActionError, field: str, response, field_id: str | None = None) -> None:
    assert response.status_code == 422
    assert error.field == field
    assert page_errors(response, field_id or field) == [error.message]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def person(user_id: int) -> User:
    return db.session.get(User, user_id)


# Accounts


SIGN_UP = {
    "first_name": "Cara",
    "last_name": "Cole",
    "username": "cara",
    "email": "cara@example.com",
    "password": "plum orchard lantern 42",
}


def register_both_ways(app, client, **changes):
    fields = {**SIGN_UP, **changes}
    error = refusal(app, accounts.register_user, **fields)
    response = post(client, "/register", {**fields, "confirm": fields["password"]})
    return error, response


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "bad name!"}, "username"),
        ({"username": "ab"}, "username"),
        ({"username": "Admin"}, "username"),
        ({"username": "alice"}, "username"),  # taken
        ({"email": "not-an-address"}, "email"),
        ({"email": "alice@example.com"}, "email"),  # in use
        ({"password": WEAK}, "password"),
        ({"password": "cara-cara-cara"}, "password"),  # their own username
        ({"first_name": "x" * 51}, "first_name"),
    ],
)
def test_register_refuses_as_the_form_does(app, client, user, outbox, changes, field):
    error, response = register_both_ways(app, client, **changes)
    assert_same(error, field, response)
    assert count(app, User) == 1
    assert outbox == []


def test_register_reports_every_field_at_fault(app, client):
    error, response = register_both_ways(app, client, username="root", password=WEAK)
    assert set(error.errors) == {"username", "password"}
    for field, message in error.errors.items():
        assert page_errors(response, field) == [message]
    assert count(app, User) == 0


def test_reset_password_refuses_a_weak_password_as_the_form_does(app, client, user, outbox):
    post(client, "/password/forgot", {"email": "alice@example.com"})
    link = link_from(outbox[0], "/password/reset/")
    token = link.rsplit("/", 1)[1]
    error = refusal(app, accounts.reset_password, token, WEAK)
    response = post(client, link, {"password": WEAK, "confirm": WEAK})
    assert_same(error, "password", response)
    with app.app_context():
        assert accounts.authenticate("alice", PASSWORD) is not None
    assert len(outbox) == 1  # no "your password was changed"


def test_change_password_refuses_a_weak_password_as_the_form_does(app, logged_in, user, outbox):
    with app.app_context():
        error = refusal(app, accounts.change_password, person(user.id), PASSWORD, WEAK)
    response = post(
        logged_in,
        "/settings/password",
        {"current_password": PASSWORD, "password": WEAK, "confirm": WEAK},
    )
    assert_same(error, "password", response)
    with app.app_context():
        assert accounts.authenticate("alice", PASSWORD) is not None
    assert outbox == []


def test_a_malformed_address_is_refused_by_every_email_action(app, logged_in, user, outbox):
    with app.app_context():
        change = refusal(app, accounts.request_email_change, person(user.id), "a@@b", PASSWORD)
    response = post(logged_in, "/settings/email", {"email": "a@@b", "password": PASSWORD})
    assert_same(change, "email", response)
    for action in (accounts.request_password_reset, accounts.resend_verification):
        error = refusal(app, action, "a@@b")
        assert (error.field, error.message) == (change.field, change.message)
    with app.app_context():
        assert person(user.id).pending_email is None
    assert outbox == []


# Profiles


PROFILE = {"first_name": "Alice", "last_name": "Archer"}


def edit_profile(client, fields: dict, **uploads):
    data = {**PROFILE, **fields}
    for name, (content, filename) in uploads.items():
        data[name] = (BytesIO(content), filename)
    return post(client, "/settings/profile", data, content_type="multipart/form-data")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("github", "https://gitlab.com/alice"),
        ("linkedin", "https://evil.example\\@linkedin.com/in/alice"),
        ("bio", "x" * 161),
        ("address", "x" * 121),
        ("last_name", "x" * 51),
    ],
)
def test_update_profile_refuses_fields_as_the_form_does(app, logged_in, user, field, value):
    with app.app_context():
        error = refusal(app, profiles.update_profile, person(user.id), {**PROFILE, field: value})
    response = edit_profile(logged_in, {field: value})
    assert_same(error, field, response)
    with app.app_context():
        assert getattr(person(user.id), field) in ("", None, "Archer")


@pytest.mark.parametrize("field", ["avatar", "cover"])
def test_update_profile_refuses_a_file_that_is_not_an_image(app, logged_in, user, field):
    with app.app_context():
        error = refusal(
            app,
            profiles.update_profile,
            person(user.id),
            {},
            **{field: Upload(BytesIO(NOT_AN_IMAGE), "me.png")},
        )
    assert "not an image we can read" in error.message
    response = edit_profile(logged_in, {}, **{field: (NOT_AN_IMAGE, "me.png")})
    assert_same(error, field, response)
    with app.app_context():
        account = person(user.id)
        assert account.avatar_key is None and account.cover_key is None
    assert files(app) == []


def test_a_refused_field_keeps_a_good_image_off_the_disk(app, user):
    with app.app_context():
        error = refusal(
            app,
            profiles.update_profile,
            person(user.id),
            {"bio": "x" * 161},
            avatar=Upload(BytesIO(images.png()), "me.png"),
        )
        assert error.field == "bio"
        assert person(user.id).avatar_key is None
    assert files(app) == []


# Posts


def test_create_post_refuses_a_photo_that_is_not_an_image(app, logged_in, user):
    with app.app_context():
        error = refusal(
            app, posts.create_post, person(user.id), "Look", Upload(BytesIO(NOT_AN_IMAGE), "a.png")
        )
    response = post(
        logged_in,
        "/posts",
        {"body": "Look", "image": (BytesIO(NOT_AN_IMAGE), "a.png")},
        htmx=True,
        content_type="multipart/form-data",
    )
    assert_same(error, "image", response)
    assert count(app, Post) == 0
    assert files(app) == []


def test_edit_post_refuses_a_photo_that_is_not_an_image(app, logged_in, user):
    with app.test_request_context():
        post_id = posts.create_post(person(user.id), "Words first").id
    with app.app_context():
        error = refusal(
            app,
            posts.edit_post,
            # The author is read by the action: loaded with the post, as the route does.
            db.session.scalar(
                select(Post).options(joinedload(Post.author)).where(Post.id == post_id)
            ),
            "Words first",
            Upload(BytesIO(images.SVG), "a.png"),
        )
    prefix = f"post-{post_id}"
    response = post(
        logged_in,
        f"/p/{post_id}/edit",
        {f"{prefix}-body": "Words first", f"{prefix}-image": (BytesIO(images.SVG), "a.png")},
        htmx=True,
        content_type="multipart/form-data",
    )
    assert_same(error, "image", response, f"{prefix}-image")
    with app.app_context():
        assert db.session.get(Post, post_id).image_key is None
    assert files(app) == []


def test_post_length_is_the_actions_message(app, logged_in, user):
    body = "x" * (posts.MAX_POST_LENGTH + 1)
    with app.app_context():
        error = refusal(app, posts.create_post, person(user.id), body)
    response = post(logged_in, "/posts", {"body": body}, htmx=True)
    assert_same(error, "body", response)
    assert count(app, Post) == 0


# Message attachments


def conversation_with(app, user, other_user) -> int:
    with app.app_context():
        return messages.direct_conversation(person(user.id), person(other_user.id)).id


def send_both_ways(app, client, user, conversation_id: int, data: bytes, filename: str):
    with app.app_context():
        error = refusal(
            app,
            messages.send_message,
            person(user.id),
            db.session.get(Conversation, conversation_id),
            "Here it is",
            None,
            Upload(BytesIO(data), filename),
        )
    response = post(
        client,
        f"/messages/{conversation_id}",
        {
            f"conversation-{conversation_id}-body": "Here it is",
            f"conversation-{conversation_id}-attachment": (BytesIO(data), filename),
        },
        htmx=True,
    )
    return error, response


def test_send_message_refuses_a_program_as_the_form_does(app, logged_in, user, other_user):
    conversation_id = conversation_with(app, user, other_user)
    error, response = send_both_ways(app, logged_in, user, conversation_id, ELF, "photo.png")
    assert_same(error, "attachment", response, f"conversation-{conversation_id}-attachment")
    assert count(app, Message) == 0
    assert files(app) == []


@pytest.mark.app_config(ATTACHMENT_MAX_BYTES=1024)
def test_send_message_refuses_an_oversized_file_as_the_form_does(app, logged_in, user, other_user):
    conversation_id = conversation_with(app, user, other_user)
    error, response = send_both_ways(app, logged_in, user, conversation_id, b"a" * 2000, "a.txt")
    assert "larger than" in error.message
    assert_same(error, "attachment", response, f"conversation-{conversation_id}-attachment")
    assert count(app, Message) == 0
    assert files(app) == []


def test_a_stored_attachment_goes_again_when_the_message_is_refused(
    app, user, other_user, make_user
):
    stranger = make_user(username="carl")
    conversation_id = conversation_with(app, user, other_user)
    with app.app_context():
        error = refusal(
            app,
            messages.send_message,
            person(stranger.id),
            db.session.get(Conversation, conversation_id),
            "not mine",
            None,
            Upload(BytesIO(b"plain words"), "notes.txt"),
        )
    assert error.message == "You are not in this conversation."
    assert count(app, Message) == 0
    assert files(app) == []


# Rooms


def test_room_description_length_is_checked_by_the_action(app, logged_in, user):
    fields = {"name": "Tea", "topic": "Tea", "description": "x" * 2001}
    with app.app_context():
        error = refusal(app, rooms.create_room, person(user.id), **fields)
    response = post(logged_in, "/rooms/new", fields)
    assert_same(error, "description", response)
    assert count(app, Room) == 0


def test_a_new_photo_sent_with_the_edit_form_reaches_the_action(app, logged_in, user):
    with app.test_request_context():
        post_id = posts.create_post(person(user.id), "Words first").id
    prefix = f"post-{post_id}"
    response = post(
        logged_in,
        f"/p/{post_id}/edit",
        {f"{prefix}-body": "Now with a photo", f"{prefix}-image": (BytesIO(images.png()), "a.png")},
        htmx=True,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Post, post_id).image_key is not None
    assert len(files(app)) == 2  # thumb and display
