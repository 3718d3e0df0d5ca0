"""Turn detections into the exact pixel regions to redact: padding, clipping, shapes."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.types import Detections, Label, Regions

MIN_PAD_PX = 2
# A plate box already holds the plate's border (the networks and the text growth see to
# that); past this margin, padding a large plate only blacks out the car around it.
PLATE_MAX_PAD_PX = 16


def build(
    dets: Detections,
    width: int,
    height: int,
    *,
    padding: float,
    face_shape: str = "rect",
) -> Regions:
    """Pad each box, clip it to the frame and fix its shape.

    Args:
        dets: detections in frame pixels (xyxy float).
        width: frame width in pixels.
        height: frame height in pixels.
        padding: margin added on each side as a fraction of the box's width/height
            (at least ``MIN_PAD_PX`` pixels when ``padding > 0``; for plates at most
            ``PLATE_MAX_PAD_PX`` pixels).
        face_shape: ``"rect"`` or ``"ellipse"`` for faces; plates are always rectangles.

    Returns:
        Regions with integer xyxy boxes, ``0 <= x1 < x2 <= width`` (exclusive bounds).
        Boxes entirely outside the frame are dropped.
    """
    if not len(dets):
        return Regions.empty()
    xyxy = dets.xyxy.astype(np.float64)
    w = xyxy[:, 2] - xyxy[:, 0]
    h = xyxy[:, 3] - xyxy[:, 1]
    least = MIN_PAD_PX if padding > 0 else 0
    most = np.where(dets.label == Label.PLATE.value, float(max(PLATE_MAX_PAD_PX, least)), np.inf)
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
