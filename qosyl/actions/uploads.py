"""Uploaded files as actions take them: the raw stream and the name it came with.

Forms (and any other way in) only hand the upload over; the action counts it against
RATELIMIT_UPLOADS, decodes and checks it (media.py, attachments.py) and refuses it with an
ActionError on its field, so every way in refuses the same file with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from qosyl.actions import ActionError
from qosyl.ratelimits import too_often
from qosyl.ratelimits import UPLOADS
from qosyl.render import attachments
from qosyl.render import media


@dataclass(frozen=True)
class Upload:
    """A file someone sent: read from `stream`; `filename` is theirs, never trusted."""

    stream: BinaryIO
    filename: str = ""


def count_upload(user_id: int, field: str) -> None:
    """Count one upload by `user_id`; ActionError on `field` if they are over the limit.
    Called before the file is read: decoding is the cost."""
    refusal = too_often(UPLOADS, user_id, "uploading")
    if refusal:
        raise ActionError(refusal, field)


def image_from(
    upload: Upload | None, spec: media.ImageSpec, *, user_id: int, field: str
) -> media.ProcessedImage | None:
    """The upload decoded and resized for `spec` (nothing is stored yet), or None for no
    upload. Refusals are ActionErrors on `field`."""
    if upload is None:
        return None
    count_upload(user_id, field)
    try:
        return media.process_image(upload.stream, spec)
    except media.ImageRejected as error:
        raise ActionError(str(error), field) from None


def attachment_from(
    upload: Upload | None, *, user_id: int, field: str
) -> attachments.StoredAttachment | None:
    """The upload checked and written to disk, or None for no upload. Refusals are
    ActionErrors on `field`; nothing is written for a refused file. The caller removes the
    files again if no message ends up keeping them."""
    if upload is None:
        return None
    count_upload(user_id, field)
    try:
        return attachments.store_attachment(upload.stream, upload.filename)
    except attachments.AttachmentRejected as error:
        raise ActionError(str(error), field) from None
