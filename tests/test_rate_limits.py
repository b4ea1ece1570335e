"""Per-person limits on posting, commenting and uploading (issue 8, item 10).

Over a limit the form says so next to its field (422 for HTMX), nothing is written, and an
upload is refused before a single pixel of it is decoded.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select

from qosyl import media
from qosyl.actions import ActionError
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Message
from qosyl.models import Post
from qosyl.models import User
from tests import factories
from tests import images
from tests.factories import start_conversation
from tests.factories import write_comment
from tests.factories import write_post
from tests.helpers import count_rows
from tests.helpers import post
from tests.helpers import PROFILE
from tests.helpers import send_file

limited = pytest.mark.app_config


def stored(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def decodes(monkeypatch) -> list:
    """Every call of media.process_image during the test (it still runs)."""
    calls: list = []
    original = media.process_image

    def spy(stream, spec):
        calls.append(spec.kind)
        return original(stream, spec)

    monkeypatch.setattr(media, "process_image", spy)
    return calls


def photo_post(client, body="A photo"):
    data = {"body": body, "image": (BytesIO(images.png()), "a.png")}
    return post(client, "/posts", data, htmx=True, content_type="multipart/form-data")


# Posts


@limited(RATELIMIT_ENABLED=True, RATELIMIT_POSTS="2 per minute")
def test_posts_over_the_limit_are_refused_next_to_the_body(app, logged_in):
    answers = [post(logged_in, "/posts", {"body": f"post {n}"}, htmx=True) for n in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 422]
    html = answers[-1].get_data(as_text=True)
    assert 'id="body-error"' in html and "You are posting too often" in html
    assert count_rows(app, Post) == 2


@limited(RATELIMIT_ENABLED=True, RATELIMIT_POSTS="1 per minute")
def test_a_refused_post_stores_no_photo(app, logged_in):
    assert photo_post(logged_in).status_code == 200
    files = stored(app)
    refused = photo_post(logged_in, "again")
    assert refused.status_code == 422
    assert "You are posting too often" in refused.get_data(as_text=True)
    assert count_rows(app, Post) == 1 and stored(app) == files


@limited(RATELIMIT_ENABLED=True, RATELIMIT_POSTS="1 per minute")
def test_the_post_limit_is_per_person_and_checked_in_the_action(app, user, other_user):
    write_post(app, user, "mine")
    with pytest.raises(ActionError) as refused:
        write_post(app, user, "mine again")
    assert refused.value.field == "body"
    assert "Try again in" in refused.value.message
    write_post(app, other_user, "someone else may")
    assert count_rows(app, Post) == 2


# Comments


@limited(RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="2 per minute")
def test_comments_over_the_limit_are_refused_next_to_the_body(app, logged_in, user):
    post_id = write_post(app, user, "a post")
    url = f"/p/{post_id}/comments"
    answers = [post(logged_in, url, {"comment-body": f"c{n}"}, htmx=True) for n in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 422]
    html = answers[-1].get_data(as_text=True)
    assert 'id="comment-body-error"' in html and "You are commenting too often" in html
    assert count_rows(app, Comment) == 2
    with app.app_context():
        assert db.session.get(Post, post_id).comment_count == 2


@limited(RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="1 per minute")
def test_replies_count_as_comments(app, user, other_user):
    post_id = write_post(app, other_user, "a post")
    first = write_comment(app, user, post_id, "a comment")
    with pytest.raises(ActionError) as refused:
        write_comment(app, user, post_id, "a reply", parent_id=first)
    assert refused.value.field == "body"
    assert count_rows(app, Comment) == 1


@limited(RATELIMIT_ENABLED=True, RATELIMIT_POSTS="1 per minute", RATELIMIT_COMMENTS="1 per minute")
def test_posts_and_comments_have_their_own_budgets(app, user):
    post_id = write_post(app, user, "a post")
    write_comment(app, user, post_id, "and a comment")
    assert count_rows(app, Post) == 1 and count_rows(app, Comment) == 1


# Uploads: counted before decoding, whatever the upload is for


@limited(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="1 per minute")
def test_a_photo_over_the_upload_limit_is_not_decoded(app, logged_in, decodes):
    assert photo_post(logged_in).status_code == 200
    assert decodes == ["post"]
    files = stored(app)
    refused = photo_post(logged_in, "again")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="image-error"' in html and "You are uploading too often" in html
    assert decodes == ["post"]  # the second photo was never opened
    assert count_rows(app, Post) == 1 and stored(app) == files


@limited(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="1 per minute")
def test_text_posts_do_not_count_as_uploads(app, logged_in):
    assert photo_post(logged_in).status_code == 200
    assert post(logged_in, "/posts", {"body": "just words"}, htmx=True).status_code == 200
    assert count_rows(app, Post) == 2


@limited(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="1 per minute")
def test_avatars_and_covers_share_the_upload_budget(app, logged_in, decodes):
    data = {
        **PROFILE,
        "avatar": (BytesIO(images.png()), "a.png"),
        "cover": (BytesIO(images.png(1500, 500)), "c.png"),
    }
    response = post(logged_in, "/settings/profile", data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "You are uploading too often" in response.get_data(as_text=True)
    assert len(decodes) == 1  # the avatar; the cover was refused before decoding
    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "alice"))
        assert account.avatar_key is None and account.cover_key is None
    assert stored(app) == []


@limited(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="1 per minute")
def test_message_attachments_count_as_uploads(app, logged_in, user, other_user, decodes):
    conversation_id = start_conversation(app, user, other_user)
    assert send_file(logged_in, conversation_id, "a.png", images.png()).status_code == 200
    assert decodes == ["attachment"]
    files = stored(app)
    refused = send_file(logged_in, conversation_id, "notes.txt", b"plain words", body="hi")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="conversation-{conversation_id}-attachment-error"' in html
    assert "You are uploading too often" in html
    refused = send_file(logged_in, conversation_id, "b.png", images.png(), body="hi")
    assert refused.status_code == 422
    assert decodes == ["attachment"]
    assert count_rows(app, Message) == 1 and stored(app) == files


@limited(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="1 per minute")
def test_the_upload_limit_is_per_person(app, client, user, other_user):
    factories.login(client, user)
    assert photo_post(client).status_code == 200
    factories.login(client, other_user)
    assert photo_post(client).status_code == 200
    assert count_rows(app, Post) == 2


def test_limits_are_off_when_rate_limiting_is(app, logged_in, decodes):
    app.config.update(RATELIMIT_POSTS="1 per minute", RATELIMIT_UPLOADS="1 per minute")
    assert [photo_post(logged_in, f"p{n}").status_code for n in range(3)] == [200] * 3
    assert len(decodes) == 3
