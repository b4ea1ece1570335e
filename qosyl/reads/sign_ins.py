"""Where a person is signed in: browsers and API clients, for the settings page."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from qosyl.extensions import db
from qosyl.models import LoginSession
from qosyl.models.base import utcnow


def sign_ins(user_id: int) -> list[LoginSession]:
    """The user's sign-ins still usable, most recently used first."""
    lapsed = utcnow() - current_app.config["SIGN_IN_LIFETIME"]
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.renewed_at > lapsed)
            .order_by(LoginSession.renewed_at.desc(), LoginSession.id.desc())
        )
    )


# (pattern, name) in the order to try: Edge and Opera also say "Chrome", Chrome "Safari".
_BROWSERS = (
    (r"Edg/", "Edge"),
    (r"OPR/", "Opera"),
    (r"Firefox/", "Firefox"),
    (r"Chrom(e|ium)/", "Chrome"),
    (r"Safari/", "Safari"),
)
_SYSTEMS = (
    (r"Android", "Android"),
    (r"iPhone|iPad", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux", "Linux"),
)


def device(user_agent: str) -> str:
    """A browser's User-Agent as people say it ("Firefox on Windows"); an app's as it
    names itself ("python-requests/2.32"); "Unknown device" without one."""

    def first(table):
        return next((name for pattern, name in table if re.search(pattern, user_agent)), None)

    browser, system = first(_BROWSERS), first(_SYSTEMS)
    if browser and system:
        return f"{browser} on {system}"
    return browser or user_agent.split(" ")[0][:60] or "Unknown device"
