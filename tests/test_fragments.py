"""Every `{% block %}` renders alone (issue 8, item 12).

HTMX asks for a page region, and `qosyl.htmx.render` renders only that block
(jinja2-fragments): the template's top level does not run, so a block sees no import,
macro or `{% set %}` made outside it. A block imports what it uses. Three routes
broke on this; the static check below holds every template to it, and
tests/test_route_sweep.py renders every block of every page it reaches alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from jinja2 import Environment
from jinja2 import nodes

from qosyl import create_app
from tests import factories
from tests import images
from tests.factories import make_room
from tests.factories import say_in_room
from tests.helpers import hx_get
from tests.helpers import post

TEMPLATES = Path(__file__).resolve().parent.parent / "qosyl" / "templates"


# The three routes that were 500 over HTMX


def test_activity_infinite_scroll_renders_its_rows(app, logged_in, user):
    room_id = make_room(app, user)
    last = [say_in_room(app, user, room_id, f"message {n}") for n in range(3)][-1]
    response = hx_get(logged_in, f"/activity?before={last + 1}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "message 2" in html and 'class="avatar' in html and "<html" not in html


def test_profile_setup_with_a_refused_avatar_shows_the_error_in_place(app, client, make_user):
    newcomer = make_user(username="alice", onboarded=False)
    factories.login(client, newcomer)
    response = post(
        client,
        "/welcome",
        {"bio": "Hi", "avatar": (BytesIO(images.SVG), "a.svg")},
        htmx=True,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="setup"')
    assert "SVG images are not accepted." in html
    assert 'alt="Your current profile picture"' in html


def test_search_results_over_htmx_show_people(app, logged_in, user):
    response = hx_get(logged_in, "/search?q=a&page=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="search-results">')
    assert 'class="user-card"' in html and "@alice" in html


# Every block of every template, checked statically


@dataclass(frozen=True)
class Unit:
    """Code that runs on its own: a block's body, or a template's top level."""

    template: str
    name: str  # a block's name, or "(top level)"
    body: list[nodes.Node]


def _own_nodes(node: nodes.Node):
    """`node`'s descendants, not descending into nested blocks (they run on their own)."""
    for child in node.iter_child_nodes():
        yield child
        if not isinstance(child, nodes.Block):
            yield from _own_nodes(child)


def _units(name: str, tree: nodes.Template) -> list[Unit]:
    top = [n for n in _own_nodes(tree) if not isinstance(n, nodes.Block)]
    units = [Unit(name, "(top level)", top)]
    for block in tree.find_all(nodes.Block):
        own = [n for n in _own_nodes(block) if not isinstance(n, nodes.Block)]
        units.append(Unit(name, block.name, own))
    return units


def _defined(body: list[nodes.Node]) -> set[str]:
    """Names a unit binds itself: imports, macros, set / for / with targets, parameters."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, nodes.FromImport):
            names.update(n[1] if isinstance(n, tuple) else n for n in node.names)
        elif isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.Macro):
            names.add(node.name)
        elif isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            names.add(node.name)
    return names


def _used(body: list[nodes.Node]) -> set[str]:
    return {n.name for n in body if isinstance(n, nodes.Name) and n.ctx == "load"}


def _parse_all(env: Environment) -> dict[str, nodes.Template]:
    return {
        path.relative_to(TEMPLATES).as_posix(): env.parse(path.read_text("utf-8"), path.name)
        for path in sorted(TEMPLATES.rglob("*.html"))
    }


def _importable(trees: dict[str, nodes.Template]) -> set[str]:
    """Every name some template imports or defines as a macro: what needs importing."""
    names: set[str] = set()
    for tree in trees.values():
        for node in tree.find_all((nodes.FromImport, nodes.Import, nodes.Macro)):
            if isinstance(node, nodes.FromImport):
                names.update(n[1] if isinstance(n, tuple) else n for n in node.names)
            elif isinstance(node, nodes.Import):
                names.add(node.target)
            else:
                names.add(node.name)
    return names


def unimported_names(env: Environment) -> list[str]:
    """ "template: block uses names" for every unit that uses a name it does not import."""
    trees = _parse_all(env)
    importable = _importable(trees)
    problems = []
    for name, tree in trees.items():
        units = _units(name, tree)
        # What the template's top level binds (imports, macros, sets) never reaches a block
        # rendered alone, so those names count too, even if no other template imports them.
        outer = _defined(units[0].body)
        for unit in units:
            missing = (_used(unit.body) & (importable | outer)) - _defined(unit.body)
            if missing:
                problems.append(f"{name}: {unit.name} uses {', '.join(sorted(missing))}")
    return problems


def test_every_block_imports_what_it_uses():
    problems = unimported_names(create_app("testing").jinja_env)
    assert not problems, "blocks that would fail rendered alone:\n" + "\n".join(problems)


def test_the_check_finds_a_block_that_uses_an_import_from_outside_it():
    env = Environment()
    source = """{% extends "base.html" %}
{% from "macros/ui.html" import avatar %}
{% set greeting = "hi" %}
{% block content %}{{ avatar(user) }}{% block inner %}{{ greeting }}{% endblock %}{% endblock %}
{% block other %}{% from "macros/ui.html" import avatar %}{{ avatar(user) }}{% endblock %}
{% block loop %}{% for avatar in people %}{{ avatar }}{% endfor %}{% endblock %}
"""
    tree = env.parse(source)
    units = {unit.name: unit for unit in _units("t.html", tree)}
    outer = _defined(units["(top level)"].body)
    assert outer == {"avatar", "greeting"}
    missing = {
        name: (_used(unit.body) & outer) - _defined(unit.body) for name, unit in units.items()
    }
    assert missing == {
        "(top level)": set(),
        "content": {"avatar"},
        "inner": {"greeting"},
        "other": set(),
        "loop": set(),
    }


@pytest.mark.parametrize(
    "source",
    [
        '{% include "x.html" %}{{ avatar(user) }}',
        "{% block b %}{{ avatar(user) }}{% endblock %}",
    ],
    ids=["partial", "block"],
)
def test_a_partial_or_block_needs_its_own_import_of_a_macro(source):
    tree = Environment().parse(source)
    units = _units("t.html", tree)
    importable = {"avatar"}
    assert any((_used(u.body) & importable) - _defined(u.body) for u in units)
