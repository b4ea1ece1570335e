"""What `make cluster` relies on, without starting it: nginx's site file as the script fills it
in, the X-Qosyl-Node header, and client addresses read through one proxy (PROXY_COUNT).
tests/e2e/test_cluster.py starts the real thing."""

from __future__ import annotations

import re

import pytest

from config import Config
from qosyl.ops.cluster import max_body_size
from qosyl.ops.cluster import site_config
from tests.helpers import csrf_token


def test_the_site_file_lists_the_processes_and_carries_websockets():
    conf = site_config(["127.0.0.1:8001", "127.0.0.1:8002"], "127.0.0.1:8080")
    upstream = re.search(r"upstream qosyl \{(.*?)\}", conf, re.S).group(1)
    assert re.findall(r"^\s*server (\S+);", upstream, re.M) == ["127.0.0.1:8001", "127.0.0.1:8002"]
    # Sticky by the qosyl_node cookie, else by the client's address.
    assert "hash $qosyl_sticky consistent;" in upstream
    assert "listen 127.0.0.1:8080;" in conf
    for directive in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $qosyl_connection;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_read_timeout 1h;",
    ):
        assert directive in conf
    assert "{{" not in conf and "{%" not in conf


def test_nginx_takes_the_uploads_the_app_takes():
    conf = site_config(["127.0.0.1:8001"], "80")
    assert f"client_max_body_size {max_body_size(Config.MAX_CONTENT_LENGTH)};" in conf
    assert max_body_size(12 * 1024 * 1024) == "12m"
    assert max_body_size(2048) == "2k"
    assert max_body_size(1000) == "1000"


@pytest.mark.app_config(NODE_NAME="node7")
def test_a_named_process_says_it_answered(client):
    assert client.get("/healthz").headers["X-Qosyl-Node"] == "node7"


def test_an_unnamed_process_says_nothing(client):
    assert "X-Qosyl-Node" not in client.get("/healthz").headers


@pytest.mark.app_config(PROXY_COUNT=1, RATELIMIT_ENABLED=True)
def test_behind_the_proxy_sign_in_limits_count_each_client(app, client):
    """nginx connects from 127.0.0.1 for everyone; the limit counts the address it forwards
    (and only the one it appended: a client cannot pick its own)."""
    app.config["RATELIMIT_LOGIN_PER_IP"] = "2 per minute"
    token = csrf_token(client)

    def attempt(forwarded_for: str) -> int:
        return client.post(
            "/login",
            data={"login": "nobody", "password": "x", "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [422, 422, 429]
    assert attempt("203.0.113.2") == 422
    # A spoofed first hop does not help: the proxy's own entry is the last one.
    assert attempt("198.51.100.9, 203.0.113.1") == 429
