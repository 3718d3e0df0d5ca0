"""The video detection schedule: keyframe interval, glance or watched frames and the look-ahead."""

from __future__ import annotations

from fractions import Fraction

import pytest

from redact.video.job import held_bytes
from redact.video.schedule import CHANGED, FOCUS, FULL, GLANCE, Schedule, plan_schedule


@pytest.mark.parametrize(
    ("seconds", "every", "fps", "keyframe", "lookahead"),
    [
        (0.5, 1, Fraction(25), 12, 24),  # two intervals: motion known when backfilling
        (0.5, 1, Fraction(25, 2), 6, 12),
        (0.5, 1, None, 12, 24),  # no declared rate: 25 fps assumed
        (0.5, 1, Fraction(60), 30, 60),  # at any picture size: held frames keep no pictures
        (2.0, 1, Fraction(30), 60, 120),
        (0.5, 5, Fraction(25), 15, 30),  # a multiple of --detect-every
        (0.0, 1, Fraction(25), 1, 5),  # full detectors on every frame; --track-pad rules
    ],
)
def test_plan_schedule(seconds: float, every: int, fps: Fraction | None, keyframe: int, lookahead: int) -> None:
    s = plan_schedule(keyframe_seconds=seconds, every=every, glance=True, pad=5, fps=fps)
    assert (s.keyframe, s.lookahead) == (keyframe, lookahead)
    assert s.keyframe % every == 0
    assert s.lookahead >= s.keyframe  # a new track can always be backfilled to the previous keyframe
    assert s.glance == (keyframe > every)


def test_decoded_frames_are_held_as_i420_when_they_can_be() -> None:
    assert held_bytes(1920, 1080) == 1920 * 1080 * 3 // 2
    assert held_bytes(1921, 1080) == 1921 * 1080 * 3  # odd sides stay BGR


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


def test_watching_replaces_the_glance_between_keyframes() -> None:
    """With watch, every detection frame between keyframes looks at what changed (no glance);
    without a keyframe schedule there is nothing between to watch."""
    s = plan_schedule(keyframe_seconds=1.0, every=1, glance=True, pad=5, fps=Fraction(25), watch=True)
    assert (s.watch, s.glance) == (True, False)
    assert [s.kind(i) for i in range(3)] == [FULL, CHANGED, CHANGED]
    assert s.kind(25) == FULL and s.kind(30, last=True) == FULL
    s = plan_schedule(keyframe_seconds=1.0, every=2, glance=True, pad=5, fps=Fraction(25), watch=True)
    assert [s.kind(i) for i in range(4)] == [FULL, None, CHANGED, None]  # --detect-every still rules
    s = plan_schedule(keyframe_seconds=0.0, every=1, glance=True, pad=5, fps=Fraction(25), watch=True)
    assert (s.keyframe, s.watch, s.glance) == (1, False, False)
