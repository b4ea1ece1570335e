"""The group conversations service: creating groups, invitations, renaming, leaving,
removing members and the admin role, what each refusal leaves alone, and what is pushed."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC

import pytest
from sqlalchemy import select

from qosyl.actions import ActionError
from qosyl.actions import groups
from qosyl.actions import messages
from qosyl.actions.chat import NotAMember
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Message
from qosyl.models import Notification
from qosyl.models import User
from qosyl.queries import conversation_rows
from qosyl.queries import header_counts
from tests.factories import block
from tests.factories import reload
from tests.factories import write_message
from tests.helpers import assert_query_count
from tests.helpers import status_of


def act(app, name: str, user, conversation_id: int, *args):
    """Run groups.<name>(user, conversation, *args) as a request would; users are reloaded."""
    with app.test_request_context():
        args = [reload(arg) if isinstance(arg, User) else arg for arg in args]
        conversation = db.session.get(Conversation, conversation_id)
        return getattr(groups, name)(reload(user), conversation, *args)


def create(app, admin, invitees, name="Book club") -> int:
    with app.test_request_context():
        return groups.create_group(
            reload(admin), name, [reload(invitee) for invitee in invitees]
        ).id


def group_with(app, admin, active=(), invited=(), name="Book club") -> int:
    """A group whose `active` people accepted and whose `invited` people have not yet."""
    conversation_id = create(app, admin, [*active, *invited], name)
    for member in active:
        act(app, "accept_invite", member, conversation_id)
    return conversation_id


def snapshot(app) -> tuple:
    """Every row the group actions write, to compare before and after a refusal."""
    with app.app_context():
        return (
            db.session.execute(
                select(Conversation.id, Conversation.name, Conversation.admin_id).order_by(
                    Conversation.id
                )
            ).all(),
            db.session.execute(
                select(
                    ConversationMember.conversation_id,
                    ConversationMember.user_id,
                    ConversationMember.status,
                    ConversationMember.invited_by_id,
                    ConversationMember.joined_at,
                    ConversationMember.last_read_id,
                ).order_by(ConversationMember.conversation_id, ConversationMember.user_id)
            ).all(),
            db.session.execute(
                select(Notification.id, Notification.recipient_id, Notification.kind).order_by(
                    Notification.id
                )
            ).all(),
        )


def member_row(app, conversation_id, user) -> ConversationMember | None:
    with app.app_context():
        row = db.session.get(ConversationMember, (conversation_id, user.id))
        if row is not None:
            db.session.expunge(row)
        return row


def admin_of(app, conversation_id) -> int | None:
    with app.app_context():
        return db.session.get(Conversation, conversation_id).admin_id


def invite_notifications(app, recipient) -> list[Notification]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Notification).where(
                    Notification.recipient_id == recipient.id,
                    Notification.kind == "group_invite",
                )
            )
        )
        db.session.expunge_all()
        return rows


def events(pushes, event: str) -> list:
    return [push for push in pushes if push.event == event]


def rooms(push) -> set[str]:
    return set(push.to) if isinstance(push.to, list) else {push.to}


def triggered(pushes, name: str) -> set[str]:
    return {
        room
        for push in pushes
        if push.event == "trigger" and push.data["name"] == name
        for room in push.audience
    }


def refused(app, pushes, error, match, call):
    """`call` raises `error` and changes no row and pushes nothing."""
    before, pushed = snapshot(app), len(pushes)
    with pytest.raises(error, match=match):
        call()
    assert snapshot(app) == before
    assert pushes[pushed:] == []


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cook")


@pytest.fixture
def dan(make_user):
    return make_user(username="dan", first_name="Dan", last_name="Dean")


# Creating a group


def test_create_group_makes_the_admin_active_and_invites_the_rest(
    app, user, other_user, carol, pushes
):
    conversation_id = create(app, user, [other_user, carol, other_user, user], "  Book   club ")
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.kind, conversation.name, conversation.admin_id) == (
            "group",
            "Book club",
            user.id,
        )
        rows = db.session.execute(
            select(
                ConversationMember.user_id,
                ConversationMember.status,
                ConversationMember.invited_by_id,
            )
            .where(ConversationMember.conversation_id == conversation_id)
            .order_by(ConversationMember.user_id)
        ).all()
    assert [tuple(row) for row in rows] == [
        (user.id, MemberStatus.ACTIVE, None),
        (other_user.id, MemberStatus.INVITED, user.id),
        (carol.id, MemberStatus.INVITED, user.id),
    ]
    for invitee in (other_user, carol):  # duplicates counted once
        [notification] = invite_notifications(app, invitee)
        assert notification.actor_id == user.id
        assert notification.target_url == "/messages/invites"
        assert notification.excerpt == "Book club"
    assert invite_notifications(app, user) == []
    notified = [push for push in events(pushes, "notification")]
    assert sorted(p.to for p in notified) == sorted([f"user:{other_user.id}", f"user:{carol.id}"])
    assert {p.data["text"] for p in notified} == {"Alice Archer invited you to a group."}
    assert triggered(pushes, messages.MESSAGES_CHANGED) == {f"user:{user.id}"}
    assert triggered(pushes, groups.INVITES_CHANGED) == {
        f"user:{other_user.id}",
        f"user:{carol.id}",
    }


def test_the_group_invite_sentence_names_the_inviter_in_the_list(app, logged_in, user, other_user):
    create(app, other_user, [user], "Chess night")
    page = logged_in.get("/notifications").get_data(as_text=True)
    assert "<strong>Bob Baker</strong> invited you to a group." in page
    assert "Chess night" in page


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "Give the group a name."), ("   ", "Give the group a name."), ("x" * 81, "at most 80")],
)
def test_a_group_needs_a_name_of_at_most_80_characters(app, user, other_user, pushes, name, error):
    with app.test_request_context():
        with pytest.raises(ActionError, match=error) as raised:
            groups.create_group(reload(user), name, [reload(other_user)])
    assert raised.value.field == "name"
    assert snapshot(app) == ([], [], [])
    assert pushes == []


def test_a_name_of_exactly_80_characters_is_kept(app, user, other_user):
    conversation_id = create(app, user, [other_user], "y" * 80)
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).name == "y" * 80


@pytest.mark.parametrize("only_self", [True, False])
def test_a_group_needs_someone_else_to_invite(app, user, pushes, only_self):
    with app.test_request_context():
        invitees = [reload(user)] if only_self else []
        with pytest.raises(ActionError, match="Invite at least one other person") as raised:
            groups.create_group(reload(user), "Solo", invitees)
    assert raised.value.field == "invitees"
    assert snapshot(app) == ([], [], [])
    assert pushes == []


@pytest.mark.parametrize("blocker_is_invitee", [True, False])
def test_refused_invitees_are_left_out_and_not_notified(
    app, user, other_user, carol, dan, make_user, blocker_is_invitee
):
    unverified = make_user(username="newbie", first_name="Newbie", verified=False)
    with app.app_context():
        reload(dan).messages_from_friends_only = True
        db.session.commit()
    if blocker_is_invitee:
        block(app, other_user, user)
    else:
        block(app, user, other_user)
    conversation_id = create(app, user, [other_user, carol, dan, unverified])
    assert status_of(app, conversation_id, carol) == MemberStatus.INVITED
    for left_out in (other_user, dan, unverified):
        assert status_of(app, conversation_id, left_out) is None
        assert invite_notifications(app, left_out) == []
    assert len(invite_notifications(app, carol)) == 1


def test_when_nobody_can_be_invited_the_refused_are_named(app, user, other_user, carol, pushes):
    with app.app_context():
        reload(carol).messages_from_friends_only = True
        db.session.commit()
    block(app, other_user, user)
    with app.test_request_context():
        refused(
            app,
            pushes,
            ActionError,
            "You cannot invite Bob and Carol",
            lambda: groups.create_group(
                reload(user), "Nobody", [reload(other_user), reload(carol)]
            ),
        )
        # One person refused: their own reason is given.
        refused(
            app,
            pushes,
            ActionError,
            "You cannot invite Carol. Carol only takes messages from friends.",
            lambda: groups.create_group(reload(user), "Nobody", [reload(carol)]),
        )
    with app.app_context():
        assert db.session.scalar(select(Conversation.id)) is None


# Inviting


def test_any_active_member_may_invite(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user])
    pushed = len(pushes)
    act(app, "invite", other_user, conversation_id, carol)
    row = member_row(app, conversation_id, carol)
    assert (row.status, row.invited_by_id) == (MemberStatus.INVITED, other_user.id)
    [notification] = invite_notifications(app, carol)
    assert (notification.actor_id, notification.target_url) == (other_user.id, "/messages/invites")
    assert [p.to for p in events(pushes[pushed:], "notification")] == [f"user:{carol.id}"]


def test_invitations_that_are_refused_change_nothing(
    app, user, other_user, carol, dan, make_user, pushes
):
    outsider = make_user(username="outsider", first_name="Olga")
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    direct_id = None
    with app.test_request_context():
        direct_id = messages.direct_conversation(reload(user), reload(dan)).id
    block(app, dan, user)
    cases = [
        (NotAMember, "not in this conversation", outsider, conversation_id, dan),
        (NotAMember, "not in this conversation", carol, conversation_id, dan),
        (ActionError, "Only group conversations", user, direct_id, carol),
        (ActionError, "Bob is already in this group", user, conversation_id, other_user),
        (ActionError, "Alice is already in this group", user, conversation_id, user),
        (ActionError, "Carol is already invited", other_user, conversation_id, carol),
        (ActionError, "You cannot invite Dan. You cannot message", user, conversation_id, dan),
    ]
    for error, match, inviter, target_id, invitee in cases:
        refused(
            app,
            pushes,
            error,
            match,
            lambda i=inviter, t=target_id, e=invitee: act(app, "invite", i, t, e),
        )
    assert status_of(app, conversation_id, dan) is None


@pytest.mark.parametrize("how", ["leave", "remove_member"])
def test_someone_who_left_or_was_removed_can_be_invited_again(app, user, other_user, carol, how):
    conversation_id = group_with(app, user, active=[other_user, carol])
    if how == "leave":
        act(app, "leave", other_user, conversation_id)
    else:
        act(app, "remove_member", user, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) != MemberStatus.ACTIVE
    # Anyone asks back someone who left; only the admin someone the admin removed.
    inviter = carol if how == "leave" else user
    act(app, "invite", inviter, conversation_id, other_user)
    row = member_row(app, conversation_id, other_user)
    assert (row.status, row.invited_by_id) == (MemberStatus.INVITED, inviter.id)
    # Accepting withdrew the first invitation's notification: the new one is not deduplicated.
    [notification] = invite_notifications(app, other_user)
    assert notification.actor_id == inviter.id


# Answering an invitation


def test_accepting_starts_with_nothing_unread_and_tells_the_members(
    app, user, other_user, carol, pushes
):
    conversation_id = group_with(app, user, active=[carol], invited=[other_user])
    write_message(app, user, conversation_id, "before you came")
    newest = write_message(app, carol, conversation_id, "hello all")
    pushed = len(pushes)
    act(app, "accept_invite", other_user, conversation_id)
    row = member_row(app, conversation_id, other_user)
    assert (row.status, row.last_read_id) == (MemberStatus.ACTIVE, newest)
    assert row.joined_at is not None
    with app.app_context():
        assert header_counts(other_user.id)[1] == 0
        [line] = conversation_rows(other_user.id)
        assert (line.conversation.id, line.unread) == (conversation_id, 0)
    everyone = {f"user:{u.id}" for u in (user, other_user, carol)}
    [members] = events(pushes[pushed:], "conversation:members")
    assert members.data == {"conversation_id": conversation_id}
    assert rooms(members) == everyone
    assert triggered(pushes[pushed:], messages.MESSAGES_CHANGED) == everyone
    assert invite_notifications(app, other_user) == []  # the invitation is answered
    # What comes after joining is unread.
    write_message(app, user, conversation_id, "welcome")
    with app.app_context():
        assert header_counts(other_user.id)[1] == 1


def test_accepting_moves_the_joined_at_to_the_moment_of_joining(app, user, other_user):
    conversation_id = create(app, user, [other_user])
    with app.app_context():
        row = db.session.get(ConversationMember, (conversation_id, other_user.id))
        row.joined_at = datetime(2020, 1, 1, tzinfo=UTC)
        db.session.commit()
    act(app, "accept_invite", other_user, conversation_id)
    assert member_row(app, conversation_id, other_user).joined_at.year > 2020


def test_declining_deletes_the_invitation(app, user, other_user, carol, pushes):
    conversation_id = create(app, user, [other_user, carol])
    pushed = len(pushes)
    act(app, "decline_invite", other_user, conversation_id)
    assert status_of(app, conversation_id, other_user) is None
    assert status_of(app, conversation_id, carol) == MemberStatus.INVITED
    assert invite_notifications(app, other_user) == []
    assert f"user:{other_user.id}" in triggered(pushes[pushed:], groups.INVITES_CHANGED)
    assert events(pushes[pushed:], "conversation:members") == []
    with app.test_request_context():
        assert groups.pending_invites(reload(other_user)) == []


def test_only_an_open_invitation_can_be_answered(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user])
    for name in ("accept_invite", "decline_invite"):
        for who in (user, other_user, carol):  # admin, active member, stranger
            refused(
                app,
                pushes,
                ActionError,
                "no longer open",
                lambda n=name, w=who: act(app, n, w, conversation_id),
            )


def test_a_removed_invitee_cannot_accept(app, user, other_user, pushes):
    conversation_id = create(app, user, [other_user])
    act(app, "remove_member", user, conversation_id, other_user)
    refused(
        app,
        pushes,
        ActionError,
        "no longer open",
        lambda: act(app, "accept_invite", other_user, conversation_id),
    )
    assert status_of(app, conversation_id, other_user) == MemberStatus.REMOVED


# Renaming


def test_any_active_member_renames_the_group(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    pushed = len(pushes)
    act(app, "rename", other_user, conversation_id, "  Chess   night ")
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).name == "Chess night"
    [renamed] = events(pushes[pushed:], "conversation:renamed")
    assert renamed.data == {"conversation_id": conversation_id, "name": "Chess night"}
    assert rooms(renamed) == {f"user:{user.id}", f"user:{other_user.id}"}  # not the invitee


def test_refused_renames_change_nothing(app, user, other_user, carol, make_user, pushes):
    outsider = make_user(username="outsider")
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    with app.test_request_context():
        direct_id = messages.direct_conversation(reload(user), reload(outsider)).id
    cases = [
        (ActionError, "Give the group a name", user, conversation_id, " "),
        (ActionError, "at most 80", user, conversation_id, "z" * 81),
        (NotAMember, "not in this conversation", carol, conversation_id, "Mine"),
        (NotAMember, "not in this conversation", outsider, conversation_id, "X"),
        (ActionError, "Only group conversations", user, direct_id, "Pair"),
    ]
    for error, match, who, target_id, name in cases:
        refused(
            app,
            pushes,
            error,
            match,
            lambda w=who, t=target_id, n=name: act(app, "rename", w, t, n),
        )


# Leaving


def test_a_member_leaves_and_the_others_hear_of_it(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user, carol])
    pushed = len(pushes)
    act(app, "leave", other_user, conversation_id)
    assert status_of(app, conversation_id, other_user) == MemberStatus.LEFT
    assert admin_of(app, conversation_id) == user.id
    [members] = events(pushes[pushed:], "conversation:members")
    assert rooms(members) == {f"user:{user.id}", f"user:{carol.id}"}
    assert f"user:{other_user.id}" in triggered(pushes[pushed:], messages.MESSAGES_CHANGED)
    with pytest.raises(NotAMember):
        write_message(app, other_user, conversation_id, "still here?")


def set_joined(app, conversation_id, when: dict) -> None:
    with app.app_context():
        for member, moment in when.items():
            db.session.get(ConversationMember, (conversation_id, member.id)).joined_at = moment
        db.session.commit()


def test_the_admin_role_passes_to_the_longest_standing_member(app, user, make_user):
    early, tied_low, tied_high, invited = (
        make_user(username=name) for name in ("early", "tiedlow", "tiedhigh", "invited")
    )
    conversation_id = group_with(app, user, active=[tied_high, tied_low, early], invited=[invited])
    day = datetime(2024, 5, 1, tzinfo=UTC)
    set_joined(
        app,
        conversation_id,
        {
            user: day.replace(day=1),
            invited: day.replace(day=2),  # invited long ago, but not a member
            early: day.replace(day=3),
            tied_low: day.replace(day=4),
            tied_high: day.replace(day=4),
        },
    )
    assert tied_low.id < tied_high.id
    act(app, "leave", user, conversation_id)
    assert admin_of(app, conversation_id) == early.id
    act(app, "leave", early, conversation_id)
    assert admin_of(app, conversation_id) == tied_low.id  # same moment: the lowest id
    act(app, "leave", tied_low, conversation_id)
    assert admin_of(app, conversation_id) == tied_high.id
    act(app, "leave", tied_high, conversation_id)
    assert admin_of(app, conversation_id) is None  # nobody active is left
    assert status_of(app, conversation_id, invited) == MemberStatus.INVITED


def test_refused_leaving_changes_nothing(app, user, other_user, carol, make_user, pushes):
    outsider = make_user(username="outsider")
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    act(app, "leave", other_user, conversation_id)
    with app.test_request_context():
        direct_id = messages.direct_conversation(reload(user), reload(outsider)).id
    outside = "not in this conversation"
    cases = [
        (NotAMember, outside, other_user, conversation_id),  # left already
        (NotAMember, outside, carol, conversation_id),  # only invited
        (NotAMember, outside, outsider, conversation_id),
        (ActionError, "Only group conversations", user, direct_id),
    ]
    for error, match, who, target_id in cases:
        refused(app, pushes, error, match, lambda w=who, t=target_id: act(app, "leave", w, t))


# Removing members


def test_the_admin_removes_a_member_whose_tabs_stop_at_once(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user, carol])
    pushed = len(pushes)
    act(app, "remove_member", user, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) == MemberStatus.REMOVED
    new = pushes[pushed:]
    [removed] = events(new, "conversation:removed")
    assert (removed.to, removed.data) == (
        f"user:{other_user.id}",
        {"conversation_id": conversation_id},
    )
    [members] = events(new, "conversation:members")
    assert rooms(members) == {f"user:{user.id}", f"user:{carol.id}"}
    assert triggered(new, messages.MESSAGES_CHANGED) == {
        f"user:{u.id}" for u in (user, other_user, carol)
    }
    with pytest.raises(NotAMember):
        write_message(app, other_user, conversation_id, "let me back")
    with app.app_context():
        assert conversation_rows(other_user.id) == []


def test_removing_an_invitee_cancels_the_invitation(app, user, other_user, pushes):
    conversation_id = create(app, user, [other_user])
    act(app, "remove_member", user, conversation_id, other_user)
    assert status_of(app, conversation_id, other_user) == MemberStatus.REMOVED
    assert invite_notifications(app, other_user) == []
    with app.test_request_context():
        assert groups.pending_invites(reload(other_user)) == []


def test_refused_removals_change_nothing(app, user, other_user, carol, dan, make_user, pushes):
    outsider = make_user(username="outsider", first_name="Olga")
    conversation_id = group_with(app, user, active=[other_user, dan], invited=[carol])
    act(app, "leave", dan, conversation_id)
    cases = [
        (ActionError, "Only the group's admin", other_user, user),
        (NotAMember, "not in this conversation", outsider, other_user),
        (NotAMember, "not in this conversation", carol, other_user),
        (ActionError, "cannot remove yourself", user, user),
        (ActionError, "Olga is not in this group", user, outsider),
        (ActionError, "Dan is not in this group", user, dan),  # left already
    ]
    for error, match, who, target in cases:
        refused(
            app,
            pushes,
            error,
            match,
            lambda w=who, t=target: act(app, "remove_member", w, conversation_id, t),
        )


# The admin role


def test_the_admin_passes_the_role_on(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user, carol])
    pushed = len(pushes)
    act(app, "pass_admin", user, conversation_id, carol)
    assert admin_of(app, conversation_id) == carol.id
    [members] = events(pushes[pushed:], "conversation:members")
    assert rooms(members) == {f"user:{u.id}" for u in (user, other_user, carol)}
    # The former admin has no admin rights left.
    with pytest.raises(ActionError, match="Only the group's admin"):
        act(app, "remove_member", user, conversation_id, carol)


def test_refused_hand_overs_change_nothing(app, user, other_user, carol, make_user, pushes):
    outsider = make_user(username="outsider", first_name="Olga")
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    cases = [
        (ActionError, "Only the group's admin", other_user, other_user),
        (NotAMember, "not in this conversation", outsider, outsider),
        (ActionError, "already the admin", user, user),
        (ActionError, "Carol is not in this group", user, carol),  # only invited
        (ActionError, "Olga is not in this group", user, outsider),
    ]
    for error, match, who, target in cases:
        refused(
            app,
            pushes,
            error,
            match,
            lambda w=who, t=target: act(app, "pass_admin", w, conversation_id, t),
        )


# Pending invitations


def test_pending_invites_newest_first_with_the_inviter_in_one_query(
    app, user, other_user, carol, dan
):
    first = create(app, other_user, [user], "First")
    second = group_with(app, carol, active=[dan], name="Second")
    act(app, "invite", dan, second, user)
    answered = create(app, carol, [user], "Answered")
    act(app, "accept_invite", user, answered)
    set_joined(app, first, {user: datetime(2024, 1, 1, tzinfo=UTC)})
    set_joined(app, second, {user: datetime(2024, 2, 1, tzinfo=UTC)})
    with app.test_request_context():
        viewer = reload(user)
        with assert_query_count(app, 1):
            invites = groups.pending_invites(viewer)
            listed = [(c.id, c.name, inviter.id) for c, inviter in invites]
    assert listed == [(second, "Second", dan.id), (first, "First", other_user.id)]


def test_a_pending_invite_whose_inviter_is_gone_has_no_inviter(app, user, other_user):
    conversation_id = create(app, other_user, [user])
    with app.app_context():
        db.session.get(ConversationMember, (conversation_id, user.id)).invited_by_id = None
        db.session.commit()
    with app.test_request_context():
        [(conversation, inviter)] = groups.pending_invites(reload(user))
    assert (conversation.id, inviter) == (conversation_id, None)


def test_group_messages_reach_only_active_members(app, user, other_user, carol, pushes):
    conversation_id = group_with(app, user, active=[other_user], invited=[carol])
    message_id = write_message(app, other_user, conversation_id, "members only")
    [push] = events(pushes, "conversation:message")
    assert push.data["id"] == message_id
    assert rooms(push) == {f"user:{user.id}", f"user:{other_user.id}"}
    with app.app_context():
        assert db.session.get(Message, message_id).conversation_id == conversation_id
