"""Window zones end above their vehicle's own plate, large vehicles need one, plate zones stay within
their vehicle (redact.detect.plate_anchors)."""

from __future__ import annotations

import numpy as np
import pytest

from redact import geometry
from redact.detect import DetectorSet
from redact.detect.occupants import BUS_ZONE, CAR_ZONE, OccupantFinds, Occupants
from redact.detect.plate_anchors import (
    PLATE_ZONE_GAP,
    drop_unplated_large,
    own_plates,
    plate_zones,
    windows_above_plates,
    within_vehicles,
)
from redact.detect.yolox import BUS, CAR, PERSON, YOLOX_MODEL, Objects
from redact.types import Detections
from tests.helpers import FakeCoco

CAR_BOX = (100, 100, 500, 400)  # 400 wide, 300 tall
OWN = (240, 300, 360, 330)  # centred, low, 0.3 of the car's width
UNIT = np.sqrt(120 * 30)


def _objects(rows: list[tuple]) -> Objects:
    xyxy = np.array([r[:4] for r in rows], np.float32).reshape(-1, 4)
    return Objects(xyxy, np.full(len(rows), 0.8, np.float32), np.array([r[4] for r in rows], np.int64))


def _finds(rows: list[tuple]) -> OccupantFinds:
    det = Occupants(YOLOX_MODEL)
    det._coco = FakeCoco(_objects(rows))  # type: ignore[assignment]
    return det.detect(np.zeros((600, 800, 3), np.uint8))


def _plates(*boxes: tuple) -> Detections:
    return Detections.from_arrays(np.array(boxes, np.float32).reshape(-1, 4), [0.7] * len(boxes), "plate")


@pytest.mark.parametrize(
    "plate, own",
    [
        (OWN, True),
        ((380, 300, 500, 330), False),  # off to one side: another car's, or a sign
        ((250, 120, 350, 145), False),  # high up: a route display or a sticker on the glass
        ((290, 300, 310, 305), False),  # far too narrow for this car: a car further off
        ((110, 300, 490, 380), False),  # far too wide
        ((240, 420, 360, 450), False),  # below the car
    ],
)
def test_own_plate(plate, own) -> None:
    assert own_plates(np.array([CAR_BOX]), np.array([plate])).tolist() == [[own]]


def test_a_car_called_a_bus_keeps_its_windows_above_its_plate() -> None:
    finds = _finds([(*CAR_BOX, BUS), (150, 150, 250, 350, PERSON)])
    zone = finds.zone_of >= 0
    assert finds.xyxy[zone][0, 3] == pytest.approx(100 + BUS_ZONE.bottom * 300)  # 310: over the plate
    out = windows_above_plates(finds, _plates(OWN))
    assert out.xyxy[zone][0, 3] == pytest.approx(300 - PLATE_ZONE_GAP * UNIT)
    assert out.xyxy[zone][0, :3].tolist() == finds.xyxy[zone][0, :3].tolist()
    assert out.xyxy[~zone].tolist() == finds.xyxy[~zone].tolist()  # the person aboard is left alone
    assert isinstance(out, OccupantFinds) and out.vehicles.tolist() == finds.vehicles.tolist()


def test_a_zone_never_grows_and_other_plates_change_nothing() -> None:
    finds = _finds([(*CAR_BOX, CAR)])
    # The car zone ends at 235, above where the plate would end it (270): unchanged.
    assert windows_above_plates(finds, _plates(OWN)).xyxy.tolist() == finds.xyxy.tolist()
    assert windows_above_plates(finds, _plates((380, 300, 500, 330))) is finds
    assert windows_above_plates(finds, Detections.empty()) is finds
    # A caption-shaped text box is not a plate.
    caption = _plates((200, 300, 400, 312))
    assert windows_above_plates(_finds([(*CAR_BOX, BUS)]), caption).xyxy[0, 3] == pytest.approx(310)


def test_per_detector_ends_zones_above_plates_that_pass() -> None:
    class Plates:
        name, label, threshold = "yolo_plate", "plate", 0.4

        def __init__(self, score: float) -> None:
            self.score = score

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            return Detections.from_arrays([OWN], [self.score], "plate")

    det = Occupants(YOLOX_MODEL)
    det._coco = FakeCoco(_objects([(*CAR_BOX, BUS)]))  # type: ignore[assignment]
    image = np.zeros((600, 800, 3), np.uint8)
    bottoms = []
    for score in (0.7, 0.3):  # a plate candidate under the threshold ends nothing
        ds = DetectorSet(detectors=[det, Plates(score)], models=[], quality="balanced",  # type: ignore[list-item]
                         thresholds={"face": 0.35, "plate": 0.4, "occupant": 0.25})
        bottoms.append(float(ds.per_detector(image, ratio=0.5)["occupants"].xyxy[0, 3]))
    assert bottoms == pytest.approx([300 - PLATE_ZONE_GAP * UNIT, 310])


def test_a_look_without_plate_networks_takes_the_plates_found_by_another() -> None:
    # Video follows vehicles between keyframes with the occupant detector alone; the plates
    # the face and plate networks found on that frame end its zones.
    det = Occupants(YOLOX_MODEL)
    det._coco = FakeCoco(_objects([(*CAR_BOX, BUS)]))  # type: ignore[assignment]
    alone = DetectorSet(detectors=[det], models=[], quality="balanced",
                        thresholds={"face": 0.35, "plate": 0.4, "occupant": 0.25})
    image = np.zeros((600, 800, 3), np.uint8)
    dets, _ = alone.look(image, ratio=0.5)
    assert dets.xyxy[:, 3].max() == pytest.approx(310)
    dets, _ = alone.look(image, ratio=0.5, plates=_plates(OWN))
    assert dets.xyxy[:, 3].max() == pytest.approx(300 - PLATE_ZONE_GAP * UNIT)


def test_zone_of_is_validated() -> None:
    with pytest.raises(ValueError, match="zone_of"):
        OccupantFinds(
            xyxy=np.zeros((1, 4)), score=np.ones(1), label=np.array(["occupant"], object),
            source=np.array(["detector"], object), zone_of=np.array([0]),
        )
    assert CAR_ZONE.bottom < BUS_ZONE.bottom


def _scored(rows: list[tuple], scores: list[float]) -> OccupantFinds:
    det = Occupants(YOLOX_MODEL)
    objects = _objects(rows)
    det._coco = FakeCoco(Objects(objects.xyxy, np.array(scores, np.float32), objects.cls))  # type: ignore[assignment]
    return det.detect(np.zeros((600, 800, 3), np.uint8))


BIG_CAR = (50, 20, 750, 590)  # 83 % of the 800x600 picture
BIG_OWN = (320, 480, 480, 520)  # centred, low, 0.23 of its width


@pytest.mark.parametrize(
    "score, plates, dropped",
    [
        (0.5, [], True),  # the whole picture called a car, nothing to show it is one
        (0.5, [BIG_OWN], False),  # a car filling the picture shows its plate
        (0.5, [(40, 540, 120, 560)], True),  # a plate at the side is another car's
        (0.85, [], False),  # a sure score
    ],
)
def test_a_vehicle_over_half_the_picture_needs_its_plate_or_a_sure_score(score, plates, dropped) -> None:
    finds = _scored([(*BIG_CAR, CAR), (100, 100, 200, 200, CAR), (130, 110, 170, 190, PERSON)], [score, 0.6, 0.7])
    out = drop_unplated_large(finds, _plates(*plates) if plates else Detections.empty(), 800, 600)
    if not dropped:
        assert out is finds
        return
    assert out.vehicles.tolist() == [[100, 100, 200, 200]]
    zones = out.xyxy[out.zone_of >= 0]
    assert len(zones) == 1 and zones[0, 2] <= 200  # the small car's zone stays
    assert out.zone_of[out.zone_of >= 0].tolist() == [0]  # renumbered to the vehicles left
    assert (out.label == "occupant").all() and len(out) == len(finds) - 1  # the person aboard stays


def test_a_plate_zone_stays_within_the_plates_own_vehicle() -> None:
    plate = np.array([[450, 500, 550, 525]], np.float32)  # unit 50: zone 450 wide, 275 tall
    zone = plate_zones(plate, 2000, 2000)
    assert zone.tolist() == [[275, 200, 725, 475]]
    car = [350, 300, 650, 560]  # the plate centred low in it: its own, however unsure
    assert within_vehicles(zone, plate, np.array([car]), 2000, 2000).tolist() == [[350, 300, 650, 475]]
    # Of two vehicles the plate is the own of, the smaller box.
    both = np.array([[0, 100, 1000, 560], car], np.float32)
    assert within_vehicles(zone, plate, both, 2000, 2000).tolist() == [[350, 300, 650, 475]]
    # A vehicle it is not the own of (off to one side) bounds nothing.
    assert within_vehicles(zone, plate, np.array([[500, 300, 1300, 560]]), 2000, 2000).tolist() == zone.tolist()
    # A vehicle the border cuts goes on beyond it: cut at the left, its box reaches to x = 0.
    cut = np.array([[1, 300, 560, 560]], np.float32)
    assert within_vehicles(zone, plate, cut, 2000, 2000).tolist() == [[275, 300, 560, 475]]
    assert geometry.extend_to_border(np.array([[1, 2, 1998, 1500]]), 2000, 2000, 2).tolist() == [[0, 0, 2000, 1500]]
