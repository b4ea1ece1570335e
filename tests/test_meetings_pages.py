"""Video meetings' pages (issue 12) through the Flask test client: the Meetings page (what
runs now, a new meeting, joining by link or id), the meeting page, and joining its chat.
The server core is tests/test_meetings.py's, the signalling tests/test_meetings_events.py's
and the browser journeys tests/e2e/test_meetings.py's."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import groups as group_actions
from qosyl.actions import meetings as meeting_actions
from qosyl.actions import rooms as room_actions
from qosyl.blueprints.meetings.routes import NO_SUCH_MEETING
from qosyl.blueprints.meetings.routes import NOT_A_MEETING
from qosyl.blueprints.meetings.routes import public_id_in
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import Meeting
from qosyl.models import MemberStatus
from qosyl.models import RoomMember
from tests import factories
from tests.factories import block
from tests.factories import make_room
from tests.factories import reload
from tests.factories import say_in_room
from tests.factories import start_conversation
from tests.factories import start_meeting
from tests.factories import with_room
from tests.factories import write_message
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import notification_kinds
from tests.helpers import post
from tests.helpers import status_of

EMPTY = "Paste the meeting's link or type its id."
MEETING_HREF = re.compile(r'href="/meetings/([A-Za-z0-9_-]+)"')
FIELD_ERRORS = re.compile(r'<ul class="field__errors" id="link-error">(.*?)</ul>', re.S)


# Helpers


def meeting_row(app, public_id: str) -> Meeting:
    with app.app_context():
        return db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))


def chat_of(app, public_id: str) -> int:
    """The id of a standalone meeting's chat group."""
    chat_id = meeting_row(app, public_id).chat_id
    assert chat_id is not None
    return chat_id


def admit(app, person, public_id: str) -> None:
    """`person` joins the meeting's chat as joining the meeting would."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_row(app, public_id).id)
        meeting_actions.admit(reload(person), meeting)


def end(app, host, public_id: str) -> None:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_row(app, public_id).id)
        meeting_actions.end_meeting(reload(host), meeting)


def with_group(app, conversation_id: int, fn, *people) -> None:
    """A groups action (`fn(first, conversation, *rest)`) on a freshly loaded group."""
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        first, *rest = [reload(person) for person in people]
        fn(first, conversation, *rest)


def signed_in(app, person):
    client = app.test_client()
    factories.login(client, person)
    return client


def listed(client) -> list[str]:
    """The public ids the Meetings page offers to join, in its order."""
    response = client.get("/meetings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    running = page.split('id="running-title"', 1)[1]
    return MEETING_HREF.findall(running)


def link_errors(page: str) -> list[str]:
    """The errors shown under the "Meeting link or id" field."""
    match = FIELD_ERRORS.search(page)
    if match is None:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1))]


def counts(app) -> tuple[int, int, int]:
    return (
        count_rows(app, Meeting),
        count_rows(app, Conversation),
        count_rows(app, ConversationMember),
    )


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cole")


# The Meetings page: what runs now


def test_the_meetings_page_lists_what_i_may_join_and_nothing_else(
    app, logged_in, user, other_user, carol, make_user
):
    dave = make_user(username="dave", first_name="Dave")
    erin = make_user(username="erin", first_name="Erin")
    # Mine: a room I am in, a conversation of mine, a standalone meeting whose chat I am in.
    room = make_room(app, carol, name="Standup")
    with_room(app, room, room_actions.join, user)
    in_my_room = start_meeting(app, carol, room_id=room)
    in_my_conversation = start_meeting(
        app, other_user, conversation_id=start_conversation(app, user, other_user)
    )
    in_its_chat = start_meeting(app, dave)
    admit(app, user, in_its_chat)
    # Not mine: a standalone meeting I never joined, another room's, a conversation of others.
    start_meeting(app, dave)
    start_meeting(app, erin, room_id=make_room(app, erin, name="Elsewhere"))
    start_meeting(app, erin, conversation_id=start_conversation(app, erin, dave))
    # Ended.
    ended = start_meeting(app, dave)
    admit(app, user, ended)
    end(app, dave, ended)
    # Hosted by someone in a block with me, either way round.
    blocker, blocked = make_user(first_name="Blo"), make_user(first_name="Cked")
    for host in (blocker, blocked):
        public_id = start_meeting(app, host)
        admit(app, user, public_id)
    block(app, blocker, user)
    block(app, user, blocked)

    assert listed(logged_in) == [in_its_chat, in_my_conversation, in_my_room]
    page = logged_in.get("/meetings").get_data(as_text=True)
    assert "Standup</strong> · started by Carol Cole" in page
    assert 'aria-label="Join the meeting in Standup"' in page
    assert "Meeting of Dave</strong>" in page


def test_the_meetings_page_says_when_nothing_runs(logged_in):
    page = logged_in.get("/meetings").get_data(as_text=True)
    assert "No meeting is running in your rooms and conversations." in page
    assert "New meeting" in page and "Meeting link or id" in page


def test_the_meetings_page_needs_a_sign_in(client):
    response = client.get("/meetings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_meetings_page_runs_as_many_queries_for_8_meetings_as_for_2(
    app, logged_in, user, make_user
):
    def add_meetings(n: int) -> None:
        for _ in range(n):
            host = make_user()
            kind = len(listed_ids) % 3
            if kind == 0:
                room = make_room(app, host, name=f"Room {len(listed_ids)}")
                with_room(app, room, room_actions.join, user)
                public_id = start_meeting(app, host, room_id=room)
            elif kind == 1:
                public_id = start_meeting(
                    app, host, conversation_id=start_conversation(app, host, user)
                )
            else:
                public_id = start_meeting(app, host)
                admit(app, user, public_id)
            listed_ids.append(public_id)

    def queries() -> int:
        logged_in.get("/meetings")  # warm: the first request loads what any page loads once
        with count_queries(app) as log:
            assert logged_in.get("/meetings").status_code == 200
        return len(log)

    listed_ids: list[str] = []
    add_meetings(2)
    with_two = queries()
    add_meetings(6)
    assert sorted(listed(logged_in)) == sorted(listed_ids)
    assert queries() == with_two


# New meeting


def test_a_new_meeting_comes_with_its_chat_and_opens_its_page(app, logged_in, user):
    response = post(logged_in, "/meetings")
    assert response.status_code == 302
    public_id = response.headers["Location"].rsplit("/meetings/", 1)[1]
    meeting = meeting_row(app, public_id)
    assert meeting.host_id == user.id and meeting.ended_at is None
    assert meeting.room_id is None and meeting.conversation_id is None
    with app.app_context():
        chat = db.session.get(Conversation, meeting.chat_id)
        assert chat.kind == "group" and chat.admin_id == user.id
        members = db.session.scalars(
            select(ConversationMember).where(ConversationMember.conversation_id == chat.id)
        ).all()
        assert [(m.user_id, m.status) for m in members] == [(user.id, MemberStatus.ACTIVE)]
    assert logged_in.get(response.headers["Location"]).status_code == 200


def test_no_meeting_is_made_without_the_csrf_token(app, logged_in):
    response = post(logged_in, "/meetings", csrf=False)
    assert response.status_code == 400
    assert counts(app) == (0, 0, 0)


# Joining by link or id


@pytest.mark.parametrize(
    "link",
    [
        "https://qosyl.example/meetings/{id}",
        "http://127.0.0.1:5000/meetings/{id}/",
        "https://other.deployment.example:8443/meetings/{id}?from=mail#top",
        "/meetings/{id}",
        "meetings/{id}",
        "{id}",
        "  {id}  ",
    ],
)
def test_a_link_a_path_or_the_id_opens_the_meeting(app, logged_in, other_user, link):
    public_id = start_meeting(app, other_user)
    response = post(logged_in, "/meetings/join", {"link": link.format(id=public_id)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/meetings/{public_id}"


@pytest.mark.parametrize(
    "text",
    [
        "hello there",
        "https://qosyl.example/",
        "https://qosyl.example/about",
        "https://qosyl.example/rooms/12",
        "https://qosyl.example/meetings",
        "https://qosyl.example/meetings/abc/join",
        "https://[::1/meetings/abc",
        "javascript:alert(1)",
        "<script>alert(1)</script>",
        "x" * 33,
    ],
)
def test_text_that_is_no_meeting_link_is_said_so_next_to_the_field(app, logged_in, text):
    before = counts(app)
    response = post(logged_in, "/meetings/join", {"link": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert link_errors(page) == [NOT_A_MEETING]
    assert 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page
    assert counts(app) == before


def test_an_empty_link_asks_for_one(app, logged_in):
    for text in ("", "   "):
        response = post(logged_in, "/meetings/join", {"link": text})
        assert response.status_code == 422
        assert link_errors(response.get_data(as_text=True)) == [EMPTY]
    assert counts(app) == (0, 0, 0)


def test_a_meeting_i_may_not_join_is_not_found(app, logged_in, user, other_user, carol):
    ended = start_meeting(app, other_user)
    end(app, other_user, ended)
    not_my_room = start_meeting(app, carol, room_id=make_room(app, carol))
    not_my_conversation = start_meeting(
        app, carol, conversation_id=start_conversation(app, carol, other_user)
    )
    blocked_me = start_meeting(app, carol)
    block(app, carol, user)
    before = counts(app)
    for public_id in ("AAAAAAAAAAAAAAAA", ended, not_my_room, not_my_conversation, blocked_me):
        for text in (public_id, f"https://qosyl.example/meetings/{public_id}"):
            response = post(logged_in, "/meetings/join", {"link": text})
            assert response.status_code == 422, text
            assert link_errors(response.get_data(as_text=True)) == [NO_SUCH_MEETING], text
    assert counts(app) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ab3dEf6hIj9kLm2n", "Ab3dEf6hIj9kLm2n"),
        ("https://qosyl.example/meetings/Ab3d-f6_Ij9kLm2n", "Ab3d-f6_Ij9kLm2n"),
        ("https://qosyl.example/meetings/Ab3dEf6hIj9kLm2n?x=1&y=../2#frag", "Ab3dEf6hIj9kLm2n"),
        ("/meetings/Ab3dEf6hIj9kLm2n/", "Ab3dEf6hIj9kLm2n"),
        ("x" * 32, "x" * 32),
        # Neither a link nor an id.
        ("", None),
        ("/", None),
        ("x" * 33, None),
        ("Ab3dEf6hIj9kLm2n?x=1", None),
        ("https://qosyl.example/meetings/" + "a" * 10_000, None),
        ("a/" * 10_000 + "b", None),
        ("../../etc/passwd", None),
        ("/meetings/../../etc/passwd", None),
        ("https://qosyl.example/meetings/..", None),
        ("https://qosyl.example/meetings/%2e%2e", None),
        ("https://qosyl.example/meetings/Ab3d%20f6", None),
        ("https://qosyl.example/about", None),
        ("https://qosyl.example/meetings", None),
        ("https://qosyl.example/meetings/Ab3dEf6hIj9kLm2n/join", None),
        ("https://[::1/meetings/Ab3dEf6hIj9kLm2n", None),
        ("http://[/meetings/Ab3dEf6hIj9kLm2n", None),
        ("Ｍｅｅｔｉｎｇ", None),
        ("Ab3dé6hIj9kLm2n", None),
        ("Ab3d\u200bEf6hIj9kLm2n", None),
        ("٣٤٥٦", None),
        ("Ab3d\nEf6h", None),
        ("Ab3d\x00Ef6h", None),
        ("<script>alert(1)</script>", None),
        ("javascript:alert(1)", None),
    ],
)
def test_public_id_in(text, expected):
    assert public_id_in(text) == expected


# The meeting page


def test_the_host_and_anyone_signed_in_see_a_standalone_meeting(app, logged_in, user, other_user):
    public_id = start_meeting(app, user)
    for client in (logged_in, signed_in(app, other_user)):
        response = client.get(f"/meetings/{public_id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert ">Join meeting</button>" in page
        assert '<label for="meeting-link" class="field__label">Meeting link</label>' in page
        assert f'value="http://localhost/meetings/{public_id}"' in page
        assert "Meeting of Alice Archer" in page
    # Only the host may end it for everyone.
    assert "End meeting for all" in logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)
    bob_page = signed_in(app, other_user).get(f"/meetings/{public_id}").get_data(as_text=True)
    assert "End meeting for all" not in bob_page


def test_an_ended_or_unknown_meeting_is_not_found(app, logged_in, user):
    ended = start_meeting(app, user)
    end(app, user, ended)
    for public_id in (ended, "AAAAAAAAAAAAAAAA", "x" * 33, "..%2f..%2fetc"):
        assert logged_in.get(f"/meetings/{public_id}").status_code == 404, public_id


def test_a_rooms_meeting_is_for_its_members_only(app, logged_in, user, other_user, carol):
    room = make_room(app, carol, name="Standup")
    with_room(app, room, room_actions.join, other_user)
    public_id = start_meeting(app, carol, room_id=room)
    assert logged_in.get(f"/meetings/{public_id}").status_code == 404
    page = signed_in(app, other_user).get(f"/meetings/{public_id}").get_data(as_text=True)
    assert "Meeting in Standup" in page


def test_a_blocked_person_does_not_find_the_hosts_meeting(app, logged_in, user, other_user):
    public_id = start_meeting(app, other_user)
    block(app, other_user, user)
    assert logged_in.get(f"/meetings/{public_id}").status_code == 404


LOCAL_ONLY = "only people on the same local network"


@pytest.mark.app_config(WEBRTC_ICE_SERVERS="[]", TURN_URLS=[], TURN_SECRET=None)
def test_without_ice_servers_the_page_says_only_the_local_network_works(app, logged_in, user):
    public_id = start_meeting(app, user)
    assert LOCAL_ONLY in logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)


@pytest.mark.app_config(WEBRTC_ICE_SERVERS='[{"urls": "stun:stun.example.org:3478"}]')
def test_with_a_stun_server_the_page_does_not_warn(app, logged_in, user):
    public_id = start_meeting(app, user)
    assert LOCAL_ONLY not in logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)


@pytest.mark.app_config(
    WEBRTC_ICE_SERVERS="[]", TURN_URLS=["turn:turn.example.org:3478"], TURN_SECRET="s3cret"
)
def test_with_a_turn_server_the_page_does_not_warn(app, logged_in, user):
    public_id = start_meeting(app, user)
    page = logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)
    assert LOCAL_ONLY not in page
    assert "s3cret" not in page


HOSTILE_FIRST = '"><script>alert(1)</script>'
HOSTILE_LAST = "<img src=x onerror=alert(2)>'"


def test_names_with_markup_are_shown_as_text(app, make_user):
    host = make_user(first_name=HOSTILE_FIRST, last_name=HOSTILE_LAST)
    guest = make_user(first_name=HOSTILE_LAST, last_name=HOSTILE_FIRST)
    public_id = start_meeting(app, host)
    admit(app, guest, public_id)
    for person in (host, guest):
        client = signed_in(app, person)
        pages = [
            client.get(f"/meetings/{public_id}").get_data(as_text=True),
            client.get("/meetings").get_data(as_text=True),
        ]
        for page in pages:
            assert "<script>alert" not in page and "<img src=x" not in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        meeting_page = pages[0]
        # The attributes the meeting's script reads keep the name whole, as text.
        me = re.search(r'data-me-name="([^"]*)"', meeting_page).group(1)
        assert html.unescape(me) == f"{person.first_name} {person.last_name}"
        assert f"Meeting of {escape(host.full_name)}" in meeting_page


# Joining: the meeting's chat


def test_joining_puts_me_in_the_meetings_chat_once(app, logged_in, user, other_user):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    page = logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)
    assert f'data-chat-conversation="{chat_id}"' not in page  # not in its chat before joining
    for _ in range(2):
        response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
        assert response.status_code == 200
        panel = response.get_data(as_text=True)
        assert f'data-chat-conversation="{chat_id}"' in panel
        assert "<html" not in panel
        assert status_of(app, chat_id, user) == MemberStatus.ACTIVE
    with app.app_context():
        rows = db.session.scalar(
            select(func.count())
            .select_from(ConversationMember)
            .where(ConversationMember.user_id == user.id)
        )
        assert rows == 1
    # Now the page shows the chat at once.
    page = logged_in.get(f"/meetings/{public_id}").get_data(as_text=True)
    assert f'data-chat-conversation="{chat_id}"' in page


def test_joining_a_conversations_meeting_answers_its_chat(app, logged_in, user, other_user):
    conversation = start_conversation(app, user, other_user)
    public_id = start_meeting(app, other_user, conversation_id=conversation)
    before = counts(app)
    response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert response.status_code == 200
    assert f'data-chat-conversation="{conversation}"' in response.get_data(as_text=True)
    assert counts(app) == before


def test_joining_a_rooms_meeting_answers_the_room_chat_and_writes_nothing(
    app, logged_in, user, other_user
):
    room = make_room(app, other_user, name="Standup")
    with_room(app, room, room_actions.join, user)
    public_id = start_meeting(app, other_user, room_id=room)
    before = (*counts(app), count_rows(app, RoomMember))
    response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert response.status_code == 200
    panel = response.get_data(as_text=True)
    assert f'data-chat-room="{room}"' in panel and "data-chat-conversation" not in panel
    assert (*counts(app), count_rows(app, RoomMember)) == before


def test_someone_removed_from_the_chat_may_not_join_again(app, logged_in, user, other_user):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    admit(app, user, public_id)
    with_group(app, chat_id, group_actions.remove_member, other_user, user)
    before = counts(app)
    response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert response.status_code == 403
    assert status_of(app, chat_id, user) == MemberStatus.REMOVED
    assert counts(app) == before


def test_someone_who_left_the_chat_comes_back_by_joining(app, logged_in, user, other_user):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    admit(app, user, public_id)
    with_group(app, chat_id, group_actions.leave, user)
    assert status_of(app, chat_id, user) == MemberStatus.LEFT
    response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert response.status_code == 200
    assert status_of(app, chat_id, user) == MemberStatus.ACTIVE


def test_someone_the_host_blocked_may_not_join(app, logged_in, user, other_user):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    block(app, other_user, user)
    response = post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert response.status_code == 404
    assert status_of(app, chat_id, user) is None


def test_joining_needs_the_csrf_token(app, logged_in, other_user):
    public_id = start_meeting(app, other_user)
    response = post(logged_in, f"/meetings/{public_id}/join", csrf=False)
    assert response.status_code == 400
    assert counts(app)[2] == 1  # the host alone is in its chat


# The meeting page's cost


@pytest.mark.parametrize("kind", ["standalone", "room"])
def test_the_meeting_page_runs_as_many_queries_for_20_messages_as_for_3(
    app, logged_in, user, other_user, kind
):
    if kind == "room":
        room = make_room(app, other_user)
        with_room(app, room, room_actions.join, user)
        public_id = start_meeting(app, other_user, room_id=room)

        def say(author, n):
            say_in_room(app, author, room, f"Line {n} from {author.first_name}")

    else:
        public_id = start_meeting(app, other_user)
        admit(app, user, public_id)
        chat_id = chat_of(app, public_id)

        def say(author, n):
            write_message(app, author, chat_id, f"Line {n} from {author.first_name}")

    def add(n: int) -> None:
        for i in range(n):
            say(user if i % 2 else other_user, i)

    def queries() -> tuple[int, int]:
        logged_in.get(f"/meetings/{public_id}")
        with count_queries(app) as log:
            response = logged_in.get(f"/meetings/{public_id}")
        assert response.status_code == 200
        return len(log), response.get_data(as_text=True).count("Line ")

    add(3)
    with_three, shown = queries()
    assert shown >= 3
    add(17)
    with_twenty, shown = queries()
    assert shown >= 20
    assert with_twenty == with_three


def test_joining_starts_with_nothing_unread_and_tells_the_members(
    app, logged_in, user, other_user, pushes
):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    newest = [write_message(app, other_user, chat_id, f"before you came {n}") for n in range(3)][-1]
    post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    with app.app_context():
        member = db.session.get(ConversationMember, (chat_id, user.id))
        assert member.last_read_id == newest
    # The host's tabs refetch the member list and their conversation list.
    told = {(push.event, str(push.to)) for push in pushes}
    assert any(f"user:{other_user.id}" in to for _, to in told), told


def test_someone_invited_to_the_chat_joining_by_link_is_in_and_the_invitation_goes(
    app, logged_in, user, other_user
):
    public_id = start_meeting(app, other_user)
    chat_id = chat_of(app, public_id)
    with_group(app, chat_id, group_actions.invite, other_user, user)
    assert status_of(app, chat_id, user) == MemberStatus.INVITED
    assert "group_invite" in notification_kinds(app, user)
    post(logged_in, f"/meetings/{public_id}/join", htmx=True)
    assert status_of(app, chat_id, user) == MemberStatus.ACTIVE
    assert "group_invite" not in notification_kinds(app, user)
