"""The ways into a room's or a conversation's meeting (issue 12): "Start a meeting" on their
pages, and the banner they show while one runs. The live notice is
tests/e2e/test_meeting_entry.py's; the rules themselves are tests/test_meetings.py's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qosyl.actions import meetings
from qosyl.actions import rooms as room_actions
from qosyl.extensions import db
from qosyl.models import Meeting
from tests import factories
from tests.factories import block
from tests.factories import make_group
from tests.factories import make_room
from tests.factories import reload
from tests.factories import start_conversation
from tests.factories import start_meeting
from tests.factories import with_room
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import post

MEETING_PATH = re.compile(r"^/meetings/([A-Za-z0-9_-]{16})$")
BANNER = 'aria-label="Meeting running now"'
START = "Start a meeting"


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cole")


@pytest.fixture
def room_id(app, user, other_user):
    """Alice hosts it, Bob is a member."""
    room = make_room(app, user)
    with_room(app, room, room_actions.join, other_user)
    return room


@pytest.fixture
def talk(app, user, other_user):
    """Alice and Bob's one-to-one conversation."""
    return start_conversation(app, user, other_user)


def signed_in(app, person):
    client = app.test_client()
    factories.login(client, person)
    return client


def meeting_id_of(response) -> str:
    """The public id of the meeting page a response redirects to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    match = MEETING_PATH.match(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def running(app) -> list[Meeting]:
    with app.app_context():
        return list(db.session.scalars(select(Meeting).where(Meeting.ended_at.is_(None))))


def end(app, host, public_id: str) -> None:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))
        meetings.end_meeting(reload(host), meeting)


def banner_of(html: str) -> str:
    """The banner's markup, or "" when the page has none."""
    if BANNER not in html:
        return ""
    return html.split(BANNER, 1)[1].split("</section>", 1)[0]


# Starting from the pages


def test_the_rooms_host_starts_its_meeting_and_lands_on_it(app, user, other_user, room_id, pushes):
    alice = signed_in(app, user)
    public_id = meeting_id_of(post(alice, f"/rooms/{room_id}/meeting"))
    [meeting] = running(app)
    assert (meeting.public_id, meeting.host_id, meeting.room_id) == (public_id, user.id, room_id)
    assert meeting.conversation_id is None
    [told] = [p for p in pushes if p.event == "meeting:started"]
    assert told.audience == (f"user:{other_user.id}",)
    page = alice.get(f"/meetings/{public_id}")
    assert page.status_code == 200 and "Join meeting" in page.get_data(as_text=True)
    # Again: the same running meeting, nobody told twice.
    assert meeting_id_of(post(alice, f"/rooms/{room_id}/meeting")) == public_id
    assert count_rows(app, Meeting) == 1
    assert len([p for p in pushes if p.event == "meeting:started"]) == 1


def test_any_member_starts_the_conversations_meeting_and_lands_on_it(
    app, user, other_user, talk, pushes
):
    bob = signed_in(app, other_user)
    public_id = meeting_id_of(post(bob, f"/messages/{talk}/meeting"))
    [meeting] = running(app)
    assert (meeting.host_id, meeting.conversation_id) == (other_user.id, talk)
    assert meeting.room_id is None
    [told] = [p for p in pushes if p.event == "meeting:started"]
    assert told.audience == (f"user:{user.id}",)
    # The other member asking gets the running one, whoever started it.
    assert meeting_id_of(post(signed_in(app, user), f"/messages/{talk}/meeting")) == public_id
    assert count_rows(app, Meeting) == 1


def test_a_groups_members_start_its_meeting(app, user, other_user, carol):
    group = make_group(app, user, other_user, carol)
    url = f"/messages/{group}/meeting"
    public_id = meeting_id_of(post(signed_in(app, carol), url))
    assert meeting_id_of(post(signed_in(app, other_user), url)) == public_id


@pytest.fixture
def places(room_id, talk):
    return [f"/rooms/{room_id}/meeting", f"/messages/{talk}/meeting"]


def test_signed_out_people_are_sent_to_sign_in(app, client, places):
    for url in places:
        response = post(client, url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert count_rows(app, Meeting) == 0


def test_an_unverified_account_is_sent_to_sign_in(app, make_user, places):
    newbie = signed_in(app, make_user(username="newbie", verified=False))
    for url in places:
        response = post(newbie, url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert count_rows(app, Meeting) == 0


def test_without_a_csrf_token_nothing_starts(app, user, places):
    alice = signed_in(app, user)
    for url in places:
        assert post(alice, url, csrf=False).status_code == 400
    assert count_rows(app, Meeting) == 0


def test_a_member_who_is_not_the_host_cannot_start_the_rooms_meeting(app, other_user, room_id):
    response = post(signed_in(app, other_user), f"/rooms/{room_id}/meeting")
    assert response.status_code == 403
    assert "Only the room&#39;s host can start a meeting for it." in response.get_data(as_text=True)
    assert count_rows(app, Meeting) == 0


def test_outsiders_find_nothing_to_start(app, user, carol, room_id, talk):
    """Someone removed from the room cannot read it; someone outside the conversation may
    not know it exists: 404 for both."""
    with_room(app, room_id, room_actions.join, carol)
    with_room(app, room_id, room_actions.remove_member, carol)
    caroline = signed_in(app, carol)
    assert post(caroline, f"/rooms/{room_id}/meeting").status_code == 404
    assert post(caroline, f"/messages/{talk}/meeting").status_code == 404
    assert post(caroline, "/rooms/999999/meeting").status_code == 404
    assert count_rows(app, Meeting) == 0


def test_a_block_in_a_one_to_one_conversation_refuses_the_meeting(app, user, other_user, talk):
    block(app, other_user, user)  # Bob blocked Alice
    alice = signed_in(app, user)
    response = post(alice, f"/messages/{talk}/meeting")
    assert response.status_code == 302 and response.headers["Location"] == f"/messages/{talk}"
    assert "You cannot meet this person." in alice.get(f"/messages/{talk}").get_data(as_text=True)
    assert count_rows(app, Meeting) == 0


def test_the_start_button_shows_to_those_who_may_start(app, user, other_user, room_id, talk):
    alice, bob = signed_in(app, user), signed_in(app, other_user)
    room_form = f'action="/rooms/{room_id}/meeting"'
    html = alice.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert room_form in html and START in html
    html = bob.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert room_form not in html and START not in html
    for client in (alice, bob):
        html = client.get(f"/messages/{talk}").get_data(as_text=True)
        # A full load leads to the meeting page.
        form = html.split(f'action="/messages/{talk}/meeting"', 1)[1].split("</form>", 1)[0]
        assert 'hx-boost="false"' in form and 'name="csrf_token"' in form and START in form


def test_the_lobbys_host_may_start_its_meeting(app, user, other_user):
    lobby = factories.make_lobby(app, user)
    assert START in signed_in(app, user).get(f"/rooms/{lobby}").get_data(as_text=True)
    assert START not in signed_in(app, other_user).get(f"/rooms/{lobby}").get_data(as_text=True)
    assert post(signed_in(app, other_user), f"/rooms/{lobby}/meeting").status_code == 403
    meeting_id_of(post(signed_in(app, user), f"/rooms/{lobby}/meeting"))


# The banner while a meeting runs


def test_the_room_page_shows_the_running_meeting_until_it_ends(app, user, other_user, room_id):
    alice, bob = signed_in(app, user), signed_in(app, other_user)
    assert banner_of(bob.get(f"/rooms/{room_id}").get_data(as_text=True)) == ""
    public_id = start_meeting(app, user, room_id=room_id)
    banner = banner_of(bob.get(f"/rooms/{room_id}").get_data(as_text=True))
    assert "Alice Archer started a meeting." in banner
    link = banner.split("<a ", 1)[1].split("</a>", 1)[0]
    assert f'href="/meetings/{public_id}"' in link and 'hx-boost="false"' in link
    assert "Join the meeting" in link
    # The host sees it too (a way back in), and no Start button while it runs.
    html = alice.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "You started a meeting." in banner_of(html) and START not in html
    end(app, user, public_id)
    assert banner_of(bob.get(f"/rooms/{room_id}").get_data(as_text=True)) == ""
    html = alice.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert banner_of(html) == "" and START in html


def test_the_conversation_page_shows_the_running_meeting_until_it_ends(app, user, other_user, talk):
    alice, bob = signed_in(app, user), signed_in(app, other_user)
    public_id = start_meeting(app, other_user, conversation_id=talk)
    html = alice.get(f"/messages/{talk}").get_data(as_text=True)
    banner = banner_of(html)
    assert "Bob Baker started a meeting." in banner and f'href="/meetings/{public_id}"' in banner
    assert START not in html
    html = bob.get(f"/messages/{talk}").get_data(as_text=True)
    assert "You started a meeting." in banner_of(html)
    end(app, other_user, public_id)
    html = alice.get(f"/messages/{talk}").get_data(as_text=True)
    assert banner_of(html) == "" and START in html


@pytest.mark.parametrize("blocker", ["host", "member"])
def test_the_banner_is_hidden_from_someone_in_a_block_with_the_host(
    app, user, other_user, carol, room_id, blocker
):
    """The meeting would refuse them (access_meeting), so they are not shown it."""
    with_room(app, room_id, room_actions.join, carol)
    group = make_group(app, user, other_user, carol)
    room_meeting = start_meeting(app, user, room_id=room_id)
    group_meeting = start_meeting(app, user, conversation_id=group)
    if blocker == "host":
        block(app, user, carol)
    else:
        block(app, carol, user)
    caroline, bob = signed_in(app, carol), signed_in(app, other_user)
    pages = ((f"/rooms/{room_id}", room_meeting), (f"/messages/{group}", group_meeting))
    for url, public_id in pages:
        page = caroline.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert banner_of(html) == "" and public_id not in html
        assert public_id in banner_of(bob.get(url).get_data(as_text=True))


def test_a_room_page_the_viewer_cannot_read_shows_no_banner(app, user, carol, room_id):
    start_meeting(app, user, room_id=room_id)
    html = signed_in(app, carol).get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "Join the room to read its messages" in html
    assert banner_of(html) == "" and "data-meeting-slot" not in html


def test_the_pages_mark_the_slot_the_live_banner_goes_in(app, user, room_id, talk):
    alice = signed_in(app, user)
    room_page = alice.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert f'data-meeting-slot data-meeting-room="{room_id}"' in room_page
    talk_page = alice.get(f"/messages/{talk}").get_data(as_text=True)
    assert f'data-meeting-slot data-meeting-conversation="{talk}"' in talk_page
    assert "js/meeting/notice.js" in talk_page


@pytest.mark.parametrize("members", [2, 8])
def test_the_banner_costs_the_pages_no_query_of_their_own(app, user, make_user, members):
    """A page runs as many queries with a meeting running as without, however many
    members it has: the running meeting and its host come in the one query either way."""
    people = [make_user(username=f"m{n}") for n in range(members)]
    room = make_room(app, user)
    for person in people:
        with_room(app, room, room_actions.join, person)
    group = make_group(app, user, *people)
    viewer = signed_in(app, people[0])
    pages = (f"/rooms/{room}", f"/messages/{group}")

    def counts() -> list[int]:
        found = []
        for url in pages:
            with count_queries(app) as log:
                assert viewer.get(url).status_code == 200
            found.append(len(log))
        return found

    without = counts()
    start_meeting(app, user, room_id=room)
    start_meeting(app, people[1], conversation_id=group)
    for url in pages:
        assert BANNER in viewer.get(url).get_data(as_text=True)
    assert counts() == without == [7, 7]
