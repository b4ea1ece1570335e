"""The installable shell: manifest, icons and service worker (PWA-1, PWA-2)."""

from __future__ import annotations

import json
import re
from io import BytesIO

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
    assert any(url.startswith("/static/css/app.css?v=") for url in precache)
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
