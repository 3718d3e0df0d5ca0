"""Turn detections into the exact pixel regions to redact: padding, clipping, shapes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.types import Detections, Label, Regions, Source

MIN_PAD_PX = 2
# A plate box already holds the plate's border (the networks and the text growth see to
# that); past this margin, padding a large plate only blacks out the car around it.
PLATE_MAX_PAD_PX = 16
# An occupant region is a vehicle's window zone or a person aboard, already drawn with room
# to spare (redact.detect.occupants); a fractional margin on a car-wide zone would reach
# past the car's sides.
OCCUPANT_MAX_PAD_PX = 16


@dataclass(frozen=True)
class HeadGrowth:
    """How a face box (brow to chin) grows to the whole head before padding.

    Attributes:
        top: added above, share of the box's height (forehead and hair line).
        bottom: added below, share of the box's height (chin, a mask's lower edge).
        side: added on each side, share of the box's width (ears).
    """

    top: float
    bottom: float
    side: float


# The face networks draw boxes from the brows to about the mouth or chin, and stop short of
# a mask's lower edge; a head runs from the hair line to the chin and from ear to ear.
# Calibrated on the face dev sets (docs/performance.md#whole-heads): the labelled faces'
# chins and sides lie within these margins of the detected box for ~95 % of faces found,
# and the hair line sits about half a brow-to-chin height above the brows.
HEAD = HeadGrowth(top=0.3, bottom=0.1, side=0.1)


def build(
    dets: Detections,
    width: int,
    height: int,
    *,
    padding: float,
    face_shape: str = "rect",
    head: HeadGrowth | None = HEAD,
) -> Regions:
    """Grow faces to whole heads, pad each box, clip it to the frame and fix its shape.

    Args:
        dets: detections in frame pixels (xyxy float).
        width: frame width in pixels.
        height: frame height in pixels.
        padding: margin added on each side as a fraction of the box's width/height
            (at least ``MIN_PAD_PX`` pixels when ``padding > 0``; for plates at most
            ``PLATE_MAX_PAD_PX`` pixels, for occupants ``OCCUPANT_MAX_PAD_PX``).
        face_shape: ``"rect"`` or ``"ellipse"`` for faces; plates are always rectangles.
        head: how detected and tracked face boxes grow to the whole head before padding
            (a reviewer's manual boxes are taken as drawn); ``None`` leaves them as found.

    Returns:
        Regions with integer xyxy boxes, ``0 <= x1 < x2 <= width`` (exclusive bounds).
        Boxes entirely outside the frame are dropped.
    """
    if not len(dets):
        return Regions.empty()
    xyxy = dets.xyxy.astype(np.float64)
    w = xyxy[:, 2] - xyxy[:, 0]
    h = xyxy[:, 3] - xyxy[:, 1]
    if head is not None:
        grow = (dets.label == Label.FACE.value) & (dets.source != Source.MANUAL.value)
        xyxy[grow] += np.stack([-head.side * w, -head.top * h, head.side * w, head.bottom * h], axis=1)[grow]
        w = xyxy[:, 2] - xyxy[:, 0]
        h = xyxy[:, 3] - xyxy[:, 1]
    least = MIN_PAD_PX if padding > 0 else 0
    most = np.select(
        [dets.label == Label.PLATE.value, dets.label == Label.OCCUPANT.value],
        [float(max(PLATE_MAX_PAD_PX, least)), float(max(OCCUPANT_MAX_PAD_PX, least))],
        np.inf,
    )
    px = np.maximum(np.minimum(w * padding, most), least)
    py = np.maximum(np.minimum(h * padding, most), least)
    # Round outwards so a fractional box edge is always covered.
    x1 = np.clip(np.floor(xyxy[:, 0] - px), 0, width)
    y1 = np.clip(np.floor(xyxy[:, 1] - py), 0, height)
    x2 = np.clip(np.ceil(xyxy[:, 2] + px), 0, width)
    y2 = np.clip(np.ceil(xyxy[:, 3] + py), 0, height)
    boxes = np.stack([x1, y1, x2, y2], axis=1).astype(np.int32)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    labels = dets.label[keep]
    shape = np.array(
        [face_shape if lbl == Label.FACE.value else "rect" for lbl in labels], dtype=object
    ).reshape(-1)
    return Regions(
        boxes=boxes[keep],
        label=labels,
        score=dets.score[keep],
        source=dets.source[keep],
        track_id=dets.track_id[keep],
        shape=shape,
    )


def region_mask(box: NDArray[np.int32], shape: str) -> NDArray[np.bool_]:
    """Boolean mask (h, w) of the pixels inside one region's box that are redacted."""
    x1, y1, x2, y2 = (int(v) for v in box)
    h, w = y2 - y1, x2 - x1
    if shape == "rect":
        return np.ones((h, w), dtype=bool)
    mask = np.zeros((h, w), dtype=np.uint8)
    # The ellipse inscribed in the box, touching the middle of each edge.
    cv2.ellipse(mask, (((w - 1) / 2.0, (h - 1) / 2.0), (float(w), float(h)), 0.0), 255, -1)
    return mask.astype(bool)


def frame_mask(regions: Regions, width: int, height: int) -> NDArray[np.bool_]:
    """Boolean mask (height, width) of every redacted pixel in a frame."""
    mask = np.zeros((height, width), dtype=bool)
    for box, shape in zip(regions.boxes, regions.shape, strict=True):
        x1, y1, x2, y2 = (int(v) for v in box)
        mask[y1:y2, x1:x2] |= region_mask(box, str(shape))
    return mask
