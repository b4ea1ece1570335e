"""The Messages pages and the conversation's HTTP and Socket.IO side."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from qosyl.actions import social
from qosyl.extensions import db
from qosyl.models import ConversationMember
from qosyl.models import Message
from tests import factories
from tests.factories import reload
from tests.factories import start_conversation
from tests.factories import write_message
from tests.helpers import assert_query_count
from tests.helpers import hx_get
from tests.helpers import post
from tests.helpers import send_file
from tests.helpers import signed_in_tab


def body_field(conversation_id: int) -> str:
    return f"conversation-{conversation_id}-body"


def count_messages(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Message))


def test_send_message_from_a_profile_opens_the_conversation(app, logged_in, other_user):
    profile = logged_in.get(f"/u/{other_user.username}").get_data(as_text=True)
    assert "Send message" in profile
    response = post(logged_in, f"/messages/with/{other_user.username}", {})
    assert response.status_code == 302
    page = logged_in.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1>{other_user.full_name}</h1>" in html and "data-chat-conversation" in html


def test_a_blocked_person_gets_no_send_message_button(app, logged_in, user, other_user):
    with app.app_context():
        social.block(reload(user), reload(other_user))
    html = logged_in.get(f"/u/{other_user.username}").get_data(as_text=True)
    assert "Send message" not in html


def test_refused_start_explains_why(app, logged_in, other_user):
    with app.app_context():
        reload(other_user).messages_from_friends_only = True
        db.session.commit()
    response = post(logged_in, f"/messages/with/{other_user.username}", {}, follow_redirects=True)
    assert "only takes messages from friends" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "referrer, back_to",
    [
        ("http://localhost/u/bob?tab=posts", "/u/bob?tab=posts"),
        ("https://evil.example/phish", "/messages"),
        ("http://localhost.evil.example/u/bob", "/messages"),
        ("http://localhost//evil.example/", "/messages"),
        ("http://localhost/%5Cevil.example", "/messages"),
        ("/\\evil.example", "/messages"),
        ("//evil.example/", "/messages"),
    ],
)
def test_a_refused_start_goes_back_only_to_a_page_of_this_site(
    app, logged_in, other_user, referrer, back_to
):
    with app.app_context():
        reload(other_user).messages_from_friends_only = True
        db.session.commit()
    response = post(
        logged_in, f"/messages/with/{other_user.username}", {}, headers={"Referer": referrer}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == back_to


def test_the_list_shows_last_message_and_unread_counts(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    write_message(app, other_user, conversation_id, "first <b>hello</b>")
    write_message(app, other_user, conversation_id, "are you there?")
    html = logged_in.get("/messages").get_data(as_text=True)
    assert other_user.full_name in html and "are you there?" in html
    assert '2<span class="visually-hidden"> unread</span>' in html
    assert 'aria-label="2 unread"' in html  # the header's Messages link
    assert "<b>hello</b>" not in html  # message text is escaped


def test_send_over_htmx_returns_the_message_and_refusals_stay_by_the_field(
    app, logged_in, user, other_user, pushes
):
    conversation_id = start_conversation(app, user, other_user)
    url = f"/messages/{conversation_id}"
    response = post(logged_in, url, {body_field(conversation_id): "Hi **there**"}, htmx=True)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<li class="message"')
    [push] = [p for p in pushes if p.event == "conversation:message"]
    assert "<strong>there</strong>" in push.data["html"]
    refused = post(logged_in, url, {body_field(conversation_id): "   "}, htmx=True)
    assert refused.status_code == 422
    assert "Write a message first." in refused.get_data(as_text=True)
    assert count_messages(app) == 1


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="1 per minute")
def test_a_message_over_the_limit_is_refused_for_now_with_the_wait(
    app, logged_in, user, other_user
):
    conversation_id = start_conversation(app, user, other_user)
    url = f"/messages/{conversation_id}"
    sent = post(logged_in, url, {body_field(conversation_id): "one", "client_id": "c1"}, htmx=True)
    assert sent.status_code == 200
    held = post(logged_in, url, {body_field(conversation_id): "two"}, htmx=True)
    assert held.status_code == 429  # the tab's outbox keeps it and sends it after the wait
    assert 1 <= int(held.headers["Retry-After"]) <= 60
    assert "You are sending messages too fast. Wait " in held.get_data(as_text=True)
    assert count_messages(app) == 1


def test_a_block_stops_the_conversation(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    with app.app_context():
        social.block(reload(other_user), reload(user))
    response = post(
        logged_in, f"/messages/{conversation_id}", {body_field(conversation_id): "hi"}, htmx=True
    )
    assert response.status_code == 422
    assert "cannot message this person" in response.get_data(as_text=True)
    assert count_messages(app) == 0


def test_reading_moves_the_position_and_clears_the_badge(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    last = write_message(app, other_user, conversation_id, "read me")
    response = post(logged_in, f"/messages/{conversation_id}/read", {"up_to_id": str(last)})
    assert response.status_code == 200 and response.get_json() == {"last_read_id": last}
    with app.app_context():
        member = db.session.get(ConversationMember, (conversation_id, user.id))
        assert member.last_read_id == last
    assert "badge" not in hx_get(logged_in, "/messages/unread").get_data(as_text=True)
    bad = post(logged_in, f"/messages/{conversation_id}/read", {"up_to_id": "x"})
    assert bad.status_code == 400


def test_history_pages_go_back_in_time(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    ids = [write_message(app, other_user, conversation_id, f"m{n}") for n in range(3)]
    html = hx_get(logged_in, f"/messages/{conversation_id}/history?before={ids[2]}").get_data(
        as_text=True
    )
    assert "m0" in html and "m1" in html and "m2" not in html


@pytest.mark.parametrize("n", [3, 25])
def test_list_and_conversation_have_fixed_query_budgets(app, logged_in, user, make_user, n):
    partners = [make_user(username=f"p{i}") for i in range(n)]
    conversation_id = None
    for partner in partners:
        conversation_id = start_conversation(app, user, partner)
        write_message(app, partner, conversation_id, f"hello from {partner.username}")
        write_message(app, user, conversation_id, "hi back")
    # user, conversations with counts, last messages, other members, header counts
    with assert_query_count(app, 5):
        assert logged_in.get("/messages").status_code == 200
    # user, conversation, members, messages+authors, their files, running meeting (+host),
    # header counts
    with assert_query_count(app, 7):
        assert logged_in.get(f"/messages/{conversation_id}").status_code == 200
    # user, conversation, messages+authors, their files
    with assert_query_count(app, 4):
        assert hx_get(logged_in, f"/messages/{conversation_id}/history?before=999999").status_code
    # user, conversations with counts, last messages, other members
    with assert_query_count(app, 4):
        assert hx_get(logged_in, "/messages").status_code == 200


def test_every_tab_of_every_member_hears_a_message_and_outsiders_nothing(
    app, user, other_user, make_user
):
    outsider = make_user(username="outsider")
    conversation_id = start_conversation(app, user, other_user)
    tabs = [signed_in_tab(app, user), signed_in_tab(app, user), signed_in_tab(app, other_user)]
    stranger = signed_in_tab(app, outsider)
    message_id = write_message(app, other_user, conversation_id, "to both tabs")
    for socket in tabs:
        heard = [e for e in socket.get_received() if e["name"] == "conversation:message"]
        assert [e["args"][0]["id"] for e in heard] == [message_id]
    assert not [e for e in stranger.get_received() if e["name"].startswith("conversation")]


def test_a_returning_tab_catches_up_and_outsiders_are_refused(app, user, other_user, make_user):
    conversation_id = start_conversation(app, user, other_user)
    seen = write_message(app, other_user, conversation_id, "seen")
    missed = [write_message(app, other_user, conversation_id, f"missed {n}") for n in range(2)]
    reply = signed_in_tab(app, user).emit(
        "conversation:subscribe",
        {"conversation_id": conversation_id, "after_id": seen},
        callback=True,
    )
    assert [m["id"] for m in reply["messages"]] == missed
    outsider = signed_in_tab(app, make_user(username="outsider"))
    refused = outsider.emit(
        "conversation:subscribe", {"conversation_id": conversation_id, "after_id": 0}, callback=True
    )
    assert refused == {"error": "You are not in this conversation."}
    for bad in (None, "x", {"conversation_id": "1"}, {"conversation_id": True}):
        assert "error" in signed_in_tab(app, user).emit(
            "conversation:subscribe", bad, callback=True
        )


def test_the_list_filters_by_presence_and_shows_it(app, logged_in, user, other_user, make_user):
    quiet = make_user(username="quiet", first_name="Quinn", last_name="Quiet")
    start_conversation(app, user, other_user)
    start_conversation(app, user, quiet)
    online = signed_in_tab(app, other_user)  # Bob has a tab open; Quinn has none
    html = logged_in.get("/messages?show=online").get_data(as_text=True)
    assert other_user.full_name in html and "Quinn Quiet" not in html
    assert f'data-presence-user="{other_user.id}" data-presence="online"' in html
    html = logged_in.get("/messages?show=offline").get_data(as_text=True)
    assert "Quinn Quiet" in html and other_user.full_name not in html
    online.disconnect()
    html = logged_in.get("/messages?show=offline").get_data(as_text=True)
    assert "Quinn Quiet" in html and other_user.full_name in html
    assert logged_in.get("/messages?show=nonsense").status_code == 200


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    return out.getvalue()


def stored_files(app) -> list:
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"]) / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_image_and_a_file_are_sent_and_only_members_download_them(
    app, logged_in, client, user, other_user, make_user
):
    conversation_id = start_conversation(app, user, other_user)
    image = send_file(logged_in, conversation_id, "holiday.png", png_bytes())
    assert image.status_code == 200
    html = image.get_data(as_text=True)
    assert 'alt="holiday.webp"' in html and "?view=thumb" in html
    notes = send_file(logged_in, conversation_id, "notes.txt", b"remember the milk", body="notes")
    assert notes.status_code == 200 and "notes.txt" in notes.get_data(as_text=True)
    with app.app_context():
        from qosyl.models import Attachment

        files = {a.filename: a.id for a in db.session.scalars(select(Attachment))}
    url = f"/messages/{conversation_id}/files/{files['notes.txt']}"
    with logged_in.get(url) as download:
        assert download.status_code == 200 and download.data == b"remember the milk"
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    thumb_url = f"/messages/{conversation_id}/files/{files['holiday.webp']}?view=thumb"
    with logged_in.get(thumb_url) as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    # Someone outside the conversation gets nothing, not even its existence.
    outsider = make_user(username="outsider")
    factories.login(client, outsider)
    with client.get(url) as refused:
        assert refused.status_code == 404
    # The other member may.
    factories.login(client, other_user)
    with client.get(url) as allowed:
        assert allowed.status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("setup.exe", b"MZ\x90\x00" + bytes(100), "Programs, scripts and web pages"),
        ("page.txt", b"<html><script>alert(1)</script></html>", "Programs, scripts and web pages"),
        ("empty.txt", b"", "The file is empty."),
    ],
)
def test_a_refused_file_changes_nothing(app, logged_in, user, other_user, name, data, error):
    conversation_id = start_conversation(app, user, other_user)
    response = send_file(logged_in, conversation_id, name, data, body="see attached")
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert count_messages(app) == 0 and stored_files(app) == []


def test_a_file_with_a_refused_message_leaves_no_file_behind(app, logged_in, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    response = send_file(logged_in, conversation_id, "notes.txt", b"hi", body="x" * 4001)
    assert response.status_code == 422
    assert count_messages(app) == 0 and stored_files(app) == []


def typing_events(socket) -> list[dict]:
    return [e["args"][0] for e in socket.get_received() if e["name"] == "conversation:typing"]


def test_typing_reaches_the_others_once_a_second(app, user, other_user, make_user, monkeypatch):
    from qosyl.live import presence

    clock = [100.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    conversation_id = start_conversation(app, user, other_user)
    typist, listener = signed_in_tab(app, user), signed_in_tab(app, other_user)
    stranger = signed_in_tab(app, make_user(username="stranger"))
    assert typist.emit("conversation:typing", {"conversation_id": conversation_id}, callback=True)
    typist.emit("conversation:typing", {"conversation_id": conversation_id}, callback=True)
    [event] = typing_events(listener)
    assert event == {"conversation_id": conversation_id, "user_id": user.id, "name": "Alice"}
    assert typing_events(typist) == [] and typing_events(stranger) == []
    clock[0] += 1.5
    typist.emit("conversation:typing", {"conversation_id": conversation_id}, callback=True)
    assert len(typing_events(listener)) == 1


def test_typing_is_refused_to_outsiders_and_across_a_block(app, user, other_user, make_user):
    conversation_id = start_conversation(app, user, other_user)
    outsider = signed_in_tab(app, make_user(username="outsider"))
    reply = outsider.emit(
        "conversation:typing", {"conversation_id": conversation_id}, callback=True
    )
    assert reply == {"error": "You are not in this conversation."}
    for bad in (None, [], {"conversation_id": "1"}):
        assert "error" in outsider.emit("conversation:typing", bad, callback=True)
    with app.app_context():
        social.block(reload(other_user), reload(user))
    listener = signed_in_tab(app, other_user)
    signed_in_tab(app, user).emit(
        "conversation:typing", {"conversation_id": conversation_id}, callback=True
    )
    assert typing_events(listener) == []


def notices(app, user_id) -> list[str]:
    with app.app_context():
        from qosyl.models import Notification

        return [
            n.excerpt
            for n in db.session.scalars(
                select(Notification).where(
                    Notification.recipient_id == user_id, Notification.kind == "message"
                )
            )
        ]


def test_a_message_notifies_only_when_the_conversation_is_not_open(
    app, logged_in, user, other_user
):
    conversation_id = start_conversation(app, user, other_user)
    # Bob has the conversation open in a tab: no notification.
    bob = signed_in_tab(app, other_user)
    bob.emit("conversation:subscribe", {"conversation_id": conversation_id}, callback=True)
    write_message(app, user, conversation_id, "you are here")
    assert notices(app, other_user.id) == []
    # He leaves the page: the next message notifies, once until he reads.
    bob.emit("conversation:unsubscribe", {"conversation_id": conversation_id}, callback=True)
    first = write_message(app, user, conversation_id, "where did you go?")
    write_message(app, user, conversation_id, "hello?")
    assert notices(app, other_user.id) == ["where did you go?"]
    assert notices(app, user.id) == []  # never for your own messages
    # Reading withdraws it; a later message notifies again. Closing the tab counts too.
    client = app.test_client()
    factories.login(client, other_user)
    post(client, f"/messages/{conversation_id}/read", {"up_to_id": str(first + 1)})
    assert notices(app, other_user.id) == []
    bob.emit("conversation:subscribe", {"conversation_id": conversation_id}, callback=True)
    bob.disconnect()
    write_message(app, user, conversation_id, "back later")
    assert notices(app, other_user.id) == ["back later"]


def test_the_friends_only_setting_is_kept_and_applied(app, logged_in, client, user, other_user):
    page = logged_in.get("/settings/messages").get_data(as_text=True)
    assert "Only my friends can start conversations with me" in page
    assert post(logged_in, "/settings/messages", {"friends_only": "y"}).status_code == 302
    with app.app_context():
        assert reload(user).messages_from_friends_only is True
    bob = app.test_client()
    factories.login(bob, other_user)
    refused = post(bob, f"/messages/with/{user.username}", {}, follow_redirects=True)
    assert "only takes messages from friends" in refused.get_data(as_text=True)
    post(logged_in, "/settings/messages", {})
    with app.app_context():
        assert reload(user).messages_from_friends_only is False
