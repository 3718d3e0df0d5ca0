"""Real-data regression: the plate of the car just ahead on a dash-cam frame streaked by
motion (``bench/degrade.py``'s ``motion``), its characters run together past the recogniser's
reading, is redacted where the vehicle network finds the car that carries it, and dropped by
the reading rule where that network does not run.

Reads ``../shared/data/dev`` (next to the repo) and skips when it is absent.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.config import RedactConfig
from redact.detect import build_detector_set
from tests.helpers import load_bench, require_dev

pytestmark = pytest.mark.slow

FRAME = "train_dayride_type1_001_t_20.jpg"
PLATE = (778, 403, 882, 429)  # the car just ahead, 104x26 px as labelled


def _covered(occupants: str) -> float:
    """Share of that plate inside the regions given on the frame's streaked copy."""
    require_dev("plates-romania-dashcam", "images", FRAME)
    accuracy = load_bench("accuracy")
    items = accuracy.load_set(accuracy.DEV / "plates-romania-dashcam")
    n, item = next((n, it) for n, it in enumerate(items) if it.path.name == FRAME)
    image, item = accuracy.degraded(cv2.imread(str(item.path)), item, "motion", seed=n)  # seeded as the bench does
    detectors = build_detector_set(faces=False, plates=True, occupants=occupants)
    regions, _ = accuracy.image_regions(item, detectors.detect(image), RedactConfig().padding)
    plate = int(np.argmin(np.abs(item.gt - np.array(PLATE)).sum(axis=1)))
    return float(accuracy.covered_fraction(item.gt[plate : plate + 1], regions)[0])


def test_a_streaked_plate_where_a_car_carries_it_is_redacted() -> None:
    assert _covered("windows") >= 0.8
    assert _covered("off") < 0.8
