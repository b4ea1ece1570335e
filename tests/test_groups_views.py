"""Group conversations through the pages: creating, answering invitations, the admin's
controls, and what a refused request leaves behind."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Notification
from tests import factories
from tests.factories import start_conversation
from tests.helpers import post


def statuses(app, conversation_id) -> dict[int, str]:
    with app.app_context():
        return {
            m.user_id: m.status.value
            for m in db.session.scalars(
                select(ConversationMember).where(
                    ConversationMember.conversation_id == conversation_id
                )
            )
        }


def make_group(app, logged_in, *people) -> int:
    response = post(
        logged_in,
        "/messages/groups/new",
        {"name": "Book club", "invitees": [str(p.id) for p in people]},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_group_is_created_from_people_i_know(app, logged_in, user, other_user, make_user):
    stranger = make_user(username="stranger")
    start_conversation(app, user, other_user)  # Bob is someone Alice messages; the stranger is not
    page = logged_in.get("/messages/groups/new").get_data(as_text=True)
    assert other_user.full_name in page and "stranger" not in page
    group_id = make_group(app, logged_in, other_user, stranger)
    assert statuses(app, group_id) == {user.id: "active", other_user.id: "invited"}
    with app.app_context():
        [invite] = db.session.scalars(
            select(Notification).where(Notification.kind == "group_invite")
        )
        assert invite.recipient_id == other_user.id


def test_a_refused_group_form_changes_nothing(app, logged_in, user, other_user):
    start_conversation(app, user, other_user)
    response = post(
        logged_in, "/messages/groups/new", {"name": "  ", "invitees": [str(other_user.id)]}
    )
    assert response.status_code == 422
    assert "Give the group a name." in response.get_data(as_text=True)
    response = post(logged_in, "/messages/groups/new", {"name": "Club"})
    assert response.status_code == 422
    assert "Invite at least one other person." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_invitations_are_answered_by_the_invitee_only(app, logged_in, user, other_user):
    start_conversation(app, user, other_user)
    group_id = make_group(app, logged_in, other_user)
    # Alice (already in) cannot accept on Bob's behalf.
    assert post(logged_in, f"/messages/{group_id}/accept", {}).status_code == 404
    client = app.test_client()
    factories.login(client, other_user)
    page = client.get("/messages/invites").get_data(as_text=True)
    assert "Book club" in page and "Join" in page
    assert client.get(f"/messages/{group_id}").status_code == 404  # not in until accepted
    assert post(client, f"/messages/{group_id}/accept", {}).status_code == 302
    assert statuses(app, group_id)[other_user.id] == "active"
    assert client.get(f"/messages/{group_id}").status_code == 200
    assert post(client, f"/messages/{group_id}/accept", {}).status_code == 404  # answered


def test_declining_removes_the_invitation(app, logged_in, user, other_user):
    start_conversation(app, user, other_user)
    group_id = make_group(app, logged_in, other_user)
    client = app.test_client()
    factories.login(client, other_user)
    assert post(client, f"/messages/{group_id}/decline", {}).status_code == 302
    assert other_user.id not in statuses(app, group_id)


def test_the_admin_removes_and_hands_over(app, logged_in, user, other_user, make_user):
    carl = make_user(username="carl", first_name="Carl")
    for person in (other_user, carl):
        start_conversation(app, user, person)
    group_id = make_group(app, logged_in, other_user, carl)
    client = app.test_client()
    for person in (other_user, carl):
        factories.login(client, person)
        post(client, f"/messages/{group_id}/accept", {})
    page = logged_in.get(f"/messages/{group_id}").get_data(as_text=True)
    assert "Remove Carl" in page and "Make Bob admin" in page
    post(logged_in, f"/messages/{group_id}/members/{carl.id}/remove", {})
    assert statuses(app, group_id)[carl.id] == "removed"
    assert client.get(f"/messages/{group_id}").status_code == 404  # Carl is out
    post(logged_in, f"/messages/{group_id}/members/{other_user.id}/admin", {})
    with app.app_context():
        assert db.session.get(Conversation, group_id).admin_id == other_user.id
    # Alice is no longer admin: her controls are refused.
    assert (
        post(logged_in, f"/messages/{group_id}/members/{other_user.id}/remove", {}).status_code
        == 403
    )
    assert statuses(app, group_id)[other_user.id] == MemberStatus.ACTIVE.value


def test_rename_invite_and_leave(app, logged_in, user, other_user, make_user):
    carl = make_user(username="carl", first_name="Carl")
    for person in (other_user, carl):
        start_conversation(app, user, person)
    group_id = make_group(app, logged_in, other_user)
    post(logged_in, f"/messages/{group_id}/rename", {"rename-name": "Reading circle"})
    with app.app_context():
        assert db.session.get(Conversation, group_id).name == "Reading circle"
    refused = post(
        logged_in, f"/messages/{group_id}/rename", {"rename-name": ""}, follow_redirects=True
    )
    assert "Give the group a name." in refused.get_data(as_text=True)
    post(logged_in, f"/messages/{group_id}/invite", {"invite-invitee": str(carl.id)})
    assert statuses(app, group_id)[carl.id] == "invited"
    post(logged_in, f"/messages/{group_id}/leave", {})
    assert statuses(app, group_id)[user.id] == "left"
    assert logged_in.get(f"/messages/{group_id}").status_code == 404
