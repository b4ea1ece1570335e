"""Static files under names that carry a hash of their content, cached for a year, and
sent gzip- or brotli-compressed when the browser accepts it.

- `static_url("js/app.js")` gives `/static/js/app.3f9a1c2e04.js`: the name changes when the
  content does, so the file can be cached for a year as immutable. The plain `/static/...`
  URL keeps working, revalidated on every use.
- ES modules import each other by relative path (`./socket.js`): the import map in
  base.html sends those imports to the hashed names too, so one cached module never
  imports another module of another deploy. Its CSP hash goes into script-src.
- A hashed name whose hash is not the current one's is a 404: never old content
  served as new, nor new content cached for a year under an old name.
- `.br` and `.gz` copies beside each file are written at build time (`make assets`,
  qosyl/web/precompress.py); a copy older than its file is ignored.

Why not Flask-Static-Digest: it writes digested copies of every file at build time and
rewrites nothing inside them, so modules would still import each other by plain name; an
import map solves that with the hashes alone, and the table below is built in memory once
per process (lazily, at the first static URL), with nothing written but the compressed
copies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import abort
from flask import current_app
from flask import Flask
from flask import request
from flask import Response
from flask import send_from_directory
from flask import url_for
from markupsafe import Markup
from werkzeug.security import safe_join

ONE_YEAR = 31_536_000
DIGEST_LENGTH = 10
# Encodings in the order preferred when the browser accepts both equally.
ENCODINGS: tuple[tuple[str, str], ...] = (("br", ".br"), ("gzip", ".gz"))
COMPRESSED_SUFFIXES = {suffix for _, suffix in ENCODINGS}
# Text formats worth compressing (images and fonts are compressed already).
COMPRESSIBLE_SUFFIXES = {".js", ".mjs", ".css", ".map", ".svg", ".json", ".txt", ".html"}
# The ES modules the import map covers.
MODULES = "js/**/*.js"
EXTENSION_KEY = "qosyl_assets"


@dataclass(frozen=True)
class Manifest:
    """Both ways between a file's name and its hashed name, e.g. "js/app.js" and
    "js/app.3f9a1c2e04.js"."""

    hashed: dict[str, str]
    plain: dict[str, str]
    # (modification time, size) of each file when hashed: a file changed since is not
    # served under its old hashed name.
    stamps: dict[str, tuple[int, int]]


def hashed_name(name: str, digest: str) -> str:
    """The digest goes before the last suffix, so the type is still read from the name."""
    folder, slash, base = name.rpartition("/")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        return f"{name}.{digest}"
    return f"{folder}{slash}{stem}.{digest}.{suffix}"


def served_files(folder: Path) -> list[Path]:
    """The files under the static folder, without the compressed copies and hidden files
    (the vendor folder's .stamp)."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix not in COMPRESSED_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


@lru_cache(maxsize=1024)
def content_digest(path: Path, mtime_ns: int, size: int) -> str:
    """Keyed by modification time and size too: each app of a process (the tests make one
    per test) reuses the digests, and a changed file is read again."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_LENGTH]


def build_manifest(folder: Path) -> Manifest:
    hashed: dict[str, str] = {}
    stamps: dict[str, tuple[int, int]] = {}
    for path in served_files(folder):
        name = path.relative_to(folder).as_posix()
        stamps[name] = stamp(path)
        hashed[name] = hashed_name(name, content_digest(path, *stamps[name]))
    plain = {value: key for key, value in hashed.items()}
    return Manifest(hashed=hashed, plain=plain, stamps=stamps)


def stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


class StaticAssets:
    """One app's manifest, import map and CSP, each computed once. In debug mode the
    manifest is rebuilt when a file changes, so an edited script shows on reload."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._manifest: Manifest | None = None
        self._signature: tuple | None = None
        # Per script root: the map holds URLs, which start with it.
        self._import_maps: dict[str, str] = {}

    @property
    def folder(self) -> Path:
        return Path(self.app.static_folder or "")

    @property
    def optimised(self) -> bool:
        return bool(self.app.config.get("STATIC_OPTIMISED", True))

    def _files_signature(self) -> tuple:
        return tuple(
            (path, path.stat().st_mtime_ns, path.stat().st_size)
            for path in served_files(self.folder)
        )

    @property
    def manifest(self) -> Manifest:
        with self._lock:
            signature = self._files_signature() if self.app.debug else None
            if self._manifest is None or signature != self._signature:
                self._manifest = build_manifest(self.folder)
                self._signature = signature
                self._import_maps = {}
            return self._manifest

    def url(self, filename: str) -> str:
        if self.optimised:
            filename = self.manifest.hashed.get(filename, filename)
        return url_for("static", filename=filename)

    def import_map(self) -> str:
        """The import map's JSON: each module's plain URL to its hashed URL."""
        manifest = self.manifest
        root = url_for("static", filename="")
        if root not in self._import_maps:
            modules = sorted(
                path.relative_to(self.folder).as_posix() for path in self.folder.glob(MODULES)
            )
            imports = {
                url_for("static", filename=name): url_for("static", filename=manifest.hashed[name])
                for name in modules
                if name in manifest.hashed
            }
            self._import_maps[root] = json.dumps({"imports": imports}, sort_keys=True)
        return self._import_maps[root]

    def content_security_policy(self) -> str:
        """The configured CSP, with script-src allowing the inline import map by its hash."""
        policy = self.app.config["CONTENT_SECURITY_POLICY"]
        if not self.optimised:
            return policy
        digest = hashlib.sha256(self.import_map().encode()).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        return re.sub(r"(script-src [^;]*)", rf"\1 {source}", policy, count=1)


def assets() -> StaticAssets:
    return current_app.extensions[EXTENSION_KEY]


def static_url(filename: str) -> str:
    """The URL pages use for a static file: its hashed name when optimisation is on."""
    return assets().url(filename)


def import_map_tag() -> Markup:
    """The inline import map (empty when optimisation is off: modules load by plain URL)."""
    if not assets().optimised:
        return Markup("")
    return Markup('<script type="importmap">{}</script>').format(Markup(assets().import_map()))


def accepted_encoding(path: Path) -> tuple[str, str] | None:
    """(encoding, suffix) of the best compressed copy the request accepts, if one is
    present and not older than the file."""
    accepts = request.accept_encodings
    candidates = []
    for encoding, suffix in ENCODINGS:
        copy = path.with_name(path.name + suffix)
        if accepts[encoding] > 0 and copy.is_file():
            if copy.stat().st_mtime_ns >= path.stat().st_mtime_ns:
                candidates.append((encoding, suffix))
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: accepts[candidate[0]])


def send_static(filename: str, *, max_age: int | None) -> Response:
    """The file, or its best accepted compressed copy; conditional and range requests as
    Flask answers them (on the bytes sent)."""
    folder = assets().folder
    joined = safe_join(str(folder), filename)
    if joined is None or not Path(joined).is_file():
        abort(404)
    path = Path(joined)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    encoding = accepted_encoding(path) if assets().optimised else None
    served = filename + encoding[1] if encoding else filename
    response = send_from_directory(folder, served, mimetype=mimetype, max_age=max_age)
    if encoding:
        response.headers["Content-Encoding"] = encoding[0]
    if assets().optimised and path.suffix in COMPRESSIBLE_SUFFIXES:
        response.vary.add("Accept-Encoding")
    return response


def serve_static(filename: str) -> Response:
    """The view behind /static/: hashed names cached for a year, plain names revalidated.
    A hashed name of another content is not in the manifest and not on disk: 404. So is a
    current name whose file changed on disk since it was hashed (until the restart that
    a deploy brings): new content must not be cached for a year under the old name."""
    manifest = assets().manifest
    plain = manifest.plain.get(filename) if assets().optimised else None
    if plain is None:
        return send_static(filename, max_age=None)
    path = assets().folder / plain
    if not path.is_file() or stamp(path) != manifest.stamps[plain]:
        abort(404)
    response = send_static(plain, max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def init_assets(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = StaticAssets(app)
    app.view_functions["static"] = serve_static
    app.jinja_env.globals.update(static_url=static_url, import_map_tag=import_map_tag)
