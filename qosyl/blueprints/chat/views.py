"""The HTTP side every chat stream shares: its history, for scrolling up."""

from __future__ import annotations

from collections.abc import Callable

from flask import redirect
from flask import render_template

from qosyl.web.htmx import wants_fragment
from qosyl.web.inputs import query_int


def older_messages(kind: str, stream_id: int, page: Callable, page_url: str):
    """A page of messages before `?before=` (a fragment HTMX puts above the ones shown);
    a plain visit goes to the stream's page. Precondition: the viewer may read it."""
    if not wants_fragment():
        return redirect(page_url)
    messages, older = page(stream_id, before=query_int("before"))
    return render_template(
        "components/_message_page.html",
        kind=kind,
        stream_id=stream_id,
        messages=messages,
        older=older,
    )
