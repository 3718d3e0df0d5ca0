"""Per-label NMS and box fusion."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect.merge import fuse_boxes, intersection_matrix, iou_matrix, merge_detections, nms
from redact.types import Detections


def test_iou_matrix_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(intersection_matrix(a, b)[0], [100, 50, 0, 0])


def test_nms_keeps_best_of_overlapping() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    keep = nms(boxes, np.array([0.5, 0.9, 0.4], np.float32), 0.5)
    assert keep.tolist() == [1, 2]


def test_nms_empty() -> None:
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).tolist() == []


def test_fuse_encloses_cluster_with_max_score() -> None:
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10]], np.float32)
    xyxy, score = fuse_boxes(boxes, np.array([0.75, 0.25], np.float32), iou=0.5)
    np.testing.assert_allclose(xyxy, [[0, 0, 12, 10]])
    np.testing.assert_allclose(score, [0.75])


def test_fuse_keeps_zero_area_box() -> None:
    xyxy, _ = fuse_boxes(np.array([[5, 5, 5, 9]], np.float32), np.array([0.5], np.float32))
    np.testing.assert_allclose(xyxy, [[5, 5, 5, 9]])


def test_fuse_drops_box_inside_fused_box_but_keeps_neighbours() -> None:
    boxes = np.array([[0, 0, 100, 100], [10, 10, 40, 40], [90, 90, 140, 140]], np.float32)
    xyxy, score = fuse_boxes(boxes, np.array([0.9, 0.3, 0.5], np.float32), iou=0.45, contain=0.85)
    assert len(xyxy) == 2  # the small box is a duplicate part; the neighbour only overlaps a corner
    np.testing.assert_allclose(xyxy[1], [90, 90, 140, 140])


def test_fuse_keeps_small_box_beside_big_one() -> None:
    # A small face partly outside a big one is a different face: keep it.
    boxes = np.array([[0, 0, 100, 100], [90, 10, 120, 40]], np.float32)
    xyxy, _ = fuse_boxes(boxes, np.array([0.9, 0.3], np.float32))
    assert len(xyxy) == 2


def test_merge_is_per_label_and_sets_source() -> None:
    dets = Detections.concat(
        [
            Detections.from_arrays([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], "face"),
            Detections.from_arrays([[0, 0, 10, 10]], [0.7], "plate", "tracker"),
        ]
    )
    out = merge_detections(dets)
    assert sorted(out.label.tolist()) == ["face", "plate"]
    assert set(out.source.tolist()) == {"detector"}
    assert len(dets) == 3  # input untouched


def test_merge_empty() -> None:
    assert len(merge_detections(Detections.empty())) == 0


@pytest.mark.parametrize("n", [1, 5, 50])
def test_fused_box_encloses_jittered_duplicates(n: int) -> None:
    rng = np.random.default_rng(n)
    base = np.array([100, 100, 150, 150], np.float32)
    boxes = base + rng.normal(0, 2, (n, 4)).astype(np.float32)
    xyxy, _ = fuse_boxes(boxes, rng.uniform(0.3, 1, n).astype(np.float32))
    assert len(xyxy) == 1
    np.testing.assert_allclose(xyxy[0], base, atol=12)
    assert (xyxy[0, :2] <= boxes[:, :2].min(0) + 1e-4).all()
    assert (xyxy[0, 2:] >= boxes[:, 2:].max(0) - 1e-4).all()
