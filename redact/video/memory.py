"""Process-wide memory habits for long runs over large pictures.

glibc's malloc raises its mmap threshold every time a large block is freed, so after the
first few video frames every 6-25 MB picture comes from the heap of whichever thread made
it, and freed pictures stay in those heaps: a video run held far more than its live data.
Fixing the threshold keeps blocks from :data:`MMAP_THRESHOLD` up in their own mappings,
given back to the system as soon as they are freed, at the price of page faults on every
fresh mapping. At 8 MiB, 1080p pictures (3 MB as I420) and small blobs are reused from the
heap while 4K pictures (12 MB) still get their own mappings.

Fixing the mmap threshold also fixes glibc's trim threshold at its 128 KiB default: every
time the top of a heap held that much free memory it went back to the system, and the next
picture faulted it in again. :data:`TRIM_THRESHOLD` keeps up to 64 MiB per heap for reuse.
Figures for both: docs/performance.md.

Video jobs set both; a process that only redacts images does not.

Kept free memory is not only at the top of a heap, where the trim threshold looks: blocks
freed in the middle stay resident too, and build up over a long video. :func:`trim_heaps`
hands every whole free page inside them back; onnxruntime's arena shrink calls it every 2 s
(``redact/detect/session.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger("redact")

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 8 << 20  # blocks this large or larger get their own mapping
TRIM_THRESHOLD = 64 << 20  # free memory a heap keeps for reuse before giving it back
_done = False
_libc: ctypes.CDLL | None = None


def return_large_blocks() -> bool:
    """Make large allocations their own mappings and let heaps keep free memory for reuse
    (glibc on Linux; elsewhere nothing).

    Idempotent and process-wide. Returns whether the setting took effect.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = _glibc()
        _done = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        _done = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and _done
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        _done = False
    log.debug("malloc mmap threshold %d, trim threshold %d bytes: %s", MMAP_THRESHOLD, TRIM_THRESHOLD, _done)
    return _done


def _glibc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return _libc


def trim_heaps() -> bool:
    """Give the whole free pages inside malloc's heaps back to the system (glibc's
    ``malloc_trim``; elsewhere nothing). Returns whether it ran."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        _glibc().malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        return False
    return True
