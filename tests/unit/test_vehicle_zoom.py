"""Vehicle-guided zoom: which vehicles are enlarged, and a small plate found only enlarged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import MODELS, build_detector_set
from redact.detect.tiles import Tile
from redact.detect.vehicle_zoom import MAX_VEHICLE_HEIGHT, VehicleZoom
from redact.types import Detections


@pytest.fixture(scope="module")
def zoom() -> VehicleZoom:
    return VehicleZoom(MODELS["yolo_plate"], MODELS["text_plate"], MODELS["vehicle_plate"], threshold=0.3)


def test_only_small_vehicles_are_enlarged(zoom: VehicleZoom) -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    small = [100, 300, 220, 400]
    large = [500, 100, 1100, 100 + MAX_VEHICLE_HEIGHT + 50]
    wins = zoom.windows(image, vehicles=np.array([small, large], np.float32))
    assert len(wins) == 1
    w = wins[0]
    assert w.x0 <= small[0] and w.y0 <= small[1] and w.x1 >= small[2] and w.y1 >= small[3]
    assert w.x1 < large[0]  # nothing of the large vehicle
    assert zoom.windows(image, vehicles=np.zeros((0, 4), np.float32)) == []


def test_only_vehicles_inside_the_windows_are_enlarged(zoom: VehicleZoom) -> None:
    # The COCO network may have looked at the whole picture for the windows' cost; the zoom
    # stays with the vehicles the windows hold.
    image = np.zeros((720, 1280, 3), np.uint8)
    vehicles = np.array([[100, 300, 220, 400], [900, 300, 1020, 400]], np.float32)
    wins = zoom.windows(image, [Tile(0, 200, 400, 500)], vehicles)
    assert len(wins) == 1 and wins[0].x1 < 900


def test_no_vehicles_no_look(zoom: VehicleZoom) -> None:
    dets = zoom.detect(np.zeros((64, 64, 3), np.uint8), vehicles=np.zeros((0, 4), np.float32))
    assert len(dets) == 0


def _small_plate() -> tuple[np.ndarray, list[int]]:
    """A distant car's plate: about 44x11 px, its characters 7 px tall."""
    image = np.full((720, 1280, 3), (70, 60, 55), np.uint8)
    cv2.rectangle(image, (600, 330), (700, 420), (40, 40, 120), -1)  # the car's back
    x0, y0, x1, y1 = 628, 396, 672, 407
    cv2.rectangle(image, (x0, y0), (x1, y1), (235, 235, 235), -1)
    cv2.putText(image, "B12XYZ", (x0 + 2, y1 - 2), cv2.FONT_HERSHEY_PLAIN, 0.6, (15, 15, 15), 1, cv2.LINE_AA)
    return image, [x0, y0, x1, y1]


@pytest.mark.slow
def test_a_small_plate_is_found_inside_its_vehicle(zoom: VehicleZoom) -> None:
    image, (x0, y0, x1, y1) = _small_plate()
    dets = zoom.detect(image, vehicles=np.array([[596, 326, 704, 424]], np.float32))
    assert (dets.label == "plate").all()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hit = (dets.xyxy[:, 0] < cx) & (cx < dets.xyxy[:, 2]) & (dets.xyxy[:, 1] < cy) & (cy < dets.xyxy[:, 3])
    assert hit.any()


@pytest.mark.slow
def test_the_detector_set_hands_the_occupant_detectors_vehicles_to_the_zoom() -> None:
    """With occupants on, the COCO network runs once per picture: the zoom reuses its vehicles."""
    ds = build_detector_set(occupants="windows", threads=1)
    zoom = next(d for d in ds.detectors if isinstance(d, VehicleZoom))
    calls = []
    real = zoom.vehicles.detect
    zoom.vehicles.detect = lambda *a, **k: calls.append(1) or real(*a, **k)  # type: ignore[method-assign]
    ds.detect(np.full((240, 320, 3), 127, np.uint8))
    assert calls == []


def test_the_zoom_enlarges_bicubically_and_other_passes_bilinearly() -> None:
    from redact.detect import PRESETS
    from redact.detect.blobs import resize
    from redact.detect.tiling import Pass
    from redact.detect.vehicle_zoom import ZOOM

    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), np.uint8)
    assert np.array_equal(resize(image, 2.0, sharp=True), cv2.resize(image, (60, 40), interpolation=cv2.INTER_CUBIC))
    assert np.array_equal(resize(image, 2.0), cv2.resize(image, (60, 40), interpolation=cv2.INTER_LINEAR))
    assert np.array_equal(resize(image, 0.5, sharp=True), cv2.resize(image, (15, 10), interpolation=cv2.INTER_AREA))
    assert ZOOM.sharp and not Pass().sharp
    assert all(p.sharp for q in ("balanced", "thorough") for p in PRESETS[q]["vehicle_plate"])


def test_the_zoom_takes_only_the_occupant_detectors_vehicles_that_score_its_threshold() -> None:
    # The occupant detector keeps weak vehicle candidates too; the zoom looks inside the same
    # vehicles whether or not the occupant detector runs.
    from redact.detect import DetectorSet
    from redact.detect.occupants import Occupants
    from redact.detect.yolox import CAR, YOLOX_MODEL, Objects

    class FakeCoco:
        threshold = 0.25

        def detect(self, image, *, rois=None) -> Objects:  # noqa: ANN001
            xyxy = np.array([[10, 10, 60, 40], [100, 10, 150, 40]], np.float32)
            return Objects(xyxy, np.array([0.8, 0.15], np.float32), np.array([CAR, CAR], np.int64))

    occupants = Occupants(YOLOX_MODEL)
    occupants._coco = FakeCoco()  # type: ignore[assignment]
    zoom = VehicleZoom(MODELS["yolo_plate"], MODELS["text_plate"], MODELS["vehicle_plate"], threshold=0.3)
    seen = []
    zoom.detect = lambda image, *, rois=None, floor=None, vehicles=None: seen.append(vehicles) or Detections.empty()  # type: ignore[method-assign]
    ds = DetectorSet(detectors=[occupants, zoom], models=[], quality="balanced",  # type: ignore[list-item]
                     thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25})
    ds.per_detector(np.zeros((200, 300, 3), np.uint8), ratio=0.5)
    assert len(seen) == 1 and seen[0].tolist() == [[10, 10, 60, 40]]


def test_a_plate_hangs_low_on_its_vehicle_or_below_a_box_cut_short() -> None:
    from redact.detect.vehicle_zoom import PLATE_TOP, on_vehicles

    car = np.array([[100, 200, 200, 300]], np.float32)  # 100x100: its margin 10 px
    low = [130, 270, 170, 282]  # on the boot
    below = [130, 300, 170, 316]  # hanging under a box cut short
    high = [130, 200, 170, 212]  # a sign or route display at the roof
    aside = [215, 270, 255, 282]  # past the box's side and its margin
    just = [130, 200 + 100 * PLATE_TOP - 6, 170, 200 + 100 * PLATE_TOP + 6]  # centred on the limit
    keep = on_vehicles(np.array([low, below, high, aside, just], np.float32), car)
    assert keep.tolist() == [True, True, False, False, True]
    # A vehicle the picture's top cuts (its box's top a few pixels from it): its box's top is
    # not the vehicle's.
    for top in (0.0, 3.0):
        cut = np.array([[100, top, 200, 80]], np.float32)
        assert on_vehicles(np.array([[130, 4, 170, 16]], np.float32), cut).tolist() == [True]
    assert on_vehicles(np.array([[130, 24, 170, 36]], np.float32), car - [0, 180, 0, 180]).tolist() == [False]
    assert on_vehicles(np.zeros((0, 4), np.float32), car).tolist() == []
    assert on_vehicles(np.array([low], np.float32), np.zeros((0, 4), np.float32)).tolist() == [False]


def test_the_zoom_keeps_what_it_finds_only_where_a_plate_can_hang(zoom: VehicleZoom, monkeypatch) -> None:  # noqa: ANN001
    # Two small vehicles close together give one merged window; what the enlarged look finds
    # above a vehicle (a chevron board on a post) or in the window's corner away from both is
    # not a plate of theirs.
    vehicles = np.array([[100, 300, 200, 380], [205, 210, 305, 290]], np.float32)
    plate, sign, corner = [130, 355, 170, 367], [120, 290, 180, 310], [250, 340, 290, 352]

    def fake(*boxes: list[int]):  # noqa: ANN202
        def detect(image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            assert rois is not None and len(rois) == 1  # the two windows merged
            n = len(boxes)
            return Detections(xyxy=np.array(boxes, np.float32).reshape(-1, 4), score=np.full(n, 0.8, np.float32),
                              label=np.array(["plate"] * n, object), source=np.array(["detector"] * n, object))
        return detect

    monkeypatch.setattr(zoom.plate, "detect", fake(plate, sign))
    monkeypatch.setattr(zoom.text, "detect", fake(corner))
    dets = zoom.detect(np.zeros((720, 1280, 3), np.uint8), vehicles=vehicles)
    assert dets.xyxy.astype(int).tolist() == [plate]
