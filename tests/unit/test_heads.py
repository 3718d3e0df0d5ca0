"""Heads of people with no face found: zone geometry, the rule, the detector set and the option."""

from __future__ import annotations

import numpy as np
import pytest

from redact.config import RedactConfig
from redact.detect import DetectorSet, build_detector_set
from redact.detect.heads import FACE_REACH, PERSON_HEAD, HeadZone, add_person_heads, head_zones
from redact.detect.occupants import OccupantFinds, Occupants
from redact.detect.yolox import PERSON, YOLOX_MODEL, Objects
from redact.types import Detections
from tests.helpers import FakeCoco

THRESHOLDS = {"face": 0.35, "plate": 0.3, "occupant": 0.25}


def finds(persons: list[list[float]], score: float = 0.8) -> OccupantFinds:
    """What the occupant detector reports for a picture with these persons and no vehicle."""
    return OccupantFinds(
        xyxy=np.zeros((0, 4), np.float32),
        score=np.zeros(0, np.float32),
        label=np.zeros(0, dtype=object),
        source=np.zeros(0, dtype=object),
        persons=np.array(persons, np.float32).reshape(-1, 4),
        person_score=np.full(len(persons), score, np.float32),
        windows=False,
    )


def face(box: list[float], score: float = 0.9) -> Detections:
    return Detections.from_arrays([box], [score], "face")


# A standing person 40 px wide and 120 px tall, and one cut off at the chest (100 x 90).
WALKER = [100.0, 50.0, 140.0, 170.0]
BUST = [300.0, 20.0, 400.0, 110.0]


def test_zone_is_the_top_of_the_box_inset_and_never_below_it() -> None:
    zones = head_zones(np.array([WALKER, BUST]), HeadZone(inset=0.1, height=0.5, threshold=0.4))
    assert zones.tolist() == [[104, 50, 136, 70], [310, 20, 390, 70]]
    short = head_zones(np.array([[0, 0, 100, 30]]), HeadZone(inset=0.0, height=0.5, threshold=0.4))
    assert short.tolist() == [[0, 0, 100, 30]]  # a box shorter than the zone: the box


def test_bare_person_gets_a_face_at_the_head() -> None:
    out = add_person_heads({}, {"occupants": finds([WALKER])})
    (added,) = out.values()
    assert added.label.tolist() == ["face"] and added.source.tolist() == ["detector"]
    assert added.xyxy.tolist() == head_zones(np.array([WALKER])).tolist()
    assert added.score.tolist() == pytest.approx([0.8])


@pytest.mark.parametrize(
    "found_face, added",
    [
        ([110, 55, 130, 75], 0),  # the person's face: nothing to add
        ([110, 50 + FACE_REACH * 40 + 5, 130, 170], 1),  # a face below where the head can be (a child held)
        ([200, 55, 220, 75], 1),  # someone else's face
    ],
)
def test_a_face_found_at_the_head_is_enough(found_face, added) -> None:
    out = add_person_heads({"centerface": face(found_face)}, {"occupants": finds([WALKER])})
    assert len(out["centerface"]) == 1
    assert len(out.get("occupants", Detections.empty())) == added


def test_unsure_persons_and_sets_without_the_network_add_nothing() -> None:
    weak = finds([WALKER], score=PERSON_HEAD.threshold - 0.01)
    assert add_person_heads({}, {"occupants": weak}) == {}
    kept = {"centerface": face([0, 0, 10, 10])}
    assert add_person_heads(kept, {"centerface": face([0, 0, 10, 10])}) == kept


def test_decide_adds_heads_only_when_asked() -> None:
    found = {"occupants": finds([WALKER, BUST]), "centerface": face([320, 30, 380, 90])}
    on = DetectorSet(detectors=[], models=[], thresholds=THRESHOLDS, quality="balanced", person_heads=PERSON_HEAD)
    dets = on.decide(found, 640, 480)
    assert sorted(dets.xyxy[:, 0].tolist()) == [100 + PERSON_HEAD.inset * 40, 320]  # the walker's head, the face
    off = DetectorSet(detectors=[], models=[], thresholds=THRESHOLDS, quality="balanced")
    assert off.decide(found, 640, 480).xyxy.tolist() == [[320, 30, 380, 90]]


def test_occupants_off_mode_reports_people_and_no_regions() -> None:
    det = Occupants(YOLOX_MODEL, mode="off")
    walker = Objects(np.array([WALKER], np.float32), np.array([0.9], np.float32), np.array([PERSON], np.int64))
    det._coco = FakeCoco(walker)  # type: ignore[assignment]
    found = det.detect(np.zeros((200, 200, 3), np.uint8))
    assert len(found) == 0 and found.persons.tolist() == [WALKER] and not found.windows


@pytest.mark.parametrize(
    ("faces", "occupants", "heads", "network", "mode"),
    [
        (True, "off", True, True, "off"),  # the network runs for the heads alone
        (True, "windows", True, True, "windows"),
        (False, "windows", True, True, "windows"),  # no faces: no heads
        (False, "off", True, False, None),
        (True, "off", False, False, None),
    ],
)
def test_registry(faces: bool, occupants: str, heads: bool, network: bool, mode: str | None) -> None:
    ds = build_detector_set(faces=faces, plates=False, occupants=occupants, person_heads=heads, quality="fast")
    found = [d for d in ds.detectors if isinstance(d, Occupants)]
    assert [d.mode for d in found] == ([mode] if network else [])
    assert (ds.person_heads is not None) == (faces and heads)
    # The occupant-only set (video, around vehicles) never adds heads: it has no face to check.
    if network:
        assert ds.only(("occupants",)).person_heads is None


def test_option_defaults_on_and_is_recorded() -> None:
    assert RedactConfig().person_heads is True
    off = RedactConfig(person_heads=False)
    assert off.output_settings()["person_heads"] is False
    assert off.settings_hash() != RedactConfig().settings_hash()
