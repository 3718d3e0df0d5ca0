"""Shared test helpers: repository paths, the dev data, and fakes (no downloads, no real models).

The dev data sets live next to the repository, in ``../shared/data/dev``; tests that read
them call :func:`require_dev` and are skipped with a reason when it is absent.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import pytest

from redact.detect.reading import MAX_WIDTH, Reading, TextReader
from redact.types import Detections

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DEV_DATA = REPO.parent / "shared" / "data" / "dev"


def load_bench(name: str) -> ModuleType:
    """A script under ``bench/`` (``name`` without ``.py``) loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


def record_seeds(monkeypatch: pytest.MonkeyPatch, bench: ModuleType) -> list[int]:
    """Patch a bench's ``degraded`` to record the seed of every degraded copy it makes."""
    seeds: list[int] = []
    real = bench.degraded

    def spy(image: Any, item: Any, name: str, *, seed: int) -> Any:
        seeds.append(seed)
        return real(image, item, name, seed=seed)

    monkeypatch.setattr(bench, "degraded", spy)
    return seeds


def require_dev(*parts: str) -> Path:
    """The path ``DEV_DATA / parts...``; skips the calling test when it does not exist."""
    path = DEV_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"dev data not found: {path} (../shared/data/dev next to the repository)")
    return path


# Marker colours (BGR) the fake detector "sees": magenta squares are faces, cyan are plates.
FACE_BGR = (255, 0, 255)
PLATE_BGR = (255, 255, 0)


class MarkerDetectors:
    """A fake detector set: finds solid marker-coloured blobs (faces magenta, plates cyan).

    ``skip`` lists call numbers (0-based) on which it pretends to see nothing, to test
    how missed frames are covered.
    """

    def __init__(self, skip: set[int] | None = None) -> None:
        self.models: list[object] = []
        self.thresholds = {"face": 0.5, "plate": 0.5}
        self.calls = 0
        self.skip = skip or set()

    def detect(self, image: np.ndarray, *, rois=None) -> Detections:
        call = self.calls
        self.calls += 1
        if call in self.skip:
            return Detections.empty()
        if rois is not None:  # blind outside the windows
            seen = np.zeros_like(image)
            for t in rois:
                seen[t.y0 : t.y1, t.x0 : t.x1] = image[t.y0 : t.y1, t.x0 : t.x1]
            image = seen
        parts = []
        for label, color in (("face", FACE_BGR), ("plate", PLATE_BGR)):
            lo = np.array(color, np.int16) - 40
            hi = np.array(color, np.int16) + 40
            mask = cv2.inRange(image, np.clip(lo, 0, 255).astype(np.uint8), np.clip(hi, 0, 255).astype(np.uint8))
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            boxes = [
                [x, y, x + w, y + h] for x, y, w, h, area in stats[1:] if area >= 16
            ]
            if boxes:
                parts.append(Detections.from_arrays(boxes, [0.9] * len(boxes), label))
        return Detections.concat(parts)

    def look(self, image: np.ndarray, *, ratio: float, rois=None, plates=None) -> tuple[Detections, Detections]:
        self.plates_given = plates
        return self.detect(image, rois=rois), Detections.empty()


def scene(
    width: int = 320,
    height: int = 240,
    faces=((40, 40, 40, 40),),
    plates=((200, 150, 60, 20),),
    seed: int = 0,
) -> np.ndarray:
    """A textured BGR image with marker faces/plates at ``(x, y, w, h)`` boxes."""
    rng = np.random.default_rng(seed)
    img = rng.integers(30, 200, (height, width, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    for x, y, w, h in faces:
        img[y : y + h, x : x + w] = FACE_BGR
    for x, y, w, h in plates:
        img[y : y + h, x : x + w] = PLATE_BGR
    return img


class FakeCoco:
    """Stands in for YoloxCoco (``Occupants._coco``): returns the objects it was given."""

    def __init__(self, found: Any) -> None:
        self.found, self.threshold = found, 0.25

    def detect(self, image: Any, *, rois: Any = None) -> Any:
        return self.found


class GivenReadings(TextReader):
    """The recogniser with readings given per box (xyxy as ints) instead of the network's;
    a box with none given reads as ``default``, or fails the test when that is ``None``.
    ``read_boxes``: every box read, in order."""

    def __init__(self, readings: dict[tuple[int, ...], Reading], default: Reading | None = None) -> None:
        self.readings = readings
        self.default = default
        self.read_boxes: list[tuple[int, ...]] = []
        self.min_confidence = 0.8

    def read(self, image: np.ndarray, boxes: np.ndarray, *, max_width: int = MAX_WIDTH) -> list[Reading]:
        keys = [tuple(int(v) for v in b) for b in boxes]
        self.read_boxes += keys
        if self.default is None:
            return [self.readings[k] for k in keys]
        return [self.readings.get(k, self.default) for k in keys]
