"""Process-wide memory habits for long runs over large pictures.

glibc's malloc raises its mmap threshold every time a large block is freed, so after the
first few video frames every 6-25 MB picture comes from the heap of whichever thread made
it, and freed pictures stay in those heaps. A video run (decoder, detector and encoder
threads, each making full-size pictures) then held about 1.5 GiB at 1080p for ~0.9 GiB of
live data, measured. Fixing the threshold keeps blocks from :data:`MMAP_THRESHOLD` up in
their own mappings, given back to the system as soon as they are freed, at the price of page
faults on every fresh mapping. At 1 MiB those faults cost 7 % of a 10-s 1080p run's time
(22.0 s against 20.5 s at 8 MiB, 2 cores, three runs each; peak RSS ~940 MiB both). At
8 MiB, 1080p pictures (3 MB as I420) and small blobs are reused from the heap while 4K
pictures (12 MB) still get their own mappings: 16 MiB was as fast at 1080p but held 1.9
instead of 1.7 GiB at 4K.

Fixing the mmap threshold also fixes glibc's trim threshold at its 128 KiB default: every
time the top of a heap held that much free memory it went back to the system, and the next
picture faulted it in again. :data:`TRIM_THRESHOLD` keeps up to 64 MiB per heap for reuse:
a 10-s 1080p clip took 19.4 s instead of 21.0 s (three runs each, system time 2.3 against
3.2 s) and a 4-s 4K clip 27.3 s instead of 29.5 s, with peak RSS within 20 MiB.

Video jobs set both; a process that only redacts images does not.

Kept free memory is not only at the top of a heap, where the trim threshold looks: blocks
freed in the middle stay resident too, and over a long video the heaps filled up to ~255 MiB
with 50-95 MiB of it free. :func:`trim_heaps` hands every whole free page inside them back;
onnxruntime's arena shrink calls it every 2 s (``redact/detect/session.py``): a 60-s 1080p
clip's median RSS 533 MiB instead of 554, its peak 574 instead of 592, at the same speed.
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
