"""Merging boxes from several passes, tiles and detectors: per-label NMS with box fusion.

Boxes are ``xyxy`` pixels. Merging never drops coverage carelessly: a box is only
removed when it overlaps a kept box by ``iou`` (then it is fused into it) or lies
almost wholly inside the fused box (``contain``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from redact.geometry import box_area, intersection_matrix, iou_matrix
from redact.types import Detections, Source

__all__ = ["box_area", "fuse_boxes", "intersection_matrix", "iou_matrix", "merge_detections", "nms", "not_inside"]


def nms(xyxy: NDArray[np.floating], score: NDArray[np.floating], iou: float) -> NDArray[np.int64]:
    """Greedy non-maximum suppression.

    Returns:
        Indices of the kept boxes, highest score first.
    """
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    order = np.argsort(-np.asarray(score, np.float32), kind="stable")
    keep: list[int] = []
    while len(order):
        i = int(order[0])
        keep.append(i)
        if len(order) == 1:
            break
        rest = order[1:]
        overlap = iou_matrix(boxes[i : i + 1], boxes[rest])[0]
        order = rest[overlap < iou]
    return np.asarray(keep, dtype=np.int64)


def fuse_boxes(
    xyxy: NDArray[np.floating], score: NDArray[np.floating], *, iou: float = 0.45, contain: float = 0.85
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Cluster boxes of one label and fuse each cluster into one box.

    The highest-scoring remaining box seeds a cluster; boxes with IoU >= ``iou`` with the
    cluster's box join it, and the cluster becomes the box enclosing them all, with the
    cluster's best score (the enclosing box rather than a mean: for redaction, coverage beats
    tightness, and passes at different scales disagree most about the edges). The cluster
    keeps taking boxes that overlap its grown box by ``iou``: a tight seed can overlap a
    loose box of the same object by less than the box it grew into does. Then boxes with at least
    ``contain`` of their own area inside the fused box are dropped too (duplicates from tiles
    and scales that cut or shrink the object). Last, fused boxes that still overlap each
    other by ``iou`` are fused: no two boxes out overlap that much.

    Args:
        xyxy: (N, 4) boxes in pixels.
        score: (N,) confidences.
        iou: IoU at which two boxes are the same object.
        contain: fraction of a box's area inside a fused box at which it is redundant.

    Returns:
        (fused xyxy float32 (K, 4), score float32 (K,)), highest score first.
    """
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    scores = np.asarray(score, np.float32).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    alive = np.ones(len(boxes), bool)
    out_boxes: list[NDArray[np.float32]] = []
    out_scores: list[float] = []
    areas = box_area(boxes)
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        alive[i] = False
        fused = boxes[i].copy()
        while True:
            idx = np.nonzero(alive)[0]
            join = idx[iou_matrix(fused[None, :], boxes[idx])[0] >= iou] if len(idx) else idx
            if not len(join):
                break
            fused = _enclosing(np.vstack([fused, boxes[join]]))
            alive[join] = False
        idx = np.nonzero(alive)[0]
        if len(idx):
            inside = intersection_matrix(fused[None, :], boxes[idx])[0] / np.maximum(areas[idx], 1e-9)
            alive[idx[inside >= contain]] = False
        out_boxes.append(fused)
        out_scores.append(float(scores[i]))
    if not out_boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return _fuse_overlapping(np.stack(out_boxes), np.asarray(out_scores, np.float32), iou)


def _enclosing(boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    """The box enclosing ``boxes`` (M, 4)."""
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()], np.float32)


def _fuse_overlapping(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], iou: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Fuse any two of ``boxes`` (highest score first) that overlap by ``iou``, until none do;
    the result stays highest score first."""
    boxes, scores = boxes.copy(), scores.copy()
    while len(boxes) > 1:
        overlap = np.triu(iou_matrix(boxes, boxes) >= iou, k=1)
        if not overlap.any():
            break
        i, j = (int(v) for v in np.argwhere(overlap)[0])
        boxes[i] = _enclosing(boxes[[i, j]])
        boxes = np.delete(boxes, j, axis=0)
        scores = np.delete(scores, j)  # i < j: the kept box already has the higher score
    return boxes, scores


def merge_detections(dets: Detections, *, iou: float = 0.45, contain: float = 0.85) -> Detections:
    """Per-label fusion of candidate boxes from any number of passes and detectors.

    Args:
        dets: candidates, any labels, xyxy source pixels.
        iou: IoU at which two boxes of the same label are one object.
        contain: area fraction inside a fused box at which a box is redundant.

    Returns:
        New detections, ``source="detector"``, grouped by label, highest score first.
    """
    parts = []
    for label in dict.fromkeys(dets.label.tolist()):
        sub = dets.with_label(label)
        xyxy, score = fuse_boxes(sub.xyxy, sub.score, iou=iou, contain=contain)
        parts.append(Detections.from_arrays(xyxy, score, label, Source.DETECTOR.value))
    return Detections.concat(parts)


def not_inside(dets: Detections, kept: Detections, contain: float) -> Detections:
    """``dets`` less the boxes with ``contain`` of their area or more inside a box of ``kept``
    (any label): a weak candidate a detection already holds is no suspect."""
    if not len(dets) or not len(kept):
        return dets
    area = np.maximum(box_area(dets.xyxy), 1e-6)
    return dets[intersection_matrix(dets.xyxy, kept.xyxy).max(axis=1) / area < contain]
