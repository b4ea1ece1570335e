"""CPU-heavy work off eventlet's event loop, a few at a time.

Under eventlet one OS thread runs every green thread: a second of CPU in one request is a
second in which nobody else is answered (four posts of a big PNG stalled /healthz for 5.5 s;
ten sign-in attempts, ~100 ms of scrypt each, held it for a second). `run()` hands such work
to a real OS thread (eventlet's tpool) when the process is monkey-patched, and a plain call
otherwise (tests, the CLI, threaded servers). Pillow and OpenSSL's scrypt release the GIL
while they work, so the event loop keeps running beside them.

Each kind of work has its lane, a semaphore bounding how many run at once: each one holds
memory (a decoded image, scrypt's 32 MB) and a core. Under monkey-patching threading's
semaphore is a green one, so waiting for a slot lets other green threads run.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter, from <malloc.h>
_lanes: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_lanes_lock = threading.Lock()


class Busy(Exception):
    """Every slot of the lane stayed taken for as long as the caller would wait."""


def run(lane: str, slots: int, function: Callable[..., T], *args, wait: float | None = None) -> T:
    """`function(*args)` once one of the lane's `slots` is free (waiting at most `wait`
    seconds, or Busy), in an OS thread when the process runs on eventlet."""
    semaphore = _semaphore(lane, max(1, slots))
    if not semaphore.acquire(timeout=wait):
        raise Busy(lane)
    try:
        return _in_os_thread(function, *args)
    finally:
        semaphore.release()


def _semaphore(lane: str, slots: int) -> threading.BoundedSemaphore:
    # Keyed by size too: an app configured with another size gets its own bound.
    key = (lane, slots)
    semaphore = _lanes.get(key)
    if semaphore is None:
        with _lanes_lock:
            semaphore = _lanes.setdefault(key, threading.BoundedSemaphore(slots))
    return semaphore


def _in_os_thread(function: Callable[..., T], *args) -> T:
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("thread"):
        from eventlet import tpool

        return tpool.execute(function, *args)
    return function(*args)


def give_freed_memory_back() -> bool:
    """Make glibc hand every block of 1 MB or more straight back to the system when freed.

    A decoded image is tens of megabytes in 16 MB blocks. By default glibc raises its mmap
    threshold after each such free, so later blocks come from the heap of the OS thread that
    used them, and tpool's threads each keep theirs: measured, a process's resident memory
    grew by ~580 MB over 12 images of 9 MP and stayed there, and by under 60 MB with this.
    Call it once per server process; False where the C library is not glibc (nothing
    changes there).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return mallopt(_M_MMAP_THRESHOLD, 1024 * 1024) == 1
