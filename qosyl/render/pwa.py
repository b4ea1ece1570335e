"""The installable shell: icons made from one source image, the manifest, the precache list."""

from __future__ import annotations

import hashlib
from functools import cache
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask import url_for
from PIL import Image
from PIL import ImageDraw

from qosyl.web.assets import assets
from qosyl.web.assets import static_url

SOURCE_ICON = Path(__file__).parent.parent / "static" / "icons" / "logo.png"
THEME_COLOR = "#0f766e"
BACKGROUND_COLOR = "#0f5e59"

# name -> (size, full_bleed). Full-bleed icons keep the square background; the mark sits
# inside the central 60 %, the safe zone a maskable icon needs. The others get round corners.
ICONS: dict[str, tuple[int, bool]] = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),
    "favicon-32.png": (32, False),
}

# Files of the shell every page needs; the service worker keeps them for offline use.
SHELL_STATIC_FILES = (
    "css/app.css",
    "css/code.css",
    "vendor/htmx.min.js",
    "vendor/socket.io.min.js",
)
# Every script of ours is kept too, found on disk rather than listed: an ES module's imports
# are fetched as files of their own, and a page opened offline needs each one.
SHELL_SCRIPTS = "js/**/*.js"


@cache
def icon_png(name: str) -> bytes:
    size, full_bleed = ICONS[name]
    with Image.open(SOURCE_ICON) as source:
        image = source.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)
    if not full_bleed:
        mask = Image.new("L", (size * 4, size * 4), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, size * 4 - 1, size * 4 - 1), radius=int(size * 4 * 0.22), fill=255
        )
        image.putalpha(mask.resize((size, size), Image.Resampling.LANCZOS))
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def manifest() -> dict:
    return {
        "id": "/",
        "name": "Qosyl",
        "short_name": "Qosyl",
        "description": "Meet people around topics: rooms, live chat, posts and friends.",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["social"],
        "icons": [
            {
                "src": url_for("main.icon", name="icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": url_for("main.icon", name="icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": url_for("main.icon", name="maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


def shell_files(static_folder: Path) -> list[str]:
    """The static files the service worker keeps; scripts from disk, so none is forgotten."""
    scripts = sorted(
        path.relative_to(static_folder).as_posix() for path in static_folder.glob(SHELL_SCRIPTS)
    )
    return [name for name in SHELL_STATIC_FILES if (static_folder / name).is_file()] + scripts


def precache_urls() -> list[str]:
    """The offline page, the shell's files by hashed name (a deploy that changes a file
    changes its URL, so the new worker fetches it anew) and the icons."""
    urls = [url_for("main.offline")]
    urls += [static_url(name) for name in shell_files(Path(current_app.static_folder))]
    urls += [url_for("main.icon", name=name) for name in ICONS]
    return urls


def cache_version(urls: list[str]) -> str:
    """Changes whenever a precached file changes, so the worker refreshes its cache (by the
    files' hashed names, which the URLs carry only when static optimisation is on)."""
    shell = shell_files(Path(current_app.static_folder))
    hashed = [assets().manifest.hashed.get(name, name) for name in shell]
    digest = hashlib.sha256("\n".join(urls + hashed).encode())
    digest.update(Path(current_app.root_path, "templates", "offline.html").read_bytes())
    digest.update(SOURCE_ICON.read_bytes())
    return digest.hexdigest()[:12]
