"""The API's documents: the OpenAPI 3.1 document, Swagger UI and ReDoc pages.

The pages load their scripts from npm (copied to static/vendor/api-docs by `make vendor`)
and start them from static/api-docs/ files: no inline script, under the site's CSP.
ReDoc alone needs inline styles (its components inject <style> elements) and a worker
made from a blob, so its page relaxes exactly those two directives.
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import render_template

bp = Blueprint("api_docs", __name__, url_prefix="/api")

LIVE_EVENTS = """

## Live events (Socket.IO)

Connect to the site's Socket.IO endpoint (`/socket.io/`, Engine.IO 4) with
`auth={"token": "<access token>"}`. A token client receives JSON, never HTML:

| event | data |
|---|---|
| `notification` | `{id, kind, text, url}` for each new notification |
| `friend_request` | `{from: user}` when someone asks you to be friends |
| `online_status` | `{user_id, state}`: `online`, `away` or `offline` (friends, partners) |
| `chat_message` | `{kind, stream_id, message}`: `kind` is `room` or `conversation` |
| `chat_message_edited` | `{kind, stream_id, message}` |
| `chat_message_deleted` | `{kind, stream_id, id}` |
| `typing` | `{kind, stream_id, user_id}` |
| `read` | `{conversation_id, user_id, up_to_id}` when a member has read up to a message |
| `meeting:started` | `{meeting_id, host_id, host_name, room_id, conversation_id}` |
| `meeting:ended` | `{meeting_id, room_id, conversation_id}` |
| `session_expired` | `{message}`, just before a socket whose token expired is closed |
| `live:resync` | `{since}`: events may have been missed; subscribe again (see below) |

`message` is shaped as in the history endpoints. After `session_expired`, refresh the
tokens and connect again. Your own events (`notification`, `friend_request`,
`online_status`) come without asking.
For a room's or a conversation's messages, emit `room:subscribe` with `{"room_id": id}`
or `conversation:subscribe` with `{"conversation_id": id}` (acknowledged with `{ok: true}`
or `{error}`); `room:unsubscribe` / `conversation:unsubscribe` stop them. After a
reconnection add `"after_id"`, the last message id you hold: the acknowledgement brings what
you missed, `{ok: true, messages: [...]}` (or `{ok: true, reload: true}` past 200 messages:
read the history endpoint instead). After `live:resync` add its `"since"` too (seconds since
1970): the catch-up then starts from the last message written before that moment, as you may
hold later ones.
`conversation:typing` with `{"conversation_id": id}` says you are typing.
"""


def relaxed_csp(**directives: str) -> str:
    """The site's CSP with some directives replaced."""
    parts = {}
    for part in current_app.config["CONTENT_SECURITY_POLICY"].split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            parts[name] = value
    parts.update({name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in parts.items())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, built from the views' schemas."""
    from qosyl.blueprints.api import document

    return jsonify(document(current_app))


@bp.get("/swagger/")
def swagger():
    page = render_template("api/swagger.html")
    # Swagger UI sets style attributes on its elements (a few, for layout).
    return page, 200, {"Content-Security-Policy": relaxed_csp(style_src="'self' 'unsafe-inline'")}


@bp.get("/redoc/")
def redoc():
    page = render_template("api/redoc.html")
    csp = relaxed_csp(style_src="'self' 'unsafe-inline'", worker_src="'self' blob:")
    return page, 200, {"Content-Security-Policy": csp}
