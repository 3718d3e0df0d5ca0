"""``redact.detect.turns``: pictures looked at turned, their boxes given back where they lie."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redact.detect import Seen
from redact.detect.tiles import Tile
from redact.detect.turns import (
    TURNS,
    VIEWS,
    AllTurns,
    Slant,
    carrying,
    turned_back,
    turned_boxes,
    upright_occupants,
)
from redact.types import Detections


def _blob_box(image: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(image[..., 0] > 100)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


@settings(max_examples=60, deadline=None)
@given(
    w=st.integers(8, 40), h=st.integers(8, 40), k=st.integers(0, 3),
    x0=st.integers(0, 6), y0=st.integers(0, 6), bw=st.integers(1, 6), bh=st.integers(1, 6),
)
def test_a_box_turns_with_the_picture_and_back(w: int, h: int, k: int, x0: int, y0: int, bw: int, bh: int) -> None:
    assume(x0 + bw <= w and y0 + bh <= h)
    image = np.zeros((h, w, 3), np.uint8)
    image[y0 : y0 + bh, x0 : x0 + bw] = 255
    turned = np.rot90(image, k)
    box = np.array([[x0, y0, x0 + bw, y0 + bh]], np.float32)
    there = turned_boxes(box, k, w, h)
    assert there[0].tolist() == _blob_box(turned)  # where the pixels went
    assert turned_back(there, k, turned.shape[1], turned.shape[0]).tolist() == box.tolist()


class _FindsTallBlobs:
    """A fake detector set: finds the bright blob only in pictures taller than wide (as the
    networks find faces only upright), and records what it was shown."""

    thresholds = {"face": 0.5}
    models: list[Any] = []

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.rois: list[Any] = []
        self.plates: list[Any] = []

    def _found(self, image: np.ndarray) -> Detections:
        self.shapes.append(image.shape[:2])
        if image.shape[0] <= image.shape[1] or not (image[..., 0] > 100).any():
            return Detections.empty()
        return Detections.from_arrays([_blob_box(image)], [0.9], "face")

    def seen(
        self, image: np.ndarray, *, ratio: float = 0.5, rois: Any = None, plates: Any = None, suspects: bool = False
    ) -> Seen:
        self.rois.append(rois)
        self.plates.append(plates)
        found = self._found(image)
        # With suspects asked for (a video's look), one in the picture's top-left corner.
        weak = Detections.from_arrays([[0, 0, 2, 2]], [0.2], "face") if suspects else Detections.empty()
        return Seen(found, weak, np.zeros((0, 4), np.float32))

    def only(self, names: Any, **kwargs: Any) -> _FindsTallBlobs:
        return self

    def take_providers(self) -> set[str]:
        return {"CPU"}


def test_what_only_a_turned_look_finds_comes_back_in_the_pictures_pixels() -> None:
    image = np.zeros((60, 100, 3), np.uint8)  # wide: the fake finds nothing as stored
    image[10:20, 70:90] = 255
    inner = _FindsTallBlobs()
    turns = AllTurns(inner)
    dets = turns.detect(image)
    assert inner.shapes == [(60, 100), (100, 60), (60, 100), (100, 60)]  # as stored, then each turn
    # Found on the quarter and three-quarter turns, fused into the one box where the blob is.
    assert dets.xyxy.tolist() == [[70.0, 10.0, 90.0, 20.0]] and dets.label.tolist() == ["face"]
    # Anything else is the inner set's.
    assert turns.thresholds == {"face": 0.5} and turns.take_providers() == {"CPU"}
    assert isinstance(turns.only(["face"]), AllTurns)


def test_windows_and_plates_are_turned_with_the_picture() -> None:
    image = np.zeros((60, 100, 3), np.uint8)
    image[10:20, 70:90] = 255
    inner = _FindsTallBlobs()
    plates = Detections.from_arrays([[70, 10, 90, 20]], [0.8], "plate")
    dets, weak = AllTurns(inner).look(image, ratio=0.5, rois=[Tile(60, 0, 100, 30)], plates=plates)
    assert dets.xyxy.tolist() == [[70.0, 10.0, 90.0, 20.0]]
    # The plates handed on lie on the blob in each turned picture.
    for k, given_plates in zip((0, *TURNS), inner.plates, strict=True):
        turned = np.rot90(image, k)
        assert given_plates.xyxy.tolist() == [_blob_box(turned)]
    # Each turn's suspect (its own top-left corner) comes back at a corner of the picture.
    corners = sorted(tuple(b) for b in weak.xyxy.tolist())
    assert corners == [(0.0, 0.0, 2.0, 2.0), (0.0, 58.0, 2.0, 60.0), (98.0, 0.0, 100.0, 2.0), (98.0, 58.0, 100.0, 60.0)]
    inner.rois.clear()
    AllTurns(inner).detect(image, rois=[Tile(60, 0, 100, 30)])
    assert inner.rois[0] == [Tile(60, 0, 100, 30)]
    assert inner.rois[1] == [Tile(0, 0, 30, 40)]  # a quarter turn anticlockwise: (x, y) -> (y, 100 - x)
    assert inner.rois[2] == [Tile(0, 30, 40, 60)]
    assert inner.rois[3] == [Tile(30, 60, 60, 100)]


def test_runs_and_their_leak_check_look_turned_only_when_asked() -> None:
    from redact.config import RedactConfig
    from redact.review.verify import leak_detector
    from redact.worker import make_detectors

    assert not isinstance(make_detectors(RedactConfig(quality="fast")), AllTurns)
    for choice in ("all", "askew"):
        run = make_detectors(RedactConfig(quality="fast", orientations=choice))
        assert isinstance(run, AllTurns) and run.views == VIEWS[choice]
    settings = {"resolved_thresholds": {"face": 0.35, "plate": 0.4}, "quality": "fast"}
    assert not isinstance(leak_detector({"settings": settings}).inner, AllTurns)  # a manifest from before the option
    for choice in ("all", "askew"):
        check = leak_detector({"settings": {**settings, "orientations": choice}}).inner
        assert isinstance(check, AllTurns) and check.views == VIEWS[choice]


@settings(max_examples=40, deadline=None)
@given(
    degrees=st.sampled_from([12.0, -12.0, 20.0, -5.0]), w=st.integers(30, 90), h=st.integers(30, 90),
    x0=st.integers(2, 20), y0=st.integers(2, 20), bw=st.integers(3, 8), bh=st.integers(3, 8),
)
def test_a_box_slants_with_the_picture_and_back_holding_its_pixels(
    degrees: float, w: int, h: int, x0: int, y0: int, bw: int, bh: int
) -> None:
    assume(x0 + bw <= w - 2 and y0 + bh <= h - 2)
    image = np.zeros((h, w, 3), np.uint8)
    image[y0 : y0 + bh, x0 : x0 + bw] = 255
    view = Slant(degrees)
    slanted = view.picture(image)
    there = view.there(np.array([[x0, y0, x0 + bw, y0 + bh]], np.float32), w, h)[0]
    ys, xs = np.nonzero(slanted[..., 0] >= 128)  # the pixels the box's pixels mostly reach
    assert xs.min() >= there[0] - 0.5 and ys.min() >= there[1] - 0.5
    assert xs.max() + 1 <= there[2] + 0.5 and ys.max() + 1 <= there[3] + 0.5
    back = view.back(there[None], w, h)[0]  # the level box around the slanted box, turned back
    assert back[0] <= x0 + 1e-3 and back[1] <= y0 + 1e-3 and back[2] >= x0 + bw - 1e-3 and back[3] >= y0 + bh - 1e-3
    assert back[0] >= 0 and back[1] >= 0 and back[2] <= w and back[3] <= h


class _FindsLevelBars:
    """A fake detector set: finds a thin bright bar only where it lies level (as the plate
    networks miss a plate's line on a slant)."""

    thresholds = {"plate": 0.5}
    models: list[Any] = []

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    def seen(
        self, image: np.ndarray, *, ratio: float = 0.5, rois: Any = None, plates: Any = None, suspects: bool = False
    ) -> Seen:
        self.shapes.append(image.shape[:2])
        ys, xs = np.nonzero(image[..., 0] > 100)
        level = len(ys) and (ys.max() - ys.min()) <= 0.15 * (xs.max() - xs.min())
        box = [[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]] if level else []
        found = Detections.from_arrays(box, [0.9] * len(box), "plate") if box else Detections.empty()
        return Seen(found, Detections.empty(), np.zeros((0, 4), np.float32))

    def only(self, names: Any, **kwargs: Any) -> _FindsLevelBars:
        return self


def test_a_line_on_a_slant_is_found_in_the_look_that_levels_it_and_covered_where_it_lies() -> None:
    image = np.zeros((120, 200, 3), np.uint8)
    # A bar of characters 80 px long, 15 degrees off level.
    end = (60 + 80 * np.cos(np.deg2rad(15)), 70 - 80 * np.sin(np.deg2rad(15)))
    cv2.line(image, (60, 70), (round(end[0]), round(end[1])), (255, 255, 255), 4)
    inner = _FindsLevelBars()
    assert not len(inner.seen(image).detections)  # on its slant the fake misses it
    askew = AllTurns(inner, VIEWS["askew"])
    dets = askew.detect(image)
    assert len(inner.shapes) == 4 and inner.shapes[2][0] > 120  # as stored, then the slanted, larger canvases
    assert len(dets) == 1 and dets.label.tolist() == ["plate"]
    ys, xs = np.nonzero(image[..., 0] > 100)
    x0, y0, x1, y1 = dets.xyxy[0]
    assert x0 <= xs.min() and y0 <= ys.min() and x1 >= xs.max() + 1 and y1 >= ys.max() + 1
    assert askew.only(["plate"]).views == VIEWS["askew"]  # a part of the set looks askew too


def test_occupant_regions_come_from_the_look_that_sees_most() -> None:
    upright = Detections.concat([
        Detections.from_arrays([[0, 0, 50, 20]], [0.9], "occupant"),  # a car's windows, seen as they are
        Detections.from_arrays([[60, 60, 70, 70]], [0.8], "face"),
    ])
    turned = Detections.concat([
        Detections.from_arrays([[0, 0, 20, 50]], [0.4], "occupant"),  # the same car made out on its side
        Detections.from_arrays([[80, 10, 90, 20]], [0.5], "plate"),
    ])
    kept = upright_occupants([upright, turned, Detections.empty()])
    assert kept[0].label.tolist() == ["occupant", "face"]
    assert kept[1].label.tolist() == ["plate"]  # faces and plates from every look, zones from the best
    assert len(kept[2]) == 0
    # A picture stored on its side: a turned look sees most, and its zones are kept, besides
    # those of the picture as stored (never fewer than an upright look alone gives).
    kept = upright_occupants([turned, Detections.empty(), upright, turned])
    assert [d.label.tolist() for d in kept] == [["occupant", "plate"], [], ["occupant", "face"], ["plate"]]


def test_the_upright_look_is_the_one_whose_vehicles_carry_their_plates_low() -> None:
    car = np.array([[100, 50, 300, 200]], np.float32)
    low = np.array([[170, 160, 230, 180]], np.float32)  # centred, in the lower half
    assert carrying(car, low) == 1
    assert carrying(car, np.array([[170, 70, 230, 90]], np.float32)) == 0  # near the top: upside down
    assert carrying(car, np.array([[100, 160, 120, 180]], np.float32)) == 0  # at its side
    assert carrying(car, np.array([[100, 150, 300, 190]], np.float32)) == 0  # as wide as the car
    assert carrying(car, np.zeros((0, 4), np.float32)) == 0 and carrying(np.zeros((0, 4)), low) == 0
    assert carrying(np.concatenate([car, car + 400]), np.concatenate([low, low + 400])) == 2
    # A picture stored on its side: the look upside down from upright scores more (the plate
    # network finds plates upside down too), but only the upright look's car carries its plate.
    zones = [Detections.from_arrays([[0, 0, 20, 50]], [s], "occupant") for s in (0.3, 0.5, 0.3, 0.9)]
    kept = upright_occupants(zones, votes=[0, 1, 0, 0])
    assert [len(d) for d in kept] == [1, 1, 0, 0]
    kept = upright_occupants(zones, votes=[0, 0, 0, 0])  # no vehicle carries one: the scores decide
    assert [len(d) for d in kept] == [1, 0, 0, 1]
    # One stray vehicle "carrying" a plate does not outweigh a look that scores far more.
    zones = [Detections.from_arrays([[0, 0, 20, 50]], [s], "occupant") for s in (0.9, 0.1, 0.3, 0.1)]
    assert [len(d) for d in upright_occupants(zones, votes=[0, 0, 1, 0])] == [1, 0, 0, 0]


class _Scripted:
    """A fake detector set that finds, in each look in turn, the boxes it was given."""

    thresholds = {"plate": 0.5}
    models: list[Any] = []

    def __init__(self, looks: list[Detections]) -> None:
        self.looks = list(looks)

    def seen(
        self, image: np.ndarray, *, ratio: float = 0.5, rois: Any = None, plates: Any = None, suspects: bool = False
    ) -> Seen:
        return Seen(self.looks.pop(0), Detections.empty(), np.zeros((0, 4), np.float32))


def test_a_slanted_look_adds_what_only_it_found_not_a_grown_copy_of_what_was_found_as_stored() -> None:
    image = np.zeros((400, 600, 3), np.uint8)
    view = Slant(12.0)
    stored = Detections.from_arrays([[250, 150, 350, 180]], [0.9], "plate")
    # In the slanted look: the same plate, boxed level around its slant, and a plate only it found.
    there = view.there(np.array([[250, 150, 350, 180], [40, 300, 100, 320]], np.float32), 600, 400)
    slanted = Detections.from_arrays(there.tolist(), [0.8, 0.7], "plate")
    dets = AllTurns(_Scripted([stored, slanted]), [view]).detect(image)
    boxes = sorted(dets.xyxy.tolist())
    assert len(boxes) == 2
    assert boxes[1] == [250.0, 150.0, 350.0, 180.0]  # as the look as stored boxed it, not grown
    x0, y0, x1, y1 = boxes[0]  # the other, where it lies (grown by the turn there and back)
    assert x0 <= 40 and y0 <= 300 and x1 >= 100 and y1 >= 320 and x1 - x0 < 90


def test_a_slanted_look_keeps_a_box_reaching_past_the_part_the_look_as_stored_found() -> None:
    image = np.zeros((400, 600, 3), np.uint8)
    view = Slant(12.0)
    part = Detections.from_arrays([[250, 150, 290, 180]], [0.9], "plate")  # three characters of the plate
    whole = view.there(np.array([[250, 150, 350, 180]], np.float32), 600, 400)
    slanted = Detections.from_arrays(whole.tolist(), [0.8], "plate")
    dets = AllTurns(_Scripted([part, slanted]), [view]).detect(image)
    assert dets.xyxy[:, 2].max() >= 350 and dets.xyxy[:, 0].min() <= 250  # the whole plate covered
