"""Profile fields and images."""

from __future__ import annotations

from qosyl import media
from qosyl.actions import ActionError
from qosyl.extensions import db
from qosyl.links import LinkError
from qosyl.links import normalise_link
from qosyl.live import events
from qosyl.live.bus import publish
from qosyl.models import User
from qosyl.models.user import SOCIAL_LINKS
from qosyl.oncommit import on_commit
from qosyl.oncommit import on_rollback
from qosyl.realtime import user_room

LINK_HOSTS = {name: hosts for name, _, hosts in SOCIAL_LINKS}
LINK_LABELS = {name: label for name, label, _ in SOCIAL_LINKS}
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "bio",
    "about",
    "address",
    "country",
    *(name for name, _, _ in SOCIAL_LINKS),
)


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


def update_profile(
    user: User,
    fields: dict[str, str],
    *,
    avatar: media.ProcessedImage | None = None,
    cover: media.ProcessedImage | None = None,
    remove_avatar: bool = False,
    remove_cover: bool = False,
) -> None:
    """Save profile fields (an empty string clears one) and images.

    Precondition: the form validated the values and processed the images. Links
    are checked (and normalised) here as well, so every way in refuses the same
    ones: ActionError names the field.
    """
    for name, value in fields.items():
        if name not in TEXT_FIELDS:
            raise ValueError(f"{name} is not a profile field")
        value = value.strip()
        if name in LINK_HOSTS:
            try:
                value = normalise_link(value, label=LINK_LABELS[name], hosts=LINK_HOSTS[name])
            except LinkError as error:
                raise ActionError(error.message, name) from None
        setattr(user, name, value)
    _replace_image(user, "avatar_key", "avatar", avatar, remove_avatar)
    _replace_image(user, "cover_key", "cover", cover, remove_cover)
    # The header of every open tab of theirs shows the new picture (or new initials).
    publish(events.ProfilePictureChanged(user_id=user.id, user=user, to=(user_room(user.id),)))
    db.session.commit()
