"""Characters as evidence: wide plate boxes that read as nothing, and a sign's stacked lines."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect import DetectorSet
from redact.detect.characters import READ_WIDTH, on_signs, sign_lines, sign_stacks, unread_plates, unreadable
from redact.detect.occupants import OccupantFinds
from redact.detect.reading import Reading
from redact.detect.text import stacked_lines
from redact.types import Detections
from tests.helpers import GivenReadings

THRESHOLDS = {"face": 0.35, "plate": 0.3, "occupant": 0.25}


def _boxes(*xyxy: tuple[int, int, int, int]) -> Detections:
    return Detections.from_arrays(list(xyxy), [0.6] * len(xyxy), "plate")


def test_three_stacked_lines_are_a_stack_two_are_not() -> None:
    sign = [(100, 80, 160, 104), (98, 108, 166, 132), (102, 136, 150, 160)]
    assert [s.tolist() for s in stacked_lines(np.array(sign), 3)] == [[0, 1, 2]]
    assert stacked_lines(np.array(sign[:2]), 3) == []  # a two-line plate


def test_one_line_boxed_twice_is_one_row() -> None:
    twice = [(100, 80, 160, 104), (101, 82, 161, 105), (98, 108, 166, 132), (99, 110, 165, 133)]
    assert stacked_lines(np.array(twice), 3) == []
    assert [s.tolist() for s in stacked_lines(np.array(twice), 2)] == [[0, 1, 2, 3]]


@pytest.mark.parametrize(
    "third",
    [
        (300, 136, 360, 160),  # beside the stack, not under it
        (100, 200, 160, 224),  # far below
        (100, 136, 160, 200),  # under it, but nearly three times as high: no line of the same text
    ],
)
def test_lines_apart_or_unlike_are_no_stack(third: tuple[int, int, int, int]) -> None:
    boxes = np.array([(100, 80, 160, 104), (98, 108, 166, 132), third])
    assert stacked_lines(boxes, 3) == []


def test_a_stack_is_a_sign_only_when_every_line_reads_surely_without_a_digit() -> None:
    text = _boxes((100, 80, 160, 104), (98, 108, 166, 132), (102, 136, 150, 160), (400, 400, 460, 420))
    stacks = sign_stacks(text)
    assert [s.tolist() for s in stacks] == [[0, 1, 2]]
    words = [Reading("TERMINAL", 0.95), Reading("RATB", 0.96), Reading("AUTOGARA", 0.99)]
    assert sign_lines(text, stacks, [words]).tolist() == [True, True, True, False]
    with_digits = [*words[:2], Reading("B 123 ABC", 0.97)]  # a list of plates printed one under another
    assert not sign_lines(text, stacks, [with_digits]).any()
    unsure = [*words[:2], Reading("AUTOGARA", 0.6)]
    assert not sign_lines(text, stacks, [unsure]).any()


def test_a_plate_box_around_a_signs_lines_and_nothing_else_is_the_sign() -> None:
    text = _boxes((100, 80, 160, 104), (98, 108, 166, 132), (102, 136, 150, 160), (110, 170, 150, 190))
    signs = np.array([True, True, True, False])
    boxes = _boxes(
        (95, 100, 170, 165),  # the sign's last two lines
        (95, 75, 170, 110),  # one line only
        (95, 100, 170, 195),  # two of its lines and other text below
    )
    assert on_signs(boxes, text, signs).tolist() == [True, False, False]
    assert not on_signs(boxes, text, np.zeros(4, bool)).any()


def test_only_wide_plate_boxes_without_text_in_them_are_read() -> None:
    wide, narrow, with_text = (100, 100, 100 + READ_WIDTH, 140), (300, 100, 360, 120), (500, 100, 620, 140)
    boxes = _boxes(wide, narrow, with_text)
    text = _boxes((510, 108, 600, 132))
    assert unreadable(boxes, text).tolist() == [True, False, False]
    assert unreadable(boxes, Detections.empty()).tolist() == [True, False, True]


def test_a_box_where_a_vehicle_carries_its_plate_is_not_judged_by_its_reading() -> None:
    car = [[600, 200, 1000, 500]]  # a car's back: its plate centred in the lower part
    own = (740, 400, 860, 450)  # a plate smeared past reading, where the car carries it
    above = (740, 250, 860, 300)  # a box across the rear window: not where a plate is
    square = (750, 380, 850, 480)  # not plate-shaped
    beside = (100, 100, 220, 150)  # a chevron board off any vehicle
    boxes = _boxes(own, above, square, beside)
    assert unreadable(boxes, Detections.empty()).tolist() == [True, True, True, True]
    assert unreadable(boxes, Detections.empty(), np.array(car, np.float32)).tolist() == [False, True, True, True]
    assert unreadable(boxes, Detections.empty(), np.zeros((0, 4), np.float32)).tolist() == [True, True, True, True]
    kept = unread_plates(boxes, Detections.empty(), [Reading("", 0.1)] * 3, np.array(car, np.float32))
    assert [tuple(int(v) for v in b) for b in kept.xyxy] == [own]


@pytest.mark.parametrize(
    ("reading", "kept"), [("", False), ("B", False), ("国#", False), ("B28", True), ("B 28 BCV", True)]
)
def test_a_wide_plate_box_must_read_as_two_letters_or_digits(reading: str, kept: bool) -> None:
    boxes = _boxes((100, 100, 220, 140), (300, 100, 360, 120))
    out = unread_plates(boxes, Detections.empty(), [Reading(reading, 0.5)])
    assert len(out) == (2 if kept else 1)
    assert (300, 100, 360, 120) in [tuple(int(v) for v in b) for b in out.xyxy]  # the narrow box is never judged


def test_readings_must_match_the_boxes_read() -> None:
    with pytest.raises(ValueError, match="expected 1 readings"):
        unread_plates(_boxes((100, 100, 220, 140)), Detections.empty(), [])


class _Fixed:
    def __init__(self, name: str, boxes: list[tuple[int, int, int, int]]) -> None:
        self.name, self.label, self.threshold, self.boxes = name, "plate", 0.3, boxes

    def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
        return _boxes(*self.boxes) if self.boxes else Detections.empty()


def test_the_detector_set_drops_chevrons_and_sign_lines_and_keeps_plates() -> None:
    chevron, plate, small = (700, 200, 820, 260), (100, 400, 210, 436), (900, 500, 940, 515)
    sign = [(400, 80, 460, 104), (398, 108, 466, 132), (402, 136, 450, 160)]
    reader = GivenReadings({
        plate: Reading("B 28 BCV", 0.9),
        sign[0]: Reading("TERMINAL", 0.95), sign[1]: Reading("RATB", 0.96), sign[2]: Reading("AUTOGARA", 0.99),
    }, Reading("", 0.0))
    board = (395, 100, 470, 165)  # the plate network's box around the sign's last two lines
    ds = DetectorSet(detectors=[_Fixed("yolo_plate", [chevron, plate, small, board]), _Fixed("text_plate", sign)],  # type: ignore[list-item]
                     models=[], thresholds=THRESHOLDS, quality="balanced", reader=reader)
    found = ds.per_detector(np.zeros((720, 1280, 3), np.uint8))
    assert [tuple(int(v) for v in b) for b in found["yolo_plate"].xyxy] == [plate, small]
    assert len(found["text_plate"]) == 0
    assert chevron in reader.read_boxes and small not in reader.read_boxes


class _Vehicles:
    name, label, threshold = "occupants", "occupant", 0.25

    def __init__(self, vehicles: list[list[float]], scores: list[float]) -> None:
        self.vehicles, self.scores = vehicles, scores

    def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
        return OccupantFinds(
            xyxy=np.zeros((0, 4), np.float32), score=np.zeros(0, np.float32),
            label=np.zeros(0, dtype=object), source=np.zeros(0, dtype=object),
            vehicles=np.array(self.vehicles, np.float32).reshape(-1, 4),
            vehicle_score=np.array(self.scores, np.float32), windows=True,
        )


@pytest.mark.parametrize(("score", "kept"), [(0.8, True), (0.2, False)])
def test_the_detector_set_keeps_an_unread_plate_where_a_sure_vehicle_carries_it(score: float, kept: bool) -> None:
    smeared = (740, 400, 860, 450)
    reader = GivenReadings({}, Reading("", 0.0))
    ds = DetectorSet(
        detectors=[_Fixed("yolo_plate", [smeared]), _Fixed("text_plate", []),  # type: ignore[list-item]
                   _Vehicles([[600, 200, 1000, 500]], [score])],
        models=[], thresholds=THRESHOLDS, quality="balanced", reader=reader,
    )
    found = ds.per_detector(np.zeros((720, 1280, 3), np.uint8))
    assert len(found["yolo_plate"]) == (1 if kept else 0)  # a vehicle under the threshold is only a candidate


def test_only_the_reading_quality_judges_characters() -> None:
    chevron = (700, 200, 820, 260)
    reader = GivenReadings({}, Reading("", 0.0))
    ds = DetectorSet(detectors=[_Fixed("yolo_plate", [chevron]), _Fixed("text_plate", [])],  # type: ignore[list-item]
                     models=[], thresholds=THRESHOLDS, quality="thorough", reader=reader)
    assert len(ds.per_detector(np.zeros((720, 1280, 3), np.uint8))["yolo_plate"]) == 1
    without_text = DetectorSet(detectors=[_Fixed("yolo_plate", [chevron])],  # type: ignore[list-item]
                               models=[], thresholds=THRESHOLDS, quality="balanced", reader=None)
    assert len(without_text.per_detector(np.zeros((720, 1280, 3), np.uint8))["yolo_plate"]) == 1
