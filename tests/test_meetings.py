"""Video meetings (issue 12), their server core: starting and ending them, who may join
(access_meeting), the participant lists in both stores, and the ICE servers with TURN
credentials. The Socket.IO events are tests/test_meetings_events.py's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from unittest.mock import patch

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qosyl import create_app
from qosyl.actions import ActionError
from qosyl.actions import Forbidden
from qosyl.actions import meetings
from qosyl.actions import NotFound
from qosyl.actions import rooms as room_actions
from qosyl.actions.chat import NotAMember
from qosyl.extensions import db
from qosyl.live import meetings as live
from qosyl.live import presence
from qosyl.models import Conversation
from qosyl.models import Meeting
from qosyl.models import Room
from qosyl.reads.access import access_meeting
from qosyl.reads.access import NO_SUCH_MEETING
from qosyl.webrtc import ice_servers_for
from qosyl.webrtc import turn_credentials
from tests import factories
from tests.factories import block
from tests.factories import make_group
from tests.factories import make_room
from tests.factories import reload
from tests.factories import start_conversation
from tests.factories import start_meeting
from tests.factories import with_room
from tests.helpers import require_service

REDIS_URL = "redis://127.0.0.1:6379/0"


def meeting_row(app, public_id: str) -> Meeting:
    with app.app_context():
        return db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))


def end(app, person, public_id: str) -> None:
    with app.app_context():
        meetings.end_meeting(
            reload(person), db.session.get(Meeting, meeting_row(app, public_id).id)
        )


def can_join(app, person, public_id: str) -> bool:
    with app.app_context():
        try:
            access_meeting(reload(person), public_id)
        except NotFound as error:
            assert error.message == NO_SUCH_MEETING
            return False
        return True


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cole")


@pytest.fixture
def room_id(app, user, other_user):
    """Alice hosts it, Bob is a member."""
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    return room


# Starting and ending


def test_a_new_meeting_has_an_unguessable_id_and_runs(app, user):
    first, second = start_meeting(app, user), start_meeting(app, user)
    assert first != second and len(first) == 16
    row = meeting_row(app, first)
    assert row.host_id == user.id and row.ended_at is None
    assert row.room_id is None and row.conversation_id is None


def test_only_a_rooms_host_starts_its_meeting_and_there_is_one_at_a_time(
    app, user, other_user, room_id
):
    with pytest.raises(Forbidden, match="Only the room's host can start a meeting for it."):
        start_meeting(app, other_user, room_id=room_id)
    first = start_meeting(app, user, room_id=room_id)
    assert start_meeting(app, user, room_id=room_id) == first
    end(app, user, first)
    assert start_meeting(app, user, room_id=room_id) != first


def test_the_database_holds_one_running_meeting_per_room_or_conversation(
    app, user, other_user, room_id
):
    """As two requests at once would find it: the second insert is refused, and the
    action gives the meeting the first one started."""
    talk = start_conversation(app, user, other_user)
    for place in ({"room_id": room_id}, {"conversation_id": talk}):
        public_id = start_meeting(app, user, **place)
        with app.app_context():
            db.session.add(Meeting(host_id=user.id, **place))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
            # The action's own check misses it (as a concurrent request's would).
            with patch.object(
                meetings, "_running", side_effect=[None, meeting_row(app, public_id)]
            ):
                room = db.session.get(Room, room_id) if "room_id" in place else None
                conversation = db.session.get(Conversation, talk) if room is None else None
                again = meetings.create_meeting(reload(user), room=room, conversation=conversation)
            assert again.public_id == public_id
        end(app, user, public_id)
    start_meeting(app, user, room_id=room_id)  # ended ones do not count


def test_any_active_member_starts_a_conversations_meeting_once(app, user, other_user, carol):
    group = make_group(app, user, other_user)
    first = start_meeting(app, other_user, conversation_id=group)
    assert meeting_row(app, first).host_id == other_user.id
    # The running one, whoever asks.
    assert start_meeting(app, user, conversation_id=group) == first
    with pytest.raises(NotAMember):
        start_meeting(app, carol, conversation_id=group)


def test_no_meeting_with_someone_blocked_in_a_direct_conversation(app, user, other_user):
    talk = start_conversation(app, user, other_user)
    block(app, other_user, user)
    with pytest.raises(ActionError, match="You cannot meet this person."):
        start_meeting(app, user, conversation_id=talk)


def test_a_meeting_is_for_one_place_at_most(app, user, other_user, room_id):
    talk = start_conversation(app, user, other_user)
    with pytest.raises(ActionError, match="not both"):
        start_meeting(app, user, room_id=room_id, conversation_id=talk)


def test_members_hear_a_meeting_start_but_not_the_host_or_blocked_people(
    app, user, other_user, carol, make_user, room_id, pushes
):
    dave = make_user(username="dave")
    with_room(app, room_id, room_actions.join, dave)
    block(app, dave, user)  # Dave blocked the host: he is not told
    public_id = start_meeting(app, user, room_id=room_id)
    [push] = [p for p in pushes if p.event == "meeting:started"]
    assert push.audience == (f"user:{other_user.id}",)
    assert push.data == {
        "meeting_id": public_id,
        "host_id": user.id,
        "host_name": "Alice Archer",
        "room_id": room_id,
        "conversation_id": None,
    }


def test_a_standalone_meeting_tells_nobody(app, user, pushes):
    start_meeting(app, user)
    assert [p for p in pushes if p.event == "meeting:started"] == []


def test_only_the_host_ends_a_meeting_and_everyone_hears_it(app, user, other_user, room_id, pushes):
    public_id = start_meeting(app, user, room_id=room_id)
    meeting_id = meeting_row(app, public_id).id
    with app.app_context():
        live.join(meeting_id, public_id, "sid-bob", other_user.id)
    with pytest.raises(Forbidden, match="Only the meeting's host can do that."):
        end(app, other_user, public_id)
    assert meeting_row(app, public_id).ended_at is None
    end(app, user, public_id)
    assert meeting_row(app, public_id).ended_at is not None
    [push] = [p for p in pushes if p.event == "meeting:ended"]
    assert push.audience == (f"meeting:{meeting_id}", f"user:{other_user.id}")
    assert push.data == {"meeting_id": public_id, "room_id": room_id, "conversation_id": None}
    with app.app_context():  # its participants are forgotten
        assert live.participants(meeting_id) == {}
        assert live.meetings_of("sid-bob") == {}
    end(app, user, public_id)  # again: nothing changes, nobody is told twice
    assert len([p for p in pushes if p.event == "meeting:ended"]) == 1


def test_a_deleted_room_takes_its_meetings_along(app, user, room_id):
    public_id = start_meeting(app, user, room_id=room_id)
    with app.app_context():
        room_actions.delete_room(db.session.get(Room, room_id))
    assert meeting_row(app, public_id) is None


# Who may join


def test_a_rooms_meeting_admits_its_readers_only(app, user, other_user, carol, room_id):
    public_id = start_meeting(app, user, room_id=room_id)
    assert can_join(app, user, public_id) and can_join(app, other_user, public_id)
    assert not can_join(app, carol, public_id)
    with app.app_context():  # removed by the host: out
        room = db.session.get(Room, room_id)
        room_actions.remove_member(room, reload(other_user))
    assert not can_join(app, other_user, public_id)


def test_the_lobbys_meeting_admits_everyone_signed_in(app, user, carol):
    lobby = factories.make_lobby(app, user)
    assert can_join(app, carol, start_meeting(app, user, room_id=lobby))


def test_a_conversations_meeting_admits_its_active_members_only(
    app, user, other_user, carol, make_user
):
    dave = make_user(username="dave")
    with app.app_context():
        from qosyl.actions import groups

        group = groups.create_group(reload(user), "Tea club", [reload(other_user), reload(dave)])
        groups.accept_invite(reload(other_user), group)
        group_id = group.id
    public_id = start_meeting(app, user, conversation_id=group_id)
    assert can_join(app, other_user, public_id)
    assert not can_join(app, dave, public_id)  # invited, not yet in
    assert not can_join(app, carol, public_id)
    with app.app_context():
        from qosyl.actions import groups

        groups.leave(reload(other_user), db.session.get(Conversation, group_id))
    assert not can_join(app, other_user, public_id)


@pytest.mark.parametrize("blocker", ["host", "guest"])
def test_nobody_in_a_block_with_the_host_joins(app, user, carol, blocker):
    public_id = start_meeting(app, user)
    assert can_join(app, carol, public_id)
    if blocker == "host":
        block(app, user, carol)
    else:
        block(app, carol, user)
    assert not can_join(app, carol, public_id)


@pytest.mark.parametrize("public_id", ["", "nope", "x" * 33, None, 7, ["a"]])
def test_unknown_or_odd_ids_name_nothing(app, user, public_id):
    start_meeting(app, user)
    assert not can_join(app, user, public_id)


def test_an_ended_meeting_admits_nobody(app, user):
    public_id = start_meeting(app, user)
    end(app, user, public_id)
    assert not can_join(app, user, public_id)


# Participants, in both stores


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


def use_redis(app, prefix: str) -> None:
    for purpose in ("meeting", "meeting-tabs", "meeting-removed", "meeting-state"):
        store = presence.RedisStore(redis_client(), f"{prefix}:{purpose}")
        app.extensions[f"qosyl.{purpose}"] = store


@pytest.fixture(params=["memory", "redis"])
def stores(request, app):
    """An app context whose meeting stores are the ones named by the parameter."""
    with app.app_context():
        if request.param == "redis":
            use_redis(app, request.getfixturevalue("redis_prefix"))
        yield app


def test_join_leave_and_who_is_in(stores):
    assert live.join(1, "pub", "tab-a", 10) is True
    assert live.join(1, "pub", "tab-a", 10) is False  # again: still one place
    assert live.join(1, "pub", "tab-b", 11) is True
    assert live.participants(1) == {"tab-a": 10, "tab-b": 11}
    assert live.is_participant(1, "tab-a") and not live.is_participant(2, "tab-a")
    assert live.meetings_of("tab-a") == {1: "pub"}
    assert live.leave(1, "tab-a") is True
    assert live.leave(1, "tab-a") is False
    assert live.participants(1) == {"tab-b": 11}
    assert live.meetings_of("tab-a") == {}


def test_states_are_remembered_while_the_tab_is_in(stores):
    live.join(1, "pub", "tab-a", 10)
    assert live.states(1) == {}
    live.set_state(1, "tab-a", {"audio": True, "video": False, "screen": True})
    assert live.states(1) == {"tab-a": {"audio": True, "video": False, "screen": True}}
    live.leave(1, "tab-a")
    assert live.states(1) == {}


def test_the_seventh_is_refused_by_default(stores):
    assert stores.config["MEETING_MAX_PARTICIPANTS"] == 6
    for n in range(6):
        live.join(1, "pub", f"tab-{n}", n)
    with pytest.raises(ActionError) as refused:
        live.join(1, "pub", "tab-6", 6)
    assert refused.value.message == "This meeting is full (6 people)."
    assert len(live.participants(1)) == 6 and live.meetings_of("tab-6") == {}
    live.join(1, "pub", "tab-0", 0)  # someone already in joins again: not refused
    live.leave(1, "tab-0")
    assert live.join(1, "pub", "tab-6", 6) is True


def test_someone_removed_cannot_come_back_until_the_meeting_ends(stores):
    live.join(1, "pub", "tab-a", 10)
    live.join(1, "pub", "tab-a2", 10)
    live.join(1, "pub", "tab-b", 11)
    assert sorted(live.remove(1, "tab-a")) == ["tab-a", "tab-a2"]  # every tab of theirs
    assert live.participants(1) == {"tab-b": 11}
    with pytest.raises(Forbidden, match="The host removed you"):
        live.join(1, "pub", "tab-a3", 10)
    assert live.forget(1) == ["tab-b"]
    assert live.join(1, "pub", "tab-a3", 10) is True


@pytest.mark.app_config(MEETING_MAX_PARTICIPANTS=2)
def test_the_limit_is_configurable(stores):
    live.join(1, "pub", "tab-a", 10)
    live.join(1, "pub", "tab-b", 11)
    with pytest.raises(ActionError, match=r"This meeting is full \(2 people\)."):
        live.join(1, "pub", "tab-c", 12)


def test_two_processes_see_the_same_meeting(app, redis_prefix, database_url):
    """Two apps (two processes of one deployment) sharing Redis: a tab joining in one is
    in the other's list, and leaves it there too."""
    second = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    use_redis(app, redis_prefix)
    use_redis(second, redis_prefix)
    with app.app_context():
        live.join(1, "pub", "tab-a", 10)
    with second.app_context():
        assert live.participants(1) == {"tab-a": 10}
        live.join(1, "pub", "tab-b", 11)
    with app.app_context():
        assert live.participants(1) == {"tab-a": 10, "tab-b": 11}
        live.tab_closed("tab-b")
    with second.app_context():
        assert live.participants(1) == {"tab-a": 10}


def test_keep_alive_renews_the_entries_in_redis(app, redis_prefix):
    with app.app_context():
        use_redis(app, redis_prefix)
        live.join(1, "pub", "tab-a", 10)
        client = redis_client()
        key = f"{redis_prefix}:meeting:presence:1"
        client.expire(key, 5)
        live.kept_alive("tab-a")
        assert client.ttl(key) > 5
        live.kept_alive("tab-in-no-meeting")  # nothing to renew, nothing made
        assert not client.exists(f"{redis_prefix}:meeting-tabs:presence:tab-in-no-meeting")


# ICE servers and TURN credentials


SECRET = "north-wind-secret"


def test_turn_credentials_are_those_coturn_computes():
    """coturn's use-auth-secret: username "<expiry>:<user id>", password
    base64(HMAC-SHA1(secret, username)). The value below was computed by hand with
    `printf %s 1700003600:42 | openssl dgst -sha1 -hmac north-wind-secret -binary | base64`."""
    username, credential = turn_credentials(SECRET, 42, 3600, now=1_700_000_000.7)
    assert username == "1700003600:42"
    assert credential == "lX5Gk8AKmXn0FUqv/skP+33Jzio="
    expected = hmac.new(SECRET.encode(), b"1700003600:42", hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


@pytest.mark.app_config(
    WEBRTC_ICE_SERVERS='[{"urls": "stun:stun.example.org:3478"}]',
    TURN_URLS="turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349",
    TURN_SECRET=SECRET,
    TURN_CREDENTIAL_SECONDS=600,
)
def test_ice_servers_carry_turn_credentials_for_the_user(app):
    with app.app_context():
        servers = ice_servers_for(7, now=1_700_000_000)
    username, credential = turn_credentials(SECRET, 7, 600, now=1_700_000_000)
    assert servers == [
        {"urls": "stun:stun.example.org:3478"},
        {
            "urls": [
                "turn:turn.example.org:3478?transport=udp",
                "turns:turn.example.org:5349",
            ],
            "username": "1700000600:7",
            "credential": credential,
        },
    ]
    assert username == "1700000600:7"


@pytest.mark.parametrize(
    "turn", [{"TURN_URLS": "turn:turn.example.org"}, {"TURN_SECRET": SECRET}, {}]
)
def test_no_turn_entry_without_both_urls_and_secret(database_url, turn):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **turn)
    with app.app_context():
        assert ice_servers_for(7) == []


@pytest.mark.parametrize("value", ["not json", '{"urls": "stun:x"}', "[1]", '[{"url": "x"}]'])
def test_a_mistyped_ice_server_list_stops_the_app_at_start(database_url, value):
    with pytest.raises(RuntimeError, match="WEBRTC_ICE_SERVERS must be a JSON list"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, WEBRTC_ICE_SERVERS=value)
