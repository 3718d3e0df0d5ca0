"""``bench/dashboards.py --frames``: pictures degraded before they are composed, their plate
boxes following them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.helpers import load_bench


def _item(tmp_path: Path):  # type: ignore[no-untyped-def]
    accuracy = load_bench("accuracy")
    picture = np.random.default_rng(0).integers(60, 200, (400, 600, 3), dtype=np.uint8)
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), picture)
    gt = np.array([[100, 200, 220, 240]], np.int64)
    return accuracy.Item("set", path, 600, 400, gt, ["plate"]), picture


def test_frames_as_they_are_without_a_degradation(tmp_path: Path) -> None:
    bench = load_bench("dashboards")
    item, picture = _item(tmp_path)
    image, same = bench.read(item, None, np.random.default_rng(1))
    assert np.array_equal(image, picture) and same is item


def test_degraded_frames_carry_their_boxes_along(tmp_path: Path) -> None:
    bench = load_bench("dashboards")
    item, picture = _item(tmp_path)
    night, moved = bench.read(item, "night", np.random.default_rng(1))
    assert night.shape == picture.shape and night.mean() < picture.mean() - 20  # darker
    assert np.array_equal(moved.gt, item.gt)
    small, moved = bench.read(item, "small", np.random.default_rng(1))
    assert small.shape[:2] == (280, 420) and (moved.width, moved.height) == (420, 280)
    assert moved.gt.tolist() == [[70, 140, 154, 168]]


def test_the_same_pairs_are_drawn_with_degraded_frames(tmp_path: Path) -> None:
    bench = load_bench("dashboards")
    item, _ = _item(tmp_path)
    plain, boxes = bench.compose(item, item, np.random.default_rng(2))
    darker, night_boxes = bench.compose(item, item, np.random.default_rng(2), "night", np.random.default_rng(3))
    assert boxes == night_boxes
    assert darker[200:900, 30:1000].mean() < plain[200:900, 30:1000].mean() - 20
    assert np.array_equal(darker[:57], plain[:57])  # the interface drawn as it is


def test_every_layout_keeps_its_panels_on_the_screenshot_and_labels_each_zoomed_plate(tmp_path: Path) -> None:
    bench = load_bench("dashboards")
    item, _ = _item(tmp_path)
    dev, _ = bench.compose(item, item, np.random.default_rng(2))
    for name, layout in bench.LAYOUTS.items():
        for x, y, w, h in (layout.wide, layout.second, *(rect for rect, _ in layout.zooms)):
            assert x >= 0 and y >= bench.HEADER_HIGH and x + w <= bench.SIZE[0] and y + h <= bench.SIZE[1], name
        image, boxes = bench.compose(item, item, np.random.default_rng(2), layout=layout)
        assert len(boxes) == 2 + len(layout.zooms), name  # one plate in each frame, one in each crop
        for rect, _ in layout.zooms:  # each crop's plate is zoomed 390 px wide and lies in its panel
            x, y, w, h = rect
            (plate,) = [b for b in boxes if x <= b["x"] and b["x"] + b["w"] <= x + w and y <= b["y"] < y + h]
            assert abs(plate["w"] - bench.ZOOM_PLATE_WIDE) <= 1, name
    grid, _ = bench.compose(item, item, np.random.default_rng(2), layout=bench.LAYOUTS["grid"])
    assert not np.array_equal(grid, dev)
