"""The conversations service (issue 5, first part): who may message whom, one conversation
per pair, sending with the shared chat rules, read positions, and what is pushed."""

from __future__ import annotations

import pytest

from qosyl.actions import ActionError
from qosyl.actions import messages as actions
from qosyl.actions import social
from qosyl.actions.chat import NotAMember
from qosyl.extensions import db
from qosyl.models import Conversation
from qosyl.models import ConversationMember
from qosyl.models import Message
from tests.factories import reload
from tests.factories import start_conversation
from tests.factories import write_message
from tests.helpers import count_rows


def test_one_conversation_per_pair_whoever_starts_it(app, user, other_user):
    first = start_conversation(app, user, other_user)
    assert start_conversation(app, other_user, user) == first
    assert count_rows(app, Conversation) == 1 and count_rows(app, ConversationMember) == 2


def test_nobody_messages_themselves_or_an_unverified_account(app, user, make_user):
    unverified = make_user(username="newbie", verified=False)
    with app.test_request_context():
        with pytest.raises(ActionError, match="yourself"):
            actions.direct_conversation(reload(user), reload(user))
        with pytest.raises(ActionError, match="cannot receive messages"):
            actions.direct_conversation(reload(user), reload(unverified))
    assert count_rows(app, Conversation) == 0


@pytest.mark.parametrize("blocker_is_recipient", [True, False])
def test_a_block_either_way_refuses_a_conversation(app, user, other_user, blocker_is_recipient):
    with app.test_request_context():
        blocker, blocked = (other_user, user) if blocker_is_recipient else (user, other_user)
        social.block(reload(blocker), reload(blocked))
        with pytest.raises(ActionError, match="cannot message this person"):
            actions.direct_conversation(reload(user), reload(other_user))
    assert count_rows(app, Conversation) == 0


def test_a_block_after_the_start_stops_the_messages(app, user, other_user, pushes):
    conversation_id = start_conversation(app, user, other_user)
    with app.test_request_context():
        social.block(reload(other_user), reload(user))
    with pytest.raises(ActionError, match="cannot message this person"):
        write_message(app, user, conversation_id, "still there?")
    assert count_rows(app, Message) == 0
    assert [p for p in pushes if p.event == "conversation:message"] == []


def test_friends_only_setting(app, user, other_user):
    with app.app_context():
        reload(other_user).messages_from_friends_only = True
        db.session.commit()
    with app.test_request_context():
        with pytest.raises(ActionError, match="only takes messages from friends"):
            actions.direct_conversation(reload(user), reload(other_user))
        social.send_friend_request(reload(user), reload(other_user))
        social.accept_friend_request(reload(other_user), reload(user))
    assert start_conversation(app, user, other_user)


def test_a_message_is_stored_rendered_and_pushed_to_every_member(app, user, other_user, pushes):
    conversation_id = start_conversation(app, user, other_user)
    message_id = write_message(app, user, conversation_id, "Hi **you**", client_id="tab:1")
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message.created_at is not None and "<strong>you</strong>" in message.body_html
        mine = db.session.get(ConversationMember, (conversation_id, user.id))
        theirs = db.session.get(ConversationMember, (conversation_id, other_user.id))
        assert (mine.last_read_id, theirs.last_read_id) == (message_id, 0)
    [push] = [p for p in pushes if p.event == "conversation:message"]
    assert sorted(push.to) == sorted([f"user:{user.id}", f"user:{other_user.id}"])
    assert (push.data["conversation_id"], push.data["id"]) == (conversation_id, message_id)
    assert f'data-author-id="{user.id}"' in push.data["html"]  # rendered once, for everyone
    assert "<strong>you</strong>" in push.data["html"] and "csrf" not in push.data["html"]
    triggered = sorted(room for p in pushes if p.event == "trigger" for room in p.audience)
    assert triggered == sorted([f"user:{user.id}", f"user:{other_user.id}"])


def test_a_resend_is_stored_and_pushed_once(app, user, other_user, pushes):
    conversation_id = start_conversation(app, user, other_user)
    first = write_message(app, user, conversation_id, "once", client_id="tab:7")
    assert write_message(app, user, conversation_id, "once", client_id="tab:7") == first
    assert count_rows(app, Message) == 1
    assert len([p for p in pushes if p.event == "conversation:message"]) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [("  ", "Write a message first."), ("x" * 4001, "at most 4,000 characters")],
)
def test_empty_or_oversized_messages_change_nothing(app, user, other_user, pushes, body, error):
    conversation_id = start_conversation(app, user, other_user)
    with pytest.raises(ActionError, match=error):
        write_message(app, user, conversation_id, body)
    assert count_rows(app, Message) == 0
    assert [p for p in pushes if p.event == "conversation:message"] == []


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_CHAT="2 per minute")
def test_messages_share_the_chat_rate_limit(app, user, other_user):
    conversation_id = start_conversation(app, user, other_user)
    write_message(app, user, conversation_id, "one")
    write_message(app, user, conversation_id, "two")
    with pytest.raises(ActionError, match="too fast"):
        write_message(app, user, conversation_id, "three")
    assert count_rows(app, Message) == 2


def test_an_outsider_can_neither_write_nor_mark_read(app, user, other_user, make_user):
    outsider = make_user(username="outsider")
    conversation_id = start_conversation(app, user, other_user)
    with pytest.raises(NotAMember):
        write_message(app, outsider, conversation_id, "let me in")
    with app.test_request_context():
        conversation = db.session.get(Conversation, conversation_id)
        with pytest.raises(NotAMember):
            actions.mark_read(reload(outsider), conversation, 10)
    assert count_rows(app, Message) == 0


def test_read_position_only_moves_forward_and_is_pushed(app, user, other_user, pushes):
    conversation_id = start_conversation(app, user, other_user)
    ids = [write_message(app, user, conversation_id, f"m{n}") for n in range(3)]
    with app.test_request_context():
        conversation = db.session.get(Conversation, conversation_id)
        reader = reload(other_user)
        assert actions.mark_read(reader, conversation, ids[1]) == ids[1]
        assert actions.mark_read(reader, conversation, ids[0]) == ids[1]  # never back
        assert actions.mark_read(reader, conversation, 10**9) == ids[2]  # capped at newest
    reads = [p.data for p in pushes if p.event == "conversation:read"]
    assert [r["up_to_id"] for r in reads] == [ids[1], ids[2]]
    assert all(r["reader_id"] == other_user.id for r in reads)
