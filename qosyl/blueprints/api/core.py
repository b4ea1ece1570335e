"""What every API endpoint shares: token authentication, error documentation, cursors.

A request to /api/ is signed in by its bearer token alone. Cookies never count here, so a
page on another site cannot act through a visitor's browser session, and CSRF tokens are
not asked for. The token names a sign-in (a LoginSession row of kind "api"); it is looked up
on every request with the user, in one query, so a revoked sign-in stops at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app
from flask import g
from flask import request
from flask_jwt_extended import create_access_token
from flask_jwt_extended import create_refresh_token
from flask_jwt_extended import decode_token
from flask_jwt_extended import JWTManager
from flask_jwt_extended import verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_login import AnonymousUserMixin
from flask_smorest import abort
from flask_smorest import Blueprint
from jwt import ExpiredSignatureError
from jwt import InvalidTokenError
from sqlalchemy import select

from qosyl import ratelimits
from qosyl.errors import json_error
from qosyl.errors import MESSAGES
from qosyl.errors import RateLimited
from qosyl.extensions import db
from qosyl.models import LoginSession
from qosyl.models import User

jwt = JWTManager()

NO_TOKEN = "Send an access token: Authorization: Bearer <token> (POST /api/auth/login/)."
EXPIRED = "The access token has expired: get a new one from POST /api/auth/refresh/."
INVALID = "The token is not valid."
REVOKED = "This token was revoked (signed out, password changed or account deleted)."
BAD_CURSOR = "The cursor is not valid: pass back the `next` value as given."
WRONG_KIND = "Use an access token here; refresh tokens only go to POST /api/auth/refresh/."

ERROR_DESCRIPTIONS = {
    400: "Malformed request (not JSON, a bad cursor ...).",
    401: "No token, or an expired or revoked one.",
    403: "Not allowed.",
    404: "No such thing, or the caller may not know it exists.",
    409: "The current state refuses the change.",
    413: "The upload is too large.",
    422: "Some fields are not valid: `fields` maps each to its message.",
    429: "Too many requests: wait for Retry-After seconds.",
}


class ErrorSchema(ma.Schema):
    class Detail(ma.Schema):
        code = ma.fields.String(required=True, metadata={"example": "not_found"})
        message = ma.fields.String(required=True)
        fields = ma.fields.Dict(
            keys=ma.fields.String(),
            values=ma.fields.String(),
            required=True,
            metadata={"description": "Message per field (empty when about no field)."},
        )

    error = ma.fields.Nested(Detail, required=True)


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose views need an access token unless marked `public`,
    and whose operations document their errors with `errors(...)`."""

    def __init__(self, name: str, url_prefix: str, description: str):
        super().__init__(f"api_{name}", __name__, url_prefix=url_prefix, description=description)
        self.name_in_docs = name
        self.before_request(authenticate_request)

    def errors(self, *statuses: int) -> Callable:
        """Document these error statuses (401 and 429 come with every token endpoint)."""

        def document(view: Callable) -> Callable:
            # A stable name per operation, for generated clients and the docs' anchors.
            doc = getattr(view, "_apidoc", {})
            doc.setdefault("manual_doc", {}).setdefault(
                "operationId", f"{self.name_in_docs}_{view.__name__}"
            )
            view._apidoc = doc
            codes = set(statuses) | ({400} if _takes_input(view) else set())
            if not getattr(view, "api_public", False):
                codes |= {401, 429}
            for status in sorted(codes):
                view = self.alt_response(
                    status, schema=ErrorSchema, description=ERROR_DESCRIPTIONS[status]
                )(view)
            return view

        return document


def _takes_input(view: Callable) -> bool:
    return bool(getattr(view, "_apidoc", {}).get("arguments"))


def public(view: Callable) -> Callable:
    """This operation needs no token (sign-up, sign-in, refresh)."""
    view.api_public = True
    doc = getattr(view, "_apidoc", {})
    doc.setdefault("manual_doc", {})["security"] = []
    view._apidoc = doc
    return view


def signed_in_api_user(user_id: int, login_id: int) -> User | None:
    """The verified user of a live API sign-in; one query."""
    row = db.session.execute(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == user_id,
            LoginSession.id == login_id,
            LoginSession.kind == "api",
            User.email_verified_at.is_not(None),
        )
    ).first()
    if row is None:
        return None
    user = row[0]
    user.login_id = login_id
    return user


def user_for_access_token(token: str) -> tuple[User | None, str | None, int]:
    """(user, None, expiry) for a good access token; (None, reason, 0) otherwise. For the
    Socket.IO handshake, which carries the token in its auth payload."""
    try:
        claims = decode_token(token)
    except ExpiredSignatureError:
        return None, EXPIRED, 0
    except (InvalidTokenError, JWTExtendedException):
        return None, INVALID, 0
    if claims.get("type") != "access":
        return None, WRONG_KIND, 0
    user = _claims_user(claims)
    if user is None:
        return None, REVOKED, 0
    return user, None, int(claims["exp"])


def _claims_user(claims: dict[str, Any]) -> User | None:
    try:
        user_id, login_id = int(claims["sub"]), int(claims["sid"])
    except (KeyError, TypeError, ValueError):
        return None
    return signed_in_api_user(user_id, login_id)


def authenticate_request() -> None:
    """Before every API view: the bearer token's user becomes `current_user` for this
    request (Flask-Login then never reads the cookie); public views run anonymous."""
    g._login_user = AnonymousUserMixin()
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "api_public", False) or request.method == "OPTIONS":
        return
    verify_jwt_in_request()  # raises for a missing, malformed, expired or refresh token
    user = g.api_user
    g._login_user = user
    _count_request(user.login_id)


def _count_request(login_id: int) -> None:
    """RATELIMIT_API requests per sign-in (token family), beside the per-action limits."""
    if not ratelimits.allow(ratelimits.API, login_id):
        wait = ratelimits.seconds_until_allowed(ratelimits.API, login_id)
        raise RateLimited(MESSAGES[429], retry_after=wait)


def issue_tokens(user: User, login_id: int, refresh_id: str) -> dict[str, Any]:
    """An access and a refresh token for a sign-in, as the auth endpoints return them."""
    claims = {"sid": login_id}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(
        identity=str(user.id), additional_claims={**claims, "jti": refresh_id}
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
        "user": user,
    }


def _unauthorized(message: str, code: str = "unauthorized"):
    return json_error(401, message, code=code, headers={"WWW-Authenticate": 'Bearer realm="qosyl"'})


def init_jwt(app) -> None:
    if not app.config.get("JWT_SECRET_KEY"):
        # A key of its own, derived: a token signature can never pass for a cookie's.
        derived = hashlib.sha256(("qosyl.jwt:" + app.config["SECRET_KEY"]).encode())
        app.config["JWT_SECRET_KEY"] = derived.hexdigest()
    # Tokens travel in headers only, so no cookie CSRF claim is needed in them.
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False
    jwt.init_app(app)

    @jwt.user_lookup_loader
    def lookup(header, claims):
        user = _claims_user(claims)
        g.api_user = user
        return user

    @jwt.user_lookup_error_loader
    def revoked(header, claims):
        return _unauthorized(REVOKED, "token_revoked")

    @jwt.expired_token_loader
    def expired(header, claims):
        return _unauthorized(EXPIRED, "token_expired")

    @jwt.invalid_token_loader
    def invalid(reason):
        # A refresh token sent as an access token lands here too (WrongTokenError).
        message = WRONG_KIND if "refresh" in reason.lower() else INVALID
        return _unauthorized(message, "token_invalid")

    @jwt.unauthorized_loader
    def missing(reason):
        return _unauthorized(NO_TOKEN)


# Cursor pagination: the cursor is opaque to clients (base64 of the keys of the last item
# given), so lists can change their keys without breaking anyone.


def encode_cursor(*keys: int | str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(keys)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: type) -> tuple | None:
    """The keys in a cursor, checked against `types`; None for no cursor; 400 otherwise."""
    if not cursor:
        return None
    try:
        keys = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        keys = None
    if (
        not isinstance(keys, list)
        or len(keys) != len(types)
        or not all(type(key) is kind for key, kind in zip(keys, types, strict=True))
    ):
        abort(400, message=BAD_CURSOR)
    from qosyl.web.inputs import MAX_ID

    if any(isinstance(key, int) and not 0 <= key <= MAX_ID for key in keys):
        abort(400, message=BAD_CURSOR)
    return tuple(keys)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "Items per page (1-100)."},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The `next` value of the previous page."},
    )


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of `item`: {"items": [...], "next": cursor or null}."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
            "next": ma.fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Cursor of the next page; null on the last."},
            ),
        },
    )


def page(rows: list, limit: int, key: Callable[[Any], tuple]) -> dict[str, Any]:
    """The first `limit` of `rows` (fetched with limit + 1) and the cursor after them."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": encode_cursor(*key(rows[-1])) if more and rows else None}
