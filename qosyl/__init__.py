"""Qosyl: a social platform where people meet around topics."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import cached_property
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from flask import Flask
from flask.globals import _cv_request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR
from config import Config
from config import config_for
from config import development_secret_key
from qosyl import extensions
from qosyl.extensions import csrf
from qosyl.extensions import db
from qosyl.extensions import limiter
from qosyl.extensions import login_manager
from qosyl.extensions import migrate
from qosyl.extensions import socketio
from qosyl.live import api as live_api
from qosyl.live import bus as live_bus
from qosyl.live import oncommit
from qosyl.live import queue as live_queue
from qosyl.live import web as live_web
from qosyl.models.base import include_in_migrations
from qosyl.models.base import render_migration_item
from qosyl.web.assets import assets
from qosyl.web.assets import init_assets
from qosyl.web.compress import init_compression
from qosyl.web.htmx import add_vary
from qosyl.web.inputs import IdConverter
from qosyl.web.inputs import refuse_non_form_body

MIN_PRODUCTION_SECRET_LENGTH = 32


def _plain(values: dict) -> bool:
    """Only ints and strings: True and 1 (or 1.0) are equal keys but different paths."""
    for value in values.values():
        if type(value) is not int and type(value) is not str:
            return False
    return True


class Qosyl(Flask):
    """Flask, with links built the same inside and outside a request (actions run from the
    CLI, pushes rendered for a socket, mail): a path unless `_external=True` asks for a full
    URL, which then starts with PUBLIC_URL. Flask alone would fail there for lack of a request
    or of SERVER_NAME (which would also restrict which host the app answers)."""

    # Paths built in a request, remembered per process: a page builds hundreds (each post
    # card links its author, itself, its like and edit forms) and werkzeug's builder costs
    # ~30 us a call. A path is a pure function of the key (script root, endpoint, values),
    # the URL map never changes after start, so no entry can go stale: the bound only
    # limits memory.
    LINK_CACHE_SIZE = 16_384

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        # The context variable itself: `request` and has_request_context() go through
        # LocalProxy lookups that cost as much as the rest of a remembered path.
        context = _cv_request.get(None)
        if context is None:
            if _external is None:
                _external = False
        elif (
            _external is None
            and _anchor is None
            and _method is None
            and _scheme is None
            and endpoint != "static"  # hashed names come from qosyl/web/assets.py
            and _plain(values)
            and self._links_memoisable()
        ):
            if endpoint[:1] == ".":  # blueprint-relative: the key holds the full name
                blueprint = context.request.blueprint
                endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
            key = tuple(values.items())
            return self._cached_path(context.request.root_path, endpoint, key)
        return super().url_for(
            endpoint,
            _anchor=_anchor,
            _method=_method,
            _scheme=_scheme,
            _external=_external,
            **values,
        )

    def _links_memoisable(self) -> bool:
        """No url_defaults hook (or only ones marked static_only): a hook could make a path
        depend on more than the key. Flask refuses new hooks once a request was handled, so
        asked once."""
        memoisable = getattr(self, "_memoisable", None)
        if memoisable is None:
            hooks = [hook for hooks in self.url_default_functions.values() for hook in hooks]
            memoisable = all(getattr(hook, "static_only", False) for hook in hooks)
            if self._got_first_request:
                self._memoisable = memoisable
        return memoisable

    @cached_property
    def _cached_path(self) -> Callable[[str, str, tuple[tuple[str, int | str], ...]], str]:
        @lru_cache(maxsize=self.LINK_CACHE_SIZE)
        def path(script_root: str, endpoint: str, values: tuple[tuple[str, int | str], ...]) -> str:
            # Called inside the request whose script root is in the key.
            return super(Qosyl, self).url_for(endpoint, **dict(values))

        return path

    def create_url_adapter(self, request):
        adapter = super().create_url_adapter(request)
        if adapter is None and request is None and self.config.get("PUBLIC_URL"):
            public = urlsplit(self.config["PUBLIC_URL"])
            adapter = self.url_map.bind(
                public.netloc,
                script_name=public.path or "/",
                url_scheme=public.scheme or "http",
            )
        return adapter


def create_app(config: str | type[Config] | None = None, **overrides) -> Flask:
    """Build the app. `config` is a class or a name (development, testing, production)."""
    app = Qosyl(__name__)
    config_class = config if isinstance(config, type) else config_for(config)
    app.config.from_object(config_class)
    app.config.update(overrides)
    _settle_secret_key(app)
    _check_ice_servers(app)
    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)
    _init_extensions(app)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Outside Socket.IO's middleware, so sockets see the client's address too (the
        # per-address socket cap, like the sign-in limits, counts people, not the proxy).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    # Every <int:...> in every route is an id: one past what the database holds is a 404.
    # Rules bind their converter when added: this comes before any blueprint.
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    _register_hooks(app)

    from qosyl.cli import register_cli
    from qosyl.errors import register_error_handlers
    from qosyl.render.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    # Browsers hear of every committed change through the web subscriber (HTML at the edge).
    live_bus.subscribe(live_web.deliver)
    # API clients hear the same events as JSON.
    live_bus.subscribe(live_api.deliver)
    register_cli(app)
    return app


def _settle_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY") or ""
    if app.config.get("REQUIRE_SECRET_KEY") and len(key) < MIN_PRODUCTION_SECRET_LENGTH:
        raise RuntimeError(
            "Production needs SECRET_KEY: a random string of at least "
            f"{MIN_PRODUCTION_SECRET_LENGTH} characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not key and app.config.get("USE_DEVELOPMENT_SECRET"):
        app.config["SECRET_KEY"] = development_secret_key()
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("SECRET_KEY is not set")


def _check_ice_servers(app: Flask) -> None:
    """A mistyped WEBRTC_ICE_SERVERS stops the app at start, not every meeting later."""
    from qosyl.webrtc import configured_ice_servers

    try:
        configured_ice_servers(app.config["WEBRTC_ICE_SERVERS"])
    except ValueError as error:
        raise RuntimeError(str(error)) from None


def _one_sqlite_connection_under_eventlet(app: Flask) -> None:
    """Green threads take turns on a SQLite file through one pooled connection.

    SQLite allows one writer, and its busy wait is a blocking C call that stops eventlet's
    hub: a green thread waiting for the lock would keep the holder from ever finishing
    ("database is locked" after the busy timeout). Waiting on the pool instead yields.
    """
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///") or _default_async_mode() != "eventlet":
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # No network between us and the file: nothing for a pre-ping to find.
    options.update(pool_size=1, max_overflow=0, pool_timeout=30, pool_pre_ping=False)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _end_session(error: BaseException | None) -> None:
    """End the request's session as Flask-SQLAlchemy does, but survive a connection that died
    after the last query and before the closing rollback (a backend terminated, PostgreSQL
    restarting). The answer is made by then; the rollback, raising out of teardown, escaped
    every error handler and the server sent a bare 500 instead."""
    try:
        db.session.remove()
    except DBAPIError as dropped:
        if not dropped.connection_invalidated:
            raise
        # Nothing is left to undo on a dead connection, and SQLAlchemy has invalidated it (the
        # pool opens a new one): closing again hands it back to the pool and forgets the session.
        current_app.logger.warning("database connection lost before the end of a request")
        db.session.remove()


def _init_extensions(app: Flask) -> None:
    from qosyl.web.auth import load_user

    _one_sqlite_connection_under_eventlet(app)
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's teardown, so it runs before it and leaves it nothing.
    app.teardown_appcontext(_end_session)
    migrate.init_app(
        app,
        db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_migration_item,
        include_object=include_in_migrations,
    )
    oncommit.install(db.session)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    # "basic": a changed IP or browser marks the session non-fresh instead of dropping it.
    login_manager.session_protection = "basic"

    # Cookies name a sign-in (qosyl/web/auth.py), checked against the database on every request.
    login_manager.user_loader(load_user)
    # API clients' sockets carry no cookie: their access token signed them in at connect.
    from qosyl.blueprints.main.events import load_token_socket_user

    login_manager.request_loader(load_token_socket_user)

    # Before CSRF protection, which reads the body: one that is not a form is refused first.
    app.before_request(refuse_non_form_body)
    csrf.init_app(app)
    # Not a bare `mail`: the qosyl.render.mail module takes that name in this package.
    extensions.mail.init_app(app)
    # Deployments sharing one Redis count apart: keys are "LIMITS:<channel>:...". Errors of an
    # unreachable store come as StorageError, which qosyl/ratelimits.py lets through.
    # A Redis that stops answering costs a count about two seconds (redis-py's default
    # retries ten times), then the count goes to this process's memory (qosyl/ratelimits.py).
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        {
            "key_prefix": f"LIMITS:{app.config['SOCKETIO_CHANNEL']}",
            "wrap_exceptions": True,
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
            "retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        },
    )
    limiter.init_app(app)
    # Handlers must be declared before init_app, which hands them to each new server.
    import qosyl.blueprints.chat.events  # noqa: F401
    import qosyl.blueprints.main.events  # noqa: F401
    import qosyl.blueprints.main.watch  # noqa: F401
    import qosyl.blueprints.meetings.events  # noqa: F401

    # SocketIO keeps the options of an earlier init_app (a Redis queue, say); each app
    # states its own, so an app without a queue never inherits one.
    socketio.server_options = {}
    queue = app.config["SOCKETIO_MESSAGE_QUEUE"]
    options = dict(
        async_mode=app.config["SOCKETIO_ASYNC_MODE"] or _default_async_mode(),
        # Cookies only ever come from our own pages.
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
    )
    # A Redis queue gets the manager that rides out a Redis restart (qosyl/live/queue.py).
    manager = live_queue.client_manager(queue, app.config["SOCKETIO_CHANNEL"])
    if manager is not None:
        options["client_manager"] = manager
    else:
        options.update(message_queue=queue, channel=app.config["SOCKETIO_CHANNEL"])
    socketio.init_app(app, **options)


def _default_async_mode() -> str:
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("socket"):
        return "eventlet"
    return "threading"


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith(("sqlite3", "pysqlite"))


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Readers do not wait for the writer (file databases only; memory ones ignore it).
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still never corrupts the file and keeps every commit through a
    # crash of the process; only a power cut may lose the last ones. It saves an fsync
    # per commit, which under eventlet would stall every green thread.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from qosyl.blueprints.accounts.routes import bp as accounts_bp
    from qosyl.blueprints.insights.routes import bp as insights_bp
    from qosyl.blueprints.main.routes import bp as main_bp
    from qosyl.blueprints.meetings.routes import bp as meetings_bp
    from qosyl.blueprints.messages.routes import bp as messages_bp
    from qosyl.blueprints.notifications.routes import bp as notifications_bp
    from qosyl.blueprints.people.routes import bp as people_bp
    from qosyl.blueprints.posts.routes import bp as posts_bp
    from qosyl.blueprints.profiles.routes import bp as profiles_bp
    from qosyl.blueprints.rooms.routes import bp as rooms_bp
    from qosyl.blueprints.settings.routes import bp as settings_bp

    blueprints = (
        main_bp,
        accounts_bp,
        profiles_bp,
        notifications_bp,
        people_bp,
        posts_bp,
        rooms_bp,
        messages_bp,
        meetings_bp,
        insights_bp,
        settings_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    from qosyl.blueprints.api import init_api

    init_api(app)


def _register_hooks(app: Flask) -> None:
    # Static files under hashed names, cached for a year and sent compressed.
    init_assets(app)
    # Registered first, so it runs last: it compresses the final body.
    init_compression(app)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", assets().content_security_policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
        if app.config.get("HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if app.config.get("NODE_NAME"):
            headers["X-Qosyl-Node"] = app.config["NODE_NAME"]
        return add_vary(response)
