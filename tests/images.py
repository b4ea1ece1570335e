"""Image files for upload tests, made in memory."""

from __future__ import annotations

import random
import struct
import zlib
from io import BytesIO

from PIL import Image


def png(width: int = 300, height: int = 200, color="teal", mode: str = "RGB") -> bytes:
    out = BytesIO()
    Image.new(mode, (width, height), color).save(out, "PNG")
    return out.getvalue()


def noisy_png(width: int, height: int, seed: int = 1) -> bytes:
    """Incompressible pixels, for files that must be big."""
    rng = random.Random(seed)
    out = BytesIO()
    Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps_and_rotation(width: int = 400, height: int = 200) -> bytes:
    """A camera photo: GPS position in EXIF, and "rotate 90° clockwise" to display it."""
    image = Image.new("RGB", (width, height), "orange")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "PhoneMaker"  # camera make
    gps = {1: "N", 2: (43.0, 15.0, 0.0), 3: "E", 4: (76.0, 57.0, 0.0)}
    exif[0x8825] = gps
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims any size: decoders must refuse before allocating it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"""
HTML_AS_PNG = b"<html><body><script>alert(1)</script></body></html>"
TRUNCATED_PNG = png(64, 64)[:60]
