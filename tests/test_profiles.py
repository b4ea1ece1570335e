"""Profiles: the public page, editing, images and the first-run setup (PRO-1, PRO-2, ACC-5)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import profiles
from qosyl.extensions import db
from qosyl.models import Notification
from qosyl.models import User
from tests import factories
from tests import images
from tests.helpers import assert_query_count
from tests.helpers import hx_get
from tests.helpers import post
from tests.helpers import PROFILE


def alice(app) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == "alice"))


def upload(client, url, fields, **files):
    data = dict(fields)
    for name, (content, filename) in files.items():
        data[name] = (BytesIO(content), filename)
    return post(client, url, data, content_type="multipart/form-data")


def stored_files(app) -> list[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.webp")) if root.exists() else []


# The public page


def test_profile_page_shows_the_fields(app, logged_in):
    upload(logged_in, "/settings/profile", PROFILE)
    html = logged_in.get("/u/ALICE").get_data(as_text=True)  # usernames match in any case
    for text in (
        "Alice Archer",
        "@alice",
        "Climbs rocks, writes Python.",
        "Almaty, Kazakhstan",
        "Line one\nLine two",
        'href="https://alice.example.org"',
        'href="https://github.com/alice"',
        "Edit profile",
    ):
        assert text in html


def test_profile_pages_are_for_signed_in_users(client, user):
    response = client.get("/u/alice")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_unverified_accounts_have_no_public_page(logged_in, make_user):
    make_user(username="hidden", verified=False)
    assert logged_in.get("/u/hidden").status_code == 404
    assert logged_in.get("/u/nobody").status_code == 404


def test_someone_elses_profile_has_no_edit_button(logged_in, other_user):
    html = logged_in.get("/u/bob").get_data(as_text=True)
    head = html.split('class="profile__head"', 1)[1].split("</header>", 1)[0]
    assert "Bob Baker" in head
    assert "Edit profile" not in head
    own = logged_in.get("/u/alice").get_data(as_text=True)
    assert "Edit profile" in own.split('class="profile__head"', 1)[1].split("</header>", 1)[0]


def test_user_text_is_escaped_on_the_page(app, logged_in):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = upload(
        logged_in,
        "/settings/profile",
        {**PROFILE, "bio": evil[:160], "about": evil, "address": evil[:120]},
    )
    assert response.status_code == 302
    html = logged_in.get("/u/alice").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


# Editing


def test_fields_can_be_saved_and_cleared(app, logged_in):
    assert upload(logged_in, "/settings/profile", PROFILE).status_code == 302
    saved = alice(app)
    assert (saved.bio, saved.country, saved.website) == (
        "Climbs rocks, writes Python.",
        "KZ",
        "https://alice.example.org",
    )
    cleared = {
        **PROFILE,
        "bio": "",
        "about": "",
        "address": "",
        "country": "",
        "website": "",
        "github": "",
    }
    assert upload(logged_in, "/settings/profile", cleared).status_code == 302
    saved = alice(app)
    assert (saved.bio, saved.about, saved.address, saved.country, saved.website, saved.github) == (
        "",
        "",
        "",
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Enter your first name."),
        ("bio", "x" * 161, "Use at most 160 characters."),
        ("country", "XX", "Not a valid choice"),
        ("website", "javascript:alert(1)", "Enter a web address like https://example.com."),
        ("github", "https://evil.example/alice", "Enter a GitHub address"),
        ("twitter", "ftp://x.com/alice", "Enter a web address"),
    ],
)
def test_bad_profile_input_changes_nothing(app, logged_in, field, value, message):
    upload(logged_in, "/settings/profile", PROFILE)
    before = alice(app)
    response = upload(logged_in, "/settings/profile", {**PROFILE, "bio": "changed", field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.split(f'id="{field}-error"', 1)[1].split("</ul>", 1)[0]
    after = alice(app)
    assert (after.bio, getattr(after, field)) == (before.bio, getattr(before, field))


ADDRESS_LIKE = "Enter a web address like"
NOT_GITHUB = "Enter a GitHub address like https://github.com/yourname."
NO_USERINFO = "Remove the part before @: a link cannot hold a user name or password."
NO_BACKSLASH = "Use / rather than \\ in a web address."
NO_SPACES = "Remove the spaces and invisible characters from the address."

# Each would take a browser somewhere other than the site the field names, or nowhere.
HOSTILE_LINKS = [
    ("github", "https://evil.example\\@github.com/x", NO_BACKSLASH),
    ("github", "https://evil.example\\.github.com", NO_BACKSLASH),
    ("github", "https:\\\\evil.example\\github.com", NO_BACKSLASH),
    ("github", "https://evil.example%5C@github.com/x", NO_USERINFO),
    ("github", "https://github.com@evil.example/x", NO_USERINFO),
    ("github", "https://alice:secret@github.com/alice", NO_USERINFO),
    ("github", "https://g\u0456thub.com/alice", NOT_GITHUB),  # Cyrillic i
    ("github", "https://github.com.evil.example/alice", NOT_GITHUB),
    ("github", "https://notgithub.com/alice", NOT_GITHUB),
    ("github", "https://github%2Ecom/alice", ADDRESS_LIKE),
    ("github", "https://git\thub.com/alice", NO_SPACES),
    ("github", "https://github.com/al ice", NO_SPACES),
    ("github", "https://github.com\u200b.evil.example/", NO_SPACES),
    ("github", "https://github.com/\u202ealice", NO_SPACES),
    ("github", "https://github.com:99999/alice", ADDRESS_LIKE),
    ("website", "javascript:alert(1)", ADDRESS_LIKE),
    ("website", "data:text/html,<script>alert(1)</script>", ADDRESS_LIKE),
    ("website", "mailto:alice@example.com", ADDRESS_LIKE),
    ("website", "https://", ADDRESS_LIKE),
    ("website", "https://localhost:8080/", ADDRESS_LIKE),
    ("website", "https://127.0.0.1/", ADDRESS_LIKE),
    ("website", "https://2130706433/", ADDRESS_LIKE),
    ("website", "https://0x7f.1/", ADDRESS_LIKE),
    ("website", "https://[::1]/", ADDRESS_LIKE),
    ("website", "https://exa..mple.com/", ADDRESS_LIKE),
    ("website", "https://xn--zz.example/", ADDRESS_LIKE),
    ("website", "https://example.com/" + "x" * 240, "Use at most 255 characters."),
]


@pytest.mark.parametrize(("field", "value", "message"), HOSTILE_LINKS)
def test_a_link_a_browser_would_read_differently_is_refused(app, logged_in, field, value, message):
    upload(logged_in, "/settings/profile", PROFILE)
    response = upload(logged_in, "/settings/profile", {**PROFILE, "bio": "changed", field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert escape(message) in html.split(f'id="{field}-error"', 1)[1].split("</ul>", 1)[0]
    after = alice(app)
    assert (after.bio, after.github, after.website) == (
        PROFILE["bio"],
        PROFILE["github"],
        "https://alice.example.org",
    )


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("github", "https://github.com/alice", "https://github.com/alice"),
        ("github", "github.com/alice", "https://github.com/alice"),
        ("github", "HTTPS://GitHub.COM/Alice", "https://github.com/Alice"),
        ("github", "https://github.com:443/alice", "https://github.com/alice"),
        ("github", "https://gist.github.com/alice", "https://gist.github.com/alice"),
        (
            "github",
            "https://\uff47\uff49\uff54\uff48\uff55\uff42.com/alice",
            "https://github.com/alice",
        ),
        ("github", "https://github.com./alice", "https://github.com/alice"),
        ("twitter", "http://x.com:80/alice", "http://x.com/alice"),
        (
            "website",
            "https://b\u00fccher.example/caf\u00e9",
            "https://xn--bcher-kva.example/caf\u00e9",
        ),
        # Browsers keep the sharp s (UTS 46 non-transitional); IDNA 2003 would make it "ss".
        ("website", "https://fa\u00df.example/", "https://xn--fa-hia.example/"),
        ("website", "example.com:8443/a?b=1#c", "https://example.com:8443/a?b=1#c"),
        ("website", "https://medium.com/@alice", "https://medium.com/@alice"),
    ],
)
def test_a_good_link_is_stored_in_its_normal_form(app, logged_in, field, value, stored):
    response = upload(logged_in, "/settings/profile", {**PROFILE, field: value})
    assert response.status_code == 302
    assert getattr(alice(app), field) == stored


def test_the_profile_action_refuses_the_same_links_with_the_same_message(app, user):
    with app.test_request_context():
        account = db.session.get(User, user.id)
        with pytest.raises(ActionError) as refused:
            profiles.update_profile(account, {"github": "https://evil.example\\@github.com/x"})
        assert (refused.value.field, refused.value.message) == ("github", NO_BACKSLASH)
        profiles.update_profile(account, {"github": "GitHub.com/alice"})
        assert account.github == "https://github.com/alice"


def test_a_link_saved_before_the_check_is_not_offered(app, logged_in, user):
    with app.app_context():
        account = db.session.get(User, user.id)
        account.github = "https://evil.example\\@github.com/x"
        account.website = "https://alice.example.org"
        db.session.commit()
    html = logged_in.get("/u/alice").get_data(as_text=True)
    assert "evil.example" not in html
    assert 'href="https://alice.example.org"' in html


def test_avatar_and_cover_upload_replace_and_remove(app, logged_in):
    response = upload(
        logged_in,
        "/settings/profile",
        PROFILE,
        avatar=(images.png(), "me.png"),
        cover=(images.png(1500, 500), "c.jpg"),
    )
    assert response.status_code == 302
    first = alice(app)
    assert first.avatar_key and first.cover_key
    assert len(stored_files(app)) == 4
    page = logged_in.get("/u/alice").get_data(as_text=True)
    assert f"/media/avatar/{first.avatar_key}_display.webp" in page
    assert f"/media/cover/{first.cover_key}_display.webp" in page
    image = logged_in.get(f"/media/avatar/{first.avatar_key}_thumb.webp")
    assert image.status_code == 200
    assert image.mimetype == "image/webp"
    assert "immutable" in image.headers["Cache-Control"]
    image.close()

    upload(logged_in, "/settings/profile", PROFILE, avatar=(images.png(color="red"), "new.png"))
    second = alice(app)
    assert second.avatar_key != first.avatar_key
    assert not any(first.avatar_key in name for name in stored_files(app))  # old files gone

    upload(logged_in, "/settings/profile", {**PROFILE, "remove_avatar": "y", "remove_cover": "y"})
    third = alice(app)
    assert third.avatar_key is None and third.cover_key is None
    assert stored_files(app) == []


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (images.SVG, "avatar.svg", "SVG images are not accepted."),
        (images.HTML_AS_PNG, "avatar.png", "This file is not an image we can read."),
        (images.png_header_only(9000, 9000), "big.png", "the limit is 16 megapixels"),
        (images.png_header_only(300_000, 300_000), "bomb.png", "too many pixels"),
    ],
)
def test_bad_images_are_refused_next_to_the_field_and_nothing_is_stored(
    app, logged_in, content, filename, message
):
    response = upload(
        logged_in, "/settings/profile", {**PROFILE, "bio": "changed"}, avatar=(content, filename)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.split('id="avatar-error"', 1)[1].split("</ul>", 1)[0]
    assert alice(app).avatar_key is None
    assert alice(app).bio == ""
    assert stored_files(app) == []


@pytest.mark.app_config(IMAGE_MAX_BYTES=20_000)
def test_images_over_the_configured_size_are_refused(app, logged_in):
    response = upload(
        logged_in, "/settings/profile", PROFILE, avatar=(images.noisy_png(200, 200), "big.png")
    )
    assert response.status_code == 422
    assert "The image is larger than 20 KB." in response.get_data(as_text=True)
    assert stored_files(app) == []


@pytest.mark.app_config(MAX_CONTENT_LENGTH=30_000)
def test_requests_over_the_whole_limit_get_a_clear_413(app, logged_in):
    response = upload(
        logged_in, "/settings/profile", PROFILE, avatar=(images.noisy_png(200, 200), "big.png")
    )
    assert response.status_code == 413
    assert b"The upload is too large: the limit is 29 KB in all." in response.data


def test_uploaded_files_are_served_to_signed_in_users_only(app, logged_in, client):
    upload(logged_in, "/settings/profile", PROFILE, avatar=(images.png(), "me.png"))
    key = alice(app).avatar_key
    anonymous = app.test_client()
    assert anonymous.get(f"/media/avatar/{key}_thumb.webp").status_code == 302
    assert logged_in.get("/media/avatar/../../config.py").status_code == 404
    assert logged_in.get("/media/secrets/x.webp").status_code == 404


def test_profile_edit_refuses_anonymous_and_missing_csrf(app, client, user):
    assert client.get("/settings/profile").status_code == 302
    response = post(client, "/settings/profile", PROFILE)
    assert response.status_code in (302, 400)
    factories.login(client, user)
    response = post(client, "/settings/profile", {**PROFILE, "bio": "x"}, csrf=False)
    assert response.status_code == 400
    assert alice(app).bio == ""


# First-run setup


def test_setup_saves_in_place_and_sends_the_welcome_once(app, client, make_user, pushes):
    newcomer = make_user(username="alice", onboarded=False)
    factories.login(client, newcomer)
    page = client.get("/welcome").get_data(as_text=True)
    assert "Set up your profile" in page
    assert 'hx-post="/welcome"' in page

    response = upload(
        client, "/welcome", {"bio": "Hi!", "country": "KZ"}, avatar=(images.png(), "me.png")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You are all set" in html
    assert "<html" in html  # a plain POST gets the whole page

    with app.app_context():
        notes = list(db.session.scalars(select(Notification)))
        assert [(n.recipient_id, n.kind) for n in notes] == [(newcomer.id, "welcome")]
        assert alice(app).onboarded_at is not None
    # The new picture reaches the header of every tab of theirs, then the welcome.
    assert [(p.event, p.to) for p in pushes] == [
        ("html", f"user:{newcomer.id}"),
        ("notification", f"user:{newcomer.id}"),
    ]
    header, welcome = pushes
    assert header.data["target"] == "#header-avatar" and "/media/avatar/" in header.data["html"]
    assert welcome.data["text"].startswith("Welcome to Qosyl!")

    upload(client, "/welcome", {"bio": "Again"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_setup_over_htmx_returns_only_its_region(app, client, make_user):
    newcomer = make_user(username="alice", onboarded=False)
    factories.login(client, newcomer)
    response = post(client, "/welcome", {"bio": "Hi", "country": ""}, htmx=True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="setup"')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_setup_errors_keep_the_form_and_send_nothing(app, client, make_user, pushes):
    newcomer = make_user(username="alice", onboarded=False)
    factories.login(client, newcomer)
    response = upload(client, "/welcome", {"bio": "x" * 200}, avatar=(images.SVG, "a.svg"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "SVG images are not accepted." in html
    assert "Use at most 160 characters." in html
    assert pushes == []
    assert alice(app).onboarded_at is None


def test_skip_setup_also_welcomes(app, client, make_user):
    newcomer = make_user(username="alice", onboarded=False)
    factories.login(client, newcomer)
    response = post(client, "/welcome/skip")
    assert response.headers["Location"] == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_the_relation_buttons_refetch_alone(app, logged_in, user, other_user):
    """What the open profile asks for when a relation changes: the buttons, not the posts."""
    from qosyl.actions import social

    with app.test_request_context():
        social.send_friend_request(
            db.session.get(User, other_user.id), db.session.get(User, user.id)
        )
    with assert_query_count(app, 3):  # the signed-in user, the profile, the relation
        html = hx_get(logged_in, f"/u/{other_user.username}").get_data(as_text=True)
    assert html.lstrip().startswith('<div class="profile__relation" id="profile-relation"')
    assert 'hx-trigger="relations-changed from:body"' in html
    assert ">Accept<" in html and "posts-heading" not in html
