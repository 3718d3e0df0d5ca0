"""Helpers of looks through windows: faces widened, vehicles under their window zones."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect.occupants import CAR_ZONE
from redact.types import Detections
from redact.video.windowed import WINDOW_SLACK, vehicle_below, widen_faces


def test_faces_found_in_windows_are_widened_and_clipped() -> None:
    dets = Detections.concat(
        [
            Detections.from_arrays([[100, 100, 200, 300], [5, 0, 105, 50]], [0.9, 0.4], "face"),
            Detections.from_arrays([[300, 300, 400, 330]], [0.8], "plate"),
        ]
    )
    out = widen_faces(dets, 640, 360)
    sx, sy = WINDOW_SLACK
    assert out.xyxy[0].tolist() == pytest.approx([100 - 100 * sx, 100 - 200 * sy, 200 + 100 * sx, 300 + 200 * sy])
    # A head at the frame's corner grows away from the edges only.
    assert out.xyxy[1].tolist() == pytest.approx([max(0.0, 5 - 100 * sx), 0, 105 + 100 * sx, 50 + 50 * sy])
    assert out.xyxy[2].tolist() == [300, 300, 400, 330]  # plates as they were
    assert out.score.tolist() == pytest.approx([0.9, 0.4, 0.8]) and out.label.tolist() == dets.label.tolist()
    plates = dets[dets.label == "plate"]
    assert widen_faces(plates, 640, 360) is plates


def test_vehicle_below_its_window_zone() -> None:
    zone = np.array([[10, 100, 90, 100 + CAR_ZONE.bottom * 200]])
    assert vehicle_below(zone)[0].tolist() == pytest.approx([10, 100, 90, 300])
