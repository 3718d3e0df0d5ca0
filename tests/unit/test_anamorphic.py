"""Detection on video stored in pixels that are not square, as it is shown."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect.tiles import Tile
from redact.types import Detections
from redact.video.anamorphic import ShownContext, SquarePixels, as_shown
from redact.video.fields import BothFields


class Recorder:
    """A detector set that finds one box at fixed *shown* pixels and records what it saw."""

    thresholds = {"face": 0.5}

    def __init__(self) -> None:
        self.seen: list[tuple[tuple[int, ...], list[Tile] | None, Detections | None]] = []

    def _found(self) -> Detections:
        return Detections.from_arrays(np.array([[80, 10, 120, 50]], np.float32), np.array([0.9], np.float32), "face")

    def detect(self, image, *, rois=None) -> Detections:  # noqa: ANN001
        self.seen.append((image.shape, rois, None))
        return self._found()

    def look(self, image, *, ratio, rois=None, plates=None):  # noqa: ANN001, ANN201
        self.seen.append((image.shape, rois, plates))
        return self._found(), Detections.empty()

    def only(self, names, *, heads=False):  # noqa: ANN001, ANN201
        return None if "none" in names else Recorder()


def test_the_detectors_see_the_picture_as_shown_and_give_boxes_back_in_stored_pixels() -> None:
    inner = Recorder()
    square = SquarePixels(inner, 4 / 3)  # HDV: 1440 stored pixels shown as 1920
    stored = np.zeros((60, 150, 3), np.uint8)
    dets = square.detect(stored, rois=[Tile(30, 0, 90, 60)])
    (shape, rois, _), = inner.seen
    assert shape == (60, 200, 3) and rois == [Tile(40, 0, 120, 60)]
    np.testing.assert_allclose(dets.xyxy, [[60, 10, 90, 50]])  # x by 3/4, y as it is
    plates = Detections.from_arrays(np.array([[30, 40, 60, 50]], np.float32), np.array([0.8], np.float32), "plate")
    dets, weak = square.look(stored, ratio=0.5, plates=plates)
    _, rois, seen_plates = inner.seen[-1]
    assert rois is None and not len(weak)
    np.testing.assert_allclose(seen_plates.xyxy, [[40, 40, 80, 50]])
    np.testing.assert_allclose(dets.xyxy, [[60, 10, 90, 50]])
    assert square.thresholds == {"face": 0.5}  # the rest is the inner set's
    assert isinstance(square.only(("occupants",), heads=True), SquarePixels)
    assert square.only(("none",)) is None
    with pytest.raises(ValueError, match="positive"):
        SquarePixels(inner, 0.0)


def test_a_shown_context_wraps_the_detectors_and_the_glance() -> None:
    class Ctx:
        config = object()
        style = object()
        overrides = object()
        frames_dir = None
        detectors = Recorder()
        glance = Recorder()

    shown = ShownContext(Ctx(), lambda d: as_shown(d, 4 / 3, False))
    assert shown.config is Ctx.config and shown.frames_dir is None
    assert isinstance(shown.detectors, SquarePixels) and shown.detectors.inner is Ctx.detectors
    assert isinstance(shown.glance, SquarePixels) and shown.glance.inner is Ctx.glance
    # Interlaced and anamorphic (DV widescreen): stretched once, then split into fields.
    both = ShownContext(Ctx(), lambda d: as_shown(d, 4 / 3, True))
    assert isinstance(both.detectors, SquarePixels) and isinstance(both.detectors.inner, BothFields)
    assert both.detectors.inner.inner is Ctx.detectors
    fields_only = as_shown(Ctx.detectors, None, True)
    assert isinstance(fields_only, BothFields) and as_shown(Ctx.detectors, None, False) is Ctx.detectors
