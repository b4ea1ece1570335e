"""Video meetings in the browser (issue 12): Chromium's fake camera and microphone, WebRTC
between contexts of one browser, signalled through the real server.

Frames are read from each participant's RTCPeerConnection.getStats() (inbound-rtp
framesDecoded), through the page's `window.qosyl.meeting`."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from tests import factories
from tests.e2e.conftest import wait_for_live_channel
from tests.e2e.meetings import frames_stopped
from tests.e2e.meetings import ICE_UFRAG
from tests.e2e.meetings import inbound
from tests.e2e.meetings import join_from_link
from tests.e2e.meetings import JOINED_WITHIN_MS
from tests.e2e.meetings import meeting_context
from tests.e2e.meetings import RESTART_ICE
from tests.e2e.meetings import wait_for_frames

pytestmark = pytest.mark.e2e


def test_three_people_meet_on_video_from_a_link(browser, base_url, make_live_user):
    names = {"ann": ("Ann", "Host"), "ben": ("Ben", "Guest"), "cat": ("Cat", "Guest")}
    users = {key: make_live_user(*name) for key, name in names.items()}
    pages = {}
    contexts = []
    try:
        for key in names:
            context, page = meeting_context(browser, base_url, users[key])
            contexts.append(context)
            pages[key] = page
        ann, ben, cat = pages["ann"], pages["ben"], pages["cat"]
        ann.get_by_role("link", name="Meet").first.click()
        ann.get_by_role("button", name="New meeting").click()
        link = ann.get_by_label("Meeting link").input_value()
        wait_for_live_channel(ann)
        ann.get_by_role("button", name="Join meeting").click()
        ann.get_by_role("button", name="Leave").wait_for(timeout=JOINED_WITHIN_MS)

        join_from_link(ben, link)
        join_from_link(cat, link)
        wait_for_frames(ann, ["Ben Guest", "Cat Guest"])
        wait_for_frames(ben, ["Ann Host", "Cat Guest"])
        wait_for_frames(cat, ["Ann Host", "Ben Guest"])
        for page in pages.values():
            assert page.get_by_role("heading", name="Participants (3)").is_visible()

        # Camera off: no more frames from Ann, and her tile says so; on again: frames again.
        ann.get_by_role("button", name="Turn camera off").click()
        ann_at_ben = ben.get_by_role("listitem", name="Ann Host")
        ann_at_ben.get_by_text("Camera off").wait_for()
        frames_stopped(ben, "Ann Host")
        frames_stopped(cat, "Ann Host")
        ann.get_by_role("button", name="Turn camera on").click()
        ann_at_ben.get_by_text("Camera off").wait_for(state="hidden")
        wait_for_frames(ben, ["Ann Host"])

        # Microphone off shows on the others' tiles.
        ben.get_by_role("button", name="Mute microphone").click()
        cat.get_by_role("listitem", name="Ben Guest").get_by_text("Microphone off").wait_for()
        ben.get_by_role("button", name="Unmute microphone").wait_for()

        # Screen share replaces Cat's camera with her screen in the same sender.
        camera_width = inbound(ann)["Cat Guest"]["width"]
        cat.get_by_role("button", name="Share screen").click()
        cat.get_by_role("button", name="Stop sharing").wait_for()
        ann.get_by_role("listitem", name="Cat Guest").get_by_text("Presenting").wait_for()
        deadline = time.monotonic() + 15
        while inbound(ann)["Cat Guest"]["width"] in (0, camera_width):
            assert time.monotonic() < deadline, inbound(ann)
            time.sleep(0.2)
        wait_for_frames(ann, ["Cat Guest"])
        cat.get_by_role("button", name="Stop sharing").click()
        ann.get_by_role("listitem", name="Cat Guest").get_by_text("Presenting").wait_for(
            state="hidden"
        )

        # The meeting's chat is the shared chat.
        chat = ben.get_by_role("region", name="Chat")
        chat.get_by_label("Message").fill("Can everyone see my screen?")
        chat.get_by_role("button", name="Send").click()
        for page in (ann, cat):
            page.get_by_role("log").get_by_text("Can everyone see my screen?").wait_for()

        # Leaving takes the tile away for the others.
        cat.get_by_role("button", name="Leave").click()
        cat.get_by_role("heading", name="You left the meeting.").wait_for()
        for page in (ann, ben):
            page.get_by_role("listitem", name="Cat Guest").wait_for(state="detached")
            page.get_by_role("heading", name="Participants (2)").wait_for()

        # A reload rejoins, with a new connection.
        ben.reload()
        ben.get_by_role("button", name="Leave").wait_for(timeout=JOINED_WITHIN_MS)
        wait_for_frames(ben, ["Ann Host"])
        wait_for_frames(ann, ["Ben Guest"])
        ann.get_by_role("heading", name="Participants (2)").wait_for()

        # A network change restarts ICE: new credentials are negotiated, frames keep coming.
        ufrag = ICE_UFRAG.format(name="Ben Guest")
        before = ann.evaluate(ufrag)
        ann.evaluate(RESTART_ICE.format(name="Ben Guest"))
        deadline = time.monotonic() + 15
        while ann.evaluate(ufrag) == before:
            assert time.monotonic() < deadline, "ICE did not restart"
            time.sleep(0.1)
        wait_for_frames(ben, ["Ann Host"])
        wait_for_frames(ann, ["Ben Guest"])
    finally:
        for context in contexts:
            context.close()


def test_the_host_asks_to_mute_removes_and_ends(browser, base_url, make_live_user):
    users = [
        make_live_user(*name) for name in (("Ann", "Host"), ("Ben", "Guest"), ("Cat", "Guest"))
    ]
    contexts = []
    try:
        pages = []
        for username in users:
            context, page = meeting_context(browser, base_url, username)
            contexts.append(context)
            pages.append(page)
        ann, ben, cat = pages
        ann.goto("/meetings")
        ann.get_by_role("button", name="New meeting").click()
        link = ann.get_by_label("Meeting link").input_value()
        wait_for_live_channel(ann)
        ann.get_by_role("button", name="Join meeting").click()
        join_from_link(ben, link)
        # Cat joins to listen only: camera and microphone off from the start.
        cat.goto(link)
        wait_for_live_channel(cat)
        cat.get_by_label("Join with camera off").check()
        cat.get_by_label("Join with microphone off").check()
        cat.get_by_role("button", name="Join meeting").click()
        cat_at_ann = ann.get_by_role("listitem", name="Cat Guest")
        cat_at_ann.get_by_text("Camera off").wait_for()
        cat_at_ann.get_by_text("Microphone off").wait_for()
        wait_for_frames(cat, ["Ann Host", "Ben Guest"])
        frames_stopped(ann, "Cat Guest")
        # Only the host has the controls.
        assert ben.get_by_role("button", name="Remove Cat Guest from the meeting").count() == 0
        assert ben.get_by_role("button", name="End meeting for all").count() == 0

        ann.get_by_role("button", name="Ask Ben Guest to mute").click()
        ben.get_by_role("status").get_by_text(
            "Ann Host asked you to mute. Your microphone is off."
        ).wait_for()
        ben.get_by_role("button", name="Unmute microphone").wait_for()
        ann.get_by_role("listitem", name="Ben Guest").get_by_text("Microphone off").wait_for()

        ann.get_by_role("button", name="Remove Cat Guest from the meeting").click()
        cat.get_by_role("heading", name="Ann Host removed you from the meeting.").wait_for()
        assert cat.get_by_role("button", name="Rejoin").is_hidden()
        ben.get_by_role("listitem", name="Cat Guest").wait_for(state="detached")
        # Removed means out while the meeting runs, also after a reload.
        cat.reload()
        cat.get_by_role("button", name="Join meeting").click()
        cat.get_by_role("status").get_by_text("The host removed you from this meeting.").wait_for()

        ann.get_by_role("button", name="End meeting for all").click()
        ben.get_by_role("heading", name="The host ended the meeting.").wait_for()
        ann.get_by_role("heading", name="You ended the meeting for everyone.").wait_for()
        response = ben.goto(link)
        assert response.status == 404
    finally:
        for context in contexts:
            context.close()


def _room_meeting(server, host: str, members: list[str]) -> str:
    """A room hosted by `host` with `members`, and its running meeting's link path."""
    app = server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.meetings import create_meeting
        from qosyl.actions.rooms import create_room
        from qosyl.actions.rooms import join as join_room

        owner = user_by_username(host)
        room = create_room(owner, name="Standup", topic="work", description="")
        for member in members:
            join_room(user_by_username(member), room)
        meeting = create_meeting(owner, room=room)
        return f"/meetings/{meeting.public_id}"


def _standalone_meeting(server, host: str) -> str:
    app = server.app()
    with app.app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.meetings import create_meeting

        return create_meeting(user_by_username(host)).public_id


def _token_participant(server, username: str, meeting_id: str) -> socketio.Client:
    """Someone in the meeting through the API's socket (no media): fills a seat cheaply."""
    response = requests.post(
        f"{server.url}/api/auth/login/",
        json={"login": username, "password": factories.PASSWORD},
        timeout=10,
    )
    client = socketio.Client(reconnection=False)
    client.connect(
        server.url,
        transports=["websocket"],
        auth={"token": response.json()["access_token"]},
        wait_timeout=10,
    )
    reply = client.call("meeting:join", {"meeting_id": meeting_id}, timeout=10)
    assert reply["ok"], reply
    return client


def test_who_may_not_join_is_refused(browser, base_url, live_server, make_live_user):
    host, member, outsider, blocked = (
        make_live_user("Hal", "Host"),
        make_live_user("Mia", "Member"),
        make_live_user("Oto", "Outsider"),
        make_live_user("Bea", "Blocked"),
    )
    path = _room_meeting(live_server, host, [member, blocked])
    with live_server.app().app_context():
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.social import block

        block(user_by_username(host), user_by_username(blocked))

    anonymous = browser.new_context(base_url=base_url)
    try:
        page = anonymous.new_page()
        page.goto(path)
        assert "/login" in page.url
        page.get_by_label("Username or email").wait_for()
    finally:
        anonymous.close()

    for username, allowed in ((member, True), (outsider, False), (blocked, False)):
        context, page = meeting_context(browser, base_url, username)
        try:
            response = page.goto(path)
            if allowed:
                assert response.status == 200
                page.get_by_role("button", name="Join meeting").wait_for()
            else:
                assert response.status == 404
                assert page.get_by_role("button", name="Join meeting").count() == 0
        finally:
            context.close()


def test_the_seventh_is_told_the_meeting_is_full(browser, base_url, live_server, make_live_user):
    seated = [make_live_user("Seat", f"Number{n}") for n in range(6)]
    meeting_id = _standalone_meeting(live_server, seated[0])
    clients = []
    context = None
    try:
        for username in seated:
            clients.append(_token_participant(live_server, username, meeting_id))
        context, page = meeting_context(browser, base_url, make_live_user("Sev", "Enth"))
        page.goto(f"/meetings/{meeting_id}")
        wait_for_live_channel(page)
        page.get_by_role("button", name="Join meeting").click()
        page.get_by_role("status").get_by_text("This meeting is full (6 people).").wait_for()
        assert page.get_by_role("button", name="Leave").is_hidden()
        # A seat frees up: the same button gets them in.
        clients.pop().disconnect()
        page.get_by_role("button", name="Join meeting").click()
        page.get_by_role("button", name="Leave").wait_for(timeout=JOINED_WITHIN_MS)
        page.get_by_role("heading", name="Participants (6)").wait_for()
    finally:
        if context is not None:
            context.close()
        for client in clients:
            client.disconnect()


def test_a_lost_connection_takes_the_tile_away_and_coming_back_rejoins(
    browser, base_url, make_live_user
):
    ann_name, ben_name = make_live_user("Ann", "Steady"), make_live_user("Ben", "Flaky")
    contexts = []
    try:
        ann_context, ann = meeting_context(browser, base_url, ann_name)
        ben_context, ben = meeting_context(browser, base_url, ben_name)
        contexts += [ann_context, ben_context]
        ann.goto("/meetings")
        ann.get_by_role("button", name="New meeting").click()
        link = ann.get_by_label("Meeting link").input_value()
        wait_for_live_channel(ann)
        ann.get_by_role("button", name="Join meeting").click()
        join_from_link(ben, link)
        wait_for_frames(ann, ["Ben Flaky"])
        ann.get_by_role("listitem", name="Ben Flaky").wait_for()

        ben_context.set_offline(True)
        lost = time.monotonic()
        ann.get_by_role("listitem", name="Ben Flaky").wait_for(state="detached", timeout=10_000)
        assert time.monotonic() - lost < 10
        ann.get_by_role("heading", name="Participants (1)").wait_for()

        ben_context.set_offline(False)
        ann.get_by_role("listitem", name="Ben Flaky").wait_for(timeout=20_000)
        wait_for_frames(ann, ["Ben Flaky"])
        wait_for_frames(ben, ["Ann Steady"])

        # Closing the tab is leaving.
        ben.close()
        ann.get_by_role("listitem", name="Ben Flaky").wait_for(state="detached")
        ann.get_by_role("heading", name="Participants (1)").wait_for()
    finally:
        for context in contexts:
            context.close()
