"""Every write goes through an action: change rows, queue pushes and mail, commit once."""

from qosyl.errors import ActionError  # noqa: F401  (the family, re-exported for actions)
from qosyl.errors import Checks  # noqa: F401
from qosyl.errors import Forbidden  # noqa: F401
from qosyl.errors import Invalid  # noqa: F401
from qosyl.errors import NotFound  # noqa: F401
from qosyl.errors import RateLimited  # noqa: F401


def unproxy(obj):
    """The object behind Flask-Login's `current_user` proxy, fit to keep in ORM state."""
    return obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
