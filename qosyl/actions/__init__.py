"""Every write goes through an action: change rows, queue pushes and mail, commit once."""

import re

from qosyl.errors import ActionError  # noqa: F401  (the family, re-exported for actions)
from qosyl.errors import Checks  # noqa: F401
from qosyl.errors import Forbidden  # noqa: F401
from qosyl.errors import Invalid  # noqa: F401
from qosyl.errors import NotFound  # noqa: F401
from qosyl.errors import RateLimited  # noqa: F401


def unproxy(obj):
    """The object behind Flask-Login's `current_user` proxy, fit to keep in ORM state."""
    return obj._get_current_object() if hasattr(obj, "_get_current_object") else obj


# A NUL byte or a lone surrogate half cannot be stored (PostgreSQL refuses NUL in text, and
# UTF-8 has no surrogates): JSON and Socket.IO payloads can carry both, forms the first.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "Remove the invisible characters this text holds (a NUL byte or a broken emoji)."


def storable(text: str) -> bool:
    """Whether every database can store `text`."""
    return _UNSTORABLE.search(text) is None


def check_storable(text: str, field: str | None) -> str:
    """`text`, or ActionError on `field` when it holds what no database can store."""
    if not storable(text):
        raise ActionError(UNSTORABLE_TEXT, field)
    return text


def without_unstorable(text: str) -> str:
    """`text` without what no database can store (for ids the client picks, not prose)."""
    return _UNSTORABLE.sub("", text)
