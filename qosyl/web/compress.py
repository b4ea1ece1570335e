"""Pages, HTMX fragments and the JSON API's answers sent compressed (brotli, else gzip) to
clients that accept it.

A chat page repeats the same markup for every message: a room page of 15 messages is
~40 KB of HTML and ~5 KB compressed, which on a slow phone network decides when the
page first paints (Lighthouse, tests/e2e/test_lighthouse.py). Static files have their
own compressed copies (qosyl/web/assets.py); this is for what views render.

BREACH (guessing a secret in a compressed page from its length) does not reach the CSRF
token: Flask-WTF signs it with a timestamp, so its signed part changes every second.
"""

from __future__ import annotations

import gzip

import brotli
from flask import Flask
from flask import request
from flask import Response

# The JSON API's answers too (a page of posts or messages repeats its keys for every item).
# BREACH needs a request the attacker makes with the victim's credentials: the API's bearer
# tokens are not sent by a browser on its own, as cookies are.
COMPRESSED_TYPES = {"text/html", "application/json"}
# Below a packet's worth, compressing saves no round trip.
MIN_SIZE = 1400


def _brotli(data: bytes) -> bytes:
    # Quality 5: as fast as gzip's default here and ~10% smaller; 11 is for static files.
    return brotli.compress(data, quality=5)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6)


COMPRESSORS = {"br": _brotli, "gzip": _gzip}


def compress_response(response: Response) -> Response:
    if (
        response.mimetype not in COMPRESSED_TYPES
        or response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.status_code in (204, 304)
    ):
        return response
    response.vary.add("Accept-Encoding")
    accepts = request.accept_encodings
    encoding = max(COMPRESSORS, key=lambda name: accepts[name])
    if accepts[encoding] <= 0:
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    response.set_data(COMPRESSORS[encoding](data))
    response.headers["Content-Encoding"] = encoding
    return response


def init_compression(app: Flask) -> None:
    app.after_request(compress_response)
