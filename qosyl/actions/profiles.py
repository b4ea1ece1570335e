"""Profile fields and images."""

from __future__ import annotations

import pycountry

from qosyl.actions import ActionError
from qosyl.actions import check_storable
from qosyl.actions import Checks
from qosyl.actions import unproxy
from qosyl.actions.accounts import check_name
from qosyl.actions.uploads import image_from
from qosyl.actions.uploads import Upload
from qosyl.extensions import db
from qosyl.links import LinkError
from qosyl.links import normalise_link
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.live.oncommit import on_commit
from qosyl.live.oncommit import on_rollback
from qosyl.live.realtime import user_room
from qosyl.models import User
from qosyl.models.user import SOCIAL_LINKS
from qosyl.reads.insights import valid_time_zone
from qosyl.render import media

LINK_HOSTS = {name: hosts for name, _, hosts in SOCIAL_LINKS}
LINK_LABELS = {name: label for name, label, _ in SOCIAL_LINKS}
# The most characters each free-text field holds.
TEXT_LENGTHS = {"bio": 160, "about": 2000, "address": 120}
TEXT_FIELDS = (
    "first_name",
    "last_name",
    *TEXT_LENGTHS,
    "country",
    *(name for name, _, _ in SOCIAL_LINKS),
)
NAME_LABELS = {"first_name": "first name", "last_name": "last name"}


def _replace_image(
    user: User, attribute: str, kind: str, new: media.ProcessedImage | None, remove: bool
) -> None:
    old_key = getattr(user, attribute)
    if new is not None:
        key = media.store(new)
        # Written before commit: if the commit fails, the new files go again.
        on_rollback(lambda: media.delete_stored(kind, key))
        setattr(user, attribute, key)
    elif remove:
        setattr(user, attribute, None)
    else:
        return
    on_commit(lambda: media.delete_stored(kind, old_key))


def check_field(name: str, value: str) -> str:
    """A profile field's value as it will be stored ("" clears it); ActionError on `name`
    if it cannot be."""
    if name not in TEXT_FIELDS:
        raise ValueError(f"{name} is not a profile field")
    value = check_storable((value or "").strip(), name)
    if name in NAME_LABELS:
        return check_name(value, name, NAME_LABELS[name])
    if name in TEXT_LENGTHS and len(value) > TEXT_LENGTHS[name]:
        raise ActionError(f"Use at most {TEXT_LENGTHS[name]:,} characters.", name)
    if name == "country" and value and pycountry.countries.get(alpha_2=value) is None:
        raise ActionError("Not a valid choice.", name)
    if name in LINK_HOSTS:
        try:
            return normalise_link(value, label=LINK_LABELS[name], hosts=LINK_HOSTS[name])
        except LinkError as error:
            raise ActionError(error.message, name) from None
    return value


def update_profile(
    user: User,
    fields: dict[str, str],
    *,
    avatar: Upload | None = None,
    cover: Upload | None = None,
    remove_avatar: bool = False,
    remove_cover: bool = False,
) -> None:
    """Save profile fields (an empty string clears one; names may not) and images.

    Every value is checked (lengths, links, country) and every image decoded before
    anything changes; a refusal (Invalid, naming every field at fault) leaves the profile
    and the upload folder as they were.
    """
    checks = Checks()
    values = {name: checks.run(check_field, name, value) for name, value in fields.items()}
    new_avatar = checks.run(image_from, avatar, media.AVATAR, user_id=user.id, field="avatar")
    new_cover = checks.run(image_from, cover, media.COVER, user_id=user.id, field="cover")
    checks.done()
    for name, value in values.items():
        setattr(user, name, value)
    _replace_image(user, "avatar_key", "avatar", new_avatar, remove_avatar)
    _replace_image(user, "cover_key", "cover", new_cover, remove_cover)
    # The header of every open tab of theirs shows the new picture (or new initials).
    publish(events.ProfilePictureChanged(user_id=user.id, user=user, to=(user_room(user.id),)))
    db.session.commit()


CHOOSE_TIME_ZONE = "Choose a time zone from the list."


def set_time_zone(user: User, name: str) -> None:
    """Where the user's days start and end (insights cut their days there)."""
    zone = valid_time_zone(name)
    if zone is None:
        raise ActionError(CHOOSE_TIME_ZONE, "time_zone")
    unproxy(user).time_zone = zone
    db.session.commit()
