"""Reviewer overrides: parsing, per-picture application and bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redact.errors import ConfigError
from redact.review import overrides as ov_mod
from redact.review.overrides import Overrides
from redact.types import Detections


def make(edits: list[dict], reviewer: str = "R. Viewer") -> Overrides:
    return Overrides.from_data({"schema": "redact-overrides/1", "reviewer": reviewer, "edits": edits})


DETS = Detections.from_arrays([[10, 10, 50, 50], [100, 100, 140, 120]], [0.9, 0.4], ["face", "plate"])


@pytest.mark.parametrize(
    "edit",
    [
        {"op": "add", "file": "a.jpg", "box": [0, 0, 5, 5], "label": "face"},  # no reason
        {"op": "add", "file": "a.jpg", "box": [0, 0, 5], "label": "face", "reason": "x"},
        {"op": "add", "file": "a.jpg", "box": [0, 0, 0, 5], "label": "face", "reason": "x"},
        {"op": "add", "file": "a.jpg", "box": [0, 0, 5, 5], "label": "person", "reason": "x"},
        {"op": "add", "file": "a.mp4", "box": [0, 0, 5, 5], "label": "face", "reason": "x", "frames": [9, 3]},
        {"op": "remove", "file": "a.jpg", "reason": "x"},  # neither index nor box
        {"op": "remove", "file": "a.jpg", "reason": "x", "index": 0, "box": [0, 0, 5, 5]},
        {"op": "remove_track", "file": "a.mp4", "reason": "x"},
        {"op": "explode", "file": "a.jpg", "reason": "x"},
    ],
)
def test_invalid_edits_are_refused(edit: dict) -> None:
    with pytest.raises(ConfigError, match="overrides"):
        make([edit])


def test_load_reads_hash_and_rejects_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "edits.json"
    path.write_text(json.dumps({"schema": "redact-overrides/1", "reviewer": "A", "edits": []}))
    loaded = ov_mod.load(path)
    assert loaded.sha256 and loaded.path == str(path) and loaded.record()["edits"] == 0
    path.write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ov_mod.load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        ov_mod.load(tmp_path / "missing.json")


def test_add_appends_manual_region_with_reviewer_and_reason() -> None:
    o = make([{"op": "add", "file": "a.jpg", "box": [200, 10, 30, 30], "label": "face", "reason": "missed"}])
    applied = o.apply("a.jpg", 0, DETS, 320, 240)
    assert len(applied.dets) == 3
    assert applied.dets.source[-1] == "manual" and np.isnan(applied.dets.score[-1])
    assert applied.dets.xyxy[-1].tolist() == [200, 10, 230, 40]
    records = applied.annotate([{"source": "detector"}, {"source": "detector"}, {"source": "manual"}])
    assert records[2] == {"source": "manual", "reviewer": "R. Viewer", "reason": "missed"}
    assert "reviewer" not in records[0]
    # Other files are untouched, and the input is never modified.
    assert o.apply("b.jpg", 0, DETS, 320, 240).dets is DETS


def test_add_is_clipped_and_outside_box_warns() -> None:
    o = make([
        {"op": "add", "file": "a.jpg", "box": [300, 200, 50, 50], "label": "plate", "reason": "edge"},
        {"op": "add", "file": "a.jpg", "box": [400, 10, 5, 5], "label": "plate", "reason": "off"},
    ])
    applied = o.apply("a.jpg", 0, Detections.empty(), 320, 240)
    assert applied.dets.xyxy.tolist() == [[300, 200, 320, 240]]
    assert len(applied.warnings) == 1 and "outside" in applied.warnings[0]


def test_add_respects_frame_range() -> None:
    o = make([{"op": "add", "file": "v.mp4", "frames": [5, 7], "box": [0, 0, 10, 10], "label": "face",
               "reason": "r"}])
    hits = [len(o.apply("v.mp4", f, Detections.empty(), 64, 64).dets) for f in range(10)]
    assert hits == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]


@pytest.mark.parametrize(
    "edit",
    [
        {"index": 1},
        {"box": [100, 100, 40, 20]},  # the detection's own box
        {"box": [94, 97, 52, 26]},  # the padded region box from a manifest
    ],
)
def test_remove_one_detection(edit: dict) -> None:
    o = make([{"op": "remove", "file": "a.jpg", "reason": "a sign, not a plate", **edit}])
    applied = o.apply("a.jpg", 0, DETS, 320, 240)
    assert applied.dets.label.tolist() == ["face"]
    (rec,) = applied.removed
    assert rec["label"] == "plate" and rec["box"] == [100, 100, 40, 20] and rec["frame"] == 0
    assert rec["reviewer"] == "R. Viewer" and rec["reason"] == "a sign, not a plate" and rec["edit"] == 0


def test_remove_that_matches_nothing_warns_and_keeps_everything() -> None:
    o = make([{"op": "remove", "file": "a.jpg", "reason": "x", "box": [250, 200, 10, 10]},
              {"op": "remove", "file": "a.jpg", "reason": "x", "index": 7}])
    applied = o.apply("a.jpg", 0, DETS, 320, 240)
    assert len(applied.dets) == 2 and len(applied.warnings) == 2


@pytest.mark.parametrize("padding", [0.0, 0.15, 0.5])
def test_remove_by_the_manifest_region_box_of_a_grown_face(padding) -> None:
    """A face's region (grown to the head, padded) is much larger than the detection; its
    manifest box still names that detection, not a neighbour's."""
    from redact.render import regions

    dets = Detections.from_arrays([[100, 100, 140, 150], [200, 100, 230, 140]], [0.9, 0.8], "face")
    box = regions.build(dets[:1], 320, 240, padding=padding).to_records()[0]["box"]
    applied = make([{"op": "remove", "file": "a.jpg", "reason": "x", "box": box}]).apply("a.jpg", 0, dets, 320, 240)
    assert applied.dets.xyxy.tolist() == [[200, 100, 230, 140]] and not applied.warnings


def test_remove_only_on_its_frame_and_remove_track() -> None:
    tracked = DETS.replace(track_id=np.array([3, 4]))
    o = make([{"op": "remove", "file": "v.mp4", "frame": 2, "index": 0, "reason": "r"},
              {"op": "remove_track", "file": "v.mp4", "track": 4, "reason": "statue"}])
    assert o.apply("v.mp4", 1, tracked, 320, 240).dets.track_id.tolist() == [3]
    applied = o.apply("v.mp4", 2, tracked, 320, 240)
    assert len(applied.dets) == 0
    assert sorted(r["track"] for r in applied.removed) == [3, 4]


def test_root_disambiguates() -> None:
    o = make([{"op": "add", "file": "a.jpg", "root": 1, "box": [0, 0, 4, 4], "label": "face", "reason": "r"}])
    assert len(o.apply("a.jpg", 0, Detections.empty(), 9, 9, root=0).dets) == 0
    assert len(o.apply("a.jpg", 0, Detections.empty(), 9, 9, root=1).dets) == 1


def test_check_files_names_unknown_files() -> None:
    o = make([{"op": "add", "file": "typo.jpg", "box": [0, 0, 4, 4], "label": "face", "reason": "r"}])
    with pytest.raises(ConfigError, match="typo.jpg"):
        o.check_files([(0, "a.jpg")])
    make([{"op": "add", "file": "a.jpg", "box": [0, 0, 4, 4], "label": "face", "reason": "r"}]).check_files(
        [(0, "a.jpg")]
    )
