"""What clients send, checked in one place before anything reads it.

Integers. The databases refuse a number their column cannot hold instead of finding
nothing: an id or cursor of 2**31 was a 500 on PostgreSQL (ids are INTEGER there, 32 bits)
and one of 2**63 a 500 on SQLite too. Every integer a client sends passes through here
first: in a path (the `int` converter, installed for every route), a query string or a
form (`query_int`, `form_int`, `form_id`, `page_number`) and a Socket.IO event
(`event_int`). What is not a whole number within bounds reads as absent, as Werkzeug's
`type=int` reads "abc" (`form_id`: as no such thing, 404).

Bodies. Routes read forms. Flask-WTF would read a JSON body into a form as well, and
validators written for strings then fail on numbers (a 500), so a body that is not a form
is refused, 415, before anything reads it (`refuse_non_form_body`).
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from datetime import UTC

from flask import abort
from flask import request
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import ValidationError

# The largest id a row can have: ids are INTEGER columns, 32 bits on PostgreSQL (SQLite's
# hold 64). tests/test_inputs.py checks that no id column is narrower.
MAX_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_ID))
# Pages go through OFFSET, which reads every row it skips; nobody pages this far by hand.
MAX_PAGE = 1000


# What a browser's form sends (htmx and js/chat/ send FormData: multipart).
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The JSON API reads JSON bodies, each through its own schema (qosyl/blueprints/api).
API_PREFIX = "/api/"


def is_api_request() -> bool:
    """Does this request go to the JSON API (tokens, JSON bodies and errors)?"""
    return request.path.startswith(API_PREFIX)


def _bounded(number: int, minimum: int, maximum: int) -> int | None:
    return number if minimum <= number <= maximum else None


def event_int(value, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """An integer a Socket.IO event carries: a JSON number in range, not a bool or a string."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return _bounded(value, minimum, maximum)


def event_time(value) -> datetime | None:
    """A moment a Socket.IO event carries, as seconds since 1970 (a JSON number), no later than
    a minute from now; None for anything else."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    if not 0 <= value <= time.time() + 60:
        return None
    return datetime.fromtimestamp(value, UTC)


def text_int(text: str | None, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """An integer written in a query string or form field: ASCII digits, a leading "-" where
    `minimum` is negative, surrounding spaces ignored; None for anything else."""
    if text is None:
        return None
    text = text.strip()
    negative = text.startswith("-") and minimum < 0
    digits = text[1:] if negative else text
    # isdigit() alone takes "²" and "٣"; the length check spares int() a long string.
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > _MAX_DIGITS:
        return None
    number = -int(digits) if negative else int(digits)
    return _bounded(number, minimum, maximum)


def query_int(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = MAX_ID):
    """`request.args[name]` as an integer in range, else `default`."""
    number = text_int(request.args.get(name), minimum=minimum, maximum=maximum)
    return default if number is None else number


def form_int(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = MAX_ID):
    """`request.form[name]` as an integer in range, else `default`."""
    number = text_int(request.form.get(name), minimum=minimum, maximum=maximum)
    return default if number is None else number


def form_id(name: str) -> int | None:
    """The id a form field names: None when the field is absent or empty; 404 when it holds
    anything else that is not an id, since no row can have it."""
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    number = text_int(text)
    if number is None:
        abort(404)
    return number


def page_number(name: str = "page") -> int:
    """A page of results, 1 to MAX_PAGE; the first page when absent or out of range."""
    return query_int(name, 1, minimum=1, maximum=MAX_PAGE)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number beyond MAX_ID matches no route (404)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str):
        # Werkzeug's pattern takes any Unicode digit; ids are ASCII. The length check
        # spares int() a very long string.
        if not value.isascii() or len(value.lstrip("-0")) > _MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


def refuse_non_form_body() -> None:
    """A before_request hook: 415 for a request whose body is not a form.

    Runs before CSRF protection and sign-in checks, which would read the body. A request
    with no body (an empty POST, a GET) passes whatever its Content-Type says; so does
    one that matched no route, which gets its 404 or 405.
    """
    if request.url_rule is None or is_api_request():
        return
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if (request.content_length or chunked) and request.mimetype not in FORM_MIMETYPES:
        abort(415)
