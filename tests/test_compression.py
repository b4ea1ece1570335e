"""Pages and the JSON API's answers are sent brotli- or gzip-compressed to clients that accept
it (qosyl/web/compress.py)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest


def without_csrf_token(page: bytes) -> bytes:
    """The page's CSRF token is signed with the second it was made: two requests a second
    apart differ there and nowhere else."""
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b'"X-CSRFToken": ""', page)


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate, br, zstd", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("br;q=0.5, gzip", "gzip", gzip.decompress),
    ],
)
def test_a_page_is_compressed_as_the_browser_accepts(client, accept, encoding, decode):
    plain = client.get("/about").get_data()
    response = client.get("/about", headers={"Accept-Encoding": accept})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.vary
    assert int(response.headers["Content-Length"]) == len(response.data) < len(plain) / 2
    assert without_csrf_token(decode(response.data)) == without_csrf_token(plain)
    assert b'"X-CSRFToken": "' in plain  # the pattern finds the token it masks


def test_the_json_api_is_compressed_too(client):
    plain = client.get("/api/openapi.json")
    response = client.get("/api/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    assert plain.mimetype == "application/json" and "Content-Encoding" not in plain.headers
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.data) < len(plain.data) / 4
    assert brotli.decompress(response.data) == plain.data


def test_nothing_is_compressed_without_being_accepted_or_when_small(client):
    plain = client.get("/about")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.vary
    assert b"</html>" in plain.data
    # Not HTML (and small): sent as it is.
    health = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in health.headers
