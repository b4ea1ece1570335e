"""The domain's errors, and their one translation per transport.

Actions and the access helpers raise ActionError or one of its kinds; they never know how
the request came in. HTTP turns NotFound and Forbidden into a 404 or 403 page, or a toast for
HTMX (register_error_handlers); Socket.IO turns any of them into an {"error": ...}
acknowledgement (socket_error); the JSON API answers every failure with one body,
{"error": {"code", "message", "fields"}} (json_error). Forms map a plain ActionError onto
its field themselves (forms.apply_action_error).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.web.htmx import is_htmx
from qosyl.web.inputs import is_api_request

T = TypeVar("T")


class ActionError(Exception):
    """A change the user asked for cannot be made; `message` is for them, `field` says where."""

    default = "That cannot be done."

    def __init__(self, message: str | None = None, field: str | None = None):
        message = message or self.default
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(ActionError):
    """Several fields cannot be saved as they are: `errors` maps each field to its message.

    A form shows them all at once, as it would its own checks; anything reading only
    `message` and `field` gets the first.
    """

    def __init__(self, errors: dict[str | None, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = dict(errors)


class Checks:
    """Run an action's field checks and refuse with every failure at once (Invalid)."""

    def __init__(self) -> None:
        self.errors: dict[str | None, str] = {}

    def run(self, check: Callable[..., T], *args, **kwargs) -> T | None:
        """`check(*args, **kwargs)`, or None with its ActionError noted."""
        try:
            return check(*args, **kwargs)
        except Invalid as error:
            for field, message in error.errors.items():
                self.errors.setdefault(field, message)
        except ActionError as error:
            self.errors.setdefault(error.field, error.message)
        return None

    def done(self) -> None:
        """Raise Invalid if any check failed."""
        if self.errors:
            raise Invalid(self.errors)


class NotFound(ActionError):
    """There is no such thing, or the asker may not know that it exists: they look alike."""

    default = "There is nothing here."


class Forbidden(ActionError):
    """The asker may see the thing but not do this to it."""

    default = "You are not allowed to do that."


class SignedOut(ActionError):
    """The credentials presented sign nobody in (any more): sign in again."""

    default = "Your sign-in has ended. Sign in again."


class RateLimited(ActionError):
    """Refused for now, not for good: the same request succeeds after `retry_after` seconds."""

    def __init__(self, message: str, field: str | None = None, *, retry_after: int):
        super().__init__(message, field)
        self.retry_after = max(1, retry_after)


# No database connection came free within the pool's timeout, or the one in use was dropped:
# the server is overloaded or the database restarting, not broken. Answered as "try again"
# (503, or a Socket.IO reply with retry_after) rather than as a failure with a traceback: the
# chat's outbox sends again, in order, after the wait.
BUSY_MESSAGE = "The server is busy. Try again in a moment."
BUSY_RETRY_AFTER = 2


def busy(error: Exception) -> bool:
    """Try again: no connection came free, or the database dropped this one (restarted, or
    an administrator ended the backend). SQLAlchemy has invalidated that connection, so the
    pool makes a new one on the next checkout (pool_pre_ping catches those dropped idle)."""
    if isinstance(error, PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


_warned_at: dict[str, float] = {}


def warn_unreachable(what: str, error: Exception) -> None:
    """Log that a service is unreachable and the app goes on without it; once a minute per
    service, or an outage would log a line per request."""
    now = time.monotonic()
    if now - _warned_at.get(what, -60.0) >= 60.0:
        _warned_at[what] = now
        current_app.logger.warning("%s unreachable, going on without it: %s", what, error)


def error_reply(error: ActionError) -> dict:
    """An ActionError as a Socket.IO acknowledgement."""
    reply: dict = {"error": error.message}
    if isinstance(error, RateLimited):
        reply["retry_after"] = error.retry_after
    return reply


MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That action is not available here.",
    413: "The upload is too large.",
    415: "This address takes forms only: send it as a web form, as the page does.",
    422: "Some fields are not valid: see each field's message.",
    429: "Too many attempts. Wait a minute, then try again.",
    500: "Something went wrong on our side. Try again in a moment.",
    503: BUSY_MESSAGE,
}
CSRF_MESSAGE = "This form has expired or came from elsewhere. Reload the page and try again."


# The JSON API's `code` for each status: stable words a client can branch on.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "busy",
}


def json_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
):
    """The JSON API's one error shape, for every failure."""
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message}}
    body["error"]["fields"] = fields or {}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _field_errors(error: ActionError) -> dict[str, str]:
    errors = error.errors if isinstance(error, Invalid) else {error.field: error.message}
    return {field: message for field, message in errors.items() if field}


def action_error_response(error: ActionError):
    """An ActionError nothing else caught: for the API, its status and body; for a page, a
    toast or an error page."""
    if isinstance(error, RateLimited):
        status, headers = 429, {"Retry-After": str(error.retry_after)}
    elif isinstance(error, SignedOut):
        status, headers = 401, {"WWW-Authenticate": "Bearer"}
    elif isinstance(error, NotFound):
        status, headers = 404, {}
    elif isinstance(error, Forbidden):
        status, headers = 403, {}
    else:
        # About a field: the request was wrong. Otherwise the state of things refuses it
        # (already friends, a closed room ...).
        status, headers = (422 if _field_errors(error) else 409), {}
    if is_api_request():
        return json_error(status, error.message, fields=_field_errors(error), headers=headers)
    response = current_app.make_response(_respond(status, error.message))
    response.headers.update(headers)
    return response


def _respond(status: int, message: str, fields: dict[str, str] | None = None):
    if is_api_request():
        return json_error(status, message, fields=fields)
    if is_htmx():
        # app.js shows the header as a toast; the body is for anything else reading it.
        return message, status, {"X-Qosyl-Message": message, "Content-Type": "text/plain"}
    return render_template("errors/error.html", status=status, message=message), status


def socket_error(error: Exception):
    """Whatever a Socket.IO handler raises: a domain error becomes the sender's {"error": ...}
    acknowledgement; anything else is logged, and the sender still gets an answer."""
    db.session.rollback()
    event = request.event["message"]
    if isinstance(error, ActionError):
        return False if event == "connect" else error_reply(error)
    if busy(error) and event != "connect":
        current_app.logger.warning("busy: Socket.IO event %r waited too long for a database", event)
        return error_reply(RateLimited(BUSY_MESSAGE, retry_after=BUSY_RETRY_AFTER))
    current_app.logger.error("unhandled error in Socket.IO event %r", event, exc_info=error)
    if current_app.testing:
        raise error
    if event == "connect":
        return False  # a connection that failed halfway is refused, not left half made
    return {"error": MESSAGES[500]}


def _schema_fields(messages) -> dict[str, str]:
    """webargs' {location: {field: [message, ...]}} as {field: message}, nested fields
    named with dots ("attachments.0")."""
    fields: dict[str, str] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            fields.setdefault(prefix or "body", value[0])
        elif isinstance(value, str):
            fields.setdefault(prefix or "body", value)

    if isinstance(messages, dict):
        for location_fields in messages.values():
            walk("", location_fields)
    return fields


def register_error_handlers(app: Flask) -> None:
    socketio.on_error_default(socket_error)

    app.register_error_handler(ActionError, action_error_response)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 413:
            from qosyl.render.media import limit_text

            limit = limit_text(app.config["MAX_CONTENT_LENGTH"])
            return _respond(413, f"The upload is too large: the limit is {limit} in all.")
        # A body an API schema refused (flask-smorest's abort carries webargs' messages).
        fields = _schema_fields(getattr(error, "data", {}).get("messages"))
        if fields and is_api_request():
            return json_error(error.code, MESSAGES.get(error.code, MESSAGES[422]), fields=fields)
        return _respond(error.code, MESSAGES.get(error.code, error.description))

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        if busy(error):
            app.logger.warning("busy: %s %s waited too long for the database", request.method,
                               request.path)  # fmt: skip
            if is_api_request() or is_htmx():
                response = current_app.make_response(_respond(503, BUSY_MESSAGE))
            else:  # a page of its own: the layout would ask the database for its counts
                page = render_template("errors/busy.html", message=BUSY_MESSAGE)
                response = current_app.make_response((page, 503))
            response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
            return response
        app.logger.exception("unhandled error")
        if app.testing:
            raise error
        return _respond(500, MESSAGES[500])
