"""Process-wide malloc settings for video runs (glibc on Linux)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from redact.memory import MMAP_THRESHOLD, TRIM_THRESHOLD, return_large_blocks

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


def _mapping_of(address: int) -> str:
    """Name of the mapping holding ``address`` in this process ("" when anonymous)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if lo <= address < hi:
            return parts[5] if len(parts) > 5 else ""
    raise AssertionError(f"no mapping holds {address:#x}")


def test_large_blocks_get_their_own_mapping_and_smaller_ones_the_heap() -> None:
    assert MMAP_THRESHOLD < TRIM_THRESHOLD  # freed pictures are kept for reuse, not trimmed
    assert return_large_blocks() and return_large_blocks()  # idempotent
    large = np.ones(MMAP_THRESHOLD + (1 << 20), np.uint8)  # a 4K picture
    assert _mapping_of(large.ctypes.data) == ""  # its own anonymous mapping, freed back at once
    small = np.ones(MMAP_THRESHOLD // 3, np.uint8)  # a 1080p I420 picture
    assert _mapping_of(small.ctypes.data) == "[heap]"
