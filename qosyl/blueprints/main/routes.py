"""The shell: home, offline page, manifest, service worker, icons and uploaded images."""

from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import Response
from flask import send_from_directory
from flask_login import current_user
from flask_login import login_required

from qosyl.blueprints.posts.routes import home_feed
from qosyl.render import media
from qosyl.render import pwa

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/landing.html")
    return home_feed()


@bp.get("/about")
def about():
    return render_template("main/about.html")


@bp.get("/offline")
def offline():
    return render_template("offline.html")


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify(pwa.manifest())
    response.mimetype = "application/manifest+json"
    response.cache_control.max_age = 3600
    return response


@bp.get("/sw.js")
def service_worker():
    urls = pwa.precache_urls()
    body = render_template(
        "sw.js",
        precache_urls=urls,
        version=pwa.cache_version(urls),
        offline_url=urls[0],
    )
    response = Response(body, mimetype="text/javascript")
    # Browsers must always see the newest worker.
    response.cache_control.no_cache = True
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/icons/<name>")
def icon(name: str):
    if name not in pwa.ICONS:
        abort(404)
    response = Response(pwa.icon_png(name), mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/media/<kind>/<filename>")
@login_required
def media_file(kind: str, filename: str):
    if kind not in media.SPECS:
        abort(404)
    response = send_from_directory(
        f"{current_app.config['UPLOAD_FOLDER']}/{kind}", filename, mimetype="image/webp"
    )
    # Names are random and never reused: the file at a URL never changes.
    response.cache_control.private = True
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True
    return response


@bp.get("/session")
def session_status():
    """Who this browser is signed in as; a tab asks when the server closed its connection."""
    response = jsonify({"user_id": current_user.id if current_user.is_authenticated else None})
    response.cache_control.no_store = True
    return response


@bp.get("/healthz")
def healthz():
    return "ok", 200, {"Content-Type": "text/plain"}
