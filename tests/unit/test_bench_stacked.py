"""bench/stacked.py: a set's long plates restacked into two lines, labelled where they lie."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import load_bench


def _plate_set(folder: Path) -> Path:
    """A picture with a long plate (characters as dark bars, a gap in the middle), a US-shaped
    plate and a narrow one."""
    folder.mkdir()
    image = np.full((200, 400, 3), 90, np.uint8)
    image[50:70, 100:200] = 230  # the long plate, 100x20
    for x in (104, 116, 128, 140, 158, 170, 182):  # its characters; none at 146-156
        image[53:67, x : x + 8] = 20
    image[120:160, 40:120] = 230  # 80x40: as wide as two of its heights
    image[150:160, 300:330] = 230  # 30x10: too narrow
    cv2.imwrite(str(folder / "a.png"), image)
    boxes = [{"label": "plate", "x": 100, "y": 50, "w": 100, "h": 20},
             {"label": "plate", "x": 40, "y": 120, "w": 80, "h": 40},
             {"label": "plate", "x": 300, "y": 150, "w": 30, "h": 10}]
    (folder / "annotations.json").write_text(
        json.dumps({"images": [{"file": "a.png", "width": 400, "height": 200, "boxes": boxes}]})
    )
    return folder


def test_a_long_plate_is_cut_between_characters_and_stacked_where_it_was(tmp_path: Path) -> None:
    bench = load_bench("stacked")
    out = tmp_path / "out"
    assert bench.main([str(_plate_set(tmp_path / "set")), "--out", str(out)]) == 0
    data = json.loads((out / "annotations.json").read_text())
    (entry,) = data["images"]
    stacked, us, narrow = entry["boxes"]
    # Cut in the gap between the fourth and fifth characters (146-158): halves of 46-58 px,
    # stacked 40 px high where the plate was.
    x, y, w, h = stacked["x"], stacked["y"], stacked["w"], stacked["h"]
    assert 50 <= w <= 54 and abs(x + w / 2 - 150) <= 1 and (y, h) == (40, 40)
    assert stacked["orig_label"] == "restacked"
    assert (us["x"], us["y"], us["w"], us["h"]) == (40, 120, 80, 40) and "orig_label" not in us
    assert (narrow["w"], narrow["h"]) == (30, 10) and "orig_label" not in narrow
    copy = cv2.imread(str(out / entry["file"]), cv2.IMREAD_GRAYSCALE)
    ink = copy[y : y + h, x : x + w] < 60
    assert ink[:20].any(axis=0).sum() >= 28 and ink[20:].any(axis=0).sum() >= 20  # characters on both lines
    assert (copy[50:70, 100:x] == copy[50, 100]).all()  # the plate's old place filled with its ground
    assert copy[50, 100] == 230


def test_only_the_restacked_plates_keep_their_labels_when_asked(tmp_path: Path) -> None:
    bench = load_bench("stacked")
    out = tmp_path / "out"
    assert bench.main([str(_plate_set(tmp_path / "set")), "--only-restacked", "--out", str(out)]) == 0
    (entry,) = json.loads((out / "annotations.json").read_text())["images"]
    assert [b.get("orig_label") for b in entry["boxes"]] == ["restacked"]
