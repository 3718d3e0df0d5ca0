"""``bench/styles.py``: whether the recogniser still reads a plate after blur or pixelate."""

from __future__ import annotations

import json

import cv2
import numpy as np

from tests.helpers import load_bench


def test_matched_counts_characters_in_order() -> None:
    bench = load_bench("styles")
    assert bench.matched("B 320 WTW", "B 320 WTW") == 9
    assert bench.matched("B320WTW", "8320") == 3  # "320"
    assert bench.matched("ABC", "CBA") == 1 and bench.matched("ABC", "") == 0


def test_a_plain_plate_is_read_before_and_not_after(tmp_path) -> None:
    bench = load_bench("styles")
    image = np.full((120, 360, 3), 90, np.uint8)
    cv2.rectangle(image, (40, 30), (320, 90), (255, 255, 255), -1)
    cv2.putText(image, "B 320 WTW", (52, 78), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "p.png"), image)
    boxes = [{"label": "plate", "x": 40, "y": 30, "w": 280, "h": 60}]
    (tmp_path / "annotations.json").write_text(
        json.dumps({"images": [{"file": "images/p.png", "width": 360, "height": 120, "boxes": boxes}]})
    )
    res = bench.run([tmp_path], ["blur", "pixelate"], 0.15)
    for style in ("blur", "pixelate"):
        (row,) = res["styles"][style]["worst"]
        assert row["before"].replace(" ", "").upper() == "B320WTW"  # read clearly before
        assert row["matched"] < 3, row  # and not after
