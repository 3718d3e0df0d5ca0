"""Keyframe schedule end to end with fake detectors: who runs when, and backfill to the previous keyframe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redact import RedactConfig, redact_path
from redact.types import Detections
from tests.conftest import MarkerDetectors
from tests.videos import Box, default_objects, make_clip, probe


class Recording(MarkerDetectors):
    """Marker detectors that note the mean pixel of every picture they get (which frame it was)."""

    def __init__(self, blind: bool = False) -> None:
        super().__init__()
        self.blind = blind
        self.seen: list[np.ndarray] = []

    def detect(self, image: np.ndarray) -> Detections:
        self.seen.append(image)
        found = super().detect(image)
        return Detections.empty() if self.blind else found


def covered(image: np.ndarray, box: Box) -> bool:
    x, y, w, h = box
    return bool(image[y : y + h, x : x + w].max() < 60)


def test_full_pass_on_keyframes_and_last_frame_glance_between(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "s.mp4", frames=18, fps=25)
    full, glance = Recording(), Recording()
    cfg = RedactConfig(keyframe_seconds=0.2)  # 5 frames at 25 fps
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    assert full.calls == 5  # frames 0, 5, 10, 15 and the last, 17
    assert glance.calls == 18 - 5
    images = probe(tmp_path / "in" / "s.mp4")["images"]
    firsts = [int(np.argmin([np.abs(im.astype(int) - s.astype(int)).mean() for im in images])) for s in full.seen]
    assert firsts == [0, 5, 10, 15, 17]


def test_glance_off_and_detect_every(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25)
    full, glance = Recording(), Recording()
    cfg = RedactConfig(keyframe_seconds=0.2, detect_every=2, glance=False)  # keyframes every 6
    redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert (full.calls, glance.calls) == (3, 0)  # 0, 6 and the last, 11


def _late(start: int):  # type: ignore[no-untyped-def]
    """Objects of the default clip that only appear at frame ``start``."""

    def objects(i: int) -> tuple[list[Box], list[Box]]:
        return default_objects(i) if i >= start else ([], [])

    return objects


@pytest.mark.parametrize("start", [6, 9])
def test_new_track_is_backfilled_to_the_previous_keyframe(tmp_path: Path, start: int) -> None:
    """The glance never sees the (moving) objects; the keyframe at 10 finds them and covers back to 6."""
    make_clip(tmp_path / "in" / "late.mp4", frames=20, fps=25, objects=_late(start))
    full, glance = Recording(), Recording(blind=True)
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)  # pad 0: only the keyframe reach can cover
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "late.mp4")["images"]
    for i in range(start, 20):
        faces, plates = default_objects(i)
        assert all(covered(images[i], b) for b in faces + plates), f"frame {i} not covered"


def test_fast_object_seen_only_on_keyframes_is_covered_between(tmp_path: Path) -> None:
    """Boxes 30 px apart on consecutive keyframes (no overlap) still form one track, interpolated between."""

    def fast(i: int) -> tuple[list[Box], list[Box]]:
        return [(5 + 6 * i, 20, 20, 20)], [(5 + 6 * i, 80, 30, 12)]

    make_clip(tmp_path / "in" / "fast.mp4", frames=16, size=(200, 120), fps=25, objects=fast)
    full, glance = Recording(), Recording(blind=True)
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "fast.mp4")["images"]
    for i, img in enumerate(images):
        faces, plates = fast(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"
    assert [t["label"] for t in result.files[0]["tracks"]] == ["face", "plate"]
