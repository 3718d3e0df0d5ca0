"""Real-data regressions: a dashboard's zoomed crop of a dusk dash-cam plate, composed as
``bench/dashboards.py`` composes them, is redacted, and only the panel zoom finds it; so is
the crop of a dusk frame darkened again (``--frames night``), once the panel's lightness is
equalised locally.

Reads ``../shared/data/dev`` (next to the repo) and skips when it is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from redact.config import RedactConfig
from redact.detect import LABEL_DETECTORS, blobs, build_detector_set, evidence, panel_zoom, text
from redact.detect.panel_zoom import PANEL
from tests.helpers import load_bench, require_dev

pytestmark = pytest.mark.slow

# A dusk frame whose largest plate (58x15 px) the dashboard set does not zoom; the second frame any.
WIDE = "valid_dayride_type1_001_t_163.jpg"
SECOND = "plates-openalpr-us-eu"


# A dusk frame darkened again: its crop's plate barely brighter than what surrounds it.
DARK_WIDE = "train_dayride_type1_001_t_259.jpg"


def _composed(wide_name: str, frames: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The screenshot ``bench/dashboards.py`` composes of ``wide_name`` (and the first openalpr
    picture), its pictures degraded by ``frames``; and its zoomed plate's box (xyxy, (1, 4))."""
    require_dev("plates-romania-dashcam", "images", wide_name)
    require_dev(SECOND, "annotations.json")
    bench, accuracy = load_bench("dashboards"), load_bench("accuracy")
    wide = next(it for it in accuracy.load_set(accuracy.DEV / "plates-romania-dashcam") if it.path.name == wide_name)
    second = accuracy.load_set(accuracy.DEV / SECOND)[0]
    image, boxes = bench.compose(wide, second, np.random.default_rng(0), frames, np.random.default_rng([1, 48]))
    crop = next(b for b in boxes if b["w"] >= 300)  # the zoomed plate, 390 px wide
    return image, np.array([[crop["x"], crop["y"], crop["x"] + crop["w"], crop["y"] + crop["h"]]], np.int64)


def _covered(image: np.ndarray, gt: np.ndarray, names: tuple[str, ...]) -> float:
    """Share of ``gt`` inside the regions the plate detectors ``names`` give on ``image``."""
    accuracy = load_bench("accuracy")
    dets = build_detector_set(faces=False, plates=True).only(names).detect(image)
    item = accuracy.Item("x", accuracy.DEV, 1920, 1080, gt, ["plate"])
    regions, _ = accuracy.image_regions(item, dets, RedactConfig().padding)
    return float(accuracy.covered_fraction(gt, regions)[0])


def test_a_dim_zoomed_crop_is_redacted() -> None:
    image, gt = _composed(WIDE)
    every = LABEL_DETECTORS["plate"]
    assert _covered(image, gt, every) >= 0.8
    assert _covered(image, gt, tuple(n for n in every if n != PANEL)) < 0.8


def test_a_darkened_zoomed_crop_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    image, gt = _composed(DARK_WIDE, "night")
    every = LABEL_DETECTORS["plate"]
    assert _covered(image, gt, every) >= 0.8
    monkeypatch.setattr(panel_zoom, "lifted", blobs.stretched)  # the luma stretched alone
    assert _covered(image, gt, every) < 0.8


def test_a_zoomed_plate_across_the_text_tiles_seam_keeps_its_first_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    # A dashboard that sets its zoomed crops in a row under the wide frame: a crop's plate
    # "7AHN739", 390 px wide, lies across the seam of the text detector's two tiles of a
    # 1080p screenshot (0-1040, 880-1920); the right tile's text starts after "7A".
    require_dev("plates-romania-dashcam", "images", "valid_dayride_type1_001_t_282.jpg")
    require_dev(SECOND, "images", "us_wts-lg-000132.jpg")
    bench, accuracy = load_bench("dashboards"), load_bench("accuracy")
    wide = next(it for it in accuracy.load_set(accuracy.DEV / "plates-romania-dashcam")
                if it.path.name == "valid_dayride_type1_001_t_282.jpg")
    second = next(it for it in accuracy.load_set(accuracy.DEV / SECOND) if it.path.name == "us_wts-lg-000132.jpg")
    image, boxes = bench.compose(wide, second, np.random.default_rng(0), layout=bench.LAYOUTS["strip"])
    (plate,) = [b for b in boxes if b["w"] >= 300 and 680 <= b["x"] < 1300]
    x0, x1 = plate["x"], plate["x"] + plate["w"]
    ds = build_detector_set(faces=False, plates=True).only(LABEL_DETECTORS["plate"])

    def left_edge() -> float:
        dets = ds.detect(image)
        over = (dets.xyxy[:, 0] < x1) & (dets.xyxy[:, 2] > x0) & (dets.xyxy[:, 1] >= plate["y"] - 100)
        return float(dets.xyxy[over, 0].min())

    assert left_edge() <= x0 + 0.05 * plate["w"]
    # The text spans 0.65 of the plate network's box: too little to narrow it at all; where a
    # seam cuts less of a line, the tiles alone keep the cut side.
    monkeypatch.setattr(evidence, "MIN_TEXT_SPAN", 0.6)
    assert left_edge() <= x0 + 0.05 * plate["w"]
    monkeypatch.setattr(text.TextPlate, "tiles", lambda self, width, height, rois=None: [])
    assert left_edge() > x0 + 0.2 * plate["w"]  # narrowed to the right tile's text
