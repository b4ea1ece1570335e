"""Conversations through the JSON API: the list, starting one, history, sending (with a file),
downloads, read positions, invitations and the group admin's actions; what a non-member, a
removed member, a blocked user and bad input get, with the web's words."""

from __future__ import annotations

import io

import pytest

from qosyl.actions import groups
from qosyl.actions import messages as message_actions
from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import MemberStatus
from qosyl.models import Message
from tests import factories
from tests.factories import reload
from tests.factories import start_conversation
from tests.factories import write_message
from tests.helpers import api_error
from tests.helpers import ApiClient
from tests.helpers import count_queries
from tests.helpers import count_rows
from tests.helpers import post
from tests.helpers import send_file
from tests.helpers import status_of
from tests.images import png


def make_group(app, admin, active=(), invited=(), name="Book club") -> int:
    """A group whose `active` people accepted and whose `invited` people have not yet."""
    with app.app_context():
        people = [reload(person) for person in (*active, *invited)]
        conversation_id = groups.create_group(reload(admin), name, people).id
        for person in active:
            conversation = db.session.get(Conversation, conversation_id)
            groups.accept_invite(reload(person), conversation)
    return conversation_id


def group_action(app, name: str, user, conversation_id: int, *args):
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        return getattr(groups, name)(
            reload(user), conversation, *[reload(a) if hasattr(a, "username") else a for a in args]
        )


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", first_name="Carol", last_name="Cook")


# The list


def test_the_list_shows_each_conversation_as_the_messages_page_does(app, user, other_user, carol):
    direct = start_conversation(app, user, other_user)
    write_message(app, other_user, direct, "**Hello** [there](https://example.org)")
    write_message(app, other_user, direct, "How are you?")
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[carol], name="Tea")
    body = ApiClient(app, user).get("/api/conversations/").json
    assert [item["id"] for item in body["items"]] == [group, direct]
    assert body["next"] is None
    tea, chat = body["items"]
    assert tea["kind"] == "group" and tea["name"] == "Tea" and tea["title"] == "Tea"
    assert tea["admin_id"] == user.id and tea["last_message"] is None and tea["unread"] == 0
    assert [m["username"] for m in tea["members"]] == ["carol"]
    assert chat["kind"] == "direct" and chat["name"] == "" and chat["title"] == "Bob Baker"
    assert chat["unread"] == 2
    assert chat["last_message"]["preview"] == "How are you?"
    assert chat["last_message"]["author"]["username"] == "bob"
    assert set(chat["members"][0]) == {
        "id",
        "username",
        "first_name",
        "last_name",
        "full_name",
        "avatar_url",
    }
    assert "body_html" not in str(body)
    # Bob wrote them: nothing unread for him; the preview is plain text.
    write_message(app, other_user, direct, "# Big *news*")
    bob = ApiClient(app, other_user).get("/api/conversations/").json["items"]
    assert bob[0]["unread"] == 0 and bob[0]["last_message"]["preview"] == "Big news"
    assert bob[0]["title"] == "Alice Archer"


def test_a_file_without_words_and_a_long_message_preview_as_the_page_does(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    client = app.test_client()
    factories.login(client, user)
    send_file(client, conversation_id, "notes.txt", b"plain notes\n")
    item = ApiClient(app, user).get("/api/conversations/").json["items"][0]
    assert item["last_message"]["preview"] == "Sent a file"
    write_message(app, user, conversation_id, "word " * 40)
    preview = ApiClient(app, user).get("/api/conversations/").json["items"][0]
    assert len(preview["last_message"]["preview"]) <= 80
    assert preview["last_message"]["preview"].endswith("…")


def test_the_list_pages_with_a_cursor_stable_under_new_conversations(
    app, user, other_user, make_user
):
    people = [make_user(username=f"friend{n}") for n in range(4)]
    ids = [start_conversation(app, user, person) for person in people]
    api = ApiClient(app, user)
    first = api.get("/api/conversations/?limit=2").json
    assert [item["id"] for item in first["items"]] == [ids[3], ids[2]]
    start_conversation(app, user, other_user)  # new, on top: does not shift the next page
    second = api.get(f"/api/conversations/?limit=2&cursor={first['next']}").json
    assert [item["id"] for item in second["items"]] == [ids[1], ids[0]]
    assert second["next"] is None


def test_the_list_leaves_out_what_the_caller_is_not_active_in(app, user, other_user, carol):
    factories.befriend(app, user, carol)
    factories.befriend(app, other_user, carol)
    start_conversation(app, other_user, carol)
    make_group(app, user, invited=[carol])  # Carol is only invited
    left = make_group(app, other_user, active=[carol], name="Left")
    group_action(app, "leave", carol, left)
    assert ApiClient(app, carol).get("/api/conversations/").json["items"][0]["title"] == (
        "Bob Baker"
    )
    assert len(ApiClient(app, carol).get("/api/conversations/").json["items"]) == 1


def test_bad_list_arguments_are_refused(app, user):
    api = ApiClient(app, user)
    assert "limit" in api_error(api.get("/api/conversations/?limit=0"), 422)["fields"]
    api_error(api.get("/api/conversations/?cursor=garbage"), 400)
    api_error(api.get("/api/conversations/?cursor=WyJub3QgYSBkYXRlIiwgMV0"), 400)
    api_error(api.get("/api/conversations/invitations/?cursor=WzEsMl0"), 400)


def test_the_list_runs_the_same_queries_for_3_or_25_conversations(app, user, make_user):
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            response = api.get("/api/conversations/?limit=30")
            assert response.status_code == 200
        return len(log)

    for n in range(3):
        person = make_user(username=f"few{n}")
        write_message(app, person, start_conversation(app, user, person), "hi")
    few = queries()
    for n in range(22):
        person = make_user(username=f"many{n}")
        write_message(app, person, start_conversation(app, user, person), "hi")
    assert len(api.get("/api/conversations/?limit=30").json["items"]) == 25
    assert queries() == few <= 4


# Starting a conversation


def test_i_start_a_direct_conversation_once(app, user, other_user):
    api = ApiClient(app, user)
    response = api.post("/api/conversations/", json={"user_id": other_user.id})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == "direct" and body["title"] == "Bob Baker"
    assert [m["user"]["username"] for m in body["members"]] == ["alice", "bob"]
    again = api.post("/api/conversations/", json={"user_id": other_user.id}).json
    assert again["id"] == body["id"] == start_conversation(app, other_user, user)
    assert count_rows(app, Conversation) == 1
    # Bob sees it.
    assert ApiClient(app, other_user).get(f"/api/conversations/{body['id']}/").status_code == 200


def test_starting_a_conversation_follows_the_web_rules(app, user, other_user, make_user):
    api = ApiClient(app, user)
    with app.app_context():
        message_actions.set_friends_only(reload(other_user), True)
    error = api_error(api.post("/api/conversations/", json={"user_id": other_user.id}), 409)
    assert error["message"] == "Bob only takes messages from friends."
    error = api_error(api.post("/api/conversations/", json={"user_id": user.id}), 409)
    assert error["message"] == "You cannot start a conversation with yourself."
    hidden = make_user(username="hidden", verified=False)
    api_error(api.post("/api/conversations/", json={"user_id": hidden.id}), 404)
    api_error(api.post("/api/conversations/", json={"user_id": 999999}), 404)
    assert count_rows(app, Conversation) == 0
    # The web refuses with the same words.
    client = app.test_client()
    factories.login(client, user)
    page = post(client, "/messages/with/bob", follow_redirects=True).get_data(as_text=True)
    assert "Bob only takes messages from friends." in page


def test_a_block_keeps_a_conversation_from_starting(app, user, other_user, carol):
    factories.block(app, other_user, user)  # Bob blocked Alice: she cannot see him
    api_error(
        ApiClient(app, user).post("/api/conversations/", json={"user_id": other_user.id}), 404
    )
    factories.block(app, user, carol)  # Alice blocked Carol: she sees her, cannot write
    error = api_error(
        ApiClient(app, user).post("/api/conversations/", json={"user_id": carol.id}), 409
    )
    assert error["message"] == "You cannot message this person."
    assert count_rows(app, Conversation) == 0


def test_start_needs_one_kind_of_conversation(app, user, other_user):
    api = ApiClient(app, user)
    assert "user_id" in api_error(api.post("/api/conversations/", json={}), 422)["fields"]
    both = {"user_id": other_user.id, "name": "Tea", "user_ids": [other_user.id]}
    assert "user_id" in api_error(api.post("/api/conversations/", json=both), 422)["fields"]
    error = api_error(api.post("/api/conversations/", json={"user_id": "bob"}), 422)
    assert "user_id" in error["fields"]


def test_i_start_a_group_as_the_group_form_does(app, user, other_user, carol, make_user):
    stranger = make_user(username="stranger")
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    api = ApiClient(app, user)
    response = api.post(
        "/api/conversations/",
        json={"name": "  Book   club ", "user_ids": [other_user.id, carol.id, stranger.id]},
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == "group" and body["name"] == "Book club" and body["admin_id"] == user.id
    assert [m["user"]["username"] for m in body["members"]] == ["alice"]
    assert status_of(app, body["id"], other_user) == MemberStatus.INVITED
    assert status_of(app, body["id"], carol) == MemberStatus.INVITED
    # Someone the form does not offer is left out, as there.
    assert status_of(app, body["id"], stranger) is None
    # Bob sees the invitation, not the group.
    bob = ApiClient(app, other_user)
    invites = bob.get("/api/conversations/invitations/").json["items"]
    assert [(i["conversation_id"], i["invited_by"]["username"]) for i in invites] == [
        (body["id"], "alice")
    ]
    api_error(bob.get(f"/api/conversations/{body['id']}/"), 404)


def test_a_group_is_refused_with_the_forms_words(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    api = ApiClient(app, user)
    error = api_error(
        api.post("/api/conversations/", json={"name": " ", "user_ids": [other_user.id]}), 422
    )
    assert error["fields"] == {"name": "Give the group a name."}
    error = api_error(
        api.post("/api/conversations/", json={"name": "x" * 81, "user_ids": [other_user.id]}), 422
    )
    assert error["fields"]["name"].startswith("Group names are at most 80 characters")
    error = api_error(api.post("/api/conversations/", json={"name": "Tea", "user_ids": []}), 422)
    assert error["fields"] == {"user_ids": "Invite at least one other person."}
    # A blocked person is not offered: nobody is left.
    factories.block(app, other_user, user)
    error = api_error(
        api.post("/api/conversations/", json={"name": "Tea", "user_ids": [other_user.id]}), 422
    )
    assert error["fields"] == {"user_ids": "Invite at least one other person."}
    # A friend who takes messages from friends only ... is a friend; a direct partner
    # with that setting is offered but refused, with the action's sentence.
    start_conversation(app, user, carol)
    with app.app_context():
        message_actions.set_friends_only(reload(carol), True)
    error = api_error(
        api.post("/api/conversations/", json={"name": "Tea", "user_ids": [carol.id]}), 422
    )
    assert error["fields"] == {
        "user_ids": "You cannot invite Carol. Carol only takes messages from friends."
    }
    assert count_rows(app, Conversation) == 1  # the direct one only


# One conversation


def test_a_conversation_with_its_members_and_read_positions(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    message_id = write_message(app, user, conversation_id, "hi")
    body = ApiClient(app, other_user).get(f"/api/conversations/{conversation_id}/").json
    assert body["title"] == "Alice Archer" and body["admin_id"] is None
    positions = {m["user"]["username"]: m["last_read_id"] for m in body["members"]}
    assert positions == {"alice": message_id, "bob": 0}


def test_outsiders_invitees_and_removed_members_get_404(app, user, other_user, carol, make_user):
    outsider = make_user(username="outsider")
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[other_user], invited=[carol])
    message_id = write_message(app, user, group, "secret")
    group_action(app, "remove_member", user, group, other_user)
    for person in (outsider, carol, other_user):
        api = ApiClient(app, person)
        assert api_error(api.get(f"/api/conversations/{group}/"), 404)["code"] == "not_found"
        api_error(api.get(f"/api/conversations/{group}/messages/"), 404)
        api_error(api.post(f"/api/conversations/{group}/messages/", json={"body": "hi"}), 404)
        api_error(api.put(f"/api/conversations/{group}/read/", json={"up_to_id": message_id}), 404)
        api_error(api.post(f"/api/conversations/{group}/leave/"), 404)
        api_error(api.patch(f"/api/conversations/{group}/", json={"name": "Mine"}), 404)
        api_error(api.post(f"/api/conversations/{group}/members/", json={"user_ids": []}), 404)
    assert count_rows(app, Message) == 1


# History


def test_history_pages_back_from_the_newest_and_catches_up_forward(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    ids = [write_message(app, user, conversation_id, f"m{n}") for n in range(5)]
    api = ApiClient(app, other_user)
    url = f"/api/conversations/{conversation_id}/messages/"
    first = api.get(f"{url}?limit=2").json
    assert [m["id"] for m in first["items"]] == ids[3:]
    assert first["items"][0]["kind"] == "conversation"
    assert first["items"][0]["stream_id"] == conversation_id
    assert first["items"][0]["author"]["username"] == "alice"
    assert first["items"][0]["attachments"] == [] and "body_html" not in first["items"][0]
    write_message(app, user, conversation_id, "newer")  # does not shift what comes next
    second = api.get(f"{url}?limit=2&cursor={first['next']}").json
    assert [m["id"] for m in second["items"]] == ids[1:3]
    third = api.get(f"{url}?limit=2&cursor={second['next']}").json
    assert [m["id"] for m in third["items"]] == ids[:1] and third["next"] is None
    # Catching up after the second message, two at a time.
    forward = api.get(f"{url}?limit=2&after_id={ids[1]}").json
    assert [m["id"] for m in forward["items"]] == ids[2:4]
    rest = api.get(f"{url}?limit=2&cursor={forward['next']}").json
    assert [m["body"] for m in rest["items"]] == ["m4", "newer"] and rest["next"] is None
    api_error(api.get(f"{url}?cursor=WyJzaWRld2F5cyIsIDFd"), 400)  # ["sideways", 1]
    assert "after_id" in api_error(api.get(f"{url}?after_id=-1"), 422)["fields"]


def test_history_runs_the_same_queries_for_3_or_25_messages(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[other_user, carol])
    client = app.test_client()
    factories.login(client, user)
    api = ApiClient(app, user)

    def queries() -> int:
        with count_queries(app) as log:
            response = api.get(f"/api/conversations/{group}/messages/?limit=30")
            assert response.status_code == 200
        return len(log)

    for n, author in enumerate((user, other_user, carol)):
        write_message(app, author, group, f"few {n}")
    send_file(client, group, "a.png", png())
    few = queries()
    for n in range(21):
        write_message(app, (user, other_user, carol)[n % 3], group, f"many {n}")
    assert len(api.get(f"/api/conversations/{group}/messages/?limit=30").json["items"]) == 25
    assert queries() == few <= 4


# Sending


def test_i_send_a_message_and_a_retry_is_stored_once(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    response = api.post(url, json={"body": " *Hi* Bob ", "client_id": "tab-1:1"})
    assert response.status_code == 201, response.json
    sent = response.json
    assert sent["body"] == "*Hi* Bob" and sent["client_id"] == "tab-1:1"
    again = api.post(url, json={"body": " *Hi* Bob ", "client_id": "tab-1:1"}).json
    assert again["id"] == sent["id"]
    assert count_rows(app, Message) == 1
    history = ApiClient(app, other_user).get(url).json["items"]
    assert [m["id"] for m in history] == [sent["id"]]
    # Bob has it unread; Alice has read her own message.
    assert ApiClient(app, other_user).get("/api/conversations/").json["items"][0]["unread"] == 1


def test_a_message_is_refused_with_the_web_words(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    assert api_error(api.post(url, json={"body": "  "}), 422)["fields"] == {
        "body": "Write a message first."
    }
    assert api_error(api.post(url, json={}), 422)["fields"] == {"body": "Write a message first."}
    error = api_error(api.post(url, json={"body": "x" * (MAX_MESSAGE_LENGTH + 1)}), 422)
    assert error["fields"]["body"] == (
        f"Messages are at most {MAX_MESSAGE_LENGTH:,} characters; "
        f"this one has {MAX_MESSAGE_LENGTH + 1:,}."
    )
    assert "body" in api_error(api.post(url, json={"body": 5}), 422)["fields"]
    assert count_rows(app, Message) == 0


def test_a_block_stops_a_direct_conversation_both_ways(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    write_message(app, user, conversation_id, "before")
    factories.block(app, other_user, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    for person in (user, other_user):
        error = api_error(ApiClient(app, person).post(url, json={"body": "hello?"}), 409)
        assert error["message"] == "You cannot message this person."
        # As on the page, what was said stays readable.
        assert ApiClient(app, person).get(url).json["items"][0]["body"] == "before"
    assert count_rows(app, Message) == 1


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2 per minute")
def test_sending_too_fast_is_429_with_retry_after(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    assert api.post(url, json={"body": "one", "client_id": "c1"}).status_code == 201
    assert api.post(url, json={"body": "two"}).status_code == 201
    response = api.post(url, json={"body": "three"})
    error = api_error(response, 429)
    assert error["message"].startswith("You are sending messages too fast. Wait")
    assert int(response.headers["Retry-After"]) >= 1
    # A retry of a message stored in time is not refused.
    assert api.post(url, json={"body": "one", "client_id": "c1"}).status_code == 201
    assert count_rows(app, Message) == 2


def test_i_send_a_file_and_members_download_it_as_from_the_page(app, user, other_user, make_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    response = api.post(
        url,
        data={"body": "the notes", "client_id": "f1", "file": (io.BytesIO(b"tea\n"), "n.txt")},
    )
    assert response.status_code == 201, response.json
    [attachment] = response.json["attachments"]
    assert attachment["filename"] == "n.txt" and attachment["size"] == 4
    assert (
        attachment["url"] == f"http://localhost/api/conversations/attachments/{attachment['id']}/"
    )
    with ApiClient(app, other_user).get(attachment["url"]) as download:
        assert download.status_code == 200 and download.data == b"tea\n"
    # The page's route sends the same file with the same headers.
    client = app.test_client()
    factories.login(client, other_user)
    with client.get(f"/messages/{conversation_id}/files/{attachment['id']}") as page:
        assert page.status_code == 200
    for header in (
        "Content-Type",
        "Content-Disposition",
        "X-Content-Type-Options",
        "Content-Security-Policy",
        "Cache-Control",
    ):
        assert download.headers[header] == page.headers[header], header
    assert download.headers["Content-Disposition"].startswith("attachment")
    # A file alone, without words.
    alone = api.post(url, data={"file": (io.BytesIO(png()), "p.png")})
    assert alone.status_code == 201, alone.json
    image = alone.json["attachments"][0]
    assert image["content_type"] == "image/webp" and image["width"]
    with ApiClient(app, other_user).get(image["url"] + "?view=thumb") as thumb:
        assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/webp"
    assert "attachment" not in thumb.headers.get("Content-Disposition", "")
    # Nobody else gets them.
    outsider = ApiClient(app, make_user(username="outsider"))
    api_error(outsider.get(attachment["url"]), 404)
    api_error(ApiClient(app, user).get(image["url"] + "?view=big"), 422)


@pytest.mark.app_config(ATTACHMENT_MAX_BYTES=1024)
def test_a_file_the_web_refuses_is_refused_with_its_words(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    error = api_error(api.post(url, data={"file": (io.BytesIO(b"a" * 2000), "big.txt")}), 422)
    assert error["fields"] == {"file": "The file is larger than 1 KB."}
    client = app.test_client()
    factories.login(client, user)
    page = send_file(client, conversation_id, "big.txt", b"a" * 2000)
    assert "The file is larger than 1 KB." in page.get_data(as_text=True)
    assert api_error(api.post(url, data={"body": " "}), 422)["fields"] == {
        "body": "Write a message first."
    }
    assert count_rows(app, Message) == 0


def test_a_retried_file_is_stored_once(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    url = f"/api/conversations/{conversation_id}/messages/"
    ids = [
        api.post(url, data={"client_id": "f1", "file": (io.BytesIO(b"tea\n"), "n.txt")}).json[
            "attachments"
        ][0]["id"]
        for _ in range(2)
    ]
    assert ids[0] == ids[1] and count_rows(app, Message) == 1


@pytest.mark.app_config(MAX_CONTENT_LENGTH=2048)
def test_a_request_over_the_size_limit_is_413(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    response = ApiClient(app, user).post(
        f"/api/conversations/{conversation_id}/messages/",
        data={"file": (io.BytesIO(b"a" * 5000), "big.txt")},
    )
    assert api_error(response, 413)["message"] == (
        "The upload is too large: the limit is 2 KB in all."
    )
    assert count_rows(app, Message) == 0


def test_a_removed_member_keeps_no_access_to_files(app, user, other_user):
    factories.befriend(app, user, other_user)
    group = make_group(app, user, active=[other_user])
    sent = ApiClient(app, user).post(
        f"/api/conversations/{group}/messages/",
        data={"file": (io.BytesIO(b"plan\n"), "plan.txt")},
    )
    url = sent.json["attachments"][0]["url"]
    bob = ApiClient(app, other_user)
    with bob.get(url) as download:
        assert download.status_code == 200
    group_action(app, "remove_member", user, group, other_user)
    api_error(bob.get(url), 404)


# Read position


def test_the_read_position_moves_forward_only(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    ids = [write_message(app, user, conversation_id, f"m{n}") for n in range(3)]
    bob = ApiClient(app, other_user)
    url = f"/api/conversations/{conversation_id}/read/"
    assert bob.put(url, json={"up_to_id": ids[1]}).json == {"last_read_id": ids[1]}
    assert bob.put(url, json={"up_to_id": ids[0]}).json == {"last_read_id": ids[1]}
    assert bob.put(url, json={"up_to_id": 10**9}).json == {"last_read_id": ids[2]}
    # Alice sees where Bob is.
    members = ApiClient(app, user).get(f"/api/conversations/{conversation_id}/").json["members"]
    assert {m["user"]["username"]: m["last_read_id"] for m in members}["bob"] == ids[2]
    assert bob.get("/api/conversations/").json["items"][0]["unread"] == 0
    assert "up_to_id" in api_error(bob.put(url, json={}), 422)["fields"]


# Groups


def test_members_invite_friends_and_the_admin_alone_invites_back_the_removed(
    app, user, other_user, carol, make_user
):
    dan = make_user(username="dan", first_name="Dan")
    for person in (other_user, carol, dan):
        factories.befriend(app, user, person)
    factories.befriend(app, other_user, carol)
    group = make_group(app, user, active=[other_user])
    bob = ApiClient(app, other_user)
    response = bob.post(f"/api/conversations/{group}/members/", json={"user_ids": [carol.id]})
    assert response.status_code == 200, response.json
    assert status_of(app, group, carol) == MemberStatus.INVITED
    # Dan is not Bob's friend: not offered, nobody chosen, nobody invited.
    error = api_error(
        bob.post(f"/api/conversations/{group}/members/", json={"user_ids": [dan.id]}), 409
    )
    assert error["message"] == "Choose someone to invite."
    # The page's invite form says the same.
    web = app.test_client()
    factories.login(web, other_user)
    page = post(web, f"/messages/{group}/invite", {"invite-invitee": str(dan.id)})
    assert "Choose someone to invite." in web.get(page.location).get_data(as_text=True)
    # Alice invites two at once; one already invited refuses all.
    alice = ApiClient(app, user)
    error = api_error(
        alice.post(f"/api/conversations/{group}/members/", json={"user_ids": [dan.id, carol.id]}),
        409,
    )
    assert error["message"] == "Choose someone to invite."  # Carol is not offered again
    assert status_of(app, group, dan) is None
    group_action(app, "remove_member", user, group, carol)
    error = api_error(
        bob.post(f"/api/conversations/{group}/members/", json={"user_ids": [carol.id]}), 409
    )
    assert error["message"] == "Choose someone to invite."
    response = alice.post(
        f"/api/conversations/{group}/members/", json={"user_ids": [carol.id, dan.id]}
    )
    assert response.status_code == 200, response.json
    assert status_of(app, group, carol) == status_of(app, group, dan) == MemberStatus.INVITED


def test_an_invite_the_action_refuses_invites_nobody(app, user, other_user, carol, make_user):
    dan = make_user(username="dan", first_name="Dan")
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, dan)
    start_conversation(app, user, carol)
    group = make_group(app, user, active=[other_user])
    with app.app_context():
        message_actions.set_friends_only(reload(carol), True)
    error = api_error(
        ApiClient(app, user).post(
            f"/api/conversations/{group}/members/", json={"user_ids": [dan.id, carol.id]}
        ),
        409,
    )
    assert error["message"] == "You cannot invite Carol. Carol only takes messages from friends."
    assert status_of(app, group, carol) is None
    assert status_of(app, group, dan) is None


def test_a_blocked_person_is_not_invited(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[other_user])
    factories.block(app, carol, user)
    error = api_error(
        ApiClient(app, user).post(
            f"/api/conversations/{group}/members/", json={"user_ids": [carol.id]}
        ),
        409,
    )
    assert error["message"] == "Choose someone to invite."
    assert status_of(app, group, carol) is None


def test_group_actions_are_404_on_a_direct_conversation(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    api = ApiClient(app, user)
    api_error(api.patch(f"/api/conversations/{conversation_id}/", json={"name": "x"}), 404)
    api_error(api.post(f"/api/conversations/{conversation_id}/leave/"), 404)
    api_error(api.post(f"/api/conversations/{conversation_id}/members/", json={}), 404)
    api_error(api.delete(f"/api/conversations/{conversation_id}/members/{other_user.id}/"), 404)


def test_i_accept_or_decline_an_invitation(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    first = make_group(app, user, invited=[other_user], name="First")
    second = make_group(app, user, invited=[other_user], name="Second")
    bob = ApiClient(app, other_user)
    page = bob.get("/api/conversations/invitations/?limit=1").json
    assert [i["name"] for i in page["items"]] == ["Second"]
    rest = bob.get(f"/api/conversations/invitations/?limit=1&cursor={page['next']}").json
    assert [i["name"] for i in rest["items"]] == ["First"] and rest["next"] is None
    # Carol was not invited: no invitation to answer.
    carol_api = ApiClient(app, carol)
    api_error(carol_api.post(f"/api/conversations/{first}/invitation/", json={"accept": True}), 404)
    assert (
        "accept"
        in api_error(bob.post(f"/api/conversations/{first}/invitation/", json={}), 422)["fields"]
    )
    assert bob.post(
        f"/api/conversations/{first}/invitation/", json={"accept": True}
    ).status_code == (204)
    assert bob.get(f"/api/conversations/{first}/").status_code == 200
    assert status_of(app, first, other_user) == MemberStatus.ACTIVE
    response = bob.post(f"/api/conversations/{second}/invitation/", json={"accept": False})
    assert response.status_code == 204
    assert status_of(app, second, other_user) is None
    api_error(bob.post(f"/api/conversations/{second}/invitation/", json={"accept": True}), 404)
    assert bob.get("/api/conversations/invitations/").json["items"] == []


def test_invitations_run_the_same_queries_for_3_or_25(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, carol, other_user)
    bob = ApiClient(app, other_user)

    def queries() -> int:
        with count_queries(app) as log:
            response = bob.get("/api/conversations/invitations/?limit=30")
            assert response.status_code == 200
        return len(log)

    for n in range(3):
        make_group(app, (user, carol)[n % 2], invited=[other_user], name=f"Few {n}")
    few = queries()
    for n in range(22):
        make_group(app, (user, carol)[n % 2], invited=[other_user], name=f"Many {n}")
    assert len(bob.get("/api/conversations/invitations/?limit=30").json["items"]) == 25
    assert queries() == few <= 2


def test_leaving_hands_the_admin_role_on(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[other_user, carol])
    alice = ApiClient(app, user)
    assert alice.post(f"/api/conversations/{group}/leave/").status_code == 204
    api_error(alice.get(f"/api/conversations/{group}/"), 404)
    body = ApiClient(app, carol).get(f"/api/conversations/{group}/").json
    assert body["admin_id"] == other_user.id
    assert [m["user"]["username"] for m in body["members"]] == ["bob", "carol"]


def test_any_member_renames_a_group_with_the_forms_rules(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    group = make_group(app, user, active=[other_user])
    bob = ApiClient(app, other_user)
    response = bob.patch(f"/api/conversations/{group}/", json={"name": "  Night   owls "})
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Night owls"
    assert ApiClient(app, user).get("/api/conversations/").json["items"][0]["title"] == (
        "Night owls"
    )
    error = api_error(bob.patch(f"/api/conversations/{group}/", json={"name": ""}), 422)
    assert error["fields"] == {"name": "Give the group a name."}
    api_error(ApiClient(app, carol).patch(f"/api/conversations/{group}/", json={"name": "x"}), 404)


def test_the_admin_removes_members_and_hands_over_the_role(app, user, other_user, carol):
    factories.befriend(app, user, other_user)
    factories.befriend(app, user, carol)
    group = make_group(app, user, active=[other_user, carol])
    bob = ApiClient(app, other_user)
    error = api_error(bob.delete(f"/api/conversations/{group}/members/{carol.id}/"), 403)
    assert error["message"] == "Only the group's admin can do that."
    api_error(bob.post(f"/api/conversations/{group}/members/{carol.id}/admin/"), 403)
    alice = ApiClient(app, user)
    error = api_error(alice.delete(f"/api/conversations/{group}/members/{user.id}/"), 409)
    assert error["message"] == "You cannot remove yourself: leave the group instead."
    api_error(alice.delete(f"/api/conversations/{group}/members/999999/"), 404)
    assert alice.delete(f"/api/conversations/{group}/members/{carol.id}/").status_code == 204
    assert status_of(app, group, carol) == MemberStatus.REMOVED
    api_error(ApiClient(app, carol).get(f"/api/conversations/{group}/messages/"), 404)
    error = api_error(alice.post(f"/api/conversations/{group}/members/{carol.id}/admin/"), 409)
    assert error["message"] == "Carol is not in this group."
    response = alice.post(f"/api/conversations/{group}/members/{other_user.id}/admin/")
    assert response.status_code == 200, response.json
    assert response.json["admin_id"] == other_user.id
    with app.app_context():
        assert db.session.get(Conversation, group).admin_id == other_user.id
        assert db.session.get(ConversationMember, (group, user.id)).status == MemberStatus.ACTIVE
    api_error(alice.delete(f"/api/conversations/{group}/members/{other_user.id}/"), 403)
