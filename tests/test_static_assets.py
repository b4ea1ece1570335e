"""Static files: hashed names cached for a year, an import map for the modules, gzip and
brotli copies chosen by Accept-Encoding (qosyl/web/assets.py, qosyl/web/precompress.py)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import brotli
import pytest

from qosyl.web.assets import hashed_name
from qosyl.web.assets import init_assets
from qosyl.web.assets import static_url
from qosyl.web.precompress import precompress

SCRIPT = "export const answer = 42;\n" + "// padding that compresses well\n" * 200


@pytest.fixture
def static_folder(app, tmp_path) -> Path:
    """The app serving a static folder of our own, with compressed copies written."""
    folder = tmp_path / "static"
    (folder / "js").mkdir(parents=True)
    (folder / "js" / "app.js").write_text(SCRIPT)
    (folder / "js" / "tiny.js").write_text("1\n")
    precompress(folder)
    app.static_folder = str(folder)
    return folder


def fetch(client, url: str, method: str = "GET", headers: dict | None = None):
    """The response, read and closed (a file response keeps its file open until closed)."""
    response = client.open(url, method=method, headers=headers or {})
    response.get_data()
    response.close()
    return response


def hashed_url(client, name: str = "js/app.js") -> str:
    with client.application.test_request_context():
        return static_url(name)


def test_hashed_name_keeps_the_type_suffix_last():
    assert hashed_name("js/app.js", "0123456789") == "js/app.0123456789.js"
    assert hashed_name("vendor/htmx.min.js", "0123456789") == "vendor/htmx.min.0123456789.js"
    assert hashed_name("LICENSE", "0123456789") == "LICENSE.0123456789"


def test_pages_load_every_static_file_by_hashed_name(client):
    html = fetch(client, "/about").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(urls) >= 10
    assert [url for url in urls if not re.search(r"\.[0-9a-f]{10}\.\w+$", url)] == []
    offline = fetch(client, "/offline").get_data(as_text=True)
    assert re.search(r'href="/static/css/app\.[0-9a-f]{10}\.css"', offline)


def test_hashed_file_is_immutable_for_a_year_and_plain_one_is_revalidated(client):
    response = fetch(client, hashed_url(client))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = fetch(client, "/static/js/app.js")
    assert plain.status_code == 200
    assert plain.data == response.data
    assert plain.headers["Cache-Control"] == "no-cache"


def test_a_wrong_or_stale_hash_is_not_found(client, static_folder):
    current = hashed_url(client)
    assert fetch(client, current).status_code == 200
    assert fetch(client, "/static/js/app.0123456789.js").status_code == 404
    # The file changes (a deploy): until the new process, its name is not served...
    (static_folder / "js" / "app.js").write_text(SCRIPT + "// new\n")
    assert fetch(client, current).status_code == 404
    # ...which hashes it anew; the old name is gone.
    init_assets(client.application)
    renamed = hashed_url(client)
    assert renamed != current
    assert fetch(client, current).status_code == 404
    assert fetch(client, renamed).data.endswith(b"// new\n")


def test_in_debug_mode_an_edited_file_gets_a_new_hash_without_a_restart(app, client, static_folder):
    app.debug = True
    before = hashed_url(client)
    path = static_folder / "js" / "app.js"
    path.write_text(SCRIPT + "// edited\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert hashed_url(client) != before


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("", None),
    ],
)
def test_the_best_accepted_encoding_is_sent(client, static_folder, accept, encoding):
    response = fetch(client, hashed_url(client), headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.vary
    assert response.mimetype == "text/javascript"
    assert int(response.headers["Content-Length"]) == len(response.data)
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding]
    assert decode(response.data).decode() == SCRIPT
    if encoding:
        assert len(response.data) < len(SCRIPT) / 5


def test_plain_urls_are_compressed_too(client, static_folder):
    response = fetch(client, "/static/js/app.js", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_copy_older_than_its_file_is_not_sent(client, static_folder):
    path = static_folder / "js" / "app.js"
    copy = static_folder / "js" / "app.js.br"
    os.utime(copy, ns=(copy.stat().st_atime_ns, path.stat().st_mtime_ns - 10**9))
    response = fetch(client, hashed_url(client), headers={"Accept-Encoding": "br"})
    assert response.headers.get("Content-Encoding") is None
    assert response.data.decode() == SCRIPT


def test_head_range_and_conditional_requests(client, static_folder):
    url = hashed_url(client)
    got = fetch(client, url, headers={"Accept-Encoding": "gzip"})
    head = fetch(client, url, "HEAD", {"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["Content-Encoding"] == "gzip"

    part = fetch(client, url, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.data == got.data[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(got.data)}"

    again = fetch(
        client, url, headers={"Accept-Encoding": "gzip", "If-None-Match": got.headers["ETag"]}
    )
    assert again.status_code == 304
    # Another encoding is another representation: its ETag differs.
    brotli_copy = fetch(client, url, headers={"Accept-Encoding": "br"})
    assert brotli_copy.headers["ETag"] != got.headers["ETag"]


def test_precompress_writes_copies_once_and_skips_what_does_not_shrink(static_folder):
    assert (static_folder / "js" / "app.js.br").is_file()
    assert gzip.decompress((static_folder / "js" / "app.js.gz").read_bytes()).decode() == SCRIPT
    assert not (static_folder / "js" / "tiny.js.br").exists()
    # Fresh copies are kept; tiny.js stays without copies.
    assert precompress(static_folder) == 0
    assert not (static_folder / "js" / "tiny.js.gz").exists()


def test_the_import_map_sends_every_module_to_its_hashed_url(client):
    html = fetch(client, "/about").get_data(as_text=True)
    inline = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    imports = json.loads(inline)["imports"]
    assert re.fullmatch(r"/static/js/socket\.[0-9a-f]{10}\.js", imports["/static/js/socket.js"])
    assert "/static/js/chat/box.js" in imports
    for hashed in imports.values():
        assert fetch(client, hashed).status_code == 200, hashed
    # The module scripts the page loads are the import map's targets.
    modules = re.findall(r'<script type="module" src="([^"]+)"', html)
    assert modules and set(modules) <= set(imports.values())


def test_the_csp_allows_the_inline_import_map_by_its_hash_and_nothing_else_inline(client):
    response = fetch(client, "/about")
    html = response.get_data(as_text=True)
    inline = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]*)", response.headers["Content-Security-Policy"])
    assert script_src.group(1).split() == ["'self'", f"'sha256-{digest}'"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


@pytest.mark.app_config(STATIC_OPTIMISED=False)
def test_switched_off_pages_use_plain_names_uncompressed_and_revalidated(client):
    response = fetch(client, "/about")
    html = response.get_data(as_text=True)
    assert 'src="/static/js/app.js"' in html
    assert "importmap" not in html
    assert "sha256-" not in response.headers["Content-Security-Policy"]
    script = fetch(client, "/static/js/app.js", headers={"Accept-Encoding": "br, gzip"})
    assert script.headers.get("Content-Encoding") is None
    assert script.headers["Cache-Control"] == "no-cache"
    assert fetch(client, "/static/js/app.0123456789.js").status_code == 404


def test_a_changed_file_gets_a_new_precache_url_and_a_new_worker_cache(client, static_folder):
    def worker() -> tuple[str, list[str]]:
        body = fetch(client, "/sw.js").get_data(as_text=True)
        cache = re.search(r'const CACHE = "([^"]+)"', body).group(1)
        return cache, json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))

    cache, precache = worker()
    old_url = hashed_url(client)
    assert old_url in precache
    (static_folder / "js" / "app.js").write_text(SCRIPT + "// deployed\n")
    init_assets(client.application)  # the new deploy's process
    new_cache, new_precache = worker()
    assert new_cache != cache
    assert hashed_url(client) in new_precache
    assert old_url not in new_precache
