"""Settings for Qosyl, read from the environment.

`QOSYL_ENV` picks the class: development (default), testing or production.
Every setting a deployment changes has an environment variable of the same name.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("QOSYL_INSTANCE_DIR", BASE_DIR / "instance"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the URL was given with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def development_secret_key() -> str:
    """A random key kept in instance/ so sessions survive restarts in development."""
    key_file = INSTANCE_DIR / "dev-secret-key"
    if key_file.exists():
        return key_file.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'qosyl.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Base URL used for links in mail and pushes rendered outside a request.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")

    # Socket.IO: unset queue = in-process; "redis://..." to share rooms across processes.
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    # Processes of one deployment share a channel on the queue; others keep apart.
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "qosyl")
    # eventlet for the server; threading for tests and for processes that only emit.
    # Empty = eventlet when the process is monkey-patched (wsgi.py), threading otherwise.
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "")

    # Mail. With no MAIL_SERVER, mail is written to the log (links included).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS")
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Qosyl <no-reply@qosyl.local>")

    # Rate limits (Flask-Limiter): memory by default, Redis when configured.
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or (
        SOCKETIO_MESSAGE_QUEUE
        if (SOCKETIO_MESSAGE_QUEUE or "").startswith("redis")
        else "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    # While the counter store is unreachable (Redis restarting), each process counts in its
    # own memory: the limits hold per process instead of requests failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_LOGIN_PER_IP = os.environ.get("RATELIMIT_LOGIN_PER_IP", "20 per minute")
    # Failed sign-ins from one address (an IPv6 /64) to one account; the right
    # password from elsewhere still signs in.
    RATELIMIT_LOGIN_FAILURES = os.environ.get("RATELIMIT_LOGIN_FAILURES", "5 per 15 minutes")
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per hour")
    RATELIMIT_EMAIL_REQUESTS = os.environ.get("RATELIMIT_EMAIL_REQUESTS", "5 per 15 minutes")
    # Chat messages per person, over HTTP and Socket.IO alike.
    RATELIMIT_CHAT = os.environ.get("RATELIMIT_CHAT", "10 per 10 seconds")
    # Meeting signals (offers, answers, ICE candidates) per person: a join into a full
    # meeting with network changes sends a few hundred; a flood is cut short.
    RATELIMIT_SIGNALS = os.environ.get("RATELIMIT_SIGNALS", "600 per minute")
    # Per person; several limits separated by ";" all apply. Uploads are counted before
    # decoding: images for posts, avatars and covers, and files sent in messages.
    RATELIMIT_POSTS = os.environ.get("RATELIMIT_POSTS", "10 per minute; 100 per hour")
    RATELIMIT_COMMENTS = os.environ.get("RATELIMIT_COMMENTS", "20 per minute; 300 per hour")
    RATELIMIT_UPLOADS = os.environ.get("RATELIMIT_UPLOADS", "20 per minute; 200 per hour")

    # Live connections (Socket.IO tabs). A process refuses new ones past its cap, keeping room
    # for HTTP (wsgi.py sizes eventlet's pool above it); one account or one address cannot
    # take a process's sockets for itself.
    SOCKETS_PER_PROCESS = env_int("SOCKETS_PER_PROCESS", 8000)
    SOCKETS_PER_ACCOUNT = env_int("SOCKETS_PER_ACCOUNT", 20)
    SOCKETS_PER_ADDRESS = env_int("SOCKETS_PER_ADDRESS", 200)
    # HTTP connections served at once beside the sockets (keep-alive ones included).
    HTTP_CONNECTIONS = env_int("HTTP_CONNECTIONS", 1024)

    # Video meetings (issue 12): browsers send media to each other (full mesh), Qosyl
    # relays the signalling. A meeting refuses the participant past this many.
    MEETING_MAX_PARTICIPANTS = env_int("MEETING_MAX_PARTICIPANTS", 6)
    # ICE servers every participant gets, as RTCPeerConnection's `iceServers` (JSON), e.g.
    # [{"urls": "stun:stun.example.org:3478"}]. None: only the local network works.
    WEBRTC_ICE_SERVERS = os.environ.get("WEBRTC_ICE_SERVERS", "[]")
    # TURN with time-limited credentials (the TURN REST scheme, coturn's use-auth-secret):
    # comma-separated turn:/turns: URLs and the secret shared with the TURN server. The
    # browser only ever sees credentials valid for TURN_CREDENTIAL_SECONDS.
    TURN_URLS = [url.strip() for url in os.environ.get("TURN_URLS", "").split(",") if url.strip()]
    TURN_SECRET = os.environ.get("TURN_SECRET") or None
    TURN_CREDENTIAL_SECONDS = env_int("TURN_CREDENTIAL_SECONDS", 3600)
    # "relay" sends all media through the TURN server (it hides participants' addresses
    # from each other); "all" lets browsers connect directly when they can.
    WEBRTC_ICE_TRANSPORT_POLICY = os.environ.get("WEBRTC_ICE_TRANSPORT_POLICY", "all")

    # Links mailed to users.
    VERIFY_TOKEN_MAX_AGE = timedelta(hours=48)
    RESET_TOKEN_MAX_AGE = timedelta(hours=1)

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # A sign-in ends this long after it began, remembered or not (its row is then pruned).
    SIGN_IN_LIFETIME = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # Uploads.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    # Pixels an uploaded image may have: photos in posts and messages; avatars and covers
    # have a smaller budget (media.py). Decoding costs ~4 bytes of memory per pixel.
    IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 25_000_000)
    # Images decoded at once per process (each in its own OS thread under eventlet).
    IMAGE_DECODE_CONCURRENCY = env_int("IMAGE_DECODE_CONCURRENCY", 2)
    ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    # A request may carry two images plus the form; beyond this Werkzeug answers 413.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024)

    # Content-Security-Policy: no inline script or style anywhere.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; media-src 'self' blob:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; "
        "worker-src 'self'"
    )
    HSTS = False
    # Static files under hashed names with a year-long cache, sent gzip/brotli-compressed
    # (qosyl/web/assets.py). Off: plain names, revalidated, uncompressed (bench/static_bytes.py
    # measures both in one run).
    STATIC_OPTIMISED = env_bool("STATIC_OPTIMISED", True)

    # How many reverse proxies sit in front (sets ProxyFix); 0 = none.
    PROXY_COUNT = env_int("PROXY_COUNT", 0)
    # This process's name among several behind the proxy (`make cluster` sets node1, node2 ...):
    # when set, every response says which process answered in an X-Qosyl-Node header.
    NODE_NAME = os.environ.get("NODE_NAME", "")

    PAGE_SIZE = 20

    # The JSON API (/api/). Tokens are signed with SECRET_KEY unless JWT_SECRET_KEY is set.
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY") or None
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=env_int("JWT_REFRESH_DAYS", 14))
    # Tokens come in the Authorization header only: a cookie never authenticates /api/.
    JWT_TOKEN_LOCATION = ["headers"]
    # Origins allowed to call /api/ from a browser (comma-separated); none by default.
    API_CORS_ORIGINS = [
        origin.strip()
        for origin in os.environ.get("API_CORS_ORIGINS", "").split(",")
        if origin.strip()
    ]
    # Requests per token, beside the per-action limits the web has too (RATELIMIT_CHAT ...).
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "300 per minute")
    API_PAGE_MAX = 100
    API_TITLE = "Qosyl API"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.1.0"

    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "qosyl-demo-2026")


class DevelopmentConfig(Config):
    # Without SECRET_KEY, create_app() takes a random key kept in instance/.
    USE_DEVELOPMENT_SECRET = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SOCKETIO_ASYNC_MODE = "threading"
    SOCKETIO_MESSAGE_QUEUE = None
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = ""
    MAIL_SUPPRESS_SEND = True
    PUBLIC_URL = "http://localhost"
    SERVER_NAME = None


class ProductionConfig(Config):
    # create_app() refuses to start without a real SECRET_KEY.
    REQUIRE_SECRET_KEY = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    HSTS = env_bool("HSTS", True)
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("QOSYL_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"QOSYL_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
