"""The one place that opens user images (Pillow).

An upload is decided by its content, never its name: only JPEG, PNG, GIF and
WebP decoders are tried. Metadata (EXIF, GPS, ICC) is dropped by re-encoding,
orientation applied first; each image is stored as WebP at fixed sizes.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask import url_for
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/gif,image/webp"
FORMATS_TEXT = "a JPEG, PNG, GIF or WebP image"


@dataclass(frozen=True)
class ImageSpec:
    """What an image is for and the sizes it is stored at: name -> (width, height, crop)."""

    kind: str
    variants: dict[str, tuple[int, int, bool]]


AVATAR = ImageSpec("avatar", {"thumb": (96, 96, True), "display": (400, 400, True)})
COVER = ImageSpec("cover", {"thumb": (600, 200, True), "display": (1500, 500, True)})
POST_IMAGE = ImageSpec("post", {"thumb": (640, 640, False), "display": (1600, 1600, False)})
# Message attachments are private: not in SPECS, so the public media route never serves them.
ATTACHMENT_IMAGE = ImageSpec(
    "attachment", {"thumb": (320, 320, False), "display": (1600, 1600, False)}
)
SPECS = {spec.kind: spec for spec in (AVATAR, COVER, POST_IMAGE)}


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message is for the user."""


@dataclass(frozen=True)
class ProcessedImage:
    spec: ImageSpec
    variants: dict[str, bytes]


def limit_text(limit: int) -> str:
    """A byte count as people read it: 5 MB, 300 KB."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.3g} MB"
    return f"{limit / 1024:.0f} KB"


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in text[:1024]


def process_image(stream: BinaryIO, spec: ImageSpec) -> ProcessedImage:
    """Check and resize an upload. Raises ImageRejected with a message for the user."""
    max_bytes = current_app.config["IMAGE_MAX_BYTES"]
    max_pixels = current_app.config["IMAGE_MAX_PIXELS"]
    data = stream.read(max_bytes + 1)
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The image is larger than {limit_text(max_bytes)}.")
    if _looks_like_svg(data[:2048]):
        raise ImageRejected(f"SVG images are not accepted. Upload {FORMATS_TEXT}.")
    unreadable = ImageRejected(f"This file is not an image we can read. Upload {FORMATS_TEXT}.")
    with warnings.catch_warnings():
        # Pillow only warns below twice its own pixel limit; treat that as a refusal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("The image has too many pixels to process.") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise unreadable from None
        # The header gives the size: refuse before decoding a single pixel.
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(
                f"The image is {width}×{height} pixels; the limit is "
                f"{max_pixels / 1_000_000:g} megapixels."
            )
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError):
            raise unreadable from None

    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.info.clear()

    variants = {}
    for name, (width, height, crop) in spec.variants.items():
        if crop:
            resized = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
        else:
            resized = image.copy()
            resized.thumbnail((width, height), Image.Resampling.LANCZOS)
        out = BytesIO()
        resized.save(out, "WEBP", quality=82, method=4)
        variants[name] = out.getvalue()
    return ProcessedImage(spec, variants)


def _folder(kind: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / kind


def store(processed: ProcessedImage) -> str:
    """Write every size to disk under a new random key and return the key."""
    key = secrets.token_hex(16)
    folder = _folder(processed.spec.kind)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in processed.variants.items():
        (folder / f"{key}_{name}.webp").write_bytes(data)
    return key


def delete_stored(kind: str, key: str | None) -> None:
    if not key:
        return
    for name in SPECS[kind].variants:
        (_folder(kind) / f"{key}_{name}.webp").unlink(missing_ok=True)


def image_url(kind: str, key: str | None, variant: str = "display") -> str | None:
    if not key:
        return None
    return url_for("main.media_file", kind=kind, filename=f"{key}_{variant}.webp")
