"""Sign-up and tokens: register, login, refresh (with rotation), logout."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask import request
from flask_jwt_extended import decode_token
from flask_login import current_user
from jwt import ExpiredSignatureError
from jwt import InvalidTokenError

from qosyl import ratelimits
from qosyl.actions import accounts
from qosyl.actions import RateLimited
from qosyl.actions import unproxy
from qosyl.blueprints.api.core import ApiBlueprint
from qosyl.blueprints.api.core import INVALID
from qosyl.blueprints.api.core import issue_tokens
from qosyl.blueprints.api.core import public
from qosyl.blueprints.api.schemas import UserSummary
from qosyl.errors import SignedOut
from qosyl.extensions import limiter

bp = ApiBlueprint("auth", "/api/auth", "Sign up, sign in and keep tokens fresh.")


def _limit(name: str):
    return lambda: current_app.config[name]


class RegisterArgs(ma.Schema):
    first_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    last_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    username = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    email = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    password = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))


class Registered(ma.Schema):
    user = ma.fields.Nested(UserSummary, required=True)
    message = ma.fields.String(required=True)


class LoginArgs(ma.Schema):
    login = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=254),
        metadata={"description": "Username or email address."},
    )
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=1000))


class Tokens(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(
        required=True, metadata={"description": "Single use: each refresh returns the next."}
    )
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds the access token lives."}
    )
    user = ma.fields.Nested(UserSummary, required=True)


class RefreshArgs(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(max=4000))


@bp.route("/register/", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_REGISTER"))
@public
@bp.errors(409, 422, 429)
@bp.arguments(RegisterArgs)
@bp.response(201, Registered)
def register(args):
    """Create an account; it signs in once its address is verified from the mailed link."""
    user = accounts.register_user(**args)
    return {
        "user": user,
        "message": f"We sent a link to {user.email}: open it to verify the address, then sign in.",
    }


@bp.route("/login/", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN_PER_IP"))
@public
@bp.errors(401, 403, 422, 429)
@bp.arguments(LoginArgs)
@bp.response(200, Tokens)
def login(args):
    """Exchange a username (or email) and password for an access and a refresh token.

    A wrong login or password is 401 (never saying which, as on the web); an unverified
    account is 403 and gets no token."""
    client = ratelimits.sign_in_client()
    account = ratelimits.sign_in_account(args["login"])
    wait = ratelimits.count_sign_in_attempt(client, account)
    if wait is not None:
        raise RateLimited(
            "Too many failed sign-ins to this account from your network. Try again later, or "
            "reset your password.",
            retry_after=wait,
        )
    user = accounts.user_signing_in(args["login"], args["password"])
    ratelimits.forget_sign_in_failures(client, account)
    login_id, refresh_id = accounts.open_api_session(user, request.user_agent.string)
    return issue_tokens(user, login_id, refresh_id)


@bp.route("/refresh/", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN_PER_IP"))
@public
@bp.errors(401, 422, 429)
@bp.arguments(RefreshArgs)
@bp.response(200, Tokens)
def refresh(args):
    """Trade a refresh token for a new pair. Each refresh token works once: presenting
    one again revokes every token of its sign-in (it must have been copied)."""
    try:
        claims = decode_token(args["refresh_token"])
    except ExpiredSignatureError:
        raise SignedOut("The refresh token has expired. Sign in again.") from None
    except InvalidTokenError:
        raise SignedOut(INVALID) from None
    if claims.get("type") != "refresh":
        raise SignedOut("Send a refresh token here, not an access token.")
    try:
        user_id, login_id = int(claims["sub"]), int(claims["sid"])
    except (KeyError, TypeError, ValueError):
        raise SignedOut(INVALID) from None
    user, next_id = accounts.renew_api_session(user_id, login_id, str(claims.get("jti", "")))
    return issue_tokens(user, login_id, next_id)


@bp.route("/logout/", methods=["POST"])
@bp.errors()
@bp.response(204)
def logout():
    """Revoke this sign-in: its access and refresh tokens stop working at once."""
    accounts.close_login_session(unproxy(current_user))
    return None
