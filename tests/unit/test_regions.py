from __future__ import annotations

import numpy as np
import pytest

from redact.render import regions
from redact.types import Detections


def dets(boxes, label="face", source="detector"):
    return Detections.from_arrays(boxes, [0.9] * len(boxes), label, source)


def build(found, width, height, **kwargs):
    """Region building as found, without growing faces to heads (tested on its own below)."""
    return regions.build(found, width, height, head=None, **kwargs)


def test_padding_grows_each_side_by_fraction() -> None:
    r = build(dets([[100, 100, 200, 150]]), 1000, 1000, padding=0.1)
    assert r.boxes.tolist() == [[90, 95, 210, 155]]


def test_minimum_padding_in_pixels_for_tiny_boxes() -> None:
    r = build(dets([[10, 10, 14, 14]]), 100, 100, padding=0.1)
    assert r.boxes.tolist() == [[8, 8, 16, 16]]


def test_fractional_edges_round_outwards() -> None:
    r = build(dets([[10.4, 10.6, 20.2, 20.9]]), 100, 100, padding=0.0)
    assert r.boxes.tolist() == [[10, 10, 21, 21]]


@pytest.mark.parametrize(
    "box, expected",
    [
        ([-20, -20, 30, 30], [0, 0, 35, 35]),  # top-left corner
        ([90, 40, 130, 60], [86, 38, 100, 62]),  # right edge: exclusive bound = width
        ([50, 90, 60, 140], [48, 85, 62, 100]),  # bottom edge
        ([0, 0, 100, 100], [0, 0, 100, 100]),  # whole frame
    ],
)
def test_clipping_with_exclusive_bounds(box, expected) -> None:
    r = build(dets([box]), 100, 100, padding=0.1)
    assert r.boxes.tolist() == [expected]
    assert (r.boxes[:, 2] <= 100).all() and (r.boxes[:, 3] <= 100).all()


def test_boxes_outside_frame_are_dropped() -> None:
    r = build(dets([[200, 200, 300, 300], [10, 10, 20, 20]]), 100, 100, padding=0.0)
    assert r.boxes.tolist() == [[10, 10, 20, 20]]


def test_shapes_faces_ellipse_plates_rect() -> None:
    d = Detections.concat([dets([[0, 0, 10, 10]]), dets([[20, 20, 40, 30]], "plate")])
    r = build(d, 100, 100, padding=0.0, face_shape="ellipse")
    assert r.shape.tolist() == ["ellipse", "rect"]


def test_ellipse_mask_inscribed() -> None:
    m = regions.region_mask(np.array([0, 0, 41, 21], np.int32), "ellipse")
    assert m.shape == (21, 41)
    assert m[10, 20] and m[10, 0] and m[10, 40] and m[0, 20] and m[20, 20]
    assert not m[0, 0] and not m[20, 40]
    assert 0.7 < m.mean() < 0.85  # close to pi/4 of the box


def test_records_are_xywh_top_left() -> None:
    r = build(dets([[10, 20, 30, 60]]), 100, 100, padding=0.0)
    rec = r.to_records()[0]
    assert rec["box"] == [10, 20, 20, 40]
    assert rec["label"] == "face" and rec["source"] == "detector" and rec["score"] == pytest.approx(0.9)


def test_frame_mask_union() -> None:
    r = build(dets([[0, 0, 10, 10], [5, 5, 15, 15]]), 20, 20, padding=0.0)
    m = regions.frame_mask(r, 20, 20)
    assert m.sum() == 100 + 100 - 25


def test_large_plates_get_a_bounded_margin_faces_do_not() -> None:
    pad = regions.PLATE_MAX_PAD_PX
    found = Detections.from_arrays(
        np.array([[100, 100, 500, 300], [100, 400, 500, 800], [10, 10, 60, 30]], np.float32),
        np.ones(3, np.float32),
        np.array(["plate", "face", "plate"], dtype=object),
        "detector",
    )
    boxes = build(found, 1000, 1000, padding=0.15).boxes
    assert boxes[0].tolist() == [100 - pad, 100 - pad, 500 + pad, 300 + pad]
    assert boxes[1].tolist() == [40, 340, 560, 860]  # 15 % of 400 per side
    assert boxes[2].tolist() == [2, 7, 68, 33]  # a small plate keeps its fraction (7.5 x 3 px)


def test_faces_grow_to_the_whole_head_before_padding() -> None:
    # A brow-to-chin box 100 wide, 100 tall: the hair line above, the chin below, the ears aside.
    head = regions.HEAD
    r = regions.build(dets([[200, 200, 300, 300]]), 1000, 1000, padding=0.0)
    grown = [200 - 100 * head.side, 200 - 100 * head.top, 300 + 100 * head.side, 300 + 100 * head.bottom]
    assert r.boxes.tolist() == [grown]
    assert head.top > head.bottom > 0 and head.side > 0  # more above (hair) than below (chin)
    # Padding is a margin around the head, as a fraction of the head's size.
    grown_h = 100 * (1 + head.top + head.bottom)
    padded = regions.build(dets([[200, 200, 300, 300]]), 1000, 1000, padding=0.1).boxes[0]
    assert padded[1] == np.floor(200 - 100 * head.top - 0.1 * grown_h)


@pytest.mark.parametrize(("label", "source"), [("plate", "detector"), ("occupant", "detector"), ("face", "manual")])
def test_only_found_faces_grow(label, source) -> None:
    """Plates and occupant zones are drawn to their object; a reviewer's box is taken as drawn."""
    r = regions.build(dets([[200, 200, 300, 300]], label, source), 1000, 1000, padding=0.0)
    assert r.boxes.tolist() == [[200, 200, 300, 300]]


def test_tracked_faces_grow_and_heads_clip_to_the_frame() -> None:
    r = regions.build(dets([[0, 5, 50, 55]], "face", "tracker"), 100, 100, padding=0.0)
    assert r.boxes.tolist() == [[0, 0, 55, 60]]


def test_occupant_zones_get_a_bounded_margin() -> None:
    """A car-wide window zone padded by a fraction of its width would reach past the car."""
    pad = regions.OCCUPANT_MAX_PAD_PX
    r = regions.build(dets([[300, 250, 900, 450]], "occupant"), 1280, 720, padding=0.15)
    assert r.boxes.tolist() == [[300 - pad, 250 - pad, 900 + pad, 450 + pad]]
    small = regions.build(dets([[100, 100, 140, 140]], "occupant"), 1280, 720, padding=0.15)
    assert small.boxes.tolist() == [[94, 94, 146, 146]]
