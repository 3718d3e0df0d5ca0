"""The shipped YOLOX-Nano COCO network on real pictures: vehicles around plates, a driver, bad input.

The plate images come from ``../shared/data/dev`` and are skipped when it is absent; the
sample street scene ships with the repository.
"""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from redact.detect.tiles import Tile
from redact.detect.yolox import YOLOX_MODEL, Objects, YoloxCoco
from redact.errors import ModelError
from tests.helpers import DEV_DATA, SAMPLES

OPENALPR = DEV_DATA / "plates-openalpr-us-eu"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector() -> YoloxCoco:
    return YoloxCoco(threads=2)


def _plate_images(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first ``n`` openalpr images (BGR) with their plate boxes (xyxy)."""
    if not (OPENALPR / "annotations.json").is_file():
        pytest.skip(f"dev data not found ({OPENALPR}); it lives in ../shared/data/dev")
    entries = json.loads((OPENALPR / "annotations.json").read_text())["images"][:n]
    out = []
    for e in entries:
        image = cv2.imread(str(OPENALPR / e["file"]), cv2.IMREAD_COLOR)
        assert image is not None, e["file"]
        boxes = np.array([[b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]] for b in e["boxes"]], np.float32)
        out.append((image, boxes))
    return out


def _holds(outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether any box of ``outer`` (N, 4) holds the box ``inner`` (4,) whole."""
    return bool(np.any((outer[:, :2] <= inner[:2]).all(axis=1) & (outer[:, 2:] >= inner[2:]).all(axis=1)))


def test_vehicle_holds_each_plate(detector: YoloxCoco) -> None:
    for image, plates in _plate_images(4):
        found = detector.detect(image)
        h, w = image.shape[:2]
        assert found.xyxy.dtype == np.float32 and found.cls.dtype == np.int64
        assert (found.xyxy[:, :2] >= 0).all() and (found.xyxy[:, 2] <= w).all() and (found.xyxy[:, 3] <= h).all()
        vehicles = found.vehicles()
        assert (vehicles.score >= detector.threshold).all()
        for plate in plates:
            assert _holds(vehicles.xyxy, plate), (plate, vehicles)
            # a vehicle box, not the whole frame: the car is several plates wide
            widths = vehicles.xyxy[:, 2] - vehicles.xyxy[:, 0]
            assert widths.min() < w and widths.max() > 3 * (plate[2] - plate[0])


def test_rois_limit_where_it_looks(detector: YoloxCoco) -> None:
    image, plates = _plate_images(1)[0]
    plate = plates[0]
    h, w = image.shape[:2]
    # A window around the plate: a vehicle is found there, and nothing outside it.
    cx, cy = (plate[0] + plate[2]) / 2, (plate[1] + plate[3]) / 2
    around = Tile(
        int(cx - 6 * (plate[2] - plate[0])), int(cy - 6 * (plate[3] - plate[1])), int(cx + 300), int(cy + 200)
    )
    inside = detector.detect(image, rois=[around]).vehicles()
    assert len(inside) and (inside.xyxy[:, 0] >= max(0, around.x0)).all() and (inside.xyxy[:, 2] <= around.x1).all()
    # An empty window and one off the picture find nothing.
    assert len(detector.detect(image, rois=[Tile(10, 10, 10, 50), Tile(w + 5, 0, w + 50, h)])) == 0


def test_car_and_driver_in_the_sample_street(detector: YoloxCoco) -> None:
    """The generated scene's car is a car to the network, and its driver a person inside it."""
    image = cv2.imread(str(SAMPLES / "street" / "parked-car.png"), cv2.IMREAD_COLOR)
    assert image is not None
    found = detector.detect(image)
    cars = found.vehicles()
    assert len(cars) == 1, cars
    # The car spans about x 340..940, y 285..650 of the 1280x720 scene.
    assert np.allclose(cars.xyxy[0], [340, 285, 940, 650], atol=25), cars
    persons = found.persons()
    # The driver's face sits at about x 506..584, y 308..396, behind the windscreen.
    cx = (persons.xyxy[:, 0] + persons.xyxy[:, 2]) / 2
    cy = (persons.xyxy[:, 1] + persons.xyxy[:, 3]) / 2
    assert np.any((cx > 506) & (cx < 584) & (cy > 308) & (cy < 430)), persons


def test_blank_picture_finds_nothing(detector: YoloxCoco) -> None:
    found = detector.detect(np.full((720, 1280, 3), 128, np.uint8))
    assert isinstance(found, Objects) and len(found) == 0 and found.xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    "image",
    [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 4), np.uint8)],
    ids=["grey", "float", "bgra"],
)
def test_bad_pictures_are_refused(detector: YoloxCoco, image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="BGR uint8"):
        detector.detect(image)


def test_bad_arguments_and_corrupt_model() -> None:
    with pytest.raises(ValueError, match="threshold"):
        YoloxCoco(threshold=0.0)
    with pytest.raises(ModelError, match="SHA-256"):
        YoloxCoco(replace(YOLOX_MODEL, sha256="0" * 64))
