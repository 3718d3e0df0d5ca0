"""The text opinion for plates: DBNet post-processing, plate-like geometry, score mapping,
and the real network on a drawn plate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import DEFAULT_THRESHOLDS, MODELS
from redact.detect.text import (
    PLATE_SCORE_AT,
    TextGeometry,
    TextPlate,
    from_plate_score,
    is_line,
    plate_like,
    text_boxes,
    to_plate_score,
)
from redact.detect.tiling import Pass


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
