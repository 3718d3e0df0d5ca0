"""Detection on video stored in pixels that are not square, as the video is shown.

Anamorphic video (HDV's 1440x1080 shown at 1920x1080, DV widescreen, broadcast recordings)
stores pixels wider than high: a face in it is a quarter narrower as stored than as shown,
and the networks, trained on square pixels, miss more of such faces and plates
(docs/performance.md, "Anamorphic video"). :class:`SquarePixels` wraps a detector set so
that it looks at each picture stretched to square pixels and gives its boxes back in the
stored pixels, where tracking, regions, the sidecar and the output stay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.base import WrappedSet
from redact.detect.tiles import Tile
from redact.types import Detections
from redact.video.fields import BothFields


class SquarePixels(WrappedSet):
    """A detector set (:class:`~redact.detect.base.WrappedSet`) that looks at pictures stored
    in pixels ``aspect`` times as wide as high as they are shown.

    Args:
        inner: the detector set.
        aspect: the stored pixels' width over their height (the sample aspect ratio).
    """

    def __init__(self, inner: Any, aspect: float) -> None:
        if not aspect > 0:
            raise ValueError(f"a pixel aspect ratio must be positive, got {aspect}")
        super().__init__(inner)
        self.aspect = float(aspect)

    def wrap(self, inner: Any) -> SquarePixels:
        return SquarePixels(inner, self.aspect)

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        shown = self.shown(image)
        return self.stored(self.inner.detect(shown, rois=self._windows(rois, shown.shape[1])))

    def look(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, **kwargs: Any
    ) -> tuple[Detections, Detections]:
        if kwargs.get("plates") is not None:
            kwargs["plates"] = self._scaled(kwargs["plates"], self.aspect)
        shown = self.shown(image)
        dets, weak = self.inner.look(shown, rois=self._windows(rois, shown.shape[1]), **kwargs)
        return self.stored(dets), self.stored(weak)

    def shown(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The picture as it is shown: its width times the pixels' aspect."""
        h, w = image.shape[:2]
        width = max(1, round(w * self.aspect))
        interpolation = cv2.INTER_LINEAR if width >= w else cv2.INTER_AREA
        return np.asarray(cv2.resize(image, (width, h), interpolation=interpolation), np.uint8)

    def stored(self, dets: Detections) -> Detections:
        """Boxes of the shown picture in the stored picture's pixels."""
        return self._scaled(dets, 1.0 / self.aspect)

    def _windows(self, rois: Sequence[Tile] | None, width: int) -> list[Tile] | None:
        if rois is None:
            return None
        a = self.aspect
        return [Tile(max(0, math.floor(t.x0 * a)), t.y0, min(width, math.ceil(t.x1 * a)), t.y1) for t in rois]

    @staticmethod
    def _scaled(dets: Detections, factor: float) -> Detections:
        if not len(dets):
            return dets
        xyxy = dets.xyxy * np.array([factor, 1.0, factor, 1.0], np.float32)
        return dets.replace(xyxy=xyxy.astype(np.float32))


class ShownContext:
    """A video context (:class:`~redact.video.job.VideoContext`) whose detector sets are
    wrapped by ``wrap`` (:class:`SquarePixels`, :class:`~redact.video.fields.BothFields`):
    they look at the pictures as a player shows them; the rest is ``ctx``'s."""

    def __init__(self, ctx: Any, wrap: Callable[[Any], Any]) -> None:
        self._ctx = ctx
        self._wrap = wrap
        self.config = ctx.config
        self.style = ctx.style
        self.overrides = ctx.overrides
        self.frames_dir = ctx.frames_dir
        self.detectors = wrap(ctx.detectors)

    @property
    def glance(self) -> Any:
        return self._wrap(self._ctx.glance)


def as_shown(detectors: Any, aspect: float | None, interlaced: bool) -> Any:
    """``detectors`` looking at a video's stored frames as a player shows them: stretched to
    square pixels where ``aspect`` (the stored pixels' width over their height) is given,
    field by field where the video is ``interlaced``."""
    seen = BothFields(detectors) if interlaced else detectors
    return seen if aspect is None else SquarePixels(seen, aspect)
