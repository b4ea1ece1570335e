"""Pages and the fragments HTMX swaps, from the same templates."""

from __future__ import annotations

import json

from flask import redirect as flask_redirect
from flask import render_template
from flask import request
from flask import Response
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """An HTMX request for a region, not a boosted navigation or a history restore."""
    headers = request.headers
    return (
        is_htmx()
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, **context):
    """The whole page, or only `block` of it when HTMX asks for a fragment."""
    if block is not None and wants_fragment():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def add_trigger(response: Response, *events: str) -> Response:
    """Fire events on <body> after the swap (e.g. refresh the notification bell)."""
    existing = response.headers.get("HX-Trigger")
    triggers: dict = json.loads(existing) if existing and existing.startswith("{") else {}
    for name in events:
        triggers[name] = True
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def redirect(location: str) -> Response:
    """Navigate: a real redirect for browsers and boosted requests, HX-Location for fragments."""
    if wants_fragment():
        response = Response(status=204)
        response.headers["HX-Location"] = json.dumps({"path": location, "target": "body"})
        return response
    return flask_redirect(location)


def add_vary(response: Response) -> Response:
    # A fragment and a page live at the same URL: caches must keep them apart.
    response.vary.add("HX-Request")
    return response
