"""The one place that opens user images (Pillow).

An upload is decided by its content, never its name: only JPEG, PNG, GIF and
WebP decoders are tried. Metadata (EXIF, GPS, ICC) is dropped by re-encoding,
orientation applied first; each image is stored as WebP at fixed sizes.

Decoding is the costly part (a flat 40 MP PNG of 168 KB takes ~1-2 s of CPU and ~200 MB),
so it is bounded three ways: a pixel budget per kind of image, checked on the header
before any pixel is decoded; JPEGs decoded at the smallest scale that still covers the
largest stored size; and at most IMAGE_DECODE_CONCURRENCY images at once per process,
each in a real OS thread when the process runs on eventlet (offload.py), so the event
loop keeps serving everyone else while Pillow works.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask import url_for
from PIL import ExifTags
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from qosyl import offload

ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/gif,image/webp"
FORMATS_TEXT = "a JPEG, PNG, GIF or WebP image"
# How long an upload waits for a decoding slot before it is refused rather than queued.
DECODE_WAIT_SECONDS = 30.0
BUSY_TEXT = "Too many images are being processed right now. Try again in a minute."
# EXIF orientations that turn the picture a quarter: width and height swap.
_QUARTER_TURNS = {5, 6, 7, 8}


@dataclass(frozen=True)
class ImageSpec:
    """What an image is for and the sizes it is stored at: name -> (width, height, crop).

    `max_pixels` caps what the header may claim for this kind (IMAGE_MAX_PIXELS caps
    every kind): decoding costs memory and time in proportion to the pixels.
    """

    kind: str
    variants: dict[str, tuple[int, int, bool]]
    max_pixels: int | None = None


# A profile picture or a banner needs far fewer pixels than a photo in a post.
AVATAR = ImageSpec(
    "avatar", {"thumb": (96, 96, True), "display": (400, 400, True)}, max_pixels=16_000_000
)
COVER = ImageSpec(
    "cover", {"thumb": (600, 200, True), "display": (1500, 500, True)}, max_pixels=16_000_000
)
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


def pixel_limit(spec: ImageSpec) -> int:
    """The most pixels an image of this kind may have."""
    configured = current_app.config["IMAGE_MAX_PIXELS"]
    return min(configured, spec.max_pixels) if spec.max_pixels else configured


def process_image(stream: BinaryIO, spec: ImageSpec) -> ProcessedImage:
    """Check and resize an upload. Raises ImageRejected with a message for the user.

    Under eventlet the caller's green thread waits (for a slot, then for the decoding) while
    the others run.
    """
    max_bytes = current_app.config["IMAGE_MAX_BYTES"]
    data = stream.read(max_bytes + 1)
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The image is larger than {limit_text(max_bytes)}.")
    if _looks_like_svg(data[:2048]):
        raise ImageRejected(f"SVG images are not accepted. Upload {FORMATS_TEXT}.")
    slots = current_app.config["IMAGE_DECODE_CONCURRENCY"]
    try:
        variants = offload.run(
            "images",
            slots,
            _decode_and_resize,
            data,
            spec,
            pixel_limit(spec),
            wait=DECODE_WAIT_SECONDS,
        )
    except offload.Busy:
        raise ImageRejected(BUSY_TEXT) from None
    return ProcessedImage(spec, variants)


# The Pillow work. It runs outside the request (maybe in another OS thread): no app context,
# only its arguments.


def _decode_and_resize(data: bytes, spec: ImageSpec, max_pixels: int) -> dict[str, bytes]:
    """Every size of `spec` as WebP bytes, or ImageRejected."""
    unreadable = ImageRejected(f"This file is not an image we can read. Upload {FORMATS_TEXT}.")
    try:
        image = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own ceiling, far above ours: it refuses (or, under warnings filters that
        # make its warning an error, warns) before we can read the size.
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
    if image.format == "JPEG":
        _decode_smaller(image, spec)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise unreadable from None

    ImageOps.exif_transpose(image, in_place=True)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    image.info.clear()  # resized copies inherit it: no EXIF, ICC or comments in our files

    encoded: dict[str, bytes] = {}
    made: list[tuple[tuple[int, int, bool], Image.Image]] = []
    largest_first = sorted(spec.variants.items(), key=lambda item: -item[1][0] * item[1][1])
    for name, (box_width, box_height, crop) in largest_first:
        # A smaller size of the same shape is made from a larger one already made: the
        # same picture, for a fraction of the work.
        source = next(
            (
                larger
                for (width, height, cropped), larger in made
                if cropped == crop
                and width >= box_width
                and height >= box_height
                and (not crop or width * box_height == height * box_width)
            ),
            image,
        )
        resized = _resized(source, box_width, box_height, crop)
        made.append(((box_width, box_height, crop), resized))
        out = BytesIO()
        resized.save(out, "WEBP", quality=82, method=4)
        encoded[name] = out.getvalue()
    return {name: encoded[name] for name in spec.variants}


def _decode_smaller(image: Image.Image, spec: ImageSpec) -> None:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 as it decodes, as far as every
    stored size is still covered: a quarter of the pixels is a quarter of the work."""
    width, height = image.size
    upright = (height, width) if _orientation(image) in _QUARTER_TURNS else (width, height)
    scale = max(_scale_needed(upright, box, crop) for *box, crop in spec.variants.values())
    if scale < 1:
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(ExifTags.Base.Orientation)
    except (OSError, SyntaxError, ValueError, EOFError):
        return None  # a broken EXIF block: exif_transpose will not turn it either


def _scale_needed(size: tuple[int, int], box: tuple[int, int], crop: bool) -> float:
    """The smallest scale of `size` from which this variant is made without enlarging."""
    width_scale, height_scale = box[0] / size[0], box[1] / size[1]
    return max(width_scale, height_scale) if crop else min(width_scale, height_scale)


def _resized(image: Image.Image, box_width: int, box_height: int, crop: bool) -> Image.Image:
    """Cropped to fill the box (centred), or shrunk to fit in it; never a copy of the whole.

    reducing_gap lets Pillow first shrink by a whole factor (cheap), then resample the rest.
    """
    width, height = image.size
    if crop:
        # The centred part of the image with the box's proportions.
        if width * box_height > height * box_width:
            part_width, part_height = height * box_width / box_height, height
        else:
            part_width, part_height = width, width * box_height / box_width
        left, top = (width - part_width) / 2, (height - part_height) / 2
        return image.resize(
            (box_width, box_height),
            Image.Resampling.LANCZOS,
            box=(left, top, left + part_width, top + part_height),
            reducing_gap=3.0,
        )
    scale = min(1.0, box_width / width, box_height / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


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
