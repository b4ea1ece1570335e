"""media.py: uploads decided by content, cleaned and resized, or refused clearly (PRO-2)."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from qosyl import media
from tests import images


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def process(data: bytes, spec=media.AVATAR) -> media.ProcessedImage:
    return media.process_image(BytesIO(data), spec)


def test_avatar_is_stored_as_square_webp_at_two_sizes(ctx):
    processed = process(images.png(300, 200))
    sizes = {name: Image.open(BytesIO(data)) for name, data in processed.variants.items()}
    assert {name: img.size for name, img in sizes.items()} == {
        "thumb": (96, 96),
        "display": (400, 400),
    }
    assert {img.format for img in sizes.values()} == {"WEBP"}


def test_exif_is_dropped_after_the_orientation_is_applied(ctx):
    processed = process(images.jpeg_with_gps_and_rotation(400, 200), media.POST_IMAGE)
    display = Image.open(BytesIO(processed.variants["display"]))
    assert display.size == (200, 400)  # turned upright as the camera asked
    assert not display.getexif()
    assert "exif" not in display.info
    assert b"PhoneMaker" not in processed.variants["display"]


def test_transparency_is_kept(ctx):
    processed = process(images.png(50, 50, color=(0, 0, 0, 0), mode="RGBA"), media.POST_IMAGE)
    display = Image.open(BytesIO(processed.variants["display"]))
    assert display.mode == "RGBA"
    assert display.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (images.SVG, "SVG images are not accepted."),
        (images.HTML_AS_PNG, "This file is not an image we can read."),
        (images.TRUNCATED_PNG, "This file is not an image we can read."),
        (b"%PDF-1.7\n" + b"0" * 200, "This file is not an image we can read."),
        (images.png_header_only(8000, 6000), "8000×6000 pixels; the limit is 40 megapixels"),
        (images.png_header_only(200_000, 200_000), "too many pixels"),
    ],
)
def test_refused_uploads_say_why(ctx, data, message):
    with pytest.raises(media.ImageRejected) as error:
        process(data)
    assert message in str(error.value)


def test_files_over_the_size_limit_are_refused(ctx):
    ctx.config["IMAGE_MAX_BYTES"] = 10_000
    with pytest.raises(media.ImageRejected, match="larger than 10 KB"):
        process(images.noisy_png(100, 100))


def test_bmp_and_tiff_decoders_are_never_tried(ctx):
    for kind in ("BMP", "TIFF"):
        out = BytesIO()
        Image.new("RGB", (20, 20)).save(out, kind)
        with pytest.raises(media.ImageRejected, match="not an image we can read"):
            process(out.getvalue())


def test_store_and_delete(ctx, tmp_path):
    key = media.store(process(images.png()))
    folder = tmp_path / "uploads" / "avatar"
    assert sorted(p.name for p in folder.iterdir()) == [f"{key}_display.webp", f"{key}_thumb.webp"]
    media.delete_stored("avatar", key)
    assert list(folder.iterdir()) == []
