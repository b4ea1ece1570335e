"""Presence (MSG-3): the rules over a user's tabs, both stores, and what reaches whom over
Socket.IO (friends and fellow conversation members, never strangers or blocked people)."""

from __future__ import annotations

import time
import uuid

import pytest

from qosyl.actions.messages import direct_key
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.live import presence
from qosyl.models import Conversation
from qosyl.models import ConversationKind
from qosyl.models import ConversationMember
from qosyl.models import Friendship
from qosyl.models import MemberStatus
from tests import factories
from tests.factories import block
from tests.helpers import assert_query_count
from tests.helpers import require_service
from tests.helpers import signed_in_tab

REDIS_URL = "redis://127.0.0.1:6379/0"


# Data


def befriend(app, a, b) -> None:
    with app.app_context():
        db.session.add_all(
            [Friendship(user_id=a.id, friend_id=b.id), Friendship(user_id=b.id, friend_id=a.id)]
        )
        db.session.commit()


def conversation(app, members: dict, kind=ConversationKind.GROUP) -> None:
    """A conversation of {user: status}."""
    with app.app_context():
        ids = [person.id for person in members]
        key = direct_key(*ids) if kind == ConversationKind.DIRECT else None
        talk = Conversation(kind=kind, direct_key=key, name="Talk")
        db.session.add(talk)
        db.session.flush()
        for person, status in members.items():
            db.session.add(
                ConversationMember(conversation_id=talk.id, user_id=person.id, status=status)
            )
        db.session.commit()


# Stores


def redis_client():
    import redis

    require_service("Redis", REDIS_URL)
    return redis.Redis.from_url(REDIS_URL, decode_responses=True)


@pytest.fixture
def redis_prefix():
    """A prefix of this test's own; its keys are deleted afterwards."""
    client = redis_client()
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def rules(request, app):
    """An app context whose presence store is the one named by the parameter."""
    with app.app_context():
        if request.param == "redis":
            prefix = request.getfixturevalue("redis_prefix")
            app.extensions["qosyl.presence"] = presence.RedisStore(redis_client(), prefix)
        else:
            assert isinstance(presence._store(), presence.MemoryStore)
        yield app


# Rules


@pytest.mark.parametrize(
    ("tabs", "state"),
    [
        ([], "offline"),
        (["away"], "away"),
        (["away", "away"], "away"),
        (["away", "online"], "online"),
    ],
)
def test_a_user_is_online_if_any_tab_is_away_if_all_are_offline_if_none(tabs, state):
    assert presence.overall(tabs) == state


def test_closing_one_of_two_tabs_keeps_the_user_online(rules):
    assert presence.tab_connected(1, "tab-a") == "online"
    assert presence.tab_connected(1, "tab-b") is None
    assert presence.tab_disconnected(1, "tab-a") is None
    assert presence.states([1]) == {1: "online"}
    assert presence.tab_disconnected(1, "tab-b") == "offline"
    assert presence.states([1]) == {1: "offline"}


def test_away_only_when_every_tab_is_away_and_only_changes_are_reported(rules):
    presence.tab_connected(1, "tab-a")
    presence.tab_connected(1, "tab-b")
    assert presence.tab_state(1, "tab-a", away=True) is None
    assert presence.states([1]) == {1: "online"}
    assert presence.tab_state(1, "tab-b", away=True) == "away"
    assert presence.tab_state(1, "tab-b", away=True) is None  # told twice: no change
    assert presence.tab_state(1, "tab-a", away=False) == "online"
    assert presence.tab_state(1, "tab-a", away=False) is None
    assert presence.tab_disconnected(1, "tab-a") == "away"  # tab-b is still away
    assert presence.tab_disconnected(1, "tab-b") == "offline"
    assert presence.tab_disconnected(1, "tab-b") is None  # already gone


def test_states_answers_for_many_users_at_once(rules):
    presence.tab_connected(1, "tab-a")
    presence.tab_connected(2, "tab-b")
    presence.tab_state(2, "tab-b", away=True)
    assert presence.states([1, 2, 3, 1]) == {1: "online", 2: "away", 3: "offline"}
    assert presence.states([]) == {}


def test_each_app_without_a_redis_queue_keeps_its_own_tabs(app):
    with app.app_context():
        presence.tab_connected(1, "tab-a")
    other = type(app)(__name__)
    other.config.update(SOCKETIO_MESSAGE_QUEUE=None, SOCKETIO_CHANNEL="qosyl")
    with other.app_context():
        assert presence.states([1]) == {1: "offline"}
    with app.app_context():
        assert presence.states([1]) == {1: "online"}


def test_the_store_is_redis_when_socketio_shares_a_redis_queue():
    assert isinstance(presence.make_store(REDIS_URL, "qosyl"), presence.RedisStore)
    assert isinstance(presence.make_store("rediss://cache:6380/0", "qosyl"), presence.RedisStore)
    assert isinstance(presence.make_store(None, "qosyl"), presence.MemoryStore)


# Redis


def test_processes_sharing_redis_agree(app, redis_prefix):
    """A user with a tab on each of two processes stays online when one tab closes."""
    process_a = presence.RedisStore(redis_client(), redis_prefix)
    process_b = presence.RedisStore(redis_client(), redis_prefix)
    with app.app_context():
        app.extensions["qosyl.presence"] = process_a
        assert presence.tab_connected(7, "tab-on-a") == "online"
        app.extensions["qosyl.presence"] = process_b
        assert presence.tab_connected(7, "tab-on-b") is None
        assert presence.tab_disconnected(7, "tab-on-a") is None
        app.extensions["qosyl.presence"] = process_a
        assert presence.states([7]) == {7: "online"}
        assert presence.tab_disconnected(7, "tab-on-b") == "offline"


def test_redis_forgets_the_tabs_of_a_crashed_process(redis_prefix):
    store = presence.RedisStore(redis_client(), redis_prefix, ttl=1)
    store.update(7, "tab-a", "online")
    assert store.tab_states([7]) == {7: ["online"]}
    time.sleep(1.5)
    assert store.tab_states([7]) == {7: []}


def test_a_throttle_lets_one_call_through_per_window_in_every_process(redis_prefix):
    process_a = presence.RedisStore(redis_client(), redis_prefix)
    process_b = presence.RedisStore(redis_client(), redis_prefix)
    assert process_a.first_within("7:3", 30)
    assert not process_b.first_within("7:3", 30)  # the other process sees the same mark
    assert process_b.first_within("7:4", 30)  # another conversation is counted apart
    ttl = process_a.client.pttl(f"{redis_prefix}:once:7:3")
    assert 0 < ttl <= 30_000  # Redis forgets it by itself


def test_the_memory_throttle_forgets_old_marks(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(presence.MemoryStore, "PRUNE_AT", 3)
    store = presence.MemoryStore()
    assert store.first_within("a", 1) and not store.first_within("a", 1)
    clock[0] += 1.5
    assert store.first_within("a", 1)
    for key in ("b", "c"):
        store.first_within(key, 1)
    clock[0] += 5
    store.first_within("d", 1)  # the dict is full: expired marks go
    assert set(store._marks) == {"d"}


def test_every_change_and_keep_alive_refreshes_the_expiry(app, redis_prefix):
    client = redis_client()
    store = presence.RedisStore(client, redis_prefix)
    key = store.key(7)
    with app.app_context():
        app.extensions["qosyl.presence"] = store
        presence.tab_connected(7, "tab-a")
        assert 0 < client.ttl(key) <= presence.TAB_TTL_SECONDS
        client.expire(key, 5)
        assert presence.tab_state(7, "tab-a", away=False) is None  # the keep-alive
        assert client.ttl(key) > 5
        client.delete(key)  # expired, though the tab is still open
        assert presence.tab_state(7, "tab-a", away=True) == "away"  # it comes back


# Who is told


def test_the_audience_is_friends_and_fellow_members_minus_blocks(app, user, make_user):
    names = ("friend", "stranger", "member", "invited", "left_me", "blocker", "blocked", "old")
    people = {name: make_user(username=name) for name in names}
    befriend(app, user, people["friend"])
    active = MemberStatus.ACTIVE
    conversation(
        app,
        {
            user: active,
            people["member"]: active,
            people["invited"]: MemberStatus.INVITED,
            people["left_me"]: MemberStatus.LEFT,
            people["blocker"]: active,
            people["blocked"]: active,
        },
    )
    # A conversation the user left: its members no longer hear of them.
    conversation(app, {user: MemberStatus.LEFT, people["old"]: active})
    block(app, people["blocker"], user)
    block(app, user, people["blocked"])
    with app.app_context(), assert_query_count(app, 1):
        heard_by = presence.audience(user.id)
    assert heard_by == sorted([people["friend"].id, people["member"].id])


# Over Socket.IO


def heard(socket) -> list[dict]:
    return [e["args"][0] for e in socket.get_received() if e["name"] == "presence"]


def test_a_friend_hears_online_when_the_first_tab_opens_and_offline_when_the_last_closes(
    app, user, other_user
):
    befriend(app, user, other_user)
    bob = signed_in_tab(app, other_user)
    alice1 = signed_in_tab(app, user)
    assert heard(bob) == [{"user_id": user.id, "state": "online"}]
    alice2 = signed_in_tab(app, user)
    alice1.disconnect()
    assert heard(bob) == []
    alice2.disconnect()
    assert heard(bob) == [{"user_id": user.id, "state": "offline"}]


def test_a_reload_whose_new_tab_is_told_first_still_ends_online(app, user, other_user, monkeypatch):
    """The old tab's "offline" and the new tab's "online" run on two green threads; each
    waits for the audience's query. When the new tab's connection is handled during the old
    tab's query, the friend must end up hearing "online"."""
    befriend(app, user, other_user)
    bob = signed_in_tab(app, other_user)
    old_tab = signed_in_tab(app, user)
    heard(bob)
    reloaded = []
    audience = presence.audience

    def reload_meanwhile(user_id):
        if not reloaded:
            reloaded.append(True)
            signed_in_tab(app, user)  # the new tab, handled while "offline" waits
        return audience(user_id)

    monkeypatch.setattr(presence, "audience", reload_meanwhile)
    old_tab.disconnect()
    assert reloaded
    assert heard(bob)[-1] == {"user_id": user.id, "state": "online"}


def test_a_friend_hears_away_and_back(app, user, other_user):
    befriend(app, user, other_user)
    bob = signed_in_tab(app, other_user)
    alice = signed_in_tab(app, user)
    heard(bob)
    assert alice.emit("presence:away", {"away": True}, callback=True) == {"ok": True}
    assert alice.emit("presence:away", {"away": True}, callback=True) == {"ok": True}
    assert alice.emit("presence:away", {"away": False}, callback=True) == {"ok": True}
    assert heard(bob) == [
        {"user_id": user.id, "state": "away"},
        {"user_id": user.id, "state": "online"},
    ]


@pytest.mark.parametrize("blocked_by_alice", [True, False])
def test_strangers_and_blocked_people_hear_nothing(
    app, user, other_user, make_user, blocked_by_alice
):
    carol = make_user(username="carol")
    dave = make_user(username="dave")
    befriend(app, user, other_user)
    # Dave still shares a conversation with Alice: only the block keeps him out.
    conversation(
        app, {user: MemberStatus.ACTIVE, dave: MemberStatus.ACTIVE}, ConversationKind.DIRECT
    )
    block(app, *((user, dave) if blocked_by_alice else (dave, user)))
    bob, stranger, blocked = (
        signed_in_tab(app, other_user),
        signed_in_tab(app, carol),
        signed_in_tab(app, dave),
    )
    alice = signed_in_tab(app, user)
    alice.emit("presence:away", {"away": True}, callback=True)
    alice.disconnect()
    assert [event["state"] for event in heard(bob)] == ["online", "away", "offline"]
    assert heard(stranger) == []
    assert heard(blocked) == []


def test_a_user_nobody_may_hear_of_is_announced_to_no_one(app, user, other_user, pushes):
    """An emit to an empty list of rooms would reach every connection."""
    bystander = signed_in_tab(app, other_user)
    signed_in_tab(app, user).disconnect()
    assert heard(bystander) == []
    assert [push for push in pushes if push.event == "presence"] == []


@pytest.mark.parametrize(
    "data",
    [
        None,
        "away",
        [True],
        {},
        {"away": "true"},
        {"away": 1},
        {"away": None},
        {"away": True, "x": 1},
    ],
)
def test_malformed_away_events_are_refused(app, user, other_user, data):
    befriend(app, user, other_user)
    alice = signed_in_tab(app, user)
    bob = signed_in_tab(app, other_user)
    reply = alice.emit("presence:away", data, callback=True)
    assert reply == {"error": 'Send {"away": true} or {"away": false}.'}
    assert heard(bob) == []
    with app.app_context():
        assert presence.states([user.id]) == {user.id: "online"}


def test_an_anonymous_socket_cannot_connect_or_count_as_anyone(app, client):
    socket = socketio.test_client(app, flask_test_client=client)
    assert not socket.is_connected()
    assert app.extensions.get("qosyl.presence") is None  # no tab was recorded anywhere


def test_a_tab_signed_out_elsewhere_is_refused_but_still_goes_offline(app, user, other_user):
    befriend(app, user, other_user)
    bob = signed_in_tab(app, other_user)
    alice = signed_in_tab(app, user)
    with app.app_context():  # a password change in another tab
        factories.end_sign_ins(user)
    assert alice.emit("presence:away", {"away": True}, callback=True) == {
        "error": "You are signed out. Reload the page."
    }
    alice.disconnect()
    assert heard(bob) == [
        {"user_id": user.id, "state": "online"},
        {"user_id": user.id, "state": "offline"},
    ]
    with app.app_context():
        assert presence.states([user.id]) == {user.id: "offline"}
