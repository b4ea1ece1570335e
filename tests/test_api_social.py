"""Friend requests, friends, follows and blocks through the JSON API: the same actions as the
people pages' buttons, the same messages when they refuse, the same block rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qosyl.actions import social
from qosyl.extensions import db
from qosyl.models import Follow
from qosyl.models import FriendRequest
from qosyl.models import Friendship
from qosyl.reads.people import relation
from tests import factories
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import notification_kinds
from tests.helpers import post


def ask(app, sender, receiver) -> int:
    """`sender` asks `receiver` to be friends; the request's id."""
    with app.app_context():
        social.send_friend_request(factories.reload(sender), factories.reload(receiver))
        return db.session.scalar(
            select(FriendRequest.id).where(
                FriendRequest.sender_id == sender.id, FriendRequest.receiver_id == receiver.id
            )
        )


def follow(app, follower, followed) -> None:
    with app.app_context():
        social.follow(factories.reload(follower), factories.reload(followed))


def relation_of(app, viewer, other):
    with app.app_context():
        return relation(viewer.id, other.id)


def web_message(app, account, url: str) -> str:
    """What the people page's button answers (HTMX) when `account` presses it."""
    client = app.test_client()
    factories.login(client, account)
    response = post(client, url, htmx=True)
    assert response.status_code == 409, response.status_code
    return response.get_data(as_text=True)


def same_queries_for_3_and_25(app, api, url: str, add) -> int:
    """Query count of `url` with 3 items, checked equal with 25 (`add(n)` adds one)."""

    def queries() -> int:
        with count_queries(app) as log:
            response = api.get(url)
        assert response.status_code == 200, response.json
        return len(log)

    for n in range(3):
        add(n)
    few = queries()
    for n in range(3, 25):
        add(n)
    assert queries() == few
    return few


# Sending a friend request


def test_i_send_a_friend_request_and_they_see_it(app, user, other_user, pushes):
    response = ApiClient(app, user).post("/api/friends/request/", json={"user_id": other_user.id})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["result"] == "sent"
    assert body["request"]["direction"] == "outgoing"
    assert body["request"]["user"]["username"] == "bob"
    assert body["user"]["relation"]["request_sent"] is True
    assert notification_kinds(app, other_user) == ["friend_request"]
    # Bob's open tabs hear of it at once (the action's events, after its commit).
    audience = {
        r for p in pushes if p.data.get("name") == social.RELATIONS_EVENT for r in p.audience
    }
    assert f"user:{other_user.id}" in audience
    incoming = ApiClient(app, other_user).get("/api/friends/requests/").json["items"]
    assert [(r["id"], r["direction"]) for r in incoming] == [(body["request"]["id"], "incoming")]
    assert incoming[0]["user"]["username"] == "alice"
    assert incoming[0]["user"]["relation"]["request_received"] is True


def test_asking_twice_changes_nothing(app, user, other_user):
    request_id = ask(app, user, other_user)
    response = ApiClient(app, user).post("/api/friends/request/", json={"user_id": other_user.id})
    assert response.status_code == 200
    assert response.json["result"] == "already"
    assert response.json["request"]["id"] == request_id
    assert count_rows(app, FriendRequest) == 1


def test_asking_someone_who_asked_me_makes_us_friends(app, user, other_user):
    ask(app, other_user, user)
    response = ApiClient(app, user).post("/api/friends/request/", json={"user_id": other_user.id})
    assert response.status_code == 200
    assert response.json["result"] == "accepted"
    assert response.json["request"] is None
    assert response.json["user"]["relation"]["friends"] is True
    assert count_rows(app, FriendRequest) == 0
    assert "friend_accept" in notification_kinds(app, other_user)


def test_asking_a_friend_again_is_already(app, user, other_user):
    factories.befriend(app, user, other_user)
    response = ApiClient(app, user).post("/api/friends/request/", json={"user_id": other_user.id})
    assert response.status_code == 200
    assert response.json["result"] == "already" and response.json["request"] is None


def test_befriending_myself_is_refused_as_the_page_refuses_it(app, user):
    error = api_error(
        ApiClient(app, user).post("/api/friends/request/", json={"user_id": user.id}), 409
    )
    assert error["message"] == "You cannot befriend yourself."
    assert error["message"] in web_message(app, user, "/u/alice/friend")


def test_a_friend_request_needs_a_good_user_id(app, user):
    api = ApiClient(app, user)
    for body in ({}, {"user_id": "bob"}, {"user_id": 2**40}, {"user_id": True}):
        error = api_error(api.post("/api/friends/request/", json=body), 422)
        assert set(error["fields"]) == {"user_id"}, body
    api_error(api.post("/api/friends/request/", json={"user_id": 999999}), 404)
    assert count_rows(app, FriendRequest) == 0


def test_friend_requests_and_blocks(app, user, other_user):
    api = ApiClient(app, user)
    factories.block(app, other_user, user)  # Bob blocked Alice: Bob does not exist for her.
    api_error(api.post("/api/friends/request/", json={"user_id": other_user.id}), 404)
    with app.app_context():
        social.unblock(factories.reload(other_user), factories.reload(user))
    factories.block(app, user, other_user)  # Alice blocked Bob
    error = api_error(api.post("/api/friends/request/", json={"user_id": other_user.id}), 409)
    assert error["message"] == "You blocked this person. Unblock them first."
    assert error["message"] in web_message(app, user, "/u/bob/friend")
    # And Bob, blocked, cannot reach Alice at all.
    bob = ApiClient(app, other_user)
    api_error(bob.post("/api/friends/request/", json={"user_id": user.id}), 404)
    assert count_rows(app, FriendRequest) == 0


# Listing requests


def test_requests_list_both_ways_newest_first_with_a_filter(app, user, other_user, make_user):
    carol = make_user(username="carol")
    dave = make_user(username="dave")
    ask(app, other_user, user)
    ask(app, user, carol)
    ask(app, dave, user)
    ask(app, carol, other_user)  # not Alice's business
    api = ApiClient(app, user)
    items = api.get("/api/friends/requests/").json["items"]
    assert [(r["user"]["username"], r["direction"]) for r in items] == [
        ("dave", "incoming"),
        ("carol", "outgoing"),
        ("bob", "incoming"),
    ]
    incoming = api.get("/api/friends/requests/?direction=incoming").json["items"]
    assert [r["user"]["username"] for r in incoming] == ["dave", "bob"]
    outgoing = api.get("/api/friends/requests/?direction=outgoing").json["items"]
    assert [r["user"]["username"] for r in outgoing] == ["carol"]
    error = api_error(api.get("/api/friends/requests/?direction=sideways"), 422)
    assert set(error["fields"]) == {"direction"}


def test_requests_page_with_a_cursor_stable_under_new_requests(app, user, make_user):
    people = [make_user(username=f"asker{n}") for n in range(5)]
    for person in people:
        ask(app, person, user)
    api = ApiClient(app, user)
    first = api.get("/api/friends/requests/?limit=3").json
    assert [r["user"]["username"] for r in first["items"]] == ["asker4", "asker3", "asker2"]
    ask(app, make_user(username="late"), user)
    second = api.get(f"/api/friends/requests/?limit=3&cursor={first['next']}").json
    assert [r["user"]["username"] for r in second["items"]] == ["asker1", "asker0"]
    assert second["next"] is None
    api_error(api.get("/api/friends/requests/?cursor=garbage"), 400)


def test_the_requests_list_runs_the_same_queries_for_3_or_25(app, user, make_user):
    def add(n):
        ask(app, make_user(username=f"asker{n}"), user)

    assert same_queries_for_3_and_25(app, ApiClient(app, user), "/api/friends/requests/", add) <= 4


# Answering and cancelling


def test_i_accept_a_request_sent_to_me(app, user, other_user):
    request_id = ask(app, other_user, user)
    response = ApiClient(app, user).put(
        f"/api/friends/request/{request_id}/", json={"action": "accept"}
    )
    assert response.status_code == 200, response.json
    assert response.json["username"] == "bob"
    assert response.json["relation"]["friends"] is True
    assert "friend_accept" in notification_kinds(app, other_user)
    friends = ApiClient(app, other_user).get("/api/friends/").json["items"]
    assert [(p["username"], p["relation"]["friends"]) for p in friends] == [("alice", True)]
    api_error(ApiClient(app, user).put(f"/api/friends/request/{request_id}/", json={}), 422)


def test_i_reject_a_request_sent_to_me(app, user, other_user):
    request_id = ask(app, other_user, user)
    response = ApiClient(app, user).put(
        f"/api/friends/request/{request_id}/", json={"action": "reject"}
    )
    assert response.status_code == 200
    assert response.json["relation"]["friends"] is False
    assert response.json["relation"]["request_received"] is False
    assert count_rows(app, FriendRequest) == 0 and count_rows(app, Friendship) == 0
    # Bob may ask again, as on the pages.
    assert relation_of(app, other_user, user).request_sent is False


def test_answering_needs_accept_or_reject(app, user, other_user):
    request_id = ask(app, other_user, user)
    api = ApiClient(app, user)
    for body in ({}, {"action": "maybe"}, {"action": 1}):
        error = api_error(api.put(f"/api/friends/request/{request_id}/", json=body), 422)
        assert set(error["fields"]) == {"action"}
    assert count_rows(app, FriendRequest) == 1


def test_only_the_receiver_answers_a_request(app, user, other_user, make_user):
    carol = make_user(username="carol")
    request_id = ask(app, user, other_user)
    for who in (user, carol):  # its sender, and someone else
        response = ApiClient(app, who).put(
            f"/api/friends/request/{request_id}/", json={"action": "accept"}
        )
        api_error(response, 404)
    api_error(
        ApiClient(app, other_user).put("/api/friends/request/999999/", json={"action": "accept"}),
        404,
    )
    assert count_rows(app, Friendship) == 0 and count_rows(app, FriendRequest) == 1


def test_a_cancelled_request_cannot_be_answered(app, user, other_user):
    request_id = ask(app, other_user, user)
    with app.app_context():
        social.cancel_friend_request(factories.reload(other_user), factories.reload(user))
    response = ApiClient(app, user).put(
        f"/api/friends/request/{request_id}/", json={"action": "accept"}
    )
    api_error(response, 404)


def test_a_block_ends_the_request_and_any_answer(app, user, other_user):
    request_id = ask(app, other_user, user)
    factories.block(app, user, other_user)
    response = ApiClient(app, user).put(
        f"/api/friends/request/{request_id}/", json={"action": "accept"}
    )
    api_error(response, 404)
    assert count_rows(app, Friendship) == 0


def test_i_cancel_a_request_i_sent(app, user, other_user):
    request_id = ask(app, user, other_user)
    response = ApiClient(app, user).delete(f"/api/friends/request/{request_id}/")
    assert response.status_code == 200
    assert response.json["relation"]["request_sent"] is False
    assert count_rows(app, FriendRequest) == 0
    # Bob's notification of it went with it.
    assert notification_kinds(app, other_user) == []
    assert ApiClient(app, other_user).get("/api/friends/requests/").json["items"] == []


def test_only_the_sender_cancels_a_request(app, user, other_user, make_user):
    carol = make_user(username="carol")
    request_id = ask(app, user, other_user)
    for who in (other_user, carol):
        api_error(ApiClient(app, who).delete(f"/api/friends/request/{request_id}/"), 404)
    assert count_rows(app, FriendRequest) == 1


# Friends


def test_my_friends_page_by_cursor(app, user, make_user):
    people = [make_user(username=f"friend{n}") for n in range(4)]
    for person in people:
        factories.befriend(app, person, user)
    api = ApiClient(app, user)
    first = api.get("/api/friends/?limit=3").json
    assert [p["username"] for p in first["items"]] == ["friend3", "friend2", "friend1"]
    assert all(p["relation"]["friends"] for p in first["items"])
    second = api.get(f"/api/friends/?limit=3&cursor={first['next']}").json
    assert [p["username"] for p in second["items"]] == ["friend0"]
    assert second["next"] is None
    assert "limit" in api_error(api.get("/api/friends/?limit=0"), 422)["fields"]


def test_my_friends_runs_the_same_queries_for_3_or_25(app, user, make_user):
    def add(n):
        factories.befriend(app, make_user(username=f"friend{n}"), user)

    assert same_queries_for_3_and_25(app, ApiClient(app, user), "/api/friends/", add) <= 4


def test_i_unfriend_someone(app, user, other_user):
    factories.befriend(app, user, other_user)
    response = ApiClient(app, user).delete(f"/api/friends/{other_user.id}/")
    assert response.status_code == 200
    assert response.json["relation"]["friends"] is False
    assert count_rows(app, Friendship) == 0
    assert ApiClient(app, other_user).get("/api/friends/").json["items"] == []


def test_unfriending_someone_who_blocked_me_is_not_found(app, user, other_user):
    factories.befriend(app, user, other_user)
    factories.block(app, other_user, user)
    api_error(ApiClient(app, user).delete(f"/api/friends/{other_user.id}/"), 404)
    api_error(ApiClient(app, user).delete("/api/friends/999999/"), 404)


@pytest.mark.parametrize("kind", ["friends", "followers", "following"])
def test_someone_elses_lists_as_the_pages_show_them(app, user, other_user, make_user, kind):
    carol = make_user(username="carol")
    dave = make_user(username="dave")
    for person in (carol, dave):
        if kind == "friends":
            factories.befriend(app, person, other_user)
        elif kind == "followers":
            follow(app, person, other_user)
        else:
            follow(app, other_user, person)
    factories.block(app, dave, user)  # Dave blocked Alice: left out of every list she sees
    follow(app, user, carol)
    body = ApiClient(app, user).get(f"/api/users/{other_user.id}/{kind}/").json
    assert [p["username"] for p in body["items"]] == ["carol"]
    assert body["items"][0]["relation"]["following"] is True
    assert body["next"] is None
    # Bob's own view includes Dave.
    own = ApiClient(app, other_user).get(f"/api/users/{other_user.id}/{kind}/").json
    names = [p["username"] for p in own["items"]]
    assert names == ["dave", "carol"]


@pytest.mark.parametrize("kind", ["friends", "followers", "following"])
def test_lists_of_someone_in_a_block_with_me_are_not_found(app, user, other_user, kind):
    factories.block(app, other_user, user)  # Bob blocked Alice
    api_error(ApiClient(app, user).get(f"/api/users/{other_user.id}/{kind}/"), 404)
    # Bob blocked her: he sees her profile (to unblock) but not her lists, as on the pages.
    api_error(ApiClient(app, other_user).get(f"/api/users/{user.id}/{kind}/"), 404)
    api_error(ApiClient(app, user).get(f"/api/users/999999/{kind}/"), 404)


def test_the_people_lists_page_by_cursor(app, user, other_user, make_user):
    for n in range(3):
        follow(app, make_user(username=f"fan{n}"), other_user)
    api = ApiClient(app, user)
    first = api.get(f"/api/users/{other_user.id}/followers/?limit=2").json
    assert [p["username"] for p in first["items"]] == ["fan2", "fan1"]
    follow(app, make_user(username="late"), other_user)
    second = api.get(f"/api/users/{other_user.id}/followers/?limit=2&cursor={first['next']}").json
    assert [p["username"] for p in second["items"]] == ["fan0"]
    assert second["next"] is None


@pytest.mark.parametrize("kind", ["friends", "followers", "following"])
def test_the_people_lists_run_the_same_queries_for_3_or_25(app, user, other_user, make_user, kind):
    def add(n):
        person = make_user(username=f"person{n}")
        if kind == "friends":
            factories.befriend(app, person, other_user)
        elif kind == "followers":
            follow(app, person, other_user)
        else:
            follow(app, other_user, person)

    url = f"/api/users/{other_user.id}/{kind}/"
    assert same_queries_for_3_and_25(app, ApiClient(app, user), url, add) <= 6


# Follows


def test_i_follow_and_unfollow_someone(app, user, other_user):
    api = ApiClient(app, user)
    response = api.post("/api/follows/", json={"user_id": other_user.id})
    assert response.status_code == 200, response.json
    assert response.json["relation"]["following"] is True
    assert notification_kinds(app, other_user) == ["follow"]
    followers = ApiClient(app, other_user).get(f"/api/users/{other_user.id}/followers/").json
    assert [p["username"] for p in followers["items"]] == ["alice"]
    # Following twice changes nothing.
    assert api.post("/api/follows/", json={"user_id": other_user.id}).status_code == 200
    assert count_rows(app, Follow) == 1
    response = api.delete(f"/api/follows/{other_user.id}/")
    assert response.status_code == 200
    assert response.json["relation"]["following"] is False
    assert count_rows(app, Follow) == 0


def test_following_myself_is_refused_as_the_page_refuses_it(app, user):
    error = api_error(ApiClient(app, user).post("/api/follows/", json={"user_id": user.id}), 409)
    assert error["message"] == "You cannot follow yourself."
    assert error["message"] in web_message(app, user, "/u/alice/follow")


def test_a_follow_needs_a_good_user_id(app, user):
    api = ApiClient(app, user)
    for body in ({}, {"user_id": "x"}, {"user_id": -1}):
        assert set(api_error(api.post("/api/follows/", json=body), 422)["fields"]) == {"user_id"}
    api_error(api.post("/api/follows/", json={"user_id": 999999}), 404)


def test_follows_and_blocks(app, user, other_user):
    api = ApiClient(app, user)
    factories.block(app, user, other_user)
    error = api_error(api.post("/api/follows/", json={"user_id": other_user.id}), 409)
    assert error["message"] == "You blocked this person. Unblock them first."
    assert error["message"] in web_message(app, user, "/u/bob/follow")
    bob = ApiClient(app, other_user)
    api_error(bob.post("/api/follows/", json={"user_id": user.id}), 404)
    api_error(bob.delete(f"/api/follows/{user.id}/"), 404)
    assert count_rows(app, Follow) == 0


# Blocks


def test_i_block_someone_and_what_we_had_ends(app, user, other_user):
    factories.befriend(app, user, other_user)
    follow(app, user, other_user)
    follow(app, other_user, user)
    response = ApiClient(app, user).post("/api/blocks/", json={"user_id": other_user.id})
    assert response.status_code == 200, response.json
    assert response.json["relation"] == {
        "is_self": False,
        "friends": False,
        "request_sent": False,
        "request_received": False,
        "following": False,
        "followed_by": False,
        "blocking": True,
    }
    assert count_rows(app, Follow) == 0 and count_rows(app, Friendship) == 0
    # Bob no longer finds Alice.
    api_error(ApiClient(app, other_user).get(f"/api/users/{user.id}/"), 404)
    blocked = ApiClient(app, user).get("/api/blocks/").json
    assert [p["username"] for p in blocked["items"]] == ["bob"]


def test_i_unblock_someone(app, user, other_user):
    factories.block(app, user, other_user)
    response = ApiClient(app, user).delete(f"/api/blocks/{other_user.id}/")
    assert response.status_code == 200
    assert response.json["relation"]["blocking"] is False
    assert ApiClient(app, user).get("/api/blocks/").json["items"] == []
    assert ApiClient(app, other_user).get(f"/api/users/{user.id}/").status_code == 200


def test_blocking_myself_is_refused_as_the_page_refuses_it(app, user):
    error = api_error(ApiClient(app, user).post("/api/blocks/", json={"user_id": user.id}), 409)
    assert error["message"] == "You cannot block yourself."
    assert error["message"] in web_message(app, user, "/u/alice/block")
    assert set(api_error(ApiClient(app, user).post("/api/blocks/", json={}), 422)["fields"]) == {
        "user_id"
    }


def test_someone_who_blocked_me_cannot_be_blocked_or_unblocked_by_me(app, user, other_user):
    factories.block(app, other_user, user)
    api = ApiClient(app, user)
    api_error(api.post("/api/blocks/", json={"user_id": other_user.id}), 404)
    api_error(api.delete(f"/api/blocks/{other_user.id}/"), 404)
    # Bob's block stands; only Bob lists it.
    assert api.get("/api/blocks/").json["items"] == []
    assert [p["id"] for p in ApiClient(app, other_user).get("/api/blocks/").json["items"]] == [
        user.id
    ]


def test_the_blocks_list_pages_by_cursor(app, user, make_user):
    people = [make_user(username=f"pest{n}") for n in range(3)]
    for person in people:
        factories.block(app, user, person)
    api = ApiClient(app, user)
    first = api.get("/api/blocks/?limit=2").json
    assert [p["username"] for p in first["items"]] == ["pest2", "pest1"]
    assert all(p["relation"]["blocking"] for p in first["items"])
    second = api.get(f"/api/blocks/?limit=2&cursor={first['next']}").json
    assert [p["username"] for p in second["items"]] == ["pest0"] and second["next"] is None


def test_the_blocks_list_runs_the_same_queries_for_3_or_25(app, user, make_user):
    def add(n):
        factories.block(app, user, make_user(username=f"pest{n}"))

    assert same_queries_for_3_and_25(app, ApiClient(app, user), "/api/blocks/", add) <= 4
