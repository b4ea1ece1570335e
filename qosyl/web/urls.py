"""Where a redirect may go when the client named the place: a path on this site, or nothing.

Browsers parse a Location (or an HX-Location path) by the WHATWG URL rules, not
Python's: they drop tabs and newlines anywhere, strip leading spaces and control
characters, and read "\\" as "/". So "/\\evil.example", and "/" + tab +
"/evil.example", both mean "//evil.example": another site. Rather than model
every rule, refuse what a local path never needs: control characters,
whitespace, backslashes and a second leading slash, in the text as given and
after percent-decoding it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import request

# A path may be encoded more than once ("%255C"); a few rounds uncover any real one.
_DECODE_ROUNDS = 3


def _plain_path(text: str, *, decoded: bool) -> bool:
    """Starts with exactly one "/" and holds no backslash, control or space character.

    Spaces are fine once decoded ("?q=hello%20world"): no parser drops or reads
    them as a separator there. Line breaks never are.
    """
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    # Categories C* (controls, format characters such as U+200B) and Z* (spaces,
    # Zl and Zp the line and paragraph separators).
    refused = ("Zl", "Zp") if decoded else ("Z",)
    return not any(unicodedata.category(c).startswith(("C", *refused)) for c in text)


def safe_local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (with its query and fragment), else None.

    The path is checked as given and after each round of percent-decoding, so
    that a component that decodes it once more cannot turn it into another site.
    """
    if not target or not isinstance(target, str):
        return None
    text = target
    for round_ in range(_DECODE_ROUNDS + 1):
        if not _plain_path(text, decoded=round_ > 0):
            return None
        decoded = unquote(text, errors="replace") if "%" in text else text
        if decoded == text:
            return target
        text = decoded
    return None  # still encoded after several rounds: nobody needs that


def local_referrer() -> str | None:
    """The path of the page that sent this request, if that page is on this site."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if f"{parts.scheme}://{parts.netloc}/" != request.host_url:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_local_path(path)
