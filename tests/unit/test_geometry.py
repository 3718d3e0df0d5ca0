"""Box maths: areas, intersections, IoU and overlap, in the precision asked for."""

from __future__ import annotations

import numpy as np

from redact.geometry import any_overlap, box_area, intersect_rows, intersection_matrix, iou_matrix


def test_area_intersection_and_iou() -> None:
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 10, 10]])  # the last one inverted: empty
    np.testing.assert_array_equal(box_area(a), [100, 100, 0])
    inter = intersection_matrix(a, a)
    assert inter[0, 1] == 25 and inter[0, 2] == 0
    iou = iou_matrix(a, a, np.float64)
    assert iou.dtype == np.float64 and iou[0, 1] == 25 / 175 and iou[0, 0] == 1.0 and iou[2, 2] == 0.0
    assert iou_matrix(a[:0], a).shape == (0, 3)


def test_any_overlap_means_sharing_a_pixel() -> None:
    assert not any_overlap(np.array([[0, 0, 10, 10], [10, 0, 20, 10]]))  # exclusive bounds: touching only
    assert any_overlap(np.array([[0, 0, 10, 10], [9, 9, 20, 20]]))
    assert not any_overlap(np.array([[0, 0, 10, 10]]))


def test_intersect_rows_cuts_each_box_to_its_partner() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    b = np.array([[5, 2, 20, 8], [20, 20, 30, 30]], np.float32)
    out = intersect_rows(a, b)
    assert out[0].tolist() == [5, 2, 10, 8]
    assert box_area(out[1:]).tolist() == [0.0]  # apart: nothing left
