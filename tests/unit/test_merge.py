"""Per-label NMS and box fusion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redact.detect.merge import (
    box_area,
    fuse_boxes,
    intersection_matrix,
    iou_matrix,
    merge_detections,
    nms,
    not_inside,
)
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


def test_a_loose_box_joins_through_the_grown_cluster() -> None:
    # One plate seen three ways: a tight box, a looser one and a tall one. The tall box
    # overlaps the tight seed by IoU 0.39 only, but the cluster once grown by 0.76 and holds
    # 76 % of it: one region, not two nearly identical ones.
    boxes = np.array([[636, 415, 710, 439], [626, 408, 715, 447], [623, 403, 718, 451]], np.float32)
    xyxy, score = fuse_boxes(boxes, np.array([0.786, 0.686, 0.446], np.float32), iou=0.45, contain=0.85)
    np.testing.assert_allclose(xyxy, [[623, 403, 718, 451]])
    np.testing.assert_allclose(score, [0.786])


def test_fused_boxes_that_overlap_each_other_are_fused() -> None:
    # Neither later box overlaps the first cluster by 0.5 (0.35, 0.47); together they make a
    # second cluster that does (0.53). Containment is off to show the last step alone.
    boxes = np.array([[0, 7, 10, 13], [1, 10, 8, 13], [2, 9, 9, 13]], np.float32)
    xyxy, score = fuse_boxes(boxes, np.array([0.68, 0.13, 0.10], np.float32), iou=0.5, contain=1.1)
    np.testing.assert_allclose(xyxy, [[0, 7, 10, 13]])
    np.testing.assert_allclose(score, [0.68])


boxes_st = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(1, 80), st.integers(1, 80)), min_size=1, max_size=30
)


@settings(max_examples=150, deadline=None)
@given(boxes_st, st.floats(0.2, 0.9), st.floats(0.5, 1.0))
def test_fused_boxes_cover_every_box_and_overlap_little(
    raw: list[tuple[int, int, int, int]], iou: float, contain: float
) -> None:
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in raw], np.float32)
    scores = np.linspace(1.0, 0.1, len(boxes)).astype(np.float32)
    xyxy, score = fuse_boxes(boxes, scores, iou=iou, contain=contain)
    assert (np.diff(score) <= 0).all()
    overlap = iou_matrix(xyxy, xyxy)
    np.fill_diagonal(overlap, 0)
    assert (overlap < iou).all()
    # Every box is enclosed by a fused box, or at least ``contain`` of it lies inside one.
    inside = intersection_matrix(xyxy, boxes).max(axis=0) / np.maximum(box_area(boxes), 1e-9)
    assert (inside >= contain - 1e-5).all()


def test_not_inside_drops_boxes_mostly_inside_a_kept_box_of_any_label() -> None:
    dets = Detections.from_arrays(
        np.array([[10, 10, 20, 20], [18, 10, 40, 20], [50, 50, 60, 60]], np.float32), [0.2, 0.2, 0.2], "plate"
    )
    kept = Detections.from_arrays(np.array([[0, 0, 21, 21]], np.float32), [0.9], "face")
    assert not_inside(dets, kept, 0.85).xyxy.tolist() == [[18, 10, 40, 20], [50, 50, 60, 60]]
    assert not_inside(dets, Detections.empty(), 0.85) is dets
    assert not len(not_inside(Detections.empty(), kept, 0.85))
