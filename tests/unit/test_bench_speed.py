"""``bench/speed.py``: the moving camera of ``--pan``."""

from __future__ import annotations

import av
import numpy as np

from tests.helpers import load_bench


def test_bounce_travels_back_and_forth_within_its_span() -> None:
    speed = load_bench("speed")
    assert [speed.bounce(t, 10) for t in (0, 4, 10, 14, 20, 26)] == [0, 4, 10, 6, 0, 6]
    assert speed.bounce(123, 0) == 0  # no room to move: the window stays put


def test_panned_frames_show_the_picture_moved_by_the_step() -> None:
    speed = load_bench("speed")
    yy, xx = np.mgrid[0:48, 0:64]
    grey = ((xx * 3 + yy * 2) % 256).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(np.repeat(grey[:, :, None], 3, axis=2), format="rgb24")
    size = (64, 48)
    first, second = (speed.panned(frame, size, i, 4.0) for i in (0, 1))
    assert (first.width, first.height, first.format.name) == (64, 48, "yuv420p")
    a, b = (f.to_ndarray()[:48] for f in (first, second))  # the luma plane
    # One frame on, the camera has moved 4 px right and 2 px down: what was at (x + 4, y + 2)
    # is now at (x, y), and every pixel of the picture changed.
    assert np.array_equal(b[:-2, :-4], a[2:, 4:])
    assert not np.array_equal(a, b)
