"""``bench/occupants.py --crops``: enforcement-camera crops of car fronts, made from labelled
pictures, with their labels moved into them; degraded copies, drawn anew with ``--draw``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO, load_bench, record_seeds


def _entry() -> dict:
    return {
        "file": "images/romania_car.jpg",
        "boxes": [
            {"label": "window", "x": 400, "y": 200, "w": 200, "h": 80},  # a windscreen
            {"label": "occupant", "x": 430, "y": 210, "w": 40, "h": 50, "difficult": True},
            {"label": "window", "x": 620, "y": 210, "w": 60, "h": 60},  # a side window: too narrow
            {"label": "window", "x": 20, "y": 20, "w": 120, "h": 50},  # no plate below it
        ],
    }


def test_a_crop_is_made_around_a_windscreen_with_a_plate_below() -> None:
    bench = load_bench("occupants")
    image = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)
    plates = np.array([[470, 360, 530, 376]], np.float32)  # the crop reaches y 394
    crops = bench.enforcement_crops(image, _entry(), plates)
    assert len(crops) == 1
    crop, entry = crops[0]
    assert crop.shape == (288, 320, 3)
    assert np.array_equal(crop[..., 0], crop[..., 1]) and np.array_equal(crop[..., 1], crop[..., 2])  # grey
    windscreen = next(b for b in entry["boxes"] if b["label"] == "window")
    # 1.3 windows wide (260 px) from half a window's height above: the windscreen spans
    # 200 of 260 px, centred, from 40 of 234 px down (scale 320 / 260).
    scale = 320 / 260
    assert np.isclose(windscreen["x"], 30 * scale) and np.isclose(windscreen["w"], 200 * scale)
    assert np.isclose(windscreen["y"], 40 * scale) and np.isclose(windscreen["h"], 80 * scale)
    assert [b["label"] for b in entry["boxes"]].count("occupant") == 1
    # The side window is cut by the crop's edge, the far window is outside it.
    assert len([b for b in entry["boxes"] if b["label"] == "window"]) == 2
    # Framed wider (--crop-width 2): 400 px from x 300, the windscreen 200 px of them.
    (_, wide), = bench.enforcement_crops(image, _entry(), plates, wide=2.0)
    windscreen = next(b for b in wide["boxes"] if b["label"] == "window")
    assert np.isclose(windscreen["x"], 100 * 0.8) and np.isclose(windscreen["w"], 200 * 0.8)


def test_no_crop_without_a_plate_below_the_window_or_room_for_it() -> None:
    bench = load_bench("occupants")
    image = np.zeros((720, 1280, 3), np.uint8)
    assert bench.enforcement_crops(image, _entry(), np.zeros((0, 4), np.float32)) == []
    above = np.array([[470, 100, 530, 120]], np.float32)  # a plate above the windscreen
    assert bench.enforcement_crops(image, _entry(), above) == []
    small = np.zeros((300, 1280, 3), np.uint8)  # the crop would reach past the bottom
    assert bench.enforcement_crops(small, _entry(), np.array([[470, 250, 530, 270]], np.float32)) == []


def test_occupant_set_pictures_find_their_plates_by_name() -> None:
    bench = load_bench("occupants")
    plates = {"car.jpg": np.ones((1, 4), np.float32), "eu_1.jpg": np.zeros((2, 4), np.float32)}
    assert len(bench.plates_of({"file": "images/romania_car.jpg"}, plates)) == 1
    assert len(bench.plates_of({"file": "plates-openalpr-us-eu/images/eu_1.jpg"}, plates)) == 2
    assert len(bench.plates_of({"file": "images/other.jpg"}, plates)) == 0


def test_degraded_copies_move_every_label_with_the_picture() -> None:
    bench = load_bench("occupants")
    image = np.random.default_rng(1).integers(0, 255, (360, 640, 3), np.uint8)
    entry = _entry()
    out, moved = bench.degraded(image, entry, "small", seed=0)
    scale = out.shape[1] / 640
    assert out.shape[0] == round(360 * scale) and scale < 1
    for before, after in zip(entry["boxes"], moved["boxes"], strict=True):
        assert after["label"] == before["label"] and after.get("difficult") == before.get("difficult")
        assert np.isclose(after["x"], before["x"] * scale, atol=1)
        assert np.isclose(after["w"], before["w"] * scale, atol=1)
    same, kept = bench.degraded(image, entry, "night", seed=0)
    assert same.shape == image.shape and kept["boxes"] == entry["boxes"]
    again, _ = bench.degraded(image, entry, "night", seed=0)
    assert np.array_equal(same, again)  # seeded: the same copy every run


def test_each_draw_degrades_the_pictures_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    shutil.copy(REPO / "samples" / "street" / "parked-car.png", tmp_path / "car.png")
    (tmp_path / "annotations.json").write_text(json.dumps({"images": [
        {"file": "car.png", "width": 1280, "height": 720, "boxes": []}]}))
    bench = load_bench("occupants")
    seeds = record_seeds(monkeypatch, bench)
    drawn = {}
    for draw in (0, 1):
        seeds.clear()
        res = bench.run([tmp_path / "annotations.json"], quality="fast", padding=0.15, limit=None, threads=1,
                        degrade=["night"], draw=draw, progress=False)
        assert res["draw"] == draw and len(res["sets"]) == 2
        drawn[draw] = list(seeds)
    assert drawn[0] == [0] and drawn[1] != drawn[0]
