"""Password reset, change password, change email and account deletion (ACC-4, ACC-6)."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from PIL import Image
from sqlalchemy import func
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import PostLike
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import Topic
from qosyl.models import User
from tests import factories
from tests.factories import NEW_PASSWORD
from tests.factories import PASSWORD
from tests.helpers import link_from
from tests.helpers import post


def can_sign_in(app, login: str, password: str) -> bool:
    client = app.test_client()
    return post(client, "/login", {"login": login, "password": password}).status_code == 302


# Password reset


def test_password_reset_by_mailed_link(client, app, user, outbox):
    response = post(client, "/password/forgot", {"email": "ALICE@example.com"})
    assert response.status_code == 302
    assert len(outbox) == 1
    link = link_from(outbox[0], "/password/reset/")

    assert b"Choose a new password" in client.get(link).data
    response = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert can_sign_in(app, "alice", NEW_PASSWORD)
    assert not can_sign_in(app, "alice", PASSWORD)
    assert "password was changed" in outbox[-1].subject

    # The link is spent once the password changed.
    reused = client.get(link)
    assert reused.status_code == 400
    assert b"not valid or was already used" in reused.data


def test_reset_request_for_an_unknown_address_looks_the_same_and_mails_nothing(client, outbox):
    response = post(client, "/password/forgot", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert outbox == []
    page = client.get("/login").get_data(as_text=True)
    assert "If an account uses nobody@example.com" in page


def test_reset_link_expires(client, app, user, outbox):
    post(client, "/password/forgot", {"email": "alice@example.com"})
    link = link_from(outbox[0], "/password/reset/")
    app.config["RESET_TOKEN_MAX_AGE"] = timedelta(seconds=-1)
    response = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert b"expired" in response.data
    assert can_sign_in(app, "alice", PASSWORD)


def test_reset_with_a_weak_password_changes_nothing(client, app, user, outbox):
    post(client, "/password/forgot", {"email": "alice@example.com"})
    link = link_from(outbox[0], "/password/reset/")
    response = post(client, link, {"password": "qwerty123", "confirm": "qwerty123"})
    assert response.status_code == 422
    assert b'id="password-error"' in response.data
    assert can_sign_in(app, "alice", PASSWORD)


def test_reset_also_verifies_an_unverified_address(client, app, make_user, outbox):
    make_user(username="late", verified=False)
    post(client, "/password/forgot", {"email": "late@example.com"})
    post(
        client,
        link_from(outbox[0], "/password/reset/"),
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert can_sign_in(app, "late", NEW_PASSWORD)


# Change password


def test_change_password_signs_out_other_sessions_but_not_this_one(app, logged_in, outbox):
    other_device = app.test_client()
    factories.login(other_device, _alice(app))
    assert other_device.get("/notifications").status_code == 200

    response = post(
        logged_in,
        "/settings/password",
        {
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert logged_in.get("/notifications").status_code == 200
    assert other_device.get("/notifications").status_code == 302
    assert can_sign_in(app, "alice", NEW_PASSWORD)
    assert "password was changed" in outbox[-1].subject


def _alice(app) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == "alice"))


def test_change_password_needs_the_current_one(app, logged_in):
    response = post(
        logged_in,
        "/settings/password",
        {
            "current_password": "not my password",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert b"Your current password is not correct." in response.data
    assert can_sign_in(app, "alice", PASSWORD)


def test_change_password_refuses_anonymous_and_missing_csrf(app, client, user):
    assert client.get("/settings/password").status_code == 302
    factories.login(client, user)
    response = post(
        client,
        "/settings/password",
        {
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        csrf=False,
    )
    assert response.status_code == 400
    assert can_sign_in(app, "alice", PASSWORD)


# Change email


def test_change_email_waits_for_the_new_address_to_confirm(app, logged_in, outbox):
    response = post(
        logged_in, "/settings/email", {"email": "Alice.New@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    recipients = [m.recipients[0] for m in outbox]
    assert recipients == ["alice.new@example.com", "alice@example.com"]  # link, then notice
    assert _alice(app).email == "alice@example.com"
    assert b"Waiting for you to confirm" in logged_in.get("/settings/email").data

    response = logged_in.get(link_from(outbox[0], "/verify/"))
    assert response.status_code == 302
    alice = _alice(app)
    assert alice.email == "alice.new@example.com"
    assert alice.pending_email is None
    assert can_sign_in(app, "alice.new@example.com", PASSWORD)


def test_change_email_refuses_an_address_in_use(app, logged_in, other_user, outbox):
    response = post(
        logged_in, "/settings/email", {"email": "BOB@example.com", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert b"An account with this email already exists." in response.data
    assert outbox == []
    assert _alice(app).pending_email is None


def test_change_email_needs_the_password(app, logged_in, outbox):
    response = post(logged_in, "/settings/email", {"email": "x@example.com", "password": "nope"})
    assert response.status_code == 422
    assert b"Your password is not correct." in response.data
    assert outbox == [] and _alice(app).pending_email is None


def test_a_pending_change_can_be_cancelled_and_its_link_dies(app, logged_in, outbox):
    post(logged_in, "/settings/email", {"email": "new@example.com", "password": PASSWORD})
    post(logged_in, "/settings/email/cancel")
    assert _alice(app).pending_email is None
    response = logged_in.get(link_from(outbox[0], "/verify/"))
    assert response.status_code == 400
    assert _alice(app).email == "alice@example.com"


def test_a_change_link_loses_to_an_account_that_took_the_address(app, logged_in, make_user, outbox):
    post(logged_in, "/settings/email", {"email": "wanted@example.com", "password": PASSWORD})
    with app.app_context():
        # Someone else signs up with the address meanwhile (only possible by a race).
        other = factories.user(username="quick", email="other@example.com")
        other.email = "wanted@example.com"
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        alice.pending_email = "wanted@example.com"
        db.session.commit()
    response = logged_in.get(link_from(outbox[0], "/verify/"))
    assert response.status_code == 400
    assert b"Another account now uses this address." in response.data


# A pending change reserves nothing: the first to confirm an address gets it.

TAKEN = "Another account now uses this address."
WANTED = "wanted@example.com"


def _account(app, username: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def _browser_of(app, account: User):
    client = app.test_client()
    factories.login(client, account)
    return client


def _ask_for(client, address: str = WANTED):
    return post(client, "/settings/email", {"email": address, "password": PASSWORD})


def _link_to(outbox, address: str = WANTED) -> str:
    return link_from([m for m in outbox if m.recipients == [address]][-1], "/verify/")


SIGN_UP = {
    "first_name": "Carol",
    "last_name": "Quick",
    "username": "carol",
    "email": "Wanted@Example.com",
    "password": "violet-mountain-river-42",
    "confirm": "violet-mountain-river-42",
}


def test_a_pending_change_does_not_block_a_sign_up_which_then_wins(app, logged_in, outbox):
    assert _ask_for(logged_in).status_code == 302
    alice_link = _link_to(outbox)

    response = post(app.test_client(), "/register", SIGN_UP)
    assert response.status_code == 302
    assert _account(app, "carol").email == WANTED

    # The sign-up holds the address now (even unverified): alice's link fails cleanly.
    refused = logged_in.get(alice_link)
    assert refused.status_code == 400
    assert TAKEN in refused.get_data(as_text=True)
    alice = _account(app, "alice")
    assert (alice.email, alice.pending_email) == ("alice@example.com", None)


def test_a_pending_change_does_not_block_another_change(app, logged_in, other_user, outbox):
    assert _ask_for(logged_in).status_code == 302
    bob = _browser_of(app, other_user)
    assert _ask_for(bob).status_code == 302
    assert _account(app, "bob").pending_email == WANTED
    assert _account(app, "alice").pending_email == WANTED


def test_two_pending_changes_to_one_address_the_first_to_confirm_wins(
    app, logged_in, other_user, outbox
):
    _ask_for(logged_in)
    alice_link = _link_to(outbox)
    bob = _browser_of(app, other_user)
    _ask_for(bob)
    bob_link = _link_to(outbox)

    assert bob.get(bob_link).status_code == 302
    assert _account(app, "bob").email == WANTED
    # The confirmed address leaves everyone else's pending change.
    assert _account(app, "alice").pending_email is None

    refused = logged_in.get(alice_link)
    assert refused.status_code == 400
    assert TAKEN in refused.get_data(as_text=True)
    assert _account(app, "alice").email == "alice@example.com"
    assert can_sign_in(app, WANTED, PASSWORD)  # bob's, with bob's password
    assert _account(app, "bob").email == WANTED


def test_a_confirmation_that_loses_a_race_at_commit_gets_the_message(
    app, logged_in, other_user, outbox, monkeypatch
):
    _ask_for(logged_in)
    alice_link = _link_to(outbox)
    with app.app_context():
        # Bob's confirmation commits between alice's check and her commit.
        db.session.get(User, other_user.id).email = WANTED
        db.session.commit()
    from qosyl.actions import accounts

    monkeypatch.setattr(accounts, "user_by_email", lambda email: None)
    refused = logged_in.get(alice_link)
    assert refused.status_code == 400
    assert TAKEN in refused.get_data(as_text=True)
    assert _account(app, "alice").email == "alice@example.com"


def test_verifying_a_sign_up_clears_the_address_from_pending_changes(app, logged_in, outbox):
    _ask_for(logged_in)
    post(app.test_client(), "/register", SIGN_UP)
    carol_link = _link_to(outbox)
    assert app.test_client().get(carol_link).status_code == 302
    assert _account(app, "carol").is_verified
    assert _account(app, "alice").pending_email is None


def test_resend_mails_every_account_waiting_for_the_address(app, logged_in, other_user, outbox):
    _ask_for(logged_in)
    _ask_for(_browser_of(app, other_user))
    outbox.clear()
    assert post(app.test_client(), "/verify/resend", {"email": WANTED}).status_code == 302
    assert sorted(m.recipients[0] for m in outbox) == [WANTED, WANTED]
    statuses = [app.test_client().get(link_from(m, "/verify/")).status_code for m in outbox]
    # The first link opened won; the other found the address taken.
    assert statuses == [302, 400]
    assert [_account(app, name).email for name in ("alice", "bob")].count(WANTED) == 1


# Delete account


def _png() -> BytesIO:
    data = BytesIO()
    Image.new("RGB", (300, 300), "teal").save(data, "PNG")
    data.seek(0)
    return data


def test_delete_account_removes_the_user_and_their_things(app, logged_in, other_user):
    post(
        logged_in,
        "/settings/profile",
        {
            "first_name": "Alice",
            "last_name": "Archer",
            "avatar": (_png(), "me.png"),
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        avatar_key = alice.avatar_key
        assert avatar_key
        bob_post = Post(author_id=other_user.id, body="Bob's post", like_count=1, comment_count=2)
        db.session.add(bob_post)
        db.session.flush()
        db.session.add(PostLike(post_id=bob_post.id, user_id=alice.id))
        top = Comment(post_id=bob_post.id, author_id=alice.id, body="Nice")
        db.session.add(top)
        db.session.flush()
        db.session.add(
            Comment(post_id=bob_post.id, author_id=other_user.id, body="Thanks", parent_id=top.id)
        )
        topic = Topic(name="Chess")
        db.session.add(topic)
        db.session.flush()
        alone = Room(name="Alone", topic_id=topic.id, host_id=alice.id)
        shared = Room(name="Shared", topic_id=topic.id, host_id=alice.id)
        db.session.add_all([alone, shared])
        db.session.flush()
        db.session.add_all(
            [
                RoomMember(room_id=alone.id, user_id=alice.id),
                RoomMember(room_id=shared.id, user_id=alice.id),
                RoomMember(room_id=shared.id, user_id=other_user.id),
            ]
        )
        db.session.add(Notification(recipient_id=other_user.id, actor_id=alice.id, kind="welcome"))
        db.session.commit()
        post_id, shared_id = bob_post.id, shared.id

    wrong = post(logged_in, "/settings/delete", {"password": "nope", "understood": "y"})
    assert wrong.status_code == 422
    unticked = post(logged_in, "/settings/delete", {"password": PASSWORD})
    assert unticked.status_code == 422
    assert b"Tick the box to confirm." in unticked.data
    assert _alice(app) is not None

    response = post(logged_in, "/settings/delete", {"password": PASSWORD, "understood": "y"})
    assert response.status_code == 302
    assert _alice(app) is None
    assert logged_in.get("/notifications").status_code == 302
    with app.app_context():
        bob_post = db.session.get(Post, post_id)
        # Bob's reply stays, under Alice's comment emptied to "deleted comment".
        assert (bob_post.like_count, bob_post.comment_count) == (0, 1)
        kept = db.session.scalars(select(Comment).order_by(Comment.id)).all()
        assert [(c.author_id, c.body) for c in kept] == [(None, ""), (other_user.id, "Thanks")]
        assert db.session.get(Room, shared_id).host_id == other_user.id
        assert [r.name for r in db.session.scalars(select(Room))] == ["Shared"]
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert list((Path(app.config["UPLOAD_FOLDER"]) / "avatar").iterdir()) == []


def test_delete_account_refuses_missing_csrf(app, logged_in):
    response = post(
        logged_in, "/settings/delete", {"password": PASSWORD, "understood": "y"}, csrf=False
    )
    assert response.status_code == 400
    assert _alice(app) is not None


# The settings pages together


def test_every_settings_page_is_one_blueprint_under_one_nav(app, logged_in):
    """Every /settings/ URL is the settings blueprint's; each page's nav links every
    settings page and marks itself as the current one."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/settings/")]
    assert {rule.endpoint.partition(".")[0] for rule in rules} == {"settings"}
    pages = sorted(rule.rule for rule in rules if "GET" in rule.methods)
    assert len(pages) == 9
    for page in pages:
        response = logged_in.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        start = html.index('<nav class="settings__nav"')
        nav = html[start : html.index("</nav>", start)]
        assert sorted(re.findall(r'href="([^"]+)"', nav)) == pages
        assert f'href="{page}" aria-current="page"' in nav
        assert nav.count("aria-current") == 1
