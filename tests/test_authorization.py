"""Every route that changes something, tried as the wrong person and without a CSRF token.

Adding a mutating route without listing it here fails `test_every_mutating_route_is_listed`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import Block
from qosyl.models import Comment
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Follow
from qosyl.models import Meeting
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import Post
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import RoomMessage
from qosyl.models import Topic
from qosyl.models import User
from tests import factories
from tests.helpers import post

# endpoint -> (URL, who may use it):
#   "public"; "signed-in"; "owner" of a private thing (others get 404); "author" of a
#   visible thing (others get 403); "viewer" of Alice's post or profile (anyone not blocked).
MUTATING_ROUTES = {
    "accounts.register": ("/register", "public"),
    "accounts.resend_verification": ("/verify/resend", "public"),
    "accounts.login": ("/login", "public"),
    "accounts.logout": ("/logout", "public"),
    "accounts.forgot_password": ("/password/forgot", "public"),
    "accounts.reset_password": ("/password/reset/{token}", "public"),
    "settings.password": ("/settings/password", "signed-in"),
    "settings.email": ("/settings/email", "signed-in"),
    "settings.cancel_email": ("/settings/email/cancel", "signed-in"),
    "settings.delete_account": ("/settings/delete", "signed-in"),
    "settings.end_sign_in": ("/settings/sign-ins/1/end", "signed-in"),
    "settings.end_other_sign_ins": ("/settings/sign-ins/end-others", "signed-in"),
    "profiles.setup": ("/welcome", "signed-in"),
    "profiles.skip_setup": ("/welcome/skip", "signed-in"),
    "settings.profile": ("/settings/profile", "signed-in"),
    "notifications.mark_all_read": ("/notifications/read-all", "signed-in"),
    "notifications.seen": ("/notifications/seen", "signed-in"),
    "notifications.mark_read": ("/notifications/{notification}/read", "owner"),
    "notifications.delete": ("/notifications/{notification}/delete", "owner"),
    "settings.notifications": ("/settings/notifications", "signed-in"),
    "people.change_relation": ("/u/alice/follow", "viewer"),
    "posts.create": ("/posts", "signed-in"),
    "posts.edit": ("/p/{post}/edit", "author"),
    "posts.delete": ("/p/{post}/delete", "author"),
    "posts.like": ("/p/{post}/like", "viewer"),
    "posts.unlike": ("/p/{post}/unlike", "viewer"),
    "posts.comment": ("/p/{post}/comments", "viewer"),
    "posts.edit_comment": ("/comments/{comment}/edit", "author"),
    "posts.delete_comment": ("/comments/{comment}/delete", "author"),
    "rooms.create": ("/rooms/new", "signed-in"),
    "rooms.join": ("/rooms/{room}/join", "signed-in"),
    "rooms.leave": ("/rooms/{room}/leave", "signed-in"),
    "rooms.send": ("/rooms/{room}/messages", "room-member"),
    "rooms.edit_message": ("/rooms/{room}/messages/{message}/edit", "room-author"),
    "rooms.delete_message": ("/rooms/{room}/messages/{message}/delete", "room-author"),
    "rooms.edit": ("/rooms/{room}/edit", "room-host"),
    "rooms.delete": ("/rooms/{room}/delete", "room-host"),
    "rooms.change_participant": ("/rooms/{room}/participants/bob/remove", "room-host"),
    "rooms.start_meeting": ("/rooms/{room}/meeting", "room-host"),
    "messages.start": ("/messages/with/alice", "viewer"),
    "messages.send": ("/messages/{conversation}", "conversation-member"),
    "messages.read": ("/messages/{conversation}/read", "conversation-member"),
    "messages.start_meeting": ("/messages/{conversation}/meeting", "conversation-member"),
    "messages.new_group": ("/messages/groups/new", "signed-in"),
    "settings.messages": ("/settings/messages", "signed-in"),
    "settings.time_zone": ("/settings/time-zone", "signed-in"),
    "messages.answer_invite": ("/messages/{group}/accept", "conversation-member"),
    "messages.rename": ("/messages/{group}/rename", "conversation-member"),
    "messages.invite": ("/messages/{group}/invite", "conversation-member"),
    "messages.leave": ("/messages/{group}/leave", "conversation-member"),
    "messages.change_member": ("/messages/{group}/members/{bob}/remove", "group-admin"),
    "meetings.create": ("/meetings", "signed-in"),
    "meetings.find": ("/meetings/join", "signed-in"),
    # Alice's standalone meeting: anyone signed in with the link, but nobody she blocked.
    "meetings.admit": ("/meetings/{meeting}/join", "viewer"),
}
PROTECTED = [e for e, (_, who) in MUTATING_ROUTES.items() if who != "public"]
OWNED = [e for e, (_, who) in MUTATING_ROUTES.items() if who == "owner"]
AUTHORED = [e for e, (_, who) in MUTATING_ROUTES.items() if who == "author"]
ABOUT_ALICE = [e for e, (_, who) in MUTATING_ROUTES.items() if who in ("owner", "author", "viewer")]
ROOM_READERS = [
    e for e, (_, who) in MUTATING_ROUTES.items() if who.startswith("room-") and who != "room-host"
]
CONVERSATION_MEMBERS = [
    e for e, (_, who) in MUTATING_ROUTES.items() if who in ("conversation-member", "group-admin")
]
GROUP_ADMIN = [e for e, (_, who) in MUTATING_ROUTES.items() if who == "group-admin"]
ROOM_MEMBERS_REFUSED = [
    e for e, (_, who) in MUTATING_ROUTES.items() if who in ("room-author", "room-host")
]


def test_every_mutating_route_is_listed(app):
    """Every page and fragment route that changes things. The JSON API's (token-signed,
    no CSRF) are swept from its OpenAPI document in tests/test_api_sweep.py, and each
    resource's tests/test_api_*.py tries another user and a blocked user."""
    mutating = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"} and not rule.rule.startswith("/api/")
    }
    assert mutating == set(MUTATING_ROUTES)


@pytest.fixture
def world(app, user, other_user):
    """Alice owns a notification, a post and a comment; Bob is another user; Carol is blocked
    by Alice."""
    with app.app_context():
        carol = factories.user(username="carol")
        db.session.add(Block(blocker_id=user.id, blocked_id=carol.id))
        note = Notification(recipient_id=user.id, kind="welcome")
        post = Post(author_id=user.id, body="Alice's post", body_html="<p>Alice's post</p>")
        db.session.add_all([note, post])
        db.session.flush()
        comment = Comment(post_id=post.id, author_id=user.id, body="hers", body_html="<p>hers</p>")
        db.session.add(comment)
        topic = Topic(name="Tea")
        db.session.add(topic)
        db.session.flush()
        room = Room(name="Alice's room", topic_id=topic.id, host_id=user.id)
        db.session.add(room)
        db.session.flush()
        db.session.add_all(
            [
                RoomMember(room_id=room.id, user_id=user.id),
                RoomMember(room_id=room.id, user_id=other_user.id),
            ]
        )
        message = RoomMessage(room_id=room.id, author_id=user.id, body="hi", body_html="<p>hi</p>")
        db.session.add(message)
        conversation = Conversation(
            kind=ConversationKind.DIRECT, direct_key=f"{user.id}:{other_user.id}"
        )
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            [
                ConversationMember(
                    conversation_id=conversation.id, user_id=person.id, status=MemberStatus.ACTIVE
                )
                for person in (user, other_user)
            ]
            + [Message(conversation_id=conversation.id, author_id=user.id, body="psst")]
        )
        group = Conversation(kind=ConversationKind.GROUP, name="Alice's group", admin_id=user.id)
        db.session.add(group)
        db.session.flush()
        db.session.add_all(
            [
                ConversationMember(
                    conversation_id=group.id, user_id=person.id, status=MemberStatus.ACTIVE
                )
                for person in (user, other_user)
            ]
        )
        db.session.commit()
        from qosyl.actions.accounts import RESET
        from qosyl.actions.meetings import create_meeting
        from qosyl.tokens import make_token

        meeting = create_meeting(db.session.get(User, user.id))

        token = make_token(RESET, {"uid": user.id, "pw": "x"})
        return {
            "notification": note.id,
            "post": post.id,
            "comment": comment.id,
            "room": room.id,
            "message": message.id,
            "conversation": conversation.id,
            "group": group.id,
            "bob": other_user.id,
            "token": token,
            "carol": carol,
            "meeting": meeting.public_id,
        }


def url_of(endpoint: str, world) -> str:
    return MUTATING_ROUTES[endpoint][0].format(**world)


def snapshot(app) -> tuple:
    """What a refused request must leave untouched."""
    with app.app_context():
        users = db.session.execute(
            select(
                User.id,
                User.password_hash,
                User.email,
                User.pending_email,
                User.bio,
                User.onboarded_at,
                User.time_zone,
            ).order_by(User.id)
        ).all()
        notes = db.session.execute(
            select(Notification.id, Notification.read_at).order_by(Notification.id)
        ).all()
        posts = db.session.execute(
            select(Post.id, Post.body, Post.like_count, Post.comment_count, Post.edited_at)
        ).all()
        comments = db.session.execute(select(Comment.id, Comment.body)).all()
        follows = db.session.execute(select(Follow.follower_id, Follow.followed_id)).all()
        rooms = db.session.execute(select(Room.id, Room.name, Room.host_id)).all()
        members = db.session.execute(
            select(RoomMember.room_id, RoomMember.user_id, RoomMember.removed_at)
        ).all()
        messages = db.session.execute(select(RoomMessage.id, RoomMessage.body)).all()
        private = db.session.execute(select(Message.id, Message.body)).all()
        read = db.session.execute(
            select(
                ConversationMember.conversation_id,
                ConversationMember.user_id,
                ConversationMember.status,
                ConversationMember.last_read_id,
            )
        ).all()
        conversations = db.session.execute(
            select(Conversation.id, Conversation.name, Conversation.admin_id)
        ).all()
        meetings = db.session.execute(select(Meeting.id, Meeting.ended_at)).all()
        return (
            users,
            notes,
            posts,
            comments,
            follows,
            rooms,
            members,
            messages,
            private,
            read,
            conversations,
            meetings,
        )


@pytest.mark.parametrize("endpoint", sorted(MUTATING_ROUTES))
def test_without_csrf_token_nothing_changes(app, client, user, world, endpoint):
    factories.login(client, user)
    before = snapshot(app)
    response = post(
        client, url_of(endpoint, world), {"password": "x", "email": "a@b.c"}, csrf=False
    )
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", PROTECTED)
def test_anonymous_is_sent_to_sign_in(app, client, world, endpoint):
    before = snapshot(app)
    response = post(client, url_of(endpoint, world), {"password": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", PROTECTED)
def test_an_unverified_account_is_treated_as_anonymous(app, client, make_user, world, endpoint):
    newbie = make_user(username="newbie", verified=False)
    factories.login(client, newbie)
    before = snapshot(app)
    response = post(client, url_of(endpoint, world), {"password": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", OWNED)
def test_another_users_private_things_are_not_found(app, client, other_user, world, endpoint):
    factories.login(client, other_user)
    before = snapshot(app)
    assert post(client, url_of(endpoint, world), {"body": "x"}).status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", AUTHORED)
def test_another_user_cannot_change_what_alice_wrote(app, client, other_user, world, endpoint):
    factories.login(client, other_user)
    before = snapshot(app)
    assert post(client, url_of(endpoint, world), {"body": "x"}).status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", ABOUT_ALICE)
def test_someone_alice_blocked_finds_nothing_of_hers(app, client, world, endpoint):
    factories.login(client, world["carol"])
    before = snapshot(app)
    response = post(client, url_of(endpoint, world), {"body": "x", "comment-body": "x"})
    assert response.status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", ROOM_READERS)
def test_someone_outside_the_room_finds_nothing_in_it(app, client, world, endpoint):
    factories.login(client, world["carol"])
    before = snapshot(app)
    response = post(client, url_of(endpoint, world), {"room-1-body": "x", "body": "x"})
    assert response.status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", ROOM_MEMBERS_REFUSED)
def test_another_member_cannot_change_alices_things(app, client, other_user, world, endpoint):
    factories.login(client, other_user)
    before = snapshot(app)
    response = post(client, url_of(endpoint, world), {"name": "Mine", "topic": "Tea"})
    assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", CONVERSATION_MEMBERS)
def test_someone_outside_the_conversation_finds_nothing_in_it(app, client, world, endpoint):
    factories.login(client, world["carol"])
    before = snapshot(app)
    response = post(
        client,
        url_of(endpoint, world),
        {
            f"conversation-{world['conversation']}-body": "x",
            "up_to_id": "1",
            "rename-name": "Carol's now",
            "invite-invitee": str(world["carol"].id),
        },
    )
    assert response.status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", GROUP_ADMIN)
def test_a_member_who_is_not_the_admin_changes_nobody(app, client, other_user, world, endpoint):
    factories.login(client, other_user)
    before = snapshot(app)
    assert post(client, url_of(endpoint, world), {}).status_code == 403
    assert snapshot(app) == before
