"""``bench/recording.py``: a dashboard's screen recording composed frame by frame, every plate
labelled where it lands, and scored from the regions a run gives each frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.helpers import load_bench


def _items(tmp_path: Path, count: int = 4):  # type: ignore[no-untyped-def]
    accuracy = load_bench("accuracy")
    items = []
    for n in range(count):
        picture = np.random.default_rng(n).integers(40, 220, (720, 1280, 3), dtype=np.uint8)
        path = tmp_path / f"frame{n}.png"
        cv2.imwrite(str(path), picture)
        gt = np.array([[500 + 10 * n, 400, 620 + 10 * n, 430], [100, 600, 160, 620]], np.int64)
        items.append(accuracy.Item("set", path, 1280, 720, gt, ["plate", "plate"]))
    return items


def _inside(box: list[int], rect: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return rect[0] <= x and rect[1] <= y and x + w <= rect[0] + rect[2] and y + h <= rect[1] + rect[3]


def test_the_feed_cuts_and_the_reads_change_halfway_through_each_shot(tmp_path: Path) -> None:
    bench = load_bench("recording")
    items = _items(tmp_path)
    frames, truth = bench.compose(items, items, feeds=2, hold=6, seed=1)
    assert len(frames) == len(truth) == 12 and frames[0].shape == (1080, 1920, 3)
    layout = bench.LAYOUTS["dev"]
    wide, second, (crop, _) = layout.wide, layout.second, layout.zooms[0]
    for plates in truth:
        panels = [p for p, _ in plates]
        assert panels.count("crop") == 1 and panels.count("second") == 2 and panels.count("feed") == 2
        for panel, box in plates:
            assert _inside(box, {"feed": wide, "crop": crop, "second": second}[panel]), (panel, box)

    def panel(f: int, rect: tuple[int, int, int, int]) -> np.ndarray:
        return frames[f][rect[1] : rect[1] + rect[3], rect[0] : rect[0] + rect[2]]

    # The feed closes in on every frame and cuts at the shot's end; the read stays until
    # halfway through the shot (frame 3), then crop, second frame and header change at once.
    assert not np.array_equal(panel(1, wide), panel(2, wide))
    assert np.array_equal(panel(1, crop), panel(2, crop)) and np.array_equal(panel(1, second), panel(2, second))
    assert not np.array_equal(panel(2, crop), panel(3, crop))
    assert [b for p, b in truth[2] if p == "feed"] != [b for p, b in truth[1] if p == "feed"]
    # A still feed stands still within its shot.
    still, still_truth = bench.compose(items, items, feeds=2, hold=6, seed=1, feed="still")
    assert np.array_equal(
        still[1][wide[1] : wide[1] + wide[3], wide[0] : wide[0] + wide[2]],
        still[4][wide[1] : wide[1] + wide[3], wide[0] : wide[0] + wide[2]],
    )
    assert [b for p, b in still_truth[1] if p == "feed"] == [b for p, b in still_truth[4] if p == "feed"]


def test_layouts_with_two_crops_fill_both(tmp_path: Path) -> None:
    bench = load_bench("recording")
    items = _items(tmp_path)
    _, truth = bench.compose(items, items, feeds=1, hold=2, seed=3, layout="grid")
    crops = [b for p, b in truth[0] if p == "crop"]
    rects = [rect for rect, _ in bench.LAYOUTS["grid"].zooms]
    assert len(crops) == 2 and all(any(_inside(b, r) for r in rects) for b in crops)


def test_a_plate_counts_exposed_under_eight_tenths_covered_and_boxes_scale_with_the_export() -> None:
    bench = load_bench("recording")
    truth = [[("crop", [100, 100, 100, 50]), ("feed", [500, 500, 40, 20])]]
    got = {0: [{"box": [100, 100, 70, 50]}, {"box": [0, 0, 20, 20]}]}  # 0.7 of the crop's plate; the feed's bare
    rows = bench.measure(truth, got, 1)
    assert rows["crop"]["exposed"] == 1 and rows["crop"]["least"] == 0.7
    assert rows["feed"]["exposed"] == 1 and rows["all"]["plates"] == 2 and rows["all"]["not_whole"] == 2
    assert rows["all"]["away_mean"] == round(400 / (1920 * 1080), 4)
    # At 4K the labelled boxes are doubled: regions on the doubled boxes cover them.
    got4k = {0: [{"box": [200, 200, 200, 100]}, {"box": [1000, 1000, 80, 40]}]}
    rows = bench.measure(truth, got4k, 2)
    assert rows["all"]["exposed"] == 0 and rows["all"]["not_whole"] == 0 and rows["all"]["away_mean"] == 0.0
