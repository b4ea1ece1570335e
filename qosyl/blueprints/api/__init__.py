"""The JSON API under /api/: one more thin transport over the actions, reads and events.

Views parse input with marshmallow schemas (flask-smorest), call the same read helpers and
actions the pages call, and dump the result; every failure goes through the one JSON
translator in qosyl/errors.py. The OpenAPI 3.1 document is built from these schemas and
served at /api/openapi.json, with Swagger UI and ReDoc pages beside it (docs.py).
"""

from __future__ import annotations

import threading

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api

from qosyl.blueprints.api.core import ErrorSchema
from qosyl.blueprints.api.core import init_jwt
from qosyl.blueprints.api.schemas import AttachmentSchema
from qosyl.extensions import csrf
from qosyl.web.inputs import IdConverter
from qosyl.web.inputs import MAX_ID

DESCRIPTION = """Everything a person does in Qosyl's pages, for apps and scripts.

Sign in with `POST /api/auth/login/` to get an access token (15 minutes) and a refresh
token (14 days, single use: `POST /api/auth/refresh/` returns the next pair). Send the
access token as `Authorization: Bearer <token>`. Cookies never authenticate `/api/`.

Every error has one shape, `{"error": {"code", "message", "fields"}}`; `fields` maps a
field to its message (422). Lists take `limit` (1-100) and `cursor`, and return
`{"items": [...], "next": cursor-or-null}`.

Live events come over Socket.IO: connect with `auth={"token": <access token>}`; see
the "Live events" section below.
"""


class QosylApi(Api):
    """flask-smorest's Api, leaving error handling to qosyl/errors.py (it would otherwise
    answer every HTTP error of the whole site, pages included, with its own JSON)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


_document_lock = threading.Lock()


def document(app: Flask) -> dict:
    """The OpenAPI document, built from the views' schemas on first use and kept."""
    with _document_lock:
        built = app.extensions.get("qosyl.api.document")
        if built is None:
            api = app.extensions["qosyl.api"]
            # What flask-smorest's Api.register_blueprint does after registering with Flask.
            for blueprint in app.extensions["qosyl.api.blueprints"]:
                blueprint.register_views_in_doc(
                    api, app, api.spec, name=blueprint.name, parameters=None
                )
                api.spec.tag({"name": blueprint.name, "description": blueprint.description})
            # Nested only through Function fields, so named here for the document.
            api.spec.components.schema("Attachment", schema=AttachmentSchema)
            built = app.extensions["qosyl.api.document"] = _readable_tags(api.spec.to_dict())
        return built


def _readable_tags(document: dict) -> dict:
    """Tags read as the resources' names ("users"), not the blueprints' ("api_users")."""
    for tag in document.get("tags", []):
        tag["name"] = tag["name"].removeprefix("api_")
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [tag.removeprefix("api_") for tag in operation["tags"]]
    return document


def _id_parameter(converter) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": MAX_ID}


def init_api(app: Flask) -> None:
    from qosyl.blueprints.api import auth
    from qosyl.blueprints.api import comments
    from qosyl.blueprints.api import conversations
    from qosyl.blueprints.api import docs
    from qosyl.blueprints.api import insights
    from qosyl.blueprints.api import notifications
    from qosyl.blueprints.api import posts
    from qosyl.blueprints.api import rooms
    from qosyl.blueprints.api import social
    from qosyl.blueprints.api import users

    app.config.setdefault("API_SPEC_OPTIONS", {})
    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": DESCRIPTION + docs.LIVE_EVENTS},
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
        "security": [{"bearerAuth": []}],
        **app.config["API_SPEC_OPTIONS"],
    }
    # The document is served by docs.py (under the site's CSP), not by flask-smorest.
    app.config["OPENAPI_URL_PREFIX"] = None
    init_jwt(app)
    api = QosylApi(app)
    app.extensions["qosyl.api"] = api
    api.register_converter(IdConverter, _id_parameter)
    blueprints = [
        module.bp
        for module in (
            auth,
            users,
            social,
            notifications,
            posts,
            comments,
            conversations,
            rooms,
            insights,
        )
    ]
    # Registered with Flask only: their documentation is built on first use (document()),
    # which costs more than the rest of create_app together (every test makes an app).
    for blueprint in blueprints:
        app.extensions["flask-smorest"]["blp_name_to_api"][blueprint.name] = api
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.extensions["qosyl.api.blueprints"] = blueprints
    app.register_blueprint(docs.bp)
    CORS(
        app,
        resources={r"/api/*": {"origins": app.config["API_CORS_ORIGINS"]}},
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After", "X-RateLimit-Remaining"],
        supports_credentials=False,
    )
