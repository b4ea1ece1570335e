"""The Socket.IO signalling of video meetings (issue 12), with Flask-SocketIO's test client:
who may join, what is relayed to whom (only between participants of one meeting, to the
one tab it is for), payload checks, leaving and closing tabs, and the host's powers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.models import Conversation
from qosyl.models import Meeting
from qosyl.models import User
from tests import factories
from tests.factories import block
from tests.factories import make_room
from tests.factories import reload
from tests.factories import start_meeting
from tests.factories import with_room
from tests.helpers import signed_in_tab

SDP = "v=0\r\no=- 46117317 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}
NO_SUCH_MEETING = "This meeting does not exist or has ended."


def meeting_events(socket) -> list[tuple[str, dict]]:
    return [
        (e["name"], e["args"][0]) for e in socket.get_received() if e["name"].startswith("meeting:")
    ]


def sid_of(socket) -> str:
    return socketio.server.manager.sid_from_eio_sid(socket.eio_sid, "/")


def join(socket, public_id: str) -> dict:
    return socket.emit("meeting:join", {"meeting_id": public_id}, callback=True)


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cole")


@pytest.fixture
def meeting(app, user):
    """A standalone meeting Alice hosts."""
    return start_meeting(app, user)


@pytest.fixture
def three(app, user, other_user, carol, meeting):
    """Alice, Bob and Carol in the meeting, their queues emptied."""
    sockets = [signed_in_tab(app, person) for person in (user, other_user, carol)]
    for socket in sockets:
        assert join(socket, meeting)["ok"]
    for socket in sockets:
        socket.get_received()
    return sockets


# Joining


def test_joining_answers_who_is_in_and_tells_them(app, user, other_user, meeting):
    alice, bob = signed_in_tab(app, user), signed_in_tab(app, other_user)
    first = join(alice, meeting)
    assert first == {
        "ok": True,
        "meeting_id": meeting,
        "you": sid_of(alice),
        "participants": [],
        "ice_servers": [],
        "ice_transport_policy": "all",
        "host_id": user.id,
    }
    second = join(bob, meeting)
    assert second["you"] == sid_of(bob)
    assert second["participants"] == [
        {
            "sid": sid_of(alice),
            "user": {
                "id": user.id,
                "username": "alice",
                "full_name": "Alice Archer",
                "avatar_url": None,
            },
            "state": None,
        }
    ]
    assert meeting_events(alice) == [
        (
            "meeting:joined",
            {
                "meeting_id": meeting,
                "sid": sid_of(bob),
                "user": {
                    "id": other_user.id,
                    "username": "bob",
                    "full_name": "Bob Baker",
                    "avatar_url": None,
                },
            },
        )
    ]
    assert meeting_events(bob) == []
    # Joining again (a retry) is no second arrival.
    assert join(bob, meeting)["participants"] == second["participants"]
    assert meeting_events(alice) == []


@pytest.mark.app_config(
    TURN_URLS="turn:turn.example.org:3478", TURN_SECRET="s3cret", TURN_CREDENTIAL_SECONDS=60
)
def test_the_ice_servers_carry_the_joiners_own_turn_credentials(app, other_user, meeting):
    reply = join(signed_in_tab(app, other_user), meeting)
    [turn] = reply["ice_servers"]
    assert turn["urls"] == ["turn:turn.example.org:3478"]
    assert turn["username"].endswith(f":{other_user.id}") and turn["credential"]


def test_an_anonymous_socket_is_not_even_connected(app):
    socket = socketio.test_client(app, flask_test_client=app.test_client())
    assert not socket.is_connected()


def test_a_socket_whose_sign_in_ended_is_refused_every_event(app, user, meeting):
    alice = signed_in_tab(app, user)
    with app.app_context():
        factories.end_sign_ins(db.session.get(User, user.id))
    for event in ("join", "signal", "state", "leave", "mute", "remove", "end"):
        reply = alice.emit(f"meeting:{event}", {"meeting_id": meeting}, callback=True)
        assert reply == {"error": "You are signed out. Reload the page."}


def test_a_rooms_meeting_refuses_non_members(app, user, other_user, carol):
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    public_id = start_meeting(app, user, room_id=room)
    alice, bob, outsider = (signed_in_tab(app, p) for p in (user, other_user, carol))
    assert join(outsider, public_id) == {"error": NO_SUCH_MEETING}
    assert join(alice, public_id)["ok"] and join(bob, public_id)["ok"]
    assert [name for name, _ in meeting_events(alice)] == ["meeting:joined"]
    assert meeting_events(outsider) == []


def test_a_conversations_meeting_refuses_non_members(app, user, other_user, carol):
    talk = factories.start_conversation(app, user, other_user)
    public_id = start_meeting(app, other_user, conversation_id=talk)
    assert join(signed_in_tab(app, carol), public_id) == {"error": NO_SUCH_MEETING}
    assert join(signed_in_tab(app, user), public_id)["ok"]


@pytest.mark.parametrize("blocker", ["host", "guest"])
def test_a_blocked_user_cannot_join(app, user, carol, meeting, blocker):
    block(app, *((user, carol) if blocker == "host" else (carol, user)))
    assert join(signed_in_tab(app, carol), meeting) == {"error": NO_SUCH_MEETING}


def test_an_ended_or_unknown_meeting_cannot_be_joined(app, user, meeting):
    alice = signed_in_tab(app, user)
    assert join(alice, "no-such-meeting") == {"error": NO_SUCH_MEETING}
    assert alice.emit("meeting:end", {"meeting_id": meeting}, callback=True) == {"ok": True}
    assert join(alice, meeting) == {"error": NO_SUCH_MEETING}


@pytest.mark.parametrize(
    "data",
    [
        None,
        "x",
        7,
        [],
        {},
        {"meeting_id": 7},
        {"meeting_id": ""},
        {"meeting_id": "x" * 33},
        {"meeting_id": None},
        {"meeting_id": ["a"]},
    ],
)
def test_malformed_joins_are_refused(app, user, meeting, data):
    alice = signed_in_tab(app, user)
    assert alice.emit("meeting:join", data, callback=True) == {"error": "Name the meeting."}
    assert alice.emit("meeting:join", {"meeting_id": meeting, "x": 1}, callback=True) == {
        "error": "Name the meeting."
    }


def test_the_seventh_is_told_the_meeting_is_full(app, user, make_user, meeting):
    assert app.config["MEETING_MAX_PARTICIPANTS"] == 6
    people = [user] + [make_user(username=f"guest{n}") for n in range(6)]
    sockets = [signed_in_tab(app, person) for person in people]
    for socket in sockets[:6]:
        assert join(socket, meeting)["ok"]
    assert join(sockets[6], meeting) == {"error": "This meeting is full (6 people)."}
    assert all("meeting:joined" != name for name, _ in meeting_events(sockets[0])[5:])
    sockets[5].emit("meeting:leave", {"meeting_id": meeting}, callback=True)
    assert join(sockets[6], meeting)["ok"]


@pytest.mark.app_config(MEETING_MAX_PARTICIPANTS=2)
def test_a_smaller_limit_refuses_the_third(app, user, other_user, carol, meeting):
    for person in (user, other_user):
        assert join(signed_in_tab(app, person), meeting)["ok"]
    assert join(signed_in_tab(app, carol), meeting) == {"error": "This meeting is full (2 people)."}


# Signalling


def signal(socket, meeting, to, **message):
    return socket.emit(
        "meeting:signal", {"meeting_id": meeting, "to": to, **message}, callback=True
    )


def test_a_signal_reaches_the_one_participant_it_is_for(meeting, three):
    alice, bob, carol = three
    offer = {"type": "offer", "sdp": SDP}
    assert signal(alice, meeting, sid_of(bob), description=offer) == {"ok": True}
    assert signal(alice, meeting, sid_of(bob), candidate=CANDIDATE) == {"ok": True}
    assert meeting_events(bob) == [
        ("meeting:signal", {"meeting_id": meeting, "from": sid_of(alice), "description": offer}),
        ("meeting:signal", {"meeting_id": meeting, "from": sid_of(alice), "candidate": CANDIDATE}),
    ]
    assert meeting_events(alice) == [] and meeting_events(carol) == []


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_SIGNALS="3 per minute")
def test_a_flood_of_signals_is_cut_short(meeting, three):
    alice, bob, _ = three
    for _ in range(3):
        assert signal(alice, meeting, sid_of(bob), candidate=CANDIDATE) == {"ok": True}
    reply = signal(alice, meeting, sid_of(bob), candidate=CANDIDATE)
    assert reply["error"] == "Too many signals: wait a moment."
    assert reply["retry_after"] >= 1
    assert len(meeting_events(bob)) == 3


def test_a_rollback_needs_no_sdp(meeting, three):
    alice, bob, _ = three
    assert signal(alice, meeting, sid_of(bob), description={"type": "rollback"}) == {"ok": True}
    [(_, data)] = meeting_events(bob)
    assert data["description"] == {"type": "rollback", "sdp": ""}


def test_no_signal_to_a_tab_outside_the_meeting(app, make_user, meeting, three):
    alice, bob, carol = three
    stranger = signed_in_tab(app, make_user(username="dave"))
    other_meeting = start_meeting(app, make_user(username="erin"))
    assert join(stranger, other_meeting)["ok"]
    stranger.get_received()
    for to in (sid_of(stranger), "not-a-sid", sid_of(alice)):  # the last: itself
        reply = signal(alice, meeting, to, candidate=CANDIDATE)
        assert reply == {"error": "Nobody with that id is in this meeting."}
    # Nor across meetings: the stranger is in another one.
    reply = signal(stranger, meeting, sid_of(bob), candidate=CANDIDATE)
    assert reply == {"error": "Join the meeting first."}
    reply = signal(stranger, other_meeting, sid_of(bob), candidate=CANDIDATE)
    assert reply == {"error": "Nobody with that id is in this meeting."}
    for socket in (stranger, alice, bob, carol):
        assert meeting_events(socket) == []


def test_a_tab_not_in_the_meeting_cannot_signal(app, user, meeting, three):
    _, bob, _ = three
    other_tab = signed_in_tab(app, user)  # the host, but this tab never joined
    reply = signal(other_tab, meeting, sid_of(bob), candidate=CANDIDATE)
    assert reply == {"error": "Join the meeting first."}
    assert meeting_events(bob) == []


BAD_SIGNALS = [
    ({}, "Send a description or a candidate."),
    ({"description": {"type": "offer", "sdp": SDP}, "candidate": CANDIDATE}, "Send a desc"),
    ({"description": "v=0"}, "A description is {type"),
    ({"description": {"type": "pranswer", "sdp": SDP}}, "A description is {type"),
    ({"description": {"type": ["offer"], "sdp": SDP}}, "A description is {type"),
    ({"description": {"type": "offer", "sdp": 42}}, "A description is {type"),
    ({"description": {"type": "offer", "sdp": ""}}, "A description is {type"),
    ({"description": {"type": "offer", "sdp": SDP, "x": 1}}, "A description is {type"),
    ({"description": {"type": "offer", "sdp": "a" * (100 * 1024 + 1)}}, "at most 100 KB"),
    ({"description": {"type": "offer", "sdp": "é" * (60 * 1024)}}, "at most 100 KB"),
    ({"candidate": "candidate:1"}, "A candidate is {candidate"),
    ({"candidate": {"sdpMid": "0"}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "candidate": 5}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "candidate": "c" * 2049}}, "at most 2 KB"),
    ({"candidate": {**CANDIDATE, "sdpMLineIndex": "0"}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "sdpMLineIndex": True}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "sdpMLineIndex": -1}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "sdpMLineIndex": 2**40}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "sdpMid": 0}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "sdpMid": "m" * 257}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "usernameFragment": ["x"]}}, "A candidate is {candidate"),
    ({"candidate": {**CANDIDATE, "extra": "x"}}, "A candidate is {candidate"),
]


@pytest.mark.parametrize(("message", "error"), BAD_SIGNALS)
def test_malformed_signals_are_refused_and_relay_nothing(meeting, three, message, error):
    alice, bob, _ = three
    reply = signal(alice, meeting, sid_of(bob), **message)
    assert error in reply["error"]
    assert meeting_events(bob) == []


@pytest.mark.parametrize(
    "data",
    [
        None,
        "x",
        {"to": "abc", "candidate": CANDIDATE},
        {"meeting_id": 1, "to": "abc", "candidate": CANDIDATE},
        {"meeting_id": "m", "to": 5, "candidate": CANDIDATE},
        {"meeting_id": "m", "to": "", "candidate": CANDIDATE},
        {"meeting_id": "m", "to": "s" * 65, "candidate": CANDIDATE},
        {"meeting_id": "m", "to": "abc", "candidate": CANDIDATE, "from": "forged"},
    ],
)
def test_signals_must_name_a_meeting_and_a_participant(meeting, three, data):
    alice, bob, _ = three
    reply = alice.emit("meeting:signal", data, callback=True)
    assert reply["error"] in ("Name the meeting.", "Name a participant of the meeting.")
    assert meeting_events(bob) == []


def test_the_sender_cannot_forge_who_it_comes_from(meeting, three):
    alice, bob, _ = three
    reply = alice.emit(
        "meeting:signal",
        {"meeting_id": meeting, "to": sid_of(bob), "candidate": CANDIDATE, "from": "x"},
        callback=True,
    )
    assert reply == {"error": "Name the meeting."}
    signal(alice, meeting, sid_of(bob), candidate=CANDIDATE)
    [(_, data)] = meeting_events(bob)
    assert data["from"] == sid_of(alice)


# State, leaving, closing


def test_state_reaches_the_others(app, user, meeting, three):
    alice, bob, carol = three
    state = {"audio": False, "video": True, "screen": False}
    assert bob.emit("meeting:state", {"meeting_id": meeting, **state}, callback=True) == {
        "ok": True
    }
    expected = [("meeting:state", {"meeting_id": meeting, "sid": sid_of(bob), **state})]
    assert meeting_events(alice) == expected and meeting_events(carol) == expected
    assert meeting_events(bob) == []
    outsider = signed_in_tab(app, user)
    reply = outsider.emit("meeting:state", {"meeting_id": meeting, **state}, callback=True)
    assert reply == {"error": "Join the meeting first."}
    for bad in ({"audio": 1}, {"video": "yes"}, {"screen": None}):
        reply = bob.emit("meeting:state", {"meeting_id": meeting, **state, **bad}, callback=True)
        assert reply == {"error": "Send audio, video and screen as true or false."}
    reply = bob.emit("meeting:state", {"meeting_id": meeting, "audio": True}, callback=True)
    assert reply == {"error": "Send audio, video and screen as true or false."}
    assert meeting_events(alice) == []
    # Someone joining later sees what each tab last said it sends.
    states = {p["sid"]: p["state"] for p in join(outsider, meeting)["participants"]}
    assert states == {sid_of(alice): None, sid_of(bob): state, sid_of(carol): None}


def test_leaving_tells_the_others_and_ends_signalling(meeting, three):
    alice, bob, carol = three
    assert bob.emit("meeting:leave", {"meeting_id": meeting}, callback=True) == {"ok": True}
    left = [("meeting:left", {"meeting_id": meeting, "sid": sid_of(bob)})]
    assert meeting_events(alice) == left and meeting_events(carol) == left
    assert signal(alice, meeting, sid_of(bob), candidate=CANDIDATE)["error"]
    assert signal(bob, meeting, sid_of(alice), candidate=CANDIDATE)["error"]
    # Leaving twice, or a meeting that does not exist, is still fine; nobody is told again.
    assert bob.emit("meeting:leave", {"meeting_id": meeting}, callback=True) == {"ok": True}
    assert bob.emit("meeting:leave", {"meeting_id": "nope"}, callback=True) == {"ok": True}
    assert meeting_events(alice) == []
    assert join(bob, meeting)["ok"]  # and coming back works


def test_a_closed_tab_leaves_and_the_others_are_told(app, meeting, three):
    alice, bob, carol = three
    bob_sid = sid_of(bob)
    bob.disconnect()
    left = [("meeting:left", {"meeting_id": meeting, "sid": bob_sid})]
    assert meeting_events(alice) == left and meeting_events(carol) == left
    assert [p["sid"] for p in join(alice, meeting)["participants"]] == [sid_of(carol)]


def test_closing_a_tab_in_no_meeting_tells_nobody(app, other_user, meeting, three):
    alice, _, _ = three
    signed_in_tab(app, other_user).disconnect()
    assert meeting_events(alice) == []


# The host's powers


def test_the_host_asks_someone_to_mute(meeting, three):
    alice, bob, carol = three
    reply = alice.emit("meeting:mute", {"meeting_id": meeting, "sid": sid_of(bob)}, callback=True)
    assert reply == {"ok": True}
    assert meeting_events(bob) == [
        ("meeting:mute-request", {"meeting_id": meeting, "by": "Alice Archer"})
    ]
    assert meeting_events(carol) == []


def test_the_host_removes_someone_who_cannot_come_back(meeting, three):
    alice, bob, carol = three
    bob_sid = sid_of(bob)
    reply = alice.emit("meeting:remove", {"meeting_id": meeting, "sid": bob_sid}, callback=True)
    assert reply == {"ok": True}
    assert meeting_events(bob) == [
        ("meeting:removed", {"meeting_id": meeting, "by": "Alice Archer"})
    ]
    left = [("meeting:left", {"meeting_id": meeting, "sid": bob_sid})]
    assert meeting_events(alice) == left and meeting_events(carol) == left
    assert signal(bob, meeting, sid_of(alice), candidate=CANDIDATE) == {
        "error": "Join the meeting first."
    }
    assert join(bob, meeting) == {"error": "The host removed you from this meeting."}
    reply = alice.emit(
        "meeting:remove", {"meeting_id": meeting, "sid": sid_of(alice)}, callback=True
    )
    assert reply == {"error": "You cannot remove yourself: leave the meeting instead."}


def test_the_host_ends_the_meeting_for_everyone(meeting, three):
    alice, bob, carol = three
    assert alice.emit("meeting:end", {"meeting_id": meeting}, callback=True) == {"ok": True}
    for socket in three:
        assert (
            "meeting:ended",
            {"meeting_id": meeting, "room_id": None, "conversation_id": None},
        ) in (meeting_events(socket))
    assert signal(bob, meeting, sid_of(carol), candidate=CANDIDATE) == {"error": NO_SUCH_MEETING}
    assert join(bob, meeting) == {"error": NO_SUCH_MEETING}


@pytest.mark.parametrize(
    ("event", "extra"),
    [("meeting:mute", "sid"), ("meeting:remove", "sid"), ("meeting:end", None)],
)
def test_only_the_host_mutes_removes_or_ends(meeting, three, event, extra):
    alice, bob, carol = three
    data = {"meeting_id": meeting}
    if extra:
        data[extra] = sid_of(alice)
    assert bob.emit(event, data, callback=True) == {"error": "Only the meeting's host can do that."}
    assert all(meeting_events(socket) == [] for socket in three)
    assert signal(carol, meeting, sid_of(alice), candidate=CANDIDATE) == {"ok": True}


def test_outsiders_cannot_learn_a_meeting_exists_through_host_events(app, user, other_user, carol):
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    public_id = start_meeting(app, user, room_id=room)
    alice = signed_in_tab(app, user)
    assert join(alice, public_id)["ok"]
    member, outsider = signed_in_tab(app, other_user), signed_in_tab(app, carol)
    for event, data in [
        ("meeting:mute", {"meeting_id": public_id, "sid": sid_of(alice)}),
        ("meeting:remove", {"meeting_id": public_id, "sid": sid_of(alice)}),
        ("meeting:end", {"meeting_id": public_id}),
    ]:
        assert outsider.emit(event, data, callback=True) == {"error": NO_SUCH_MEETING}
        assert member.emit(event, data, callback=True) == {
            "error": "Only the meeting's host can do that."
        }


@pytest.mark.parametrize("event", ["meeting:mute", "meeting:remove"])
def test_host_events_name_a_participant(meeting, three, event):
    alice, _, _ = three
    for sid, error in [
        (None, "Name a participant of the meeting."),
        (5, "Name a participant of the meeting."),
        ("not-in-it", "Nobody with that id is in this meeting."),
    ]:
        reply = alice.emit(event, {"meeting_id": meeting, "sid": sid}, callback=True)
        assert reply == {"error": error}


# Losing the right to be there


def in_meeting(app, user, other_user, **place):
    public_id = start_meeting(app, user, **place)
    alice, bob = signed_in_tab(app, user), signed_in_tab(app, other_user)
    assert join(alice, public_id)["ok"] and join(bob, public_id)["ok"]
    alice.get_received(), bob.get_received()
    return public_id, alice, bob


def assert_put_out(public_id, alice, bob, bob_sid):
    assert meeting_events(bob) == [("meeting:removed", {"meeting_id": public_id, "by": None})]
    assert meeting_events(alice) == [("meeting:left", {"meeting_id": public_id, "sid": bob_sid})]
    assert signal(bob, public_id, sid_of(alice), candidate=CANDIDATE) == {
        "error": "Join the meeting first."
    }


@pytest.mark.parametrize("how", ["removed", "left"])
def test_leaving_the_room_puts_one_out_of_its_meeting(app, user, other_user, how):
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    public_id, alice, bob = in_meeting(app, user, other_user, room_id=room)
    bob_sid = sid_of(bob)
    if how == "removed":
        with_room(app, room, room_actions.remove_member, other_user)
    else:
        with_room(app, room, room_actions.leave, other_user)
    assert_put_out(public_id, alice, bob, bob_sid)
    assert join(bob, public_id) == {"error": NO_SUCH_MEETING}


@pytest.mark.parametrize("how", ["removed", "left"])
def test_leaving_the_group_puts_one_out_of_its_meeting(app, user, other_user, how):
    from qosyl.actions import groups
    from qosyl.models import Conversation

    group = factories.make_group(app, user, other_user)
    public_id, alice, bob = in_meeting(app, user, other_user, conversation_id=group)
    bob_sid = sid_of(bob)
    with app.app_context():
        conversation = db.session.get(Conversation, group)
        if how == "removed":
            groups.remove_member(factories.reload(user), conversation, factories.reload(other_user))
        else:
            groups.leave(factories.reload(other_user), conversation)
    assert_put_out(public_id, alice, bob, bob_sid)


@pytest.mark.parametrize("blocker", ["host", "guest"])
def test_a_block_puts_one_out_of_the_others_meeting(app, user, other_user, blocker):
    public_id, alice, bob = in_meeting(app, user, other_user)
    bob_sid = sid_of(bob)
    block(app, *((user, other_user) if blocker == "host" else (other_user, user)))
    assert_put_out(public_id, alice, bob, bob_sid)


def test_a_block_between_guests_changes_nothing(app, user, other_user, carol, meeting, three):
    block(app, other_user, carol)
    assert all(meeting_events(socket) == [] for socket in three)


def test_a_host_leaving_the_room_ends_its_meeting_and_the_new_host_starts_one(
    app, user, other_user
):
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    public_id, alice, bob = in_meeting(app, user, other_user, room_id=room)
    with_room(app, room, room_actions.leave, user)  # Bob hosts the room now
    ended = ("meeting:ended", {"meeting_id": public_id, "room_id": room, "conversation_id": None})
    assert ended in meeting_events(bob)
    assert join(bob, public_id) == {"error": NO_SUCH_MEETING}
    assert start_meeting(app, other_user, room_id=room) != public_id


def test_a_host_leaving_the_group_ends_its_meeting(app, user, other_user, carol):
    from qosyl.actions import groups
    from qosyl.models import Conversation

    group = factories.make_group(app, user, other_user, carol)
    public_id, bob, alice = in_meeting(app, other_user, user, conversation_id=group)
    with app.app_context():
        groups.leave(factories.reload(other_user), db.session.get(Conversation, group))
    ended = ("meeting:ended", {"meeting_id": public_id, "room_id": None, "conversation_id": group})
    assert ended in meeting_events(alice)
    assert join(alice, public_id) == {"error": NO_SUCH_MEETING}
    assert start_meeting(app, carol, conversation_id=group) != public_id


# A standalone meeting's chat


def test_joining_by_socket_enters_the_chat_and_the_removed_stay_out(app, user, other_user):
    from qosyl.actions import groups
    from qosyl.models import ConversationMember
    from qosyl.models import MemberStatus

    public_id = start_meeting(app, user)
    host, guest = signed_in_tab(app, user), signed_in_tab(app, other_user)
    assert join(host, public_id)["ok"] and join(guest, public_id)["ok"]
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))
        chat_id = meeting.chat_id
        member = db.session.get(ConversationMember, (chat_id, other_user.id))
        assert member.status == MemberStatus.ACTIVE
        # The host removes the guest from the chat: out of the call too; the meeting runs on.
        groups.remove_member(
            reload(user), db.session.get(Conversation, chat_id), reload(other_user)
        )
    assert ("meeting:removed", {"meeting_id": public_id, "by": None}) in meeting_events(guest)
    assert ("meeting:left", {"meeting_id": public_id, "sid": sid_of(guest)}) in meeting_events(host)
    reply = join(guest, public_id)
    assert reply == {
        "error": "The host removed you from this meeting's chat, so you cannot join it."
    }
    with app.app_context():
        assert db.session.get(Meeting, meeting.id).ended_at is None
