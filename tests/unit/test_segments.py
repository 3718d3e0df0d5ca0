"""Segment plans, the packet scan and partial decodes (no detectors)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from redact import RedactConfig
from redact.errors import MediaError
from redact.io.parts import FrameIndex, scan
from redact.io.video import DecodedFrame, Seek, VideoReader
from redact.video.segments import TRACK_STRIDE, lead_in_frames, plan
from tests.videos import make_clip

TB = Fraction(1, 90000)


def index(frames: int, gop: int, step: int = 3600) -> FrameIndex:
    return FrameIndex(TB, tuple(i * step for i in range(frames)), tuple(range(0, frames, gop)))


def test_plan_cuts_at_keyframes_and_covers_every_frame_once() -> None:
    ix = index(250, gop=12)  # 10 s at 25 fps, a keyframe every 12 frames
    spans = plan(ix, seconds=3.0, lead_in=20)
    assert [s.first for s in spans] == [0, 84, 168]  # the first keyframes 3 s (75 frames) on
    assert [s.end for s in spans] == [84, 168, None]
    for n, s in enumerate(spans):
        assert s.first in ix.keyframes and s.lead in ix.keyframes
        assert s.first_ticks == ix.ticks[s.first] and s.lead_ticks == ix.ticks[s.lead]
        assert s.lead <= max(0, s.first - 20) and (s.first == 0 or s.first - s.lead < 20 + 12)
        assert s.first_track == n * TRACK_STRIDE


@pytest.mark.parametrize(("seconds", "frames", "gop"), [(0, 250, 12), (10, 250, 12), (12, 250, 12), (3, 250, 1000)])
def test_plan_keeps_one_pass(seconds: float, frames: int, gop: int) -> None:
    """0 never splits; a video not longer than the segment, or without a later keyframe, is one pass."""
    assert plan(index(frames, gop), seconds=seconds, lead_in=20) == []


def test_lead_in_covers_look_ahead_gap_and_a_keyframe() -> None:
    cfg = RedactConfig(keyframe_seconds=1.0, track_gap=0.5, track_pad=5)
    assert lead_in_frames(cfg, Fraction(25)) == 50 + 13 + 25


def test_scan_finds_every_frame_and_the_keyframes(tmp_path: Path) -> None:
    times = make_clip(tmp_path / "c.mp4", frames=40, gop=10)
    ix = scan(tmp_path / "c.mp4")
    assert ix is not None and ix.frames == 40
    assert [round(float(t * ix.time_base), 6) for t in ix.ticks] == pytest.approx(times, abs=1e-6)
    with VideoReader(tmp_path / "c.mp4", keep_audio=False) as reader:
        import av

        with av.open(str(tmp_path / "c.mp4")) as c:
            keys = [i for i, f in enumerate(c.decode(video=0)) if f.key_frame]
    assert list(ix.keyframes) == keys and len(keys) >= 3
    assert reader.time_base == ix.time_base


def test_partial_decode_keeps_whole_video_indices(tmp_path: Path) -> None:
    make_clip(tmp_path / "c.mp4", frames=40, gop=10)
    ix = scan(tmp_path / "c.mp4")
    assert ix is not None
    key = ix.keyframes[2]
    with VideoReader(tmp_path / "c.mp4", keep_audio=False) as reader:
        frames = [f for f in reader.items(Seek(ix.ticks[key], key), key + 7) if isinstance(f, DecodedFrame)]
    assert [f.index for f in frames] == list(range(key, key + 7))
    assert [f.ticks for f in frames] == list(ix.ticks[key : key + 7])


def test_partial_decode_refuses_a_seek_that_misses(tmp_path: Path) -> None:
    make_clip(tmp_path / "c.mp4", frames=40, gop=10)
    ix = scan(tmp_path / "c.mp4")
    assert ix is not None
    not_key = ix.keyframes[1] + 1
    with VideoReader(tmp_path / "c.mp4", keep_audio=False) as reader, pytest.raises(MediaError, match="seeking"):
        list(reader.items(Seek(ix.ticks[not_key] + 1, not_key)))


def test_part_names_fit_for_the_longest_names(tmp_path: Path) -> None:
    from redact.discover import Job
    from redact.io.atomic import NAME_MAX, TMP_MARKER
    from redact.video.segments import part_paths

    name = "c" * 250 + ".mp4"
    job = Job(root=0, src=tmp_path / name, rel=name, dst=tmp_path / "out" / name, kind="video", out=tmp_path / "out")
    parts = [p for n in (0, 1) for p in part_paths(job, n)]
    assert len({p.name for p in parts}) == 4
    for p in parts:
        assert len(p.name.encode()) <= NAME_MAX and p.name.startswith(".") and TMP_MARKER in p.name
    assert [p.suffix for p in parts] == [".mp4", ".jsonl"] * 2
