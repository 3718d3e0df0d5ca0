"""The video detection schedule: keyframe interval, glance frames and the memory-capped look-ahead."""

from __future__ import annotations

from fractions import Fraction

import pytest

from redact.videojob import FOCUS, FULL, GLANCE, LOOKAHEAD_BYTES, Schedule, held_bytes, plan_schedule


@pytest.mark.parametrize(
    ("seconds", "every", "fps", "size", "keyframe", "lookahead"),
    [
        (0.5, 1, Fraction(25), (1920, 1080), 12, 24),  # two intervals fit: motion known when backfilling
        (0.5, 1, Fraction(25, 2), (1920, 1080), 6, 12),
        (0.5, 1, None, (1920, 1080), 12, 24),  # no declared rate: 25 fps assumed
        (0.5, 1, Fraction(25), (3840, 2160), 10, 10),  # 4K: interval shortened to what fits the cap
        (0.5, 1, Fraction(60), (3840, 2160), 10, 10),  # 4K at 60 fps: likewise
        (0.5, 5, Fraction(25), (1920, 1080), 15, 30),  # a multiple of --detect-every
        (0.0, 1, Fraction(25), (1920, 1080), 1, 5),  # full detectors on every frame; pad rules
        (2.0, 1, Fraction(30), (7680, 4320), 2, 5),  # 8K: 2 frames fit; --track-pad is still honoured
    ],
)
def test_plan_schedule(
    seconds: float, every: int, fps: Fraction | None, size: tuple[int, int], keyframe: int, lookahead: int
) -> None:
    s = plan_schedule(keyframe_seconds=seconds, every=every, glance=True, pad=5, fps=fps, width=size[0], height=size[1])
    assert (s.keyframe, s.lookahead) == (keyframe, lookahead)
    assert s.keyframe % every == 0
    assert s.lookahead >= s.keyframe  # a new track can always be backfilled to the previous keyframe
    one = held_bytes(*size)
    assert one == size[0] * size[1] * 3 // 2  # even sizes are held as I420
    assert min(s.keyframe, s.lookahead) * one <= max(LOOKAHEAD_BYTES, 5 * one)
    assert s.glance == (keyframe > every)


def test_kinds_per_frame() -> None:
    s = Schedule(keyframe=4, every=2, glance=True, lookahead=8)
    kinds = [s.kind(i) for i in range(9)]
    assert kinds == [FULL, None, GLANCE, None, FULL, None, GLANCE, None, FULL]
    s = Schedule(keyframe=6, every=1, glance=True, lookahead=12)
    assert [s.kind(i) for i in range(7)] == [FULL, GLANCE, FOCUS, GLANCE, FOCUS, GLANCE, FULL]
    s = Schedule(keyframe=6, every=1, glance=False, lookahead=12)
    assert [s.kind(i) for i in range(7)] == [FULL, FOCUS, FOCUS, FOCUS, FOCUS, FOCUS, FULL]
    assert s.kind(7, last=True) == FULL  # the last frame is always looked at in full
    assert Schedule(keyframe=4, every=1, glance=False, lookahead=8).kind(1) == FOCUS  # close looks stay
