"""ICE servers for the browsers of a meeting (issue 12).

The servers come from configuration (WEBRTC_ICE_SERVERS, JSON). For TURN, Qosyl issues
time-limited credentials per user from a secret it shares with the TURN server: the
"TURN REST API" scheme coturn implements with `use-auth-secret` / `static-auth-secret`.
The username is "<expiry, Unix seconds>:<user id>" and the password is
base64(HMAC-SHA1(secret, username)); the TURN server checks both without asking anyone,
and refuses the username once its time has passed. The secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from flask import current_app


def configured_ice_servers(value: str | list) -> list[dict[str, Any]]:
    """WEBRTC_ICE_SERVERS read (a JSON text, or the list itself), or ValueError saying what
    is wrong with it."""
    try:
        servers = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        servers = None
    if not isinstance(servers, list) or not all(
        isinstance(server, dict) and isinstance(server.get("urls"), (str, list))
        for server in servers
    ):
        raise ValueError(
            'WEBRTC_ICE_SERVERS must be a JSON list of objects with "urls", '
            'e.g. [{"urls": "stun:stun.example.org:3478"}]'
        )
    return servers


def turn_urls(value: str | list) -> list[str]:
    """TURN_URLS: comma-separated, or a list already."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [url.strip() for url in items if url.strip()]


def turn_credentials(secret: str, user_id: int, seconds: int, now: float) -> tuple[str, str]:
    """(username, credential) valid until `now + seconds`, as coturn's use-auth-secret checks."""
    username = f"{int(now) + seconds}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(user_id: int, now: float | None = None) -> list[dict[str, Any]]:
    """RTCPeerConnection's `iceServers` for this user: the configured servers, and the TURN
    servers with fresh credentials when TURN_URLS and TURN_SECRET are set."""
    config = current_app.config
    servers = [dict(server) for server in configured_ice_servers(config["WEBRTC_ICE_SERVERS"])]
    urls = turn_urls(config.get("TURN_URLS") or [])
    secret = config.get("TURN_SECRET")
    if urls and secret:
        username, credential = turn_credentials(
            secret,
            user_id,
            int(config["TURN_CREDENTIAL_SECONDS"]),
            time.time() if now is None else now,
        )
        servers.append({"urls": urls, "username": username, "credential": credential})
    return servers


def ice_transport_policy() -> str:
    """RTCPeerConnection's `iceTransportPolicy`: "relay" (media only through TURN) when
    configured so, else "all"."""
    return "relay" if current_app.config.get("WEBRTC_ICE_TRANSPORT_POLICY") == "relay" else "all"
