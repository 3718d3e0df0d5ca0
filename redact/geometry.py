"""Box maths, once: areas, intersections and IoU of ``xyxy`` boxes (pixels, exclusive
right/bottom bounds), as (N, 4) arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Boxes = NDArray[np.floating] | NDArray[np.integer]


def box_area(x: Boxes, dtype: Any = np.float32) -> NDArray[Any]:
    """Area of each box (N, 4); inverted boxes count as empty."""
    x = np.asarray(x, dtype).reshape(-1, 4)
    return (np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)).astype(dtype)


def intersection_matrix(a: Boxes, b: Boxes, dtype: Any = np.float32) -> NDArray[Any]:
    """Intersection area of every box in ``a`` (N, 4) with every box in ``b`` (M, 4); (N, M)."""
    a = np.asarray(a, dtype).reshape(-1, 4)
    b = np.asarray(b, dtype).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return (np.clip(w, 0, None) * np.clip(h, 0, None)).astype(dtype)


def iou_matrix(a: Boxes, b: Boxes, dtype: Any = np.float32) -> NDArray[Any]:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4); (N, M), 0 where the
    union is empty. ``dtype``: the precision it is computed in (float64 for tracking)."""
    inter = intersection_matrix(a, b, dtype)
    union = box_area(a, dtype)[:, None] + box_area(b, dtype)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(dtype)


def inside_share(a: Boxes, b: Boxes, dtype: Any = np.float32) -> NDArray[Any]:
    """The share of every box in ``a`` (N, 4) that lies inside every box in ``b`` (M, 4);
    (N, M), 0 for an empty box of ``a``."""
    return (intersection_matrix(a, b, dtype) / np.maximum(box_area(a, dtype), 1e-9)[:, None]).astype(dtype)


def any_overlap(boxes: Boxes) -> bool:
    """Whether any two of the boxes share area (for integer boxes: share a pixel)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(b) < 2:
        return False
    meet = intersection_matrix(b, b, np.float64) > 0
    np.fill_diagonal(meet, False)
    return bool(meet.any())


def centres_inside(boxes: Boxes, regions: Boxes) -> NDArray[np.bool_]:
    """Whether the centre of each box (N, 4) lies inside each region (M, 4), edges included;
    shape (M, N)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    r = np.asarray(regions, np.float64).reshape(-1, 4)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    return np.asarray(
        (cx[None, :] >= r[:, None, 0]) & (cx[None, :] <= r[:, None, 2])
        & (cy[None, :] >= r[:, None, 1]) & (cy[None, :] <= r[:, None, 3])
    )


def cut_by_border(boxes: Boxes, width: int, height: int, margin: float) -> NDArray[np.bool_]:
    """Which boxes (N, 4) reach within ``margin`` pixels of a ``width`` x ``height`` picture's border."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.asarray(
        (b[:, 0] <= margin) | (b[:, 1] <= margin) | (b[:, 2] >= width - margin) | (b[:, 3] >= height - margin)
    )


def extend_to_border(boxes: Boxes, width: int, height: int, margin: float) -> NDArray[np.float32]:
    """Boxes (N, 4) with every side within ``margin`` pixels of a ``width`` x ``height``
    picture's border moved onto it (what the border cuts goes on beyond it)."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    b[b[:, 0] <= margin, 0] = 0
    b[b[:, 1] <= margin, 1] = 0
    b[b[:, 2] >= width - margin, 2] = width
    b[b[:, 3] >= height - margin, 3] = height
    return b


def intersect_rows(a: Boxes, b: Boxes) -> NDArray[np.float32]:
    """Row ``i``: box ``a[i]`` cut to box ``b[i]`` (both (N, 4)); a pair that does not overlap
    gives a box of zero width or height."""
    x = np.asarray(a, np.float32).reshape(-1, 4)
    y = np.asarray(b, np.float32).reshape(-1, 4)
    out = np.concatenate([np.maximum(x[:, :2], y[:, :2]), np.minimum(x[:, 2:], y[:, 2:])], axis=1)
    out[:, 2:] = np.maximum(out[:, 2:], out[:, :2])
    return out


def affine_hull(boxes: Boxes, matrix: NDArray[np.floating], dtype: Any = np.float32) -> NDArray[Any]:
    """The level box around each box's four corners moved by ``matrix`` (a 2x3 affine
    transform of (x, y), as OpenCV's ``warpAffine`` takes it): where a box lands in a
    picture turned by an angle, holding all of it. Computed in float64."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    m = np.asarray(matrix, np.float64).reshape(2, 3)
    corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], axis=1)  # (N, 4, 2)
    moved = corners @ m[:, :2].T + m[:, 2]
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1).astype(dtype)
