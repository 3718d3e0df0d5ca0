"""``bench/schedule.py``: what it counts as redacted away from the objects full detection found."""

from __future__ import annotations

import pytest

from tests.helpers import load_bench


def test_away_counts_only_what_lies_outside_the_reference_detections() -> None:
    bench = load_bench("schedule")
    size = (100, 50)  # 5000 px
    ref = {
        0: [{"box": [0, 0, 10, 10], "source": "detector"}, {"box": [50, 0, 50, 50], "source": "tracker"}],
        1: [],
    }
    got = {
        0: [{"box": [0, 0, 20, 10], "source": "detector"}],  # half over the detection: 100 px away
        1: [{"box": [0, 0, 50, 50], "source": "tracker"}],  # nothing found there: all 2500 px away
    }
    mean, worst, over = bench.away_share(ref, got, size)
    assert mean == pytest.approx((100 / 5000 + 2500 / 5000) / 2) and worst == pytest.approx(0.5)
    assert over == 1  # frame 1: half the frame, over a quarter
    # The reference's own tracker boxes are not objects: its frame 0 is 2500 px away.
    assert bench.away_share(ref, ref, size) == (pytest.approx(0.25), pytest.approx(0.5), 1)
    assert bench.away_share({}, {}, size) == (0.0, 0.0, 0)
