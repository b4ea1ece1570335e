"""Every operation of the JSON API, read from its own OpenAPI document, sent what clients get
wrong: no token, an expired one, a revoked one, a malformed body, an id too large to exist.
Each is refused in the one error shape and changes nothing. A new endpoint is swept without
being listed here."""

from __future__ import annotations

import re

import pytest

from qosyl import create_app
from qosyl.blueprints.api import document
from tests.helpers import api_error
from tests.helpers import api_tokens
from tests.helpers import bearer
from tests.helpers import count_queries
from tests.helpers import expired_access_token

_COLLECTION_APP = create_app("testing")
with _COLLECTION_APP.test_request_context():
    DOCUMENT = document(_COLLECTION_APP)
del _COLLECTION_APP

OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in {"get", "post", "put", "patch", "delete"}
)
SECURED = [(method, path) for method, path, op in OPERATIONS if op.get("security") != []]
WITH_JSON_BODY = [
    (method, path)
    for method, path, op in OPERATIONS
    if "application/json" in op.get("requestBody", {}).get("content", {})
]
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _url(path: str, number: int = 1) -> str:
    return re.sub(r"\{[^}]+\}", str(number), path)


def _send(client, method: str, path: str, headers: dict, number: int = 1):
    kwargs = {"json": {}} if (method, path) in WITH_JSON_BODY else {}
    return client.open(_url(path, number), method=method, headers=headers, **kwargs)


def test_the_sweep_reads_the_operations():
    assert ("POST", "/api/auth/login/") in [(m, p) for m, p, _ in OPERATIONS]
    assert ("GET", "/api/users/me/") in SECURED
    assert ("POST", "/api/auth/login/") not in SECURED


@pytest.mark.parametrize("who", ["anonymous", "expired", "revoked", "garbage"])
def test_every_secured_operation_refuses_without_a_good_token(app, user, who):
    client = app.test_client()
    if who == "anonymous":
        headers, code = {}, "unauthorized"
    elif who == "expired":
        headers, code = bearer(expired_access_token(app, user)), "token_expired"
    elif who == "revoked":
        tokens = api_tokens(app, user)
        headers, code = bearer(tokens["access_token"]), "token_revoked"
        assert client.post("/api/auth/logout/", headers=headers).status_code == 204
    else:
        headers, code = bearer("e30.e30.e30"), "token_invalid"
    problems = []
    for method, path in SECURED:
        with count_queries(app) as log:
            response = _send(client, method, path, headers)
        if response.status_code != 401:
            problems.append(f"{method} {path}: {response.status_code}")
            continue
        if api_error(response, 401)["code"] != code:
            problems.append(f"{method} {path}: code {response.json['error']['code']}")
        if "Bearer" not in response.headers.get("WWW-Authenticate", ""):
            problems.append(f"{method} {path}: no WWW-Authenticate")
        writes = [sql for sql in log.statements if WRITES.match(sql)]
        if writes:
            problems.append(f"{method} {path}: wrote {writes}")
    assert not problems, "\n".join(problems)


def test_a_malformed_json_body_is_400_everywhere(app, user):
    client = app.test_client()
    headers = {**bearer(api_tokens(app, user)["access_token"]), "Content-Type": "application/json"}
    problems = []
    for method, path in WITH_JSON_BODY:
        response = client.open(_url(path), method=method, headers=headers, data="{nope")
        if response.status_code not in (400, 404):
            problems.append(f"{method} {path}: {response.status_code}")
        else:
            api_error(response, response.status_code)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("huge", [2**31, 2**63])
def test_ids_too_large_to_exist_are_404(app, user, huge):
    client = app.test_client()
    headers = bearer(api_tokens(app, user)["access_token"])
    problems = []
    for method, path, _ in OPERATIONS:
        if "{" not in path:
            continue
        response = _send(client, method, path, headers, number=huge)
        if response.status_code not in (404, 405):
            problems.append(f"{method} {path}: {response.status_code}")
        else:
            api_error(response, response.status_code)
    assert not problems, "\n".join(problems)


def test_every_operation_documents_its_errors_and_a_summary():
    problems = []
    for method, path, operation in OPERATIONS:
        documented = set(operation["responses"])
        needed = {"429"} | ({"401"} if operation.get("security") != [] else set())
        if operation.get("requestBody") or any(
            p.get("in") == "query" for p in operation.get("parameters", [])
        ):
            needed |= {"422"}
        if "{" in path:
            needed |= {"404"}
        missing = needed - documented
        if missing:
            problems.append(f"{method} {path}: undocumented {sorted(missing)}")
        if not operation.get("summary"):
            problems.append(f"{method} {path}: no summary (the view's docstring)")
    assert not problems, "\n".join(problems)
