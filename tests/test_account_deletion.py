"""Deleting an account takes what it owns and nothing others wrote: replies to its
comments stay, the lobby stays, rooms and groups pass on as when their host or admin
leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import accounts
from qosyl.actions import groups
from qosyl.actions import posts as post_actions
from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import RoomMessage
from tests import factories
from tests.factories import befriend
from tests.factories import make_lobby
from tests.factories import reload
from tests.factories import write_comment
from tests.helpers import post


def delete_account(app, user) -> None:
    with app.test_request_context():
        accounts.delete_account(reload(user), factories.PASSWORD)


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol")


# 7. Replies outlive the comment they answer


def test_replies_to_a_deleted_accounts_comments_survive(app, client, user, other_user, carol):
    with app.test_request_context():
        post_id = post_actions.create_post(reload(carol), "Carol's post").id
    answered = write_comment(app, user, post_id, "Alice asks")
    reply = write_comment(app, other_user, post_id, "Bob answers", answered)
    alone = write_comment(app, user, post_id, "Alice, unanswered")
    own_reply = write_comment(app, user, post_id, "Alice adds", answered)
    delete_account(app, user)

    with app.app_context():
        rows = {c.id: c for c in db.session.scalars(select(Comment))}
        assert set(rows) == {answered, reply}
        assert (rows[answered].author_id, rows[answered].body, rows[answered].body_html) == (
            None,
            "",
            "",
        )
        assert rows[reply].parent_id == answered
        assert db.session.get(Post, post_id).comment_count == 1
    assert alone not in rows and own_reply not in rows

    factories.login(client, carol)
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "Deleted comment" in page and "Bob answers" in page
    assert "Alice asks" not in page


def test_the_last_reply_under_a_deleted_comment_takes_it_along(app, client, user, other_user):
    with app.test_request_context():
        post_id = post_actions.create_post(reload(other_user), "Bob's post").id
    answered = write_comment(app, user, post_id, "Alice asks")
    reply = write_comment(app, other_user, post_id, "Bob answers", answered)
    delete_account(app, user)
    factories.login(client, other_user)
    assert post(client, f"/comments/{reply}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
        assert db.session.get(Post, post_id).comment_count == 0


def test_someone_can_still_reply_in_a_thread_whose_root_was_deleted(
    app, client, user, other_user, carol
):
    with app.test_request_context():
        post_id = post_actions.create_post(reload(carol), "Carol's post").id
    answered = write_comment(app, user, post_id, "Alice asks")
    write_comment(app, other_user, post_id, "Bob answers", answered)
    delete_account(app, user)
    factories.login(client, carol)
    response = post(
        client,
        f"/p/{post_id}/comments",
        {"parent_id": answered, f"reply-{answered}-body": "me too"},
    )
    assert response.status_code in (200, 302)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Comment).where(Comment.parent_id == answered)
            )
            == 2
        )


# 8. The lobby never dies; rooms pass on; only empty rooms go


def test_the_lobby_outlives_its_hosts_account(app, user, other_user):
    lobby_id = make_lobby(app, user)
    with app.test_request_context():
        room_actions.send_message(reload(other_user), db.session.get(Room, lobby_id), "hi all")
    delete_account(app, user)
    with app.app_context():
        lobby = db.session.get(Room, lobby_id)
        assert lobby is not None and lobby.host_id is None
        assert db.session.scalars(select(RoomMessage.body)).all() == ["hi all"]


def test_rooms_pass_on_and_empty_rooms_go(app, user, other_user):
    with app.test_request_context():
        shared = room_actions.create_room(reload(user), "Shared", "Chess").id
        alone = room_actions.create_room(reload(user), "Alone", "Chess").id
        room_actions.join(reload(other_user), db.session.get(Room, shared))
    delete_account(app, user)
    with app.app_context():
        assert db.session.get(Room, shared).host_id == other_user.id
        assert db.session.get(Room, alone) is None


# 9. The admin role passes on as when the admin leaves


def test_a_groups_admin_role_passes_on_when_the_admin_deletes_their_account(
    app, user, other_user, carol, pushes
):
    befriend(app, user, other_user)
    befriend(app, user, carol)
    with app.test_request_context():
        conversation_id = groups.create_group(
            reload(user), "Book club", [reload(other_user), reload(carol)]
        ).id
    for member in (other_user, carol):  # Bob accepts first: he has stood longest
        with app.test_request_context():
            groups.accept_invite(reload(member), db.session.get(Conversation, conversation_id))
    delete_account(app, user)
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).admin_id == other_user.id
    assert any(
        p.event == "conversation:members" and f"user:{carol.id}" in p.to for p in pushes[-10:]
    )
    # The new admin can act as admin.
    with app.test_request_context():
        groups.rename(reload(other_user), db.session.get(Conversation, conversation_id), "Books")
        groups.remove_member(
            reload(other_user), db.session.get(Conversation, conversation_id), reload(carol)
        )


def test_a_new_lobby_host_is_named_from_the_command_line(app, user, other_user):
    lobby_id = make_lobby(app, user)
    delete_account(app, user)
    runner = app.test_cli_runner()
    assert "The lobby has no host." in runner.invoke(args=["lobby"]).output
    result = runner.invoke(args=["lobby", "--host", "bob"])
    assert result.exit_code == 0 and "@bob now hosts the lobby." in result.output
    with app.app_context():
        assert db.session.get(Room, lobby_id).host_id == other_user.id
    assert runner.invoke(args=["lobby", "--host", "nobody"]).exit_code != 0
