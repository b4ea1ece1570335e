"""A chat message's markup is rendered once and reused (qosyl/render/chat_markup.py) until
something it shows changes: its text, its author's name or picture, whichever process made
the change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from qosyl.extensions import db
from qosyl.render import chat_markup
from tests.factories import make_room
from tests.factories import reload
from tests.factories import say_in_room
from tests.helpers import post


@pytest.fixture(autouse=True)
def empty_cache():
    chat_markup.forget_all()
    yield
    chat_markup.forget_all()


@pytest.fixture
def room_id(app, user):
    return make_room(app, user)


def page(client, room_id: int) -> str:
    return client.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_a_message_is_rendered_once_then_reused(app, logged_in, user, room_id, monkeypatch):
    say_in_room(app, user, room_id, "first words")
    rendered = []
    original = chat_markup.Markup

    def counting(value):
        rendered.append(value)
        return original(value)

    monkeypatch.setattr(chat_markup, "Markup", counting)
    for _ in range(3):
        assert "first words" in page(logged_in, room_id)
    # The broadcast rendered it before the pages asked: none of them rendered it again.
    assert rendered == []
    chat_markup.forget_all()
    page(logged_in, room_id)
    page(logged_in, room_id)
    assert len(rendered) == 1


def test_an_edit_shows_at_once(app, logged_in, user, room_id):
    message_id = say_in_room(app, user, room_id, "first words")
    assert "first words" in page(logged_in, room_id)
    edit_url = f"/rooms/{room_id}/messages/{message_id}/edit"
    edited = post(logged_in, edit_url, {f"message-{message_id}-body": "better words"})
    assert edited.status_code == 302
    shown = page(logged_in, room_id)
    assert "better words" in shown and "first words" not in shown


def test_a_change_by_another_process_shows_at_once(app, logged_in, user, room_id, database_url):
    """Another process renames the author and changes the picture, with its own connection:
    this process's copy is not served, because the row it reads has a new updated_at."""
    say_in_room(app, user, room_id, "hello")
    assert "Alice Archer" in page(logged_in, room_id)
    elsewhere = create_engine(database_url)
    with elsewhere.begin() as connection:
        connection.execute(
            text(
                "UPDATE users SET first_name = 'Alicia', avatar_key = NULL, "
                "updated_at = updated_at + interval '1 second' WHERE id = :id"
                if connection.dialect.name == "postgresql"
                else "UPDATE users SET first_name = 'Alicia', "
                "updated_at = datetime(updated_at, '+1 second') WHERE id = :id"
            ),
            {"id": user.id},
        )
    elsewhere.dispose()
    shown = page(logged_in, room_id)
    assert "Alicia Archer" in shown and "Alice Archer" not in shown


def test_a_rename_through_the_app_shows_at_once(app, logged_in, user, room_id):
    say_in_room(app, user, room_id, "hello")
    assert "Alice Archer" in page(logged_in, room_id)
    with app.app_context():
        reload(user).first_name = "Alicia"  # updated_at moves with any change of the row
        db.session.commit()
    assert "Alicia Archer" in page(logged_in, room_id)


def test_the_cache_keeps_the_most_recently_used(app, user, room_id, monkeypatch):
    monkeypatch.setattr(chat_markup._recent, "size", 3)
    ids = [say_in_room(app, user, room_id, f"m{n}") for n in range(5)]
    assert len(chat_markup._recent.items) == 3
    kept = {key[2] for key in chat_markup._recent.items}
    assert kept == set(ids[-3:])


def test_a_page_under_another_script_root_gets_its_own_links(app, logged_in, user, room_id):
    say_in_room(app, user, room_id, "hello")
    plain = page(logged_in, room_id)
    rooted = logged_in.get(f"/rooms/{room_id}", base_url="http://localhost/qosyl/").text
    assert f'href="/u/{user.username}"' in plain
    assert f'href="/qosyl/u/{user.username}"' in rooted


def test_a_new_message_under_a_deleted_ones_id_shows_its_own_text(app, logged_in, user, room_id):
    """SQLite reuses the id of a deleted last row: the markup must not come back."""
    first = say_in_room(app, user, room_id, "gone soon")
    assert "gone soon" in page(logged_in, room_id)
    post(logged_in, f"/rooms/{room_id}/messages/{first}/delete")
    second = say_in_room(app, user, room_id, "the new one")
    shown = page(logged_in, room_id)
    assert "the new one" in shown and "gone soon" not in shown
    # On SQLite the id came back: the case this guards against.
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert second == first


def test_a_page_comes_grouped_by_author_as_the_script_groups_it(
    app, logged_in, user, other_user, room_id
):
    """Drawn grouped from the start, the list keeps its height when chat/render.js takes over
    (it used to shrink after the first paint: a layout shift)."""
    from qosyl.actions import rooms as room_actions
    from qosyl.models import RoomMessage
    from tests.factories import with_room

    with_room(app, room_id, room_actions.join, other_user)
    ids = [
        say_in_room(app, user, room_id, "one"),
        say_in_room(app, user, room_id, "two, at once"),
        say_in_room(app, other_user, room_id, "someone else"),
        say_in_room(app, user, room_id, "back"),
        say_in_room(app, user, room_id, "much later"),
    ]
    with app.app_context():
        previous, later = db.session.get(RoomMessage, ids[3]), db.session.get(RoomMessage, ids[4])
        later.created_at = previous.created_at + timedelta(seconds=chat_markup.GROUP_WITHIN_SECONDS)
        db.session.commit()
    items = dict(
        (int(message_id), classes.split())
        for classes, message_id in re.findall(
            r'<li class="([^"]*)" id="message-(\d+)"', page(logged_in, room_id)
        )
    )
    continued = ["message--continued" in items[message_id] for message_id in ids]
    assert continued == [False, True, False, False, False]
