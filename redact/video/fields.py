"""Detection on interlaced video, field by field, as a deinterlacing player shows it.

An interlaced frame (broadcast 1080i, analogue CCTV, DV) weaves two fields taken a field's
time apart: where something moves, its rows alternate between two places, and the networks,
trained on whole pictures, often see neither (a plate combed by a few pixels of motion is
missed where each field on its own shows it whole: docs/performance.md, "Interlaced
video"). A player deinterlaces, and shows each field as a picture of its own, so each is
as readable as a progressive frame. :class:`BothFields` wraps a detector set so that it
looks at the frame as each field shows it (:func:`field_picture`: where the frame is combed,
that field's rows alone; elsewhere the frame at its full resolution) and gives the union of
what it finds, in the frame's pixels, where tracking, regions, the sidecar and the output
stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.base import WrappedSet
from redact.detect.merge import merge_detections, not_inside
from redact.detect.tiles import Tile
from redact.types import Detections

# A pixel of the other field's rows is taken as combed, and replaced by the mean of this
# field's rows above and below it, where it lies outside the range of those two by more than
# this (grey levels, in any channel): lighter or darker than both, as where something moved
# between the fields; a still edge lies between them. Elsewhere the woven frame stays, at
# its full resolution (docs/performance.md, "Interlaced video").
COMB_LEVELS = 16


def field_picture(image: NDArray[np.uint8], parity: int) -> NDArray[np.uint8]:
    """The frame as one field shows it (the field of rows ``parity``, ``parity + 2``, ...): a
    motion-adaptive deinterlace, where the other field's rows are this field's interpolated
    wherever they are combed (:data:`COMB_LEVELS`), and kept where they are not."""
    h = image.shape[0]
    rows = np.arange(1 - parity, h, 2)
    if h < 2 or not len(rows):
        return image
    above = np.where(rows - 1 >= 0, rows - 1, rows + 1)
    below = np.where(rows + 1 < h, rows + 1, rows - 1)
    a, b, other = image[above], image[below], image[rows]
    mean = ((a.astype(np.uint16) + b + 1) >> 1).astype(np.uint8)
    low, high = np.minimum(a, b), np.maximum(a, b)
    outside = cv2.max(cv2.subtract(low, other), cv2.subtract(other, high))  # saturating: 0 inside
    combed = (outside.max(axis=2) > COMB_LEVELS).astype(np.uint8)
    # Combing runs down two or more of the other field's rows (a still line one row thin lies
    # outside its neighbours too, and stays); then over the comb's neighbours, as not every
    # pixel of a moving object lies outside.
    combed = cv2.morphologyEx(combed, cv2.MORPH_OPEN, np.ones((2, 1), np.uint8))
    combed = cv2.dilate(combed, np.ones((3, 5), np.uint8)).astype(bool)
    out = image.copy()
    out[rows] = np.where(combed[..., None], mean, other)
    return out


def union(parts: Sequence[Detections]) -> Detections:
    """One object's boxes from both fields fused into the box enclosing them (it moved
    between them: both places are shown), as a detector set fuses its own passes."""
    return merge_detections(Detections.concat(parts), iou=MERGE_IOU, contain=MERGE_CONTAIN)


class BothFields(WrappedSet):
    """A detector set (:class:`~redact.detect.base.WrappedSet`) that looks at each field of a
    woven frame on its own.

    Args:
        inner: the detector set.
    """

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        return union([self.inner.detect(field_picture(image, p), rois=rois) for p in (0, 1)])

    def look(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, **kwargs: Any
    ) -> tuple[Detections, Detections]:
        seen = [self.inner.look(field_picture(image, p), rois=rois, **kwargs) for p in (0, 1)]
        dets = union([d for d, _ in seen])
        return dets, not_inside(union([w for _, w in seen]), dets, MERGE_CONTAIN)
