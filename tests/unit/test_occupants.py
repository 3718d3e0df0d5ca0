"""Occupant regions: window-zone and plate-zone geometry, riders, the detector and its registry entry."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from redact.detect import GLANCE, PRESETS, DetectorSet, build_detector_set
from redact.detect.occupants import (
    BUS_ZONE,
    CAR_ZONE,
    RIDER_SCORE,
    OccupantFinds,
    Occupants,
    riders,
    window_zones,
)
from redact.detect.plate_anchors import (
    PLATE_ZONE_ABOVE,
    PLATE_ZONE_GAP,
    PLATE_ZONE_HALF_WIDTH,
    add_plate_zones,
    cut_by_border,
    held,
    plate_zones,
)
from redact.detect.yolox import BICYCLE, BUS, CAR, MOTORCYCLE, PERSON, TRUCK, YOLOX_MODEL, Objects
from redact.errors import ConfigError
from redact.types import Detections
from tests.helpers import require_dev


def objects(rows: list[tuple[float, float, float, float, int]], score: float = 0.8) -> Objects:
    xyxy = np.array([r[:4] for r in rows], np.float32).reshape(-1, 4)
    return Objects(xyxy, np.full(len(rows), score, np.float32), np.array([r[4] for r in rows], np.int64))


def test_window_zone_is_the_upper_part_of_a_car_inset_at_the_sides() -> None:
    xyxy, score, index = window_zones(objects([(100, 200, 300, 300, CAR)]))
    inset = CAR_ZONE.inset * 200
    assert xyxy.tolist() == [[100 + inset, 200, 300 - inset, 200 + CAR_ZONE.bottom * 100]]
    assert score.tolist() == pytest.approx([0.8]) and index.tolist() == [0]


def test_buses_reach_lower_and_two_wheelers_have_no_windows() -> None:
    xyxy, _, index = window_zones(
        objects([(0, 0, 50, 50, MOTORCYCLE), (0, 0, 100, 100, BUS), (0, 0, 50, 50, BICYCLE), (0, 0, 10, 10, PERSON)])
    )
    assert xyxy[:, 3].tolist() == [BUS_ZONE.bottom * 100] and index.tolist() == [1]
    assert window_zones(Objects.empty())[0].shape == (0, 4)


@pytest.mark.parametrize(
    "person, vehicle, aboard",
    [
        ((120, 210, 160, 260, PERSON), (100, 200, 300, 300, CAR), True),  # driver inside the car's box
        ((80, 150, 120, 300, PERSON), (100, 200, 300, 300, CAR), False),  # pedestrian beside it, above the roof
        ((50, 0, 100, 100, PERSON), (40, 50, 110, 120, MOTORCYCLE), True),  # rider: legs on the bike
        ((50, 0, 100, 100, PERSON), (40, 90, 110, 160, BICYCLE), False),  # a person merely touching a bike
        ((120, 210, 160, 260, PERSON), (100, 200, 300, 300, TRUCK), True),
    ],
)
def test_riders(person, vehicle, aboard) -> None:
    assert (riders(objects([person]), objects([vehicle])) > 0).tolist() == [aboard]


def test_a_rider_needs_a_sure_two_wheeler_and_is_as_sure_as_both() -> None:
    person = objects([(50, 0, 100, 100, PERSON)], score=0.9)
    bike = (40, 50, 110, 120, MOTORCYCLE)
    # A weak "motorcycle" under a walking person is most often a trolley, a pram or a suitcase.
    assert riders(person, objects([bike], score=RIDER_SCORE - 0.01)).tolist() == [0.0]
    assert riders(person, objects([bike], score=0.6)).tolist() == pytest.approx([0.6])
    # In a car, the lesser of both scores, whatever the car scores; the best vehicle counts.
    driver = objects([(120, 210, 160, 260, PERSON)], score=0.5)
    cars = Objects(
        np.array([[100, 200, 300, 300], [110, 200, 310, 300]], np.float32), np.array([0.2, 0.3], np.float32),
        np.array([CAR, CAR], np.int64),
    )
    assert riders(driver, cars).tolist() == pytest.approx([0.3])
    assert riders(objects([(120, 210, 160, 260, PERSON)], score=0.25), cars).tolist() == pytest.approx([0.25])


def test_plate_zone_geometry_and_clipping() -> None:
    # A 100x25 plate: unit sqrt(100 * 25) = 50 px.
    (zone,) = plate_zones(np.array([[450, 500, 550, 525]]), 2000, 2000)
    assert zone.tolist() == [
        500 - PLATE_ZONE_HALF_WIDTH * 50,
        500 - PLATE_ZONE_ABOVE * 50,
        500 + PLATE_ZONE_HALF_WIDTH * 50,
        500 - PLATE_ZONE_GAP * 50,
    ]
    (clipped,) = plate_zones(np.array([[0, 100, 100, 125]]), 300, 400)
    assert clipped.tolist() == [0, 0, 275, 75]
    (empty,) = plate_zones(np.array([[0, 0, 100, 25]]), 300, 400)  # a plate at the top: nothing above it
    assert empty[3] == empty[1] == 0


def test_held_by_centre() -> None:
    plates = np.array([[110, 280, 150, 290], [400, 280, 440, 290]], np.float32)
    assert held(plates, np.array([[100, 200, 300, 300]])).tolist() == [True, False]
    assert held(plates, np.zeros((0, 4))).tolist() == [False, False]


def _finds(windows: bool, vehicles: list[list[float]], score: float = 0.8) -> OccupantFinds:
    return OccupantFinds(
        xyxy=np.zeros((0, 4), np.float32),
        score=np.zeros(0, np.float32),
        label=np.empty(0, object),
        source=np.empty(0, object),
        vehicles=np.array(vehicles, np.float32).reshape(-1, 4),
        vehicle_score=np.full(len(vehicles), score, np.float32),
        windows=windows,
    )


PLATE = Detections.from_arrays([[450, 500, 550, 525]], [0.7], "plate")


def test_plate_zones_only_for_plates_no_vehicle_holds() -> None:
    found = {"yolo_plate": PLATE, "occupants": _finds(True, [])}
    kept = {"yolo_plate": PLATE, "occupants": Detections.empty()}
    out = add_plate_zones(kept, found, 2000, 2000)
    assert out["occupants"].label.tolist() == ["occupant"] and out["occupants"].score.tolist() == pytest.approx([0.7])
    assert kept["occupants"] is not out["occupants"]  # the input is left as it was
    held_by_car = {**found, "occupants": _finds(True, [[300, 300, 700, 600]])}
    assert len(add_plate_zones(kept, held_by_car, 2000, 2000)["occupants"]) == 0
    # A vehicle under the threshold is only a candidate: it does not hold the plate.
    weak = {**found, "occupants": _finds(True, [[300, 300, 700, 600]], score=0.1)}
    assert len(add_plate_zones(kept, weak, 2000, 2000, threshold=0.25)["occupants"]) == 1


def test_an_unsure_plate_on_a_person_anchors_a_zone_only_when_a_second_opinion_sees_it() -> None:
    unsure = PLATE.replace(score=np.array([0.35], np.float32))
    kept = {"yolo_plate": unsure, "occupants": Detections.empty()}
    walker = replace(_finds(True, []), persons=np.array([[420, 200, 580, 900]], np.float32),
                     person_score=np.array([0.8], np.float32))
    alone = {"yolo_plate": unsure, "occupants": walker}
    assert len(add_plate_zones(kept, alone, 2000, 2000, threshold=0.25)["occupants"]) == 0
    chars = Detections.from_arrays([[465, 505, 535, 520]], [0.2], "plate")  # its characters
    elsewhere = Detections.from_arrays([[900, 505, 970, 520]], [0.9], "plate")
    for text, zones in ((chars, 1), (elsewhere, 0)):
        found = {**alone, "text_plate": text}
        assert len(add_plate_zones(kept, found, 2000, 2000, threshold=0.25)["occupants"]) == zones
    # Its own detector's other candidates are no second opinion.
    same = {**alone, "yolo_plate": Detections.concat([unsure, PLATE])}
    assert len(add_plate_zones(kept, same, 2000, 2000, threshold=0.25)["occupants"]) == 0
    # A sure plate, a plate on no person, or on a person only a candidate: its zone as before.
    sure = {"yolo_plate": PLATE, "occupants": Detections.empty()}
    assert len(add_plate_zones(sure, {**alone, "yolo_plate": PLATE}, 2000, 2000, threshold=0.25)["occupants"]) == 1
    nobody = {"yolo_plate": unsure, "occupants": _finds(True, [])}
    assert len(add_plate_zones(kept, nobody, 2000, 2000, threshold=0.25)["occupants"]) == 1
    faint = {**alone, "occupants": replace(walker, person_score=np.array([0.1], np.float32))}
    assert len(add_plate_zones(kept, faint, 2000, 2000, threshold=0.25)["occupants"]) == 1


def test_a_vehicle_cut_by_the_border_holds_no_plate() -> None:
    # A car half out at the top: its box's upper part is its bonnet, not its windows, so the
    # plate anchors the windshield zone as if no vehicle held it.
    kept = {"yolo_plate": PLATE, "occupants": Detections.empty()}
    for cut in ([300, 0, 700, 600], [0, 300, 700, 600], [300, 300, 2000, 600], [300, 300, 700, 1999]):
        found = {"yolo_plate": PLATE, "occupants": _finds(True, [cut])}
        assert len(add_plate_zones(kept, found, 2000, 2000)["occupants"]) == 1, cut
    inside = {"yolo_plate": PLATE, "occupants": _finds(True, [[300, 3, 700, 600]])}
    assert len(add_plate_zones(kept, inside, 2000, 2000)["occupants"]) == 0
    assert cut_by_border(np.array([[300, 0, 700, 600], [300, 3, 700, 600]]), 2000, 2000).tolist() == [True, False]


@pytest.mark.parametrize(
    "found",
    [
        {"yolo_plate": PLATE, "occupants": _finds(False, [])},  # people mode
        {"yolo_plate": PLATE},  # occupants off
    ],
)
def test_no_plate_zones_without_window_mode(found) -> None:
    kept = {"yolo_plate": PLATE}
    assert {k: len(v) for k, v in add_plate_zones(kept, found, 2000, 2000).items()} == {"yolo_plate": 1}


def test_text_shaped_like_a_caption_anchors_nothing() -> None:
    caption = Detections.from_arrays([[100, 500, 500, 525]], [0.9], "plate")  # 16:1
    found = {"text_plate": caption, "occupants": _finds(True, [])}
    assert len(add_plate_zones({"text_plate": caption}, found, 2000, 2000).get("occupants", Detections.empty())) == 0


def test_occupant_finds_validate_and_index_to_plain_detections() -> None:
    finds = _finds(True, [[0, 0, 10, 10]])
    assert isinstance(finds, Detections) and finds.vehicles.shape == (1, 4)
    assert type(finds[np.zeros(0, bool)]) is Detections
    with pytest.raises(ValueError, match="vehicle_score"):
        OccupantFinds(
            xyxy=np.zeros((0, 4)), score=np.zeros(0), label=np.empty(0, object), source=np.empty(0, object),
            vehicles=np.zeros((2, 4)), vehicle_score=np.zeros(1),
        )


class FakeCoco:
    """Stands in for YoloxCoco: returns scripted objects, records the threshold it was asked for."""

    def __init__(self, found: Objects) -> None:
        self.found = found
        self.threshold = 0.25
        self.asked: list[float] = []

    def detect(self, image, *, rois=None) -> Objects:  # noqa: ANN001
        self.asked.append(self.threshold)
        return self.found[self.found.score >= self.threshold]


SCENE = objects(
    [(100, 200, 300, 300, CAR), (120, 210, 160, 260, PERSON), (500, 0, 540, 120, PERSON), (600, 50, 700, 150, BICYCLE)]
)


@pytest.mark.parametrize("mode, expected", [("windows", 2), ("people", 1)])
def test_detector_modes(mode: str, expected: int) -> None:
    det = Occupants(YOLOX_MODEL, mode=mode)
    det._coco = FakeCoco(SCENE)  # type: ignore[assignment]
    found = det.detect(np.zeros((400, 800, 3), np.uint8))
    assert isinstance(found, OccupantFinds) and found.windows == (mode == "windows")
    assert len(found) == expected and set(found.label.tolist()) == {"occupant"}
    assert len(found.vehicles) == 2  # the car and the bicycle, in both modes
    assert [120, 210, 160, 260] in found.xyxy.tolist()  # the driver; the pedestrian is not an occupant


def test_detector_floor_lowers_the_networks_threshold() -> None:
    det = Occupants(YOLOX_MODEL, threshold=0.3)
    det._coco = FakeCoco(SCENE)  # type: ignore[assignment]
    det.detect(np.zeros((400, 800, 3), np.uint8), floor=0.15)
    det.detect(np.zeros((400, 800, 3), np.uint8))
    assert det._coco.asked == [0.15, 0.3]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="mode"):
        Occupants(YOLOX_MODEL, mode="everyone")


def test_decide_adds_plate_zones_once() -> None:
    det = Occupants(YOLOX_MODEL)
    det._coco = FakeCoco(Objects.empty())  # type: ignore[assignment]
    ds = DetectorSet(detectors=[det], models=[], thresholds={"face": 0.35, "plate": 0.4, "occupant": 0.25},
                     quality="balanced")
    found = {"yolo_plate": PLATE, "occupants": det.detect(np.zeros((2000, 2000, 3), np.uint8))}
    out = ds.decide(found, 2000, 2000)
    assert sorted(out.label.tolist()) == ["occupant", "plate"]


@pytest.mark.parametrize("mode", ["windows", "people"])
def test_registry_builds_the_mode(mode: str) -> None:
    ds = build_detector_set(faces=False, plates=False, occupants=mode, quality="fast")
    (det,) = ds.detectors
    assert isinstance(det, Occupants) and det.mode == mode
    assert [m.label for m in ds.models] == ["occupant"] and ds.models[0].sha256 == YOLOX_MODEL.sha256
    assert ds.thresholds["occupant"] == pytest.approx(0.25)


def test_registry_off_invalid_and_not_in_the_glance() -> None:
    assert "occupants" not in [d.name for d in build_detector_set(occupants="off").detectors]
    assert all("occupants" in PRESETS[q] for q in ("fast", "balanced", "thorough"))
    assert "occupants" not in PRESETS[GLANCE]
    assert "occupants" not in [d.name for d in build_detector_set(occupants="windows", quality=GLANCE).detectors]
    with pytest.raises(ConfigError, match="windows, people, off"):
        build_detector_set(occupants="everyone")


@pytest.mark.parametrize(
    "run_mode, checked", [("windows", "people"), ("people", "people"), ("off", None), (None, None)]
)
def test_leak_check_looks_for_people_not_zones(run_mode: str | None, checked: str | None) -> None:
    from redact.review.verify import leak_detector

    settings = {"resolved_thresholds": {"face": 0.35, "plate": 0.4, "occupant": 0.25}, "quality": "fast"}
    if run_mode is not None:  # a manifest from before the option has none
        settings["occupants"] = run_mode
    found = [d for d in leak_detector({"settings": settings}).detectors if isinstance(d, Occupants)]
    assert [d.mode for d in found] == ([checked] if checked else [])


@pytest.mark.slow
def test_real_model_covers_the_windshield_of_a_dev_car() -> None:
    path = require_dev("occupants-dev", "images", "us_wts-lg-000077.jpg")
    image = cv2.imread(str(path))
    assert image is not None
    ds = build_detector_set(faces=False, plates=False, occupants="windows", threads=2)
    dets = ds.detect(image)
    # The labelled driver's head (x 584, y 81, 40x45) and windshield (317, 28, 444x156).
    head = np.array([584, 81, 624, 126], np.float32)
    occ = dets.with_label("occupant").xyxy
    inside = (
        (occ[:, 0] <= head[0]) & (occ[:, 1] <= head[1]) & (occ[:, 2] >= head[2]) & (occ[:, 3] >= head[3])
    )
    assert inside.any(), occ.tolist()
