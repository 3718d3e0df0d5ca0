"""The text opinion for plates: DBNet post-processing, plate-like geometry, score mapping,
and the real network on a drawn plate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import DEFAULT_THRESHOLDS, MODELS, build_detector_set
from redact.detect.text import (
    PLATE_SCORE_AT,
    TextGeometry,
    TextPlate,
    from_plate_score,
    is_line,
    plate_like,
    stacked_on,
    text_boxes,
    to_plate_score,
    two_line_plates,
)
from redact.detect.tiling import Pass
from redact.render.regions import build as build_regions
from redact.types import Detections


def _prob_with(rects: list[tuple[int, int, int, int]], shape: tuple[int, int] = (200, 300)) -> np.ndarray:
    prob = np.zeros(shape, np.float32)
    for x0, y0, x1, y1 in rects:
        prob[y0:y1, x0:x1] = 0.9
    return prob


def test_text_boxes_finds_each_blob_grown_by_unclip() -> None:
    prob = _prob_with([(20, 30, 120, 50), (200, 100, 230, 160)])
    rects, score = text_boxes(prob, bin_threshold=0.3, min_score=0.5, unclip=1.6)
    assert len(rects) == 2
    assert ((score > 0.8) & (score <= 0.9)).all()  # the dilated rim counts too
    by_x = rects[np.argsort(rects[:, 0])]
    cx, cy, w, h, _ = by_x[0]
    assert abs(cx - 70) < 2 and abs(cy - 40) < 2
    long, short = max(w, h), min(w, h)
    # unclip grows each side by area * ratio / perimeter: 101x21 (dilated) -> ~ +14 px per side
    assert 120 < long < 140 and 40 < short < 56


def test_text_boxes_drops_faint_and_tiny_blobs() -> None:
    prob = _prob_with([(20, 30, 120, 50), (150, 150, 152, 152)])
    prob[30:50, 20:120] = 0.35  # above the pixel threshold, below the box score
    rects, _ = text_boxes(prob, bin_threshold=0.3, min_score=0.5, unclip=1.6)
    assert len(rects) == 0
    empty, s = text_boxes(np.zeros((64, 64), np.float32), bin_threshold=0.3, min_score=0.5, unclip=1.6)
    assert empty.shape == (0, 5) and s.shape == (0,)


@pytest.mark.parametrize(
    ("rect", "kept"),
    [
        ((100, 100, 80, 20, 0), True),  # 4:1, level: a plate line
        ((100, 100, 20, 80, 90), True),  # the same box as OpenCV may report it (sides swapped)
        ((100, 100, 40, 30, 0), False),  # square: a badge or a single word, not a plate line
        ((100, 100, 400, 20, 0), True),  # 20:1: a line, kept for the reader (redact.detect.reading)
        ((100, 100, 1000, 20, 0), False),  # 50:1
        ((100, 100, 20, 4, 0), False),  # too thin to be read
        ((100, 100, 80, 20, 60), False),  # steeply tilted
        ((100, 100, 80, 20, 15), True),  # slightly tilted
    ],
)
def test_plate_like_geometry(rect: tuple[float, ...], kept: bool) -> None:
    keep, xyxy = plate_like(np.array([rect], np.float32), TextGeometry())
    assert bool(keep[0]) is kept
    assert xyxy.shape == (1, 4)


def test_a_short_line_counts_only_as_a_two_line_plates_other_line() -> None:
    plate = (100, 100, 80, 20, 0)  # "1234": plate-shaped
    rects = {
        "above": (95, 76, 30, 20, 0),  # "AB" right above it
        "below": (100, 124, 34, 18, 0),
        "alone": (400, 100, 30, 20, 0),
        "beside": (170, 100, 30, 20, 0),  # the same row: a piece of the line, not a line of its own
        "far": (100, 160, 30, 20, 0),
        "tiny": (100, 86, 12, 8, 0),  # far lower than the line
    }
    for name, rect in rects.items():
        keep, _ = plate_like(np.array([plate, rect], np.float32), TextGeometry())
        assert keep[0] and bool(keep[1]) is (name in ("above", "below")), name
    # Two short lines stacked ("B 6" over "RCV") are a plate's; stacked on a line of text
    # longer than any plate's (a caption), a short one is no plate's.
    keep, _ = plate_like(np.array([(100, 76, 30, 20, 0), (100, 100, 34, 20, 0)], np.float32), TextGeometry())
    assert keep.tolist() == [True, True]
    keep, _ = plate_like(np.array([(200, 100, 300, 20, 0), (200, 76, 30, 20, 0)], np.float32), TextGeometry())
    assert keep.tolist() == [True, False]


def test_stacked_on_needs_the_lines_one_above_the_other() -> None:
    line = np.array([[0, 100, 100, 130]], np.float32)
    boxes = np.array(
        [[20, 66, 70, 98], [20, 132, 70, 160], [20, 40, 70, 70], [120, 100, 160, 130], [70, 66, 140, 98],
         [20, 80, 70, 92]],
        np.float32,
    )
    assert stacked_on(boxes, line).tolist() == [True, True, False, False, False, False]
    assert stacked_on(boxes, np.zeros((0, 4), np.float32)).tolist() == [False] * 6


def test_a_two_line_plates_lines_are_joined_into_one_box() -> None:
    boxes = [
        [100, 100, 180, 126],  # "1234"
        [110, 74, 150, 100],  # "AB" above it
        [300, 100, 380, 126],  # a plate in one line
        [500, 100, 800, 126],  # a caption's line, longer than any plate's
        [600, 74, 640, 100],  # a short word above the caption
        [100, 300, 140, 326],  # a short box alone
        [300, 300, 340, 326],  # "B 6"
        [300, 326, 344, 352],  # over "RCV"
    ]
    text = Detections.from_arrays(np.asarray(boxes, np.float32), [0.5, 0.9, 0.6, 0.7, 0.4, 0.3, 0.5, 0.6], "plate")
    joined = two_line_plates(text)
    got = {(tuple(int(v) for v in b), round(float(s), 2)) for b, s in zip(joined.xyxy, joined.score, strict=True)}
    assert got == {
        ((100, 74, 180, 126), 0.9),  # one box, the surer line's score
        ((300, 100, 380, 126), 0.6),
        ((500, 100, 800, 126), 0.7),
        ((600, 74, 640, 100), 0.4),
        ((100, 300, 140, 326), 0.3),
        ((300, 300, 344, 352), 0.6),
    }
    assert len(two_line_plates(text[[0, 2]])) == 2  # nothing stacked: as it was


def test_plate_like_grows_from_characters_to_the_plate() -> None:
    g = TextGeometry(grow_x=0.1, grow_y=0.25)
    _, xyxy = plate_like(np.array([[100, 50, 80, 20, 0]], np.float32), g)
    x0, y0, x1, y1 = xyxy[0]
    assert x1 - x0 == pytest.approx(80 * 1.2) and y1 - y0 == pytest.approx(20 * 1.5)
    assert (x0 + x1) / 2 == pytest.approx(100) and (y0 + y1) / 2 == pytest.approx(50)


def test_score_mapping_puts_the_text_threshold_on_the_default_plate_threshold() -> None:
    assert DEFAULT_THRESHOLDS["plate"] == PLATE_SCORE_AT
    raw = np.array([0.0, 0.25, 0.5, 0.75, 1.0], np.float32)
    mapped = to_plate_score(raw)
    np.testing.assert_allclose(mapped, [0.0, 0.15, 0.3, 0.65, 1.0], atol=1e-6)
    assert (np.diff(mapped) > 0).all()
    np.testing.assert_allclose([from_plate_score(float(m)) for m in mapped], raw, atol=1e-6)


def _drawn_plate(text: str = "B 123 XYZ", size: tuple[int, int] = (720, 1280)) -> tuple[np.ndarray, tuple[int, ...]]:
    image = np.full((*size, 3), (60, 70, 80), np.uint8)
    x0, y0, x1, y1 = 560, 400, 760, 446
    cv2.rectangle(image, (x0, y0), (x1, y1), (235, 235, 235), -1)
    cv2.putText(image, text, (x0 + 10, y1 - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2, cv2.LINE_AA)
    return image, (x0, y0, x1, y1)


@pytest.mark.slow
def test_real_network_finds_a_drawn_plate_and_nothing_on_flat_grey() -> None:
    det = TextPlate(MODELS["text_plate"], threshold=0.3, passes=(Pass(tile=1600, overlap=160), Pass(fit=640)))
    image, (x0, y0, x1, y1) = _drawn_plate()
    found = det.detect(image)
    assert len(found) >= 1 and (found.label == "plate").all()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hit = (found.xyxy[:, 0] < cx) & (cx < found.xyxy[:, 2]) & (found.xyxy[:, 1] < cy) & (cy < found.xyxy[:, 3])
    assert hit.any()
    assert len(det.detect(np.full((240, 320, 3), 127, np.uint8))) == 0


@pytest.mark.slow
@pytest.mark.parametrize("upper", ["AB", "KA"])
def test_both_lines_of_a_drawn_two_line_plate_are_redacted(upper: str) -> None:
    # A square plate, two characters over four: the upper line alone is too short to be shaped
    # like a plate's line, and reads as too few characters.
    image = np.full((720, 1280, 3), (60, 70, 80), np.uint8)
    x0, y0, x1, y1 = 560, 300, 720, 420
    cv2.rectangle(image, (x0, y0), (x1, y1), (235, 235, 235), -1)
    cv2.putText(image, upper, (x0 + 30, y0 + 50), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3, cv2.LINE_AA)
    cv2.putText(image, "1234", (x0 + 12, y1 - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3, cv2.LINE_AA)
    dets = build_detector_set(faces=False, plates=True, lanes=1).detect(image)
    regions = build_regions(dets, 1280, 720, padding=0.15)
    covered = np.zeros((720, 1280), bool)
    for a, b, c, d in regions.boxes:
        covered[b:d, a:c] = True
    ink = image.min(axis=2) < 100
    for top, bottom in ((y0, y0 + 60), (y0 + 60, y1)):  # each line's characters
        line = ink[top:bottom, x0:x1]
        assert (covered[top:bottom, x0:x1] & line).sum() == line.sum()


@pytest.mark.parametrize("tilt", [0.0, 10.0, 30.0])
@pytest.mark.parametrize("aspect", [2.0, 4.0, 5.99, 6.01, 8.0, 39.0])
def test_is_line_tells_lines_from_plate_shaped_boxes(aspect: float, tilt: float) -> None:
    keep, xyxy = plate_like(np.array([[300, 300, 20 * aspect, 20, tilt]], np.float32), TextGeometry())
    assert keep[0]
    assert bool(is_line(xyxy)[0]) is (aspect > TextGeometry().max_aspect)


def test_a_box_the_picture_cuts_top_or_bottom_is_never_a_line() -> None:
    # A plate-shaped box cut short by the picture's bottom edge is as long as a line.
    boxes = np.array([[100, 90, 200, 100], [100, 50, 200, 60], [0, 50, 100, 60]], np.float32)
    assert is_line(boxes).tolist() == [True, True, True]
    assert is_line(boxes, 100).tolist() == [False, True, True]  # the left edge cuts nothing short


def test_a_box_a_window_cuts_top_or_bottom_is_never_a_line() -> None:
    # Looked for in a window, a plate-shaped box its edge cuts short is as long as a line.
    from redact.detect.tiles import Tile

    boxes = np.array([[100, 40, 200, 50], [100, 60, 200, 70], [500, 40, 600, 50]], np.float32)
    window = Tile(50, 40, 300, 200)
    assert is_line(boxes, 400, [window]).tolist() == [False, True, True]  # the third lies beside it
