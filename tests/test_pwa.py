"""The installable shell: manifest, icons and service worker (PWA-1, PWA-2)."""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path

from PIL import Image


def test_manifest_has_what_chromium_needs_to_install(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == "Qosyl"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_icons_are_real_pngs_of_the_declared_sizes(client):
    manifest = client.get("/manifest.webmanifest").get_json()
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        image = Image.open(BytesIO(response.data))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_maskable_icon_is_full_bleed_and_the_others_have_round_corners(client):
    maskable = Image.open(BytesIO(client.get("/icons/maskable-512.png").data)).convert("RGBA")
    rounded = Image.open(BytesIO(client.get("/icons/icon-512.png").data)).convert("RGBA")
    assert maskable.getpixel((0, 0))[3] == 255
    assert rounded.getpixel((0, 0))[3] == 0
    assert rounded.getpixel((256, 256))[3] == 255


def test_unknown_icon_is_404(client):
    assert client.get("/icons/../config.py").status_code == 404
    assert client.get("/icons/other.png").status_code == 404


def test_service_worker_precaches_the_shell_and_offline_page(client):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    assert precache[0] == "/offline"
    assert any(re.fullmatch(r"/static/css/app\.[0-9a-f]{10}\.css", url) for url in precache)
    assert "/icons/icon-192.png" in precache
    for url in precache:
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        fetched.close()
    assert re.search(r'const CACHE = "qosyl-shell-[0-9a-f]{12}"', body)


def test_offline_page_is_standalone_and_personal_data_free(logged_in):
    html = logged_in.get("/offline").get_data(as_text=True)
    assert "You are offline" in html
    assert "alice" not in html.lower()
    assert "csrf" not in html.lower()


def test_pages_link_the_manifest(client):
    assert b'<link rel="manifest" href="/manifest.webmanifest">' in client.get("/").data


STATIC = Path(__file__).resolve().parents[1] / "qosyl" / "static"
HASH_IN_NAME = re.compile(r"\.[0-9a-f]{10}(?=\.[^./]+$)")
IMPORT = re.compile(r'^(?:import|export)\b[^"\']*?from\s+["\'](\.{1,2}/[^"\']+)["\'];', re.M)


def _precached_paths(client) -> set[str]:
    body = client.get("/sw.js").get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    return {plain(url) for url in precache}


def plain(url: str) -> str:
    """A static URL without the content hash in its file name."""
    return HASH_IN_NAME.sub("", url)


def test_service_worker_precaches_every_script_and_every_module_it_imports(client):
    """Offline, a page needs each of its scripts, and each file a module imports too."""
    precached = _precached_paths(client)
    scripts = sorted((STATIC / "js").rglob("*.js"))
    assert STATIC / "js" / "presence.js" in scripts
    assert STATIC / "js" / "chat" / "outbox.js" in scripts
    for script in scripts:
        assert f"/static/{script.relative_to(STATIC).as_posix()}" in precached, script
        for target in IMPORT.findall(script.read_text()):
            imported = (script.parent / target).resolve()
            assert imported.is_file(), (script, target)
            assert f"/static/{imported.relative_to(STATIC).as_posix()}" in precached


def test_no_module_imports_a_script_a_page_loads_itself(client):
    """A page loads its scripts by hashed URL, and modules import plain paths that the
    import map turns into the same hashed URLs; still, a script both loaded and imported is
    one slip from running twice (two sockets, every handler twice): keep them apart."""
    html = client.get("/").get_data(as_text=True)
    loaded = {
        (STATIC / plain(src).removeprefix("/static/")).resolve()
        for src in re.findall(r'<script type="module" src="([^"?]+)', html)
    }
    assert STATIC / "js" / "chat" / "main.js" in loaded
    imported = {
        (script.parent / target).resolve()
        for script in (STATIC / "js").rglob("*.js")
        for target in IMPORT.findall(script.read_text())
    }
    assert STATIC / "js" / "socket.js" in imported
    assert not loaded & imported
