"""bench/unseen.py: contact sheets of what a set leaves unlabelled, on degraded copies too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2

from tests.helpers import REPO, load_bench


def _one_picture_set(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(REPO / "samples" / "street" / "parked-car.png", folder / "car.png")
    (folder / "annotations.json").write_text(
        json.dumps({"images": [{"file": "car.png", "width": 1280, "height": 720, "boxes": []}]})
    )
    return folder


def test_degraded_copies_are_looked_at_and_kept_beside_the_sheets(tmp_path: Path) -> None:
    bench = load_bench("unseen")
    folder = _one_picture_set(tmp_path / "set")
    out = tmp_path / "out"
    assert bench.main([str(folder), "--degrade", "night", "--out", str(out), "--floor", "0.05"]) == 0
    copy = out / "pictures" / "car.png"
    original = cv2.imread(str(folder / "car.png"), cv2.IMREAD_COLOR)
    darker = cv2.imread(str(copy), cv2.IMREAD_COLOR)
    assert darker.shape == original.shape and darker.mean() < original.mean() - 10
    entries = json.loads((out / "candidates.json").read_text())
    assert all(Path(e["file"]) == copy for e in entries)  # crops come from the copy looked at
    assert (out / "sheet-0.png").is_file() or not entries


def test_an_unknown_or_second_degradation_is_refused(tmp_path: Path) -> None:
    bench = load_bench("unseen")
    folder = _one_picture_set(tmp_path / "set")
    assert bench.main([str(folder), "--degrade", "fog", "--out", str(tmp_path / "o")]) == 2
    assert bench.main([str(folder), "--degrade", "night,blur", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()  # refused before anything was looked at or written
