"""Real-data regression: a parked car's plate on a dash-cam frame made darker and noisier
(``bench/degrade.py``'s ``night``), its characters still plain to a reader, is redacted, and
only once the plate network looks at the frame lifted out of the dark.

Reads ``../shared/data/dev`` (next to the repo) and skips when it is absent.
"""

from __future__ import annotations

import cv2
import pytest

from redact.config import RedactConfig
from redact.detect import build_detector_set
from tests.helpers import load_bench, require_dev

pytestmark = pytest.mark.slow

FRAME = "valid_dayride_type1_003_t_33.jpg"  # a parked car's plate, 115x42 px


def _covered(*, lift: bool) -> float:
    """Share of the frame's plate inside the regions the plate detectors give on its night
    copy, with or without the lifted pass."""
    require_dev("plates-romania-dashcam", "images", FRAME)
    accuracy = load_bench("accuracy")
    items = accuracy.load_set(accuracy.DEV / "plates-romania-dashcam")
    n, item = next((n, it) for n, it in enumerate(items) if it.path.name == FRAME)
    image, item = accuracy.degraded(cv2.imread(str(item.path)), item, "night", seed=n)  # seeded as the bench does
    detectors = build_detector_set(faces=False, plates=True)
    if not lift:
        network = next(d for d in detectors.detectors if d.name == "yolo_plate")
        network.passes = tuple(p for p in network.passes if not p.lift)
    regions, _ = accuracy.image_regions(item, detectors.detect(image), RedactConfig().padding)
    return float(accuracy.covered_fraction(item.gt, regions).min())


def test_a_plate_on_a_darkened_frame_is_found_lifted_out_of_the_dark() -> None:
    assert _covered(lift=True) >= 0.8
    assert _covered(lift=False) < 0.8
