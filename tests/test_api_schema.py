"""The API against its own OpenAPI document, with schemathesis: for every operation, requests
generated from the document (valid and invalid) get no 5xx and only answers the document
describes (status, content type, body schema).

Bounded so that CI stays short: API_SCHEMA_EXAMPLES examples per operation (default 6).
A small world gives the generated ids something to find (ids 1-3 exist for most things).

Every check schemathesis has runs but one, positive_data_acceptance: it expects every
request the document allows to succeed, and the actions apply rules JSON Schema cannot
state (a password's strength, a username already taken, an image that does not decode,
an id that names nothing): those answer 4xx with their message, as documented.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import positive_data_acceptance

from qosyl import create_app
from qosyl.actions import rooms as room_actions
from qosyl.blueprints.api import document
from tests import factories
from tests.helpers import api_tokens
from tests.helpers import bearer

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "6"))


_COLLECTION_APP = create_app("testing")
with _COLLECTION_APP.test_request_context():
    DOCUMENT = document(_COLLECTION_APP)
del _COLLECTION_APP
OPERATIONS = sorted(
    (path, method)
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


def _world(app, user, other_user, carol) -> None:
    factories.befriend(app, user, other_user)
    factories.block(app, carol, user)
    post_id = factories.write_post(app, other_user, "A post to find #tea")
    factories.write_comment(app, user, post_id, "A comment")
    factories.start_conversation(app, user, other_user)
    room_id = factories.make_room(app, user)
    factories.with_room(app, room_id, room_actions.join, other_user)
    factories.say_in_room(app, user, room_id, "A message to find")


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_the_operation_keeps_to_the_document(app, user, other_user, make_user, path, method):
    _world(app, user, other_user, make_user(username="carol"))
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # Signing out revokes the token the next examples would use: each has its own.
        token = api_tokens(app, user)["access_token"]
        # Schemathesis asks for gzip but reads a WSGI app's body as it comes: ask for none.
        headers = {**bearer(token), "Accept-Encoding": "identity"}
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
