"""Every write goes through an action: change rows, queue pushes and mail, commit once."""


class ActionError(Exception):
    """A change the user asked for cannot be made; `message` is for them, `field` says where."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RateLimited(ActionError):
    """Refused for now, not for good: the same request succeeds after `retry_after` seconds."""

    def __init__(self, message: str, field: str | None = None, *, retry_after: int):
        super().__init__(message, field)
        self.retry_after = max(1, retry_after)


def unproxy(obj):
    """The object behind Flask-Login's `current_user` proxy, fit to keep in ORM state."""
    return obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
