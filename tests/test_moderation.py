"""Moderation holds: a removal lasts until the host or admin lets the person back, blocks do
not shield anyone from the owner of a place, and the lobby's moderation is real."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import groups
from qosyl.actions import posts as post_actions
from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import MemberStatus
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from tests import factories
from tests.factories import befriend
from tests.factories import block
from tests.factories import make_lobby
from tests.factories import make_room
from tests.factories import reload
from tests.factories import write_comment
from tests.helpers import post
from tests.helpers import status_of


def join(app, user, room_id) -> None:
    with app.test_request_context():
        room_actions.join(reload(user), db.session.get(Room, room_id))


def messages_in(app, room_id) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(RoomMessage.body)
                .where(RoomMessage.room_id == room_id)
                .order_by(RoomMessage.id)
            )
        )


def say(client, room_id, body):
    return post(client, f"/rooms/{room_id}/messages", {f"room-{room_id}-body": body})


# 1. A removal holds whatever the removed person does


def test_leaving_and_joining_again_does_not_undo_a_removal(app, client, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    factories.login(client, user)
    post(client, f"/rooms/{room_id}/participants/bob/remove")

    factories.login(client, other_user)
    post(client, f"/rooms/{room_id}/leave")
    post(client, f"/rooms/{room_id}/join")
    assert say(client, room_id, "back again").status_code == 404
    assert "The host removed you" in client.get(f"/rooms/{room_id}").get_data(as_text=True)
    with app.app_context():
        row = db.session.get(RoomMember, (room_id, other_user.id))
        assert row is not None and row.removed_at is not None
    assert messages_in(app, room_id) == []


def test_a_removed_person_never_inherits_the_room(app, user, other_user, make_user):
    carol = make_user(username="carol")
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    join(app, carol, room_id)
    with app.test_request_context():
        room_actions.remove_member(db.session.get(Room, room_id), reload(other_user))
    with app.test_request_context():
        room_actions.leave(reload(user), db.session.get(Room, room_id))
    with app.app_context():
        assert db.session.get(Room, room_id).host_id == carol.id


# 2. Only the admin readmits someone the admin removed


def group_of(app, admin, *members) -> int:
    """A group of friends run by `admin`, every member in it."""
    everyone = [admin, *members]
    for n, a in enumerate(everyone):
        for b in everyone[n + 1 :]:
            befriend(app, a, b)
    with app.test_request_context():
        conversation = groups.create_group(reload(admin), "Book club", [reload(m) for m in members])
        conversation_id = conversation.id
    for member in members:
        with app.test_request_context():
            groups.accept_invite(reload(member), db.session.get(Conversation, conversation_id))
    return conversation_id


def group_act(app, name, actor, conversation_id, *args):
    with app.test_request_context():
        conversation = db.session.get(Conversation, conversation_id)
        return getattr(groups, name)(reload(actor), conversation, *[reload(a) for a in args])


def test_a_member_cannot_invite_back_someone_the_admin_removed(app, user, other_user, make_user):
    carol = make_user(username="carol")
    conversation_id = group_of(app, user, other_user, carol)
    group_act(app, "remove_member", user, conversation_id, other_user)

    with pytest.raises(ActionError, match="Only the group's admin can invite back"):
        group_act(app, "invite", carol, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) == MemberStatus.REMOVED

    # Carol's invite list does not offer Bob either; the admin's does.
    from qosyl.queries import invite_candidates

    with app.app_context():
        assert other_user.id not in {
            p.id for p in invite_candidates(carol.id, conversation_id, readmit_removed=False)
        }
        assert other_user.id in {
            p.id for p in invite_candidates(user.id, conversation_id, readmit_removed=True)
        }
    group_act(app, "invite", user, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) == MemberStatus.INVITED


def test_a_member_who_left_may_be_invited_back_by_anyone(app, user, other_user, make_user):
    carol = make_user(username="carol")
    conversation_id = group_of(app, user, other_user, carol)
    group_act(app, "leave", other_user, conversation_id)
    group_act(app, "invite", carol, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) == MemberStatus.INVITED


# 3. Blocks hide content; they do not shield it from the owner of the place


def test_the_host_removes_a_member_who_blocked_them(app, client, user, other_user):
    room_id = make_room(app, user)
    join(app, other_user, room_id)
    block(app, other_user, user)
    factories.login(client, user)
    response = post(client, f"/rooms/{room_id}/participants/bob/remove")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, other_user.id)).removed_at is not None
    participants = client.get(f"/rooms/{room_id}/participants").get_data(as_text=True)
    assert "Let Bob back" in participants
    post(client, f"/rooms/{room_id}/participants/bob/readmit")
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, other_user.id)).removed_at is None


def test_the_host_cannot_moderate_someone_who_never_took_part(app, client, user, other_user):
    room_id = make_room(app, user)
    factories.login(client, user)
    assert post(client, f"/rooms/{room_id}/participants/bob/remove").status_code == 404
    with app.app_context():
        assert db.session.get(RoomMember, (room_id, other_user.id)) is None


@pytest.mark.parametrize("who_blocks", ["owner", "commenter"])
def test_a_post_owner_deletes_a_comment_across_a_block(app, client, user, other_user, who_blocks):
    with app.test_request_context():
        post_id = post_actions.create_post(reload(user), "My post").id
    comment_id = write_comment(app, other_user, post_id, "rude")
    if who_blocks == "owner":
        block(app, user, other_user)
    else:
        block(app, other_user, user)
    factories.login(client, user)
    response = post(client, f"/comments/{comment_id}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Comment, comment_id) is None
        from qosyl.models import Post

        assert db.session.get(Post, post_id).comment_count == 0


def test_a_stranger_still_cannot_delete_a_comment(app, client, user, other_user, make_user):
    carol = make_user(username="carol")
    with app.test_request_context():
        post_id = post_actions.create_post(reload(user), "My post").id
    comment_id = write_comment(app, other_user, post_id, "rude")
    block(app, other_user, carol)
    factories.login(client, carol)
    assert post(client, f"/comments/{comment_id}/delete").status_code == 404
    with app.app_context():
        assert db.session.get(Comment, comment_id) is not None


# 4. The lobby's moderation is real: a removed person can neither read nor write it


def test_removing_someone_from_the_lobby_stops_them_reading_and_writing(
    app, client, user, other_user
):
    lobby_id = make_lobby(app, user)
    factories.login(client, other_user)
    assert say(client, lobby_id, "hello lobby").status_code == 302
    factories.login(client, user)
    people = client.get(f"/rooms/{lobby_id}/participants").get_data(as_text=True)
    assert "Remove Bob" in people
    assert post(client, f"/rooms/{lobby_id}/participants/bob/remove").status_code == 302

    factories.login(client, other_user)
    assert say(client, lobby_id, "let me back").status_code == 404
    page = client.get(f"/rooms/{lobby_id}").get_data(as_text=True)
    assert "hello lobby" not in page and "The host removed you" in page
    home = client.get("/").get_data(as_text=True)
    assert "hello lobby" not in home and "The host removed you from the lobby" in home
    assert messages_in(app, lobby_id) == ["hello lobby"]

    factories.login(client, user)
    assert "Let Bob back" in client.get(f"/rooms/{lobby_id}/participants").get_data(True)
    post(client, f"/rooms/{lobby_id}/participants/bob/readmit")
    factories.login(client, other_user)
    assert say(client, lobby_id, "thanks").status_code == 302
    assert messages_in(app, lobby_id) == ["hello lobby", "thanks"]


def test_a_removed_person_joining_the_lobby_changes_nothing(app, user, other_user):
    lobby_id = make_lobby(app, user)
    with app.test_request_context():
        room_actions.remove_member(db.session.get(Room, lobby_id), reload(other_user))
    with pytest.raises(ActionError, match="The host removed you from the lobby"):
        join(app, other_user, lobby_id)
    with app.test_request_context():
        room_actions.leave(reload(other_user), db.session.get(Room, lobby_id))
    with app.app_context():
        lobby = db.session.get(Room, lobby_id)
        assert not room_actions.can_read(lobby, other_user.id)
        assert db.session.scalar(select(func.count()).select_from(RoomMember)) == 1


@pytest.mark.parametrize("writers", [1, 6])
def test_the_lobby_participants_page_has_a_fixed_query_budget(
    app, client, user, make_user, writers
):
    from tests.helpers import assert_query_count

    lobby_id = make_lobby(app, user)
    for n in range(writers):
        person = make_user(username=f"writer{n}")
        with app.test_request_context():
            room_actions.send_message(reload(person), db.session.get(Room, lobby_id), f"hi {n}")
    factories.login(client, user)
    # sign-in, room (+topic, host), participants (writers and removed), bell
    with assert_query_count(app, 4):
        page = client.get(f"/rooms/{lobby_id}/participants")
    assert page.get_data(as_text=True).count("Yes, remove ") == writers


def test_a_tab_removed_from_the_lobby_hears_it_and_nothing_more(app, user, other_user):
    from qosyl.extensions import socketio

    lobby_id = make_lobby(app, user)
    tabs = {}
    for person in (user, other_user):
        client = app.test_client()
        factories.login(client, person)
        tabs[person.username] = socketio.test_client(app, flask_test_client=client)
        reply = tabs[person.username].emit("room:subscribe", {"room_id": lobby_id}, callback=True)
        assert reply["ok"]
    bob = tabs["bob"]
    bob.get_received()
    with app.test_request_context():
        room_actions.remove_member(db.session.get(Room, lobby_id), reload(other_user))
    assert [e["args"][0] for e in bob.get_received() if e["name"] == "room:removed"] == [
        {"room_id": lobby_id, "name": "Lobby", "lobby": True}
    ]
    tabs["alice"].emit("room:send", {"room_id": lobby_id, "body": "after"}, callback=True)
    assert not [e for e in bob.get_received() if e["name"] == "room:message"]
    assert "error" in bob.emit("room:send", {"room_id": lobby_id, "body": "x"}, callback=True)
    assert "error" in bob.emit("room:subscribe", {"room_id": lobby_id}, callback=True)
    assert messages_in(app, lobby_id) == ["after"]
