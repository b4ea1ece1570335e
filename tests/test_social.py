"""Friends, follows, blocks and suggestions (NET-1 to NET-4, PRO-3)."""

from __future__ import annotations

import pytest

from qosyl.actions import ActionError
from qosyl.actions import social
from qosyl.extensions import db
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.models import Room
from qosyl.models import RoomMember
from qosyl.models import Topic
from qosyl.models import User
from qosyl.queries import relation
from qosyl.queries import relations_for
from qosyl.queries import suggestions
from tests import factories
from tests.helpers import assert_query_count
from tests.helpers import count_rows
from tests.helpers import notification_kinds
from tests.helpers import post


def act(app, name: str, actor: User, other: User):
    with app.test_request_context():
        return getattr(social, name)(db.session.get(User, actor.id), db.session.get(User, other.id))


def rel(app, a: User, b: User):
    with app.app_context():
        return relation(a.id, b.id)


# Friend requests


def test_request_accept_and_unfriend(app, user, other_user, pushes):
    assert act(app, "send_friend_request", user, other_user) == "sent"
    assert rel(app, user, other_user).request_sent
    assert rel(app, other_user, user).request_received
    assert notification_kinds(app, other_user) == ["friend_request"]

    act(app, "accept_friend_request", other_user, user)
    assert rel(app, user, other_user).friends and rel(app, other_user, user).friends
    assert count_rows(app, Friendship) == 2 and count_rows(app, FriendRequest) == 0
    assert notification_kinds(app, user) == ["friend_accept"]
    assert {
        r for p in pushes if p.data.get("name") == social.RELATIONS_EVENT for r in p.audience
    } == {
        f"user:{user.id}",
        f"user:{other_user.id}",
    }

    act(app, "unfriend", other_user, user)
    assert not rel(app, user, other_user).friends
    assert count_rows(app, Friendship) == 0


def test_asking_someone_who_asked_you_makes_you_friends(app, user, other_user):
    act(app, "send_friend_request", other_user, user)
    assert act(app, "send_friend_request", user, other_user) == "accepted"
    assert rel(app, user, other_user).friends
    assert count_rows(app, FriendRequest) == 0


def test_asking_twice_changes_nothing(app, user, other_user):
    act(app, "send_friend_request", user, other_user)
    assert act(app, "send_friend_request", user, other_user) == "already"
    assert count_rows(app, FriendRequest) == 1
    assert notification_kinds(app, other_user) == ["friend_request"]


def test_cancelled_request_takes_its_notification_back(app, user, other_user):
    act(app, "send_friend_request", user, other_user)
    act(app, "cancel_friend_request", user, other_user)
    assert count_rows(app, FriendRequest) == 0
    assert notification_kinds(app, other_user) == []
    with pytest.raises(ActionError, match="cancelled"):
        act(app, "accept_friend_request", other_user, user)


def test_rejecting_a_request(app, user, other_user):
    act(app, "send_friend_request", user, other_user)
    act(app, "reject_friend_request", other_user, user)
    assert not rel(app, user, other_user).friends
    assert count_rows(app, FriendRequest) == 0
    assert notification_kinds(app, user) == []


def test_you_cannot_befriend_or_follow_yourself(app, user):
    for name in ("send_friend_request", "follow"):
        with pytest.raises(ActionError):
            act(app, name, user, user)


# Follows


def test_follow_and_unfollow_notify_once(app, user, other_user):
    act(app, "follow", user, other_user)
    act(app, "unfollow", user, other_user)
    act(app, "follow", user, other_user)
    assert rel(app, user, other_user).following
    assert rel(app, other_user, user).followed_by
    assert notification_kinds(app, other_user) == ["follow"]


# Blocks


def test_block_ends_everything_at_once(app, user, other_user):
    act(app, "send_friend_request", user, other_user)
    act(app, "accept_friend_request", other_user, user)
    act(app, "follow", user, other_user)
    act(app, "follow", other_user, user)
    assert notification_kinds(app, user)  # bob's acceptance and follow

    act(app, "block", user, other_user)
    relation_ = rel(app, user, other_user)
    assert relation_.blocking and not relation_.friends and not relation_.following
    assert rel(app, other_user, user).blocked_by
    assert count_rows(app, Friendship) == 0 and count_rows(app, Follow) == 0
    assert notification_kinds(app, user) == []  # what bob told alice is gone


@pytest.mark.parametrize("name", ["send_friend_request", "follow"])
def test_blocked_people_cannot_connect_either_way(app, user, other_user, name):
    act(app, "block", user, other_user)
    for actor, target in ((other_user, user), (user, other_user)):
        with pytest.raises(ActionError):
            act(app, name, actor, target)
    assert count_rows(app, FriendRequest) == 0 and count_rows(app, Follow) == 0


def test_a_blocked_user_cannot_notify_the_blocker(app, user, other_user):
    from qosyl.actions.notifications import notify

    act(app, "block", user, other_user)
    with app.test_request_context():
        alice, bob = db.session.get(User, user.id), db.session.get(User, other_user.id)
        assert notify(alice, "follow", actor=bob) is None
        assert notify(bob, "follow", actor=alice) is None


def test_unblock(app, user, other_user):
    act(app, "block", user, other_user)
    act(app, "unblock", user, other_user)
    assert not rel(app, user, other_user).blocked_either_way
    act(app, "follow", other_user, user)
    assert rel(app, other_user, user).following


# Suggestions


def test_suggestions_rank_friends_of_friends_and_room_mates(app, make_user):
    me, friend, fof, roommate, both, followed, blocked = (
        make_user(username=n)
        for n in ("me", "friend", "fof", "roommate", "both", "followed", "blocked")
    )
    for a, b in (
        (me, friend),
        (friend, fof),
        (friend, both),
        (friend, followed),
        (friend, blocked),
    ):
        act(app, "send_friend_request", a, b)
        act(app, "accept_friend_request", b, a)
    act(app, "follow", me, followed)
    act(app, "block", blocked, me)
    with app.app_context():
        topic = Topic(name="Chess")
        db.session.add(topic)
        db.session.flush()
        room = Room(name="Openings", topic_id=topic.id, host_id=me.id)
        lobby = Room(name="Lobby", topic_id=topic.id, host_id=me.id, is_lobby=True)
        db.session.add_all([room, lobby])
        db.session.flush()
        db.session.add_all(
            [RoomMember(room_id=room.id, user_id=u.id) for u in (me, roommate, both)]
        )
        db.session.add_all([RoomMember(room_id=lobby.id, user_id=u.id) for u in (me, blocked)])
        db.session.commit()
        found = suggestions(me.id, limit=10)
    assert [(s.user.username, s.mutual_friends, s.shared_rooms) for s in found] == [
        ("both", 1, 1),
        ("fof", 1, 0),
        ("roommate", 0, 1),
    ]


def test_a_newcomer_gets_the_most_followed_people(app, make_user):
    me, star, other = (make_user(username=n) for n in ("me", "star", "other"))
    act(app, "follow", other, star)
    with app.app_context():
        assert [s.user.username for s in suggestions(me.id)] == ["star", "other"]


def test_relations_for_many_people_is_one_query(app, make_user):
    me = make_user(username="me")
    people = [make_user(username=f"p{n}") for n in range(6)]
    act(app, "follow", me, people[0])
    act(app, "send_friend_request", people[1], me)
    act(app, "block", me, people[2])
    with assert_query_count(app, 1), app.app_context():
        found = relations_for(me.id, [p.id for p in people] + [me.id])
    assert found[people[0].id].following
    assert found[people[1].id].request_received
    assert found[people[2].id].blocking
    assert found[me.id].is_self
    assert not any(vars(found[people[3].id]).values())


# The pages


def test_relation_buttons_over_htmx(app, logged_in, user, other_user):
    response = post(logged_in, "/u/bob/friend", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="relation"')
    assert ">Cancel request<" in html
    response = post(logged_in, "/u/bob/follow", {"compact": "1"}, htmx=True)
    assert ">Unfollow<" in response.get_data(as_text=True)
    assert "Block" not in response.get_data(as_text=True)  # lists get the short form


def test_relation_buttons_without_javascript_redirect_with_a_message(logged_in, other_user):
    response = post(logged_in, "/u/bob/follow")
    assert response.status_code == 302
    assert response.headers["Location"] == "/u/bob"
    assert "You follow them now." in logged_in.get("/u/bob").get_data(as_text=True)


def test_a_refused_relation_change_says_why(app, logged_in, user, other_user):
    act(app, "block", other_user, user)
    # Bob blocked Alice: to her, Bob does not exist.
    assert post(logged_in, "/u/bob/follow", htmx=True).status_code == 404
    act(app, "unblock", other_user, user)
    act(app, "block", user, other_user)
    response = post(logged_in, "/u/bob/follow", htmx=True)
    assert response.status_code == 409
    assert "Unblock them first." in response.get_data(as_text=True)


def test_blocked_user_cannot_see_the_blockers_profile_or_lists(app, client, user, other_user):
    act(app, "block", user, other_user)
    factories.login(client, other_user)
    for url in ("/u/alice", "/u/alice/friends", "/u/alice/followers"):
        assert client.get(url).status_code == 404, url


def test_the_blocker_sees_an_unblock_button_and_no_posts(app, logged_in, user, other_user):
    act(app, "block", user, other_user)
    html = logged_in.get("/u/bob").get_data(as_text=True)
    assert "You blocked @bob." in html and ">Unblock<" in html
    assert 'id="posts-heading"' not in html


def test_people_search_and_suggestions_pages(app, logged_in, make_user):
    make_user(username="dana_s", first_name="Dana", last_name="Sadykova")
    make_user(username="zed", first_name="Zed", last_name="Zulu")
    html = logged_in.get("/people?q=sadyk").get_data(as_text=True)
    assert "Dana Sadykova" in html and "Zed Zulu" not in html
    html = logged_in.get("/people").get_data(as_text=True)
    assert "People you may know" in html


@pytest.mark.parametrize("people", [2, 12])
def test_people_lists_have_a_fixed_query_budget(app, logged_in, user, make_user, people):
    for n in range(people):
        other = make_user(username=f"fan{n}")
        act(app, "follow", other, user)
    # user, the profile, relation facts of the whole page, the page of people, bell
    with assert_query_count(app, 5):
        html = logged_in.get("/u/alice/followers").get_data(as_text=True)
    assert html.count('class="person"') == people


def test_friend_requests_page_lists_both_ways(app, logged_in, user, make_user):
    asker, asked = make_user(username="asker"), make_user(username="asked")
    act(app, "send_friend_request", asker, user)
    act(app, "send_friend_request", user, asked)
    html = logged_in.get("/friends/requests").get_data(as_text=True)
    received, sent = html.split("<h2>Sent</h2>")
    assert "@asker" in received and ">Accept<" in received
    assert "@asked" in sent and ">Cancel request<" in sent


def test_blocked_list_and_notification_settings(app, logged_in, user, other_user):
    act(app, "block", user, other_user)
    assert "@bob" in logged_in.get("/settings/blocked").get_data(as_text=True)
    response = post(
        logged_in,
        "/settings/notifications",
        {
            "kinds-friend_request": "y",
            "kinds-comment": "y",
        },
    )
    assert response.status_code == 302
    from qosyl.actions.notifications import muted_kinds

    with app.app_context():
        assert "like" in muted_kinds(user.id) and "comment" not in muted_kinds(user.id)
    page = logged_in.get("/settings/notifications").get_data(as_text=True)
    assert '<input checked id="kinds-comment"' in page
    assert '<input id="kinds-like"' in page


def test_a_muted_kind_is_not_delivered(app, user, other_user):
    from qosyl.actions.notifications import set_muted_kinds

    with app.app_context():
        set_muted_kinds(db.session.get(User, user.id), {"follow"})
    act(app, "follow", other_user, user)
    assert notification_kinds(app, user) == []
