"""Process-wide malloc settings for video runs (glibc on Linux)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from redact.video.memory import MMAP_THRESHOLD, TRIM_THRESHOLD

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

# Run in a fresh interpreter: in a long-lived one, a large block may be carved out of free
# heap memory left by earlier allocations, whatever the threshold.
PROBE = """
import sys
from pathlib import Path
import numpy as np
from redact.video.memory import MMAP_THRESHOLD, return_large_blocks

def mapping_of(address):
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if lo <= address < hi:
            return parts[5] if len(parts) > 5 else "anonymous"
    return "none"

ok = return_large_blocks() and return_large_blocks()
large = np.ones(MMAP_THRESHOLD + (1 << 20), np.uint8)  # a 4K picture
small = np.ones(MMAP_THRESHOLD // 3, np.uint8)  # a 1080p I420 picture (malloc's default: its own mapping)
print(ok, mapping_of(large.ctypes.data), mapping_of(small.ctypes.data))
"""


def test_large_blocks_get_their_own_mapping_and_1080p_pictures_the_heap() -> None:
    assert MMAP_THRESHOLD < TRIM_THRESHOLD  # freed pictures are kept for reuse, not trimmed
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "anonymous", "[heap]"]


def test_heaps_hand_free_pages_back() -> None:
    # Freed small blocks in the middle of a heap stay resident until trimmed.
    probe = """
import numpy as np
from redact.video.memory import return_large_blocks, trim_heaps
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 >> 20
return_large_blocks()
keep, gone = [], []
for i in range(400):  # 200 MiB of 1-MiB blocks, every other one kept: free holes between them
    (keep if i % 2 else gone).append(np.ones(1 << 20, np.uint8))
del gone
before = rss()
ok = trim_heaps()
print(ok, before - rss())
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) >= 150  # of the 200 MiB freed between live blocks
