"""Full detection on several frames at once.

On a GPU a network runs the same-sized tiles of several frames as one batch
(:meth:`redact.detect.passes.PassDetector.detect_many`): fewer, larger runs. These
functions give, per frame, exactly what :meth:`DetectorSet.detect` and
:meth:`DetectorSet.look` give on that frame alone: the batching detectors run first, on
every frame, and the set then decides frame by frame with their boxes already found.
Where no detector batches (the CPU), they are those calls frame by frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect import DetectorSet
from redact.detect.base import Detector
from redact.detect.evidence import WITNESS_RATIO
from redact.detect.passes import PassDetector
from redact.detect.tiles import Tile
from redact.types import Detections


class _Found:
    """A detector whose boxes on one picture are already known: it returns them when asked
    the same question (the same picture, no windows, the same floor) and asks the detector
    otherwise."""

    def __init__(self, detector: PassDetector, image: NDArray[np.uint8], floor: float | None, found: Detections):
        self._detector = detector
        self._image = image
        self._floor = floor
        self._found = found
        self.name = detector.name
        self.label = detector.label
        self.threshold = detector.threshold

    def detect(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> Detections:
        if image is self._image and rois is None and floor == self._floor:
            return self._found
        return self._detector.detect(image, rois=rois, floor=floor)

    def __getattr__(self, name: str) -> Any:  # take_providers, accelerated, passes, ...
        return getattr(self._detector, name)


def _floor(detector: PassDetector, ratio: float) -> float | None:
    """The floor :meth:`DetectorSet.per_detector` asks a detector for at this ratio."""
    return detector.threshold * ratio if ratio < 1.0 else None


def _per_frame(detectors: DetectorSet, images: Sequence[NDArray[np.uint8]], ratio: float) -> list[DetectorSet]:
    """For each picture, the set with its batching detectors' boxes on it already found."""
    batching = [d for d in detectors.detectors if isinstance(d, PassDetector) and d.batching]
    if not batching or len(images) < 2:
        return [detectors] * len(images)
    found = {id(d): (d, d.detect_many(images, floor=_floor(d, ratio))) for d in batching}
    sets = []
    for i, image in enumerate(images):
        own: list[Detector] = []
        for d in detectors.detectors:
            if id(d) in found:
                pd, per = found[id(d)]
                own.append(_Found(pd, image, _floor(pd, ratio), per[i]))
            else:
                own.append(d)
        sets.append(replace(detectors, detectors=own))
    return sets


def detect_frames(detectors: DetectorSet, images: Sequence[NDArray[np.uint8]]) -> list[Detections]:
    """:meth:`DetectorSet.detect` on each BGR uint8 picture (H, W, 3), in order; the
    batching detectors see all the pictures' tiles at once."""
    sets = _per_frame(detectors, images, WITNESS_RATIO)
    return [s.detect(image) for s, image in zip(sets, images, strict=True)]


def look_frames(
    detectors: DetectorSet, images: Sequence[NDArray[np.uint8]], *, ratio: float
) -> list[tuple[Detections, Detections]]:
    """:meth:`DetectorSet.look` on each BGR uint8 picture (H, W, 3), in order, on the
    whole picture; the batching detectors see all the pictures' tiles at once."""
    sets = _per_frame(detectors, images, ratio)
    return [s.look(image, ratio=ratio) for s, image in zip(sets, images, strict=True)]
