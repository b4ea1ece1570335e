"""media.py: uploads decided by content, cleaned and resized, or refused clearly (PRO-2)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from qosyl.render import media
from tests import images
from tests.helpers import HUB_TICKER
from tests.helpers import run_eventlet_probe


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
        (images.png_header_only(8000, 6000), "8000×6000 pixels; the limit is 16 megapixels"),
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


# Cost: a pixel budget per kind, JPEGs decoded small, decoding off the event loop


@pytest.mark.parametrize(
    ("spec", "width", "height", "limit"),
    [
        (media.POST_IMAGE, 6324, 6324, 25),
        (media.ATTACHMENT_IMAGE, 6324, 6324, 25),
        (media.AVATAR, 5000, 4000, 16),
        (media.COVER, 5000, 4000, 16),
    ],
)
def test_each_kind_has_its_pixel_budget(ctx, spec, width, height, limit):
    with pytest.raises(media.ImageRejected) as error:
        process(images.png_header_only(width, height), spec)
    assert str(error.value) == (
        f"The image is {width}×{height} pixels; the limit is {limit} megapixels."
    )


def test_under_the_budget_the_header_is_not_refused(ctx):
    # 24 MP passes the header check for a post; this file then fails to decode, as it should.
    with pytest.raises(media.ImageRejected, match="not an image we can read"):
        process(images.png_header_only(6000, 4000), media.POST_IMAGE)


def test_the_configured_limit_lowers_every_budget(ctx):
    ctx.config["IMAGE_MAX_PIXELS"] = 2_000_000
    for spec in (media.AVATAR, media.POST_IMAGE):
        with pytest.raises(media.ImageRejected, match="the limit is 2 megapixels"):
            process(images.png(2000, 1001), spec)


@pytest.fixture
def decoded_sizes(monkeypatch) -> list:
    """The size each JPEG is decoded at (load() is called again once loaded: counted once)."""
    from PIL import JpegImagePlugin

    sizes: list = []
    original = JpegImagePlugin.JpegImageFile.load

    def load(self):
        if not getattr(self, "_size_seen", False):
            self._size_seen = True
            sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    return sizes


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("spec", "orientation", "decoded", "display"),
    [
        (media.POST_IMAGE, None, (2000, 1500), (1600, 1200)),  # 1/2: still >= 1600 wide
        (media.POST_IMAGE, 6, (2000, 1500), (1200, 1600)),  # turned upright after decoding
        (media.AVATAR, None, (1000, 750), (400, 400)),  # 1/4: the crop still covers 400x400
        (media.COVER, None, (2000, 1500), (1500, 500)),  # 1/2: 1500 wide is needed
    ],
)
def test_jpegs_are_decoded_at_the_smallest_scale_that_covers_every_size(
    ctx, decoded_sizes, spec, orientation, decoded, display
):
    processed = process(jpeg(4000, 3000, orientation), spec)
    assert decoded_sizes == [decoded]
    assert Image.open(BytesIO(processed.variants["display"])).size == display


def test_small_jpegs_are_decoded_whole(ctx, decoded_sizes):
    processed = process(jpeg(800, 600), media.POST_IMAGE)
    assert decoded_sizes == [(800, 600)]
    assert Image.open(BytesIO(processed.variants["display"])).size == (800, 600)


def slow_decoder(monkeypatch, seconds: float) -> dict:
    """Replace the Pillow work with a pause that records how many run at once."""
    import threading
    import time

    seen = {"now": 0, "most": 0}
    lock = threading.Lock()

    def decode(data, spec, max_pixels):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(seconds)
        with lock:
            seen["now"] -= 1
        return {name: b"" for name in spec.variants}

    monkeypatch.setattr(media, "_decode_and_resize", decode)
    return seen


def in_threads(app, count: int) -> list:
    import threading

    outcomes: list = []

    def upload():
        with app.app_context():
            try:
                outcomes.append(process(images.png(), media.POST_IMAGE))
            except media.ImageRejected as error:
                outcomes.append(str(error))

    threads = [threading.Thread(target=upload) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("slots", [1, 2])
def test_images_decode_a_few_at_a_time(app, monkeypatch, slots):
    app.config["IMAGE_DECODE_CONCURRENCY"] = slots
    seen = slow_decoder(monkeypatch, 0.1)
    outcomes = in_threads(app, 5)
    assert seen["most"] == slots
    assert all(isinstance(outcome, media.ProcessedImage) for outcome in outcomes)


def test_an_upload_that_waits_too_long_for_a_slot_is_refused(app, monkeypatch):
    app.config["IMAGE_DECODE_CONCURRENCY"] = 1
    monkeypatch.setattr(media, "DECODE_WAIT_SECONDS", 0.05)
    slow_decoder(monkeypatch, 0.5)
    outcomes = in_threads(app, 2)
    assert sum(isinstance(outcome, media.ProcessedImage) for outcome in outcomes) == 1
    assert "Too many images are being processed" in next(o for o in outcomes if o.__class__ is str)


HUB_PROBE = (
    HUB_TICKER
    + """
from io import BytesIO
from PIL import Image, ImageDraw
from qosyl import create_app
from qosyl.render import media

picture = Image.new("RGB", (4000, 4000), "white")
ImageDraw.Draw(picture).ellipse((500, 500, 3500, 3500), fill="teal")
out = BytesIO()
picture.save(out, "PNG")
app = create_app("testing", IMAGE_MAX_PIXELS=20_000_000)
ticker = eventlet.spawn(tick)
eventlet.sleep(0.05)
with app.app_context():
    began = time.perf_counter()
    media.process_image(BytesIO(out.getvalue()), media.POST_IMAGE)
    took = time.perf_counter() - began
done.append(True)
ticker.wait()
print(json.dumps({"took": took, "worst_lag": max(lags), "ticks": len(lags)}))
"""
)


def test_decoding_does_not_stall_the_eventlet_hub():
    """Under eventlet (as `python wsgi.py` runs), other green threads keep running while an
    image decodes: the worst pause they see is a small part of the decoding time."""
    figures = run_eventlet_probe(HUB_PROBE)
    assert figures["took"] > 0.1, figures  # enough work for the comparison to mean something
    assert figures["worst_lag"] < figures["took"] / 3, figures
    assert figures["ticks"] >= 5, figures


MEMORY_PROBE = """
import json, sys
import eventlet
eventlet.monkey_patch()
from io import BytesIO
from pathlib import Path
from PIL import Image, ImageDraw
from qosyl import create_app, offload
from qosyl.render import media

def resident_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

picture = Image.new("RGB", (3000, 3000), "white")
ImageDraw.Draw(picture).ellipse((300, 300, 2700, 2700), fill="teal")
out = BytesIO()
picture.save(out, "PNG")
del picture
offload.give_freed_memory_back()
app = create_app("testing")

def upload(_):
    with app.app_context():
        media.process_image(BytesIO(out.getvalue()), media.POST_IMAGE)

before = resident_mb()
pool = eventlet.GreenPool()
for _ in range(3):
    list(pool.imap(upload, range(4)))
print(json.dumps({"before": before, "after": resident_mb()}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_memory_of_decoded_images_goes_back_to_the_system():
    """The server (wsgi.py) decodes in eventlet's OS threads; once images are stored the
    process is back near its size before them, not holding their blocks in thread heaps."""
    figures = run_eventlet_probe(MEMORY_PROBE)
    assert figures["after"] - figures["before"] < 60, figures
