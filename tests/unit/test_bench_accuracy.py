"""``bench/accuracy.py``'s scoring: stray regions against the set's labels and against the
known objects it leaves unlabelled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redact.types import Detections
from tests.helpers import REPO, load_bench, record_seeds


def test_a_region_on_a_known_unlabelled_plate_is_stray_only_against_the_labels() -> None:
    bench = load_bench("accuracy")
    item = bench.Item(
        set_name="s", path=Path("x.jpg"), width=400, height=300,
        gt=np.array([[10, 10, 50, 30]], np.int64), gt_label=["plate"],
        known=np.array([[200, 200, 240, 220]], np.int64), known_label=["plate"],
    )
    dets = Detections.from_arrays([[10, 10, 50, 30], [200, 200, 240, 220], [300, 50, 340, 70]], [0.9] * 3, "plate")
    tallies: dict = {}
    bench.score_image(item, dets, 0.15, tallies, {"plate"})
    t = tallies["plate"]
    assert (t.regions, t.stray, t.stray_known) == (3, 2, 1)
    assert sum(t.total.values()) == 1  # known boxes never enter recall


def test_known_boxes_point_at_dev_images_by_path() -> None:
    data = json.loads((REPO / "bench" / "data" / "unlabelled-plates" / "annotations.json").read_text())
    assert data["images"] and all(im["file"].startswith("plates-romania-dashcam/images/") for im in data["images"])
    assert all(b["label"] == "plate" and b["w"] > 0 and b["h"] > 0 for im in data["images"] for b in im["boxes"])
    known = load_bench("accuracy").known_boxes()
    assert sum(len(v) for v in known.values()) == sum(len(im["boxes"]) for im in data["images"])


def test_away_counts_occupant_regions_when_the_occupant_detector_runs(tmp_path: Path) -> None:
    # The sample street scene: a car with its driver and plate, nothing labelled. With
    # --occupants windows every region is away from the (absent) labels, and the figures
    # without occupant regions leave the car's window zone out.
    import shutil

    shutil.copy(REPO / "samples" / "street" / "parked-car.png", tmp_path / "car.png")
    (tmp_path / "annotations.json").write_text(
        json.dumps({"images": [{"file": "car.png", "width": 1280, "height": 720, "boxes": []}]})
    )
    bench = load_bench("accuracy")
    common = dict(quality="fast", pad=0.15, thresholds=dict(bench.DEFAULT_THRESHOLDS), sweep=[], limit=None,
                  threads=1, own_labels=False, progress=False)
    with_zones = bench.run([tmp_path], occupants="windows", **common)["per_set"][tmp_path.name]
    assert with_zones["away"]["mean_share"] > with_zones["away_without_occupants"]["mean_share"] + 0.01
    without = bench.run([tmp_path], occupants="off", **common)["per_set"][tmp_path.name]
    assert without["away"] == without["away_without_occupants"]
    assert without["away"]["mean_share"] == with_zones["away_without_occupants"]["mean_share"]


def test_degraded_copies_keep_their_boxes_on_the_objects() -> None:
    bench = load_bench("accuracy")
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    item = bench.Item(
        set_name="s", path=Path("x.jpg"), width=200, height=120,
        gt=np.array([[20, 30, 120, 60]], np.int64), gt_label=["plate"],
        known=np.array([[150, 100, 190, 110]], np.int64), known_label=["plate"],
    )
    for name in bench.DEGRADATIONS:
        out, moved = bench.degraded(image, item, name, seed=3)
        again, _ = bench.degraded(image, item, name, seed=3)
        assert out.dtype == np.uint8 and out.shape[2] == 3 and np.array_equal(out, again)  # seeded
        assert (moved.height, moved.width) == out.shape[:2]
        assert not np.array_equal(out, image[: out.shape[0], : out.shape[1]])
    out, moved = bench.degraded(image, item, "small", seed=0)
    assert out.shape[:2] == (84, 140)
    assert moved.gt.tolist() == [[14, 21, 84, 42]] and moved.known.tolist() == [[105, 70, 133, 77]]
    assert item.gt.tolist() == [[20, 30, 120, 60]]  # the original item is untouched
    out, moved = bench.degraded(image, item, "framed", seed=0)
    assert out.shape[:2] == (1080, 1920)
    assert moved.gt.tolist() == [[880, 510, 980, 540]]
    x0, y0, x1, y1 = moved.gt[0]
    assert np.array_equal(out[y0:y1, x0:x1], image[30:60, 20:120])  # the same pixels, moved
    out, moved = bench.degraded(image, item, "framed4k", seed=0)
    assert out.shape[:2] == (2160, 3840) and moved.gt.tolist() == [[1840, 1050, 1940, 1080]]
    out, moved = bench.degraded(image, item, "anamorphic", seed=0)  # 4:3-wide pixels: x only
    assert out.shape[:2] == (120, 150) and moved.gt.tolist() == [[15, 30, 90, 60]]


def test_turned_copies_carry_each_box_around_its_object() -> None:
    bench = load_bench("accuracy")
    image = np.zeros((120, 200, 3), np.uint8)
    image[30:60, 20:120] = 200  # the labelled object, bright on black
    item = bench.Item(
        set_name="s", path=Path("x.jpg"), width=200, height=120,
        gt=np.array([[20, 30, 120, 60]], np.int64), gt_label=["plate"],
    )
    out, moved = bench.degraded(image, item, "sideways", seed=0)  # a quarter turn clockwise
    assert out.shape[:2] == (200, 120) and moved.gt.tolist() == [[60, 20, 90, 120]]
    out, moved = bench.degraded(image, item, "upside-down", seed=0)
    assert out.shape[:2] == (120, 200) and moved.gt.tolist() == [[80, 60, 180, 90]]
    assert np.array_equal(out[60:90, 80:180], image[30:60, 20:120])
    out, moved = bench.degraded(image, item, "mirrored", seed=0)  # flipped left to right
    assert out.shape[:2] == (120, 200) and moved.gt.tolist() == [[80, 30, 180, 60]]
    assert np.array_equal(out[30:60, 80:180], image[30:60, 20:120][:, ::-1])
    for seed in range(4):
        out, moved = bench.degraded(image, item, "turned", seed=seed)
        # The canvas holds the whole turned picture, and the level box around the turned
        # object holds all of it, on a slant (corners of the box left dark).
        assert out.shape[0] > 120 and out.shape[1] > 200
        bright = out[..., 0] > 100
        x0, y0, x1, y1 = moved.gt[0]
        assert bright[y0:y1, x0:x1].sum() >= bright.sum() - 2
        assert 0.35 < bright[y0:y1, x0:x1].mean() < 0.95
    angles = []
    for seed in range(20):
        _, m = bench.DEGRADATIONS["turned"](image, np.random.default_rng(seed))
        angles.append(np.degrees(np.arctan2(m.turn[1], m.turn[0])))
    assert all(8 <= abs(a) <= 20 for a in angles) and min(angles) < 0 < max(angles)


def test_motion_smears_a_point_into_a_streak_of_its_length() -> None:
    bench = load_bench("accuracy")
    motion = bench.DEGRADATIONS["motion"]
    image = np.zeros((41, 41, 3), np.uint8)
    image[20, 20] = 255
    for seed in range(6):
        out, moved = motion(image, np.random.default_rng(seed))
        assert moved.xyxy(np.array([1, 2, 3, 4])).tolist() == [1, 2, 3, 4]  # nothing moves
        ys, xs = np.nonzero(out[..., 0])
        extent = np.hypot(xs.max() - xs.min(), ys.max() - ys.min())
        assert 5 <= extent <= 9  # a streak about 7 px long, at the seed's angle
        assert abs(int(out[..., 0].sum()) - 255) <= 20  # the light is spread, not lost
        assert out[20, 20, 0] < 100


def test_degradation_names_are_checked() -> None:
    bench = load_bench("accuracy")
    assert bench.parse_degradations("") == []
    assert bench.parse_degradations("all") == list(bench.DEGRADATIONS)
    assert bench.parse_degradations("night, small") == ["night", "small"]
    with pytest.raises(ValueError, match="unknown degradation fog"):
        bench.parse_degradations("night,fog")


def test_each_draw_degrades_the_copies_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --draw K scores other copies of the same degradation (another streak angle, other
    # noise); draw 0 is the one every earlier figure was measured on.
    import shutil

    for name in ("a.png", "b.png"):
        shutil.copy(REPO / "samples" / "street" / "parked-car.png", tmp_path / name)
    (tmp_path / "annotations.json").write_text(json.dumps({"images": [
        {"file": name, "width": 1280, "height": 720, "boxes": []} for name in ("a.png", "b.png")
    ]}))
    bench = load_bench("accuracy")
    real = bench.degraded
    seeds = record_seeds(monkeypatch, bench)
    common = dict(quality="fast", pad=0.15, thresholds=dict(bench.DEFAULT_THRESHOLDS), sweep=[], limit=None,
                  threads=1, own_labels=True, progress=False, degrade=["motion"])
    drawn = {}
    for draw in (0, 1, 2):
        seeds.clear()
        res = bench.run([tmp_path], draw=draw, **common)
        assert res["draw"] == draw and f"{tmp_path.name}~motion" in res["per_set"]
        drawn[draw] = list(seeds)
    assert drawn[0] == [0, 1]
    assert len({s for d in drawn.values() for s in d}) == 6  # no copy drawn twice
    image = np.zeros((41, 41, 3), np.uint8)
    image[20, 20] = 255
    item = bench.Item(set_name="s", path=Path("x.png"), width=41, height=41,
                      gt=np.zeros((0, 4), np.int64), gt_label=[])
    streaks = {tuple(np.flatnonzero(real(image, item, "motion", seed=s)[0][..., 0])) for s in drawn[1] + drawn[2]}
    assert len(streaks) > 1  # other angles
