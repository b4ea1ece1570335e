"""Write a brotli (.br) and a gzip (.gz) copy beside each text file under qosyl/static, for
qosyl/web/assets.py to send to browsers that accept them. Run by `make assets`.

    python -m qosyl.web.precompress [FOLDER]

A copy is rewritten only when its file is newer; a copy that would not be smaller is not
kept. Copies are written under a temporary name and renamed, so a running server never
sends half of one.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from pathlib import Path

import brotli

from qosyl.web.assets import COMPRESSIBLE_SUFFIXES
from qosyl.web.assets import served_files

STATIC = Path(__file__).resolve().parent.parent / "static"


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, quality=11)


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same file always gives the same bytes.
    return gzip.compress(data, compresslevel=9, mtime=0)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {".br": _brotli, ".gz": _gzip}


def is_fresh(copy: Path, source: Path) -> bool:
    return copy.is_file() and copy.stat().st_mtime_ns >= source.stat().st_mtime_ns


def write_copy(source: Path, suffix: str) -> bool:
    """Compress `source` beside itself; False when compression saves nothing."""
    copy = source.with_name(source.name + suffix)
    data = source.read_bytes()
    compressed = COMPRESSORS[suffix](data)
    if len(compressed) >= len(data):
        copy.unlink(missing_ok=True)
        return False
    partial = copy.with_name(copy.name + ".partial")
    partial.write_bytes(compressed)
    partial.replace(copy)
    return True


def precompress(folder: Path = STATIC) -> int:
    """Bring every compressed copy up to date; returns how many were written."""
    written = 0
    for source in served_files(folder):
        if source.suffix not in COMPRESSIBLE_SUFFIXES:
            continue
        for suffix in COMPRESSORS:
            if not is_fresh(source.with_name(source.name + suffix), source):
                written += write_copy(source, suffix)
    return written


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else STATIC
    written = precompress(folder)
    print(f"precompress: {written} compressed copies written under {folder}")


if __name__ == "__main__":
    main(sys.argv[1:])
