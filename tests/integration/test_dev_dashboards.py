"""Real-data regression: a dashboard's zoomed crop of a dusk dash-cam plate, composed as
``bench/dashboards.py`` composes them, is redacted, and only the panel zoom finds it.

Reads ``../shared/data/dev`` (next to the repo) and skips when it is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from redact.config import RedactConfig
from redact.detect import LABEL_DETECTORS, build_detector_set
from redact.detect.panel_zoom import PANEL
from tests.helpers import load_bench, require_dev

pytestmark = pytest.mark.slow

# A dusk frame whose largest plate (58x15 px) the dashboard set does not zoom; the second frame any.
WIDE = "valid_dayride_type1_001_t_163.jpg"
SECOND = "plates-openalpr-us-eu"


def test_a_dim_zoomed_crop_is_redacted() -> None:
    require_dev("plates-romania-dashcam", "images", WIDE)
    require_dev(SECOND, "annotations.json")
    bench, accuracy = load_bench("dashboards"), load_bench("accuracy")
    wide = next(it for it in accuracy.load_set(accuracy.DEV / "plates-romania-dashcam") if it.path.name == WIDE)
    second = accuracy.load_set(accuracy.DEV / SECOND)[0]
    image, boxes = bench.compose(wide, second, np.random.default_rng(0))
    crop = next(b for b in boxes if b["w"] >= 300)  # the zoomed plate, 390 px wide
    gt = np.array([[crop["x"], crop["y"], crop["x"] + crop["w"], crop["y"] + crop["h"]]], np.int64)
    detectors = build_detector_set(faces=False, plates=True)
    pad = RedactConfig().padding

    def covered(names: tuple[str, ...]) -> float:
        dets = detectors.only(names).detect(image)
        regions, _ = accuracy.image_regions(accuracy.Item("x", accuracy.DEV, 1920, 1080, gt, ["plate"]), dets, pad)
        return float(accuracy.covered_fraction(gt, regions)[0])

    every = LABEL_DETECTORS["plate"]
    assert covered(every) >= 0.8
    assert covered(tuple(n for n in every if n != PANEL)) < 0.8
