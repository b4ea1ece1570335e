"""The domain's errors, and their one translation per transport.

Actions and the access helpers raise ActionError or one of its kinds; they never know how
the request came in. HTTP turns NotFound and Forbidden into a 404 or 403 page, or a toast for
HTMX (register_error_handlers); Socket.IO turns any of them into an {"error": ...}
acknowledgement (socket_error); the JSON API will give them a JSON body. Forms map a plain
ActionError onto its field themselves (forms.apply_action_error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask import Flask
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from qosyl.extensions import db
from qosyl.extensions import socketio
from qosyl.web.htmx import is_htmx

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


class RateLimited(ActionError):
    """Refused for now, not for good: the same request succeeds after `retry_after` seconds."""

    def __init__(self, message: str, field: str | None = None, *, retry_after: int):
        super().__init__(message, field)
        self.retry_after = max(1, retry_after)


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
    429: "Too many attempts. Wait a minute, then try again.",
    500: "Something went wrong on our side. Try again in a moment.",
}
CSRF_MESSAGE = "This form has expired or came from elsewhere. Reload the page and try again."


def _respond(status: int, message: str):
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
    current_app.logger.error("unhandled error in Socket.IO event %r", event, exc_info=error)
    if current_app.testing:
        raise error
    if event == "connect":
        return False  # a connection that failed halfway is refused, not left half made
    return {"error": MESSAGES[500]}


def register_error_handlers(app: Flask) -> None:
    socketio.on_error_default(socket_error)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        return _respond(404, error.message)

    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden):
        return _respond(403, error.message)

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
        return _respond(error.code, MESSAGES.get(error.code, error.description))

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.testing:
            raise error
        return _respond(500, MESSAGES[500])
