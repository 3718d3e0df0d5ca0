"""Panel zoom: which panels are looked at shrunk, what is kept, and what it adds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import MODELS, build_detector_set
from redact.detect.blobs import lifted, stretched
from redact.detect.panel_zoom import PANEL, PanelZoom, fill_in, kept_in_panel, panels_to_search
from redact.detect.tiles import Tile
from redact.types import Detections

GROUND = (38, 33, 30)
WIDE = (24, 80, 1204, 744)  # xyxy of a 1920x1080 dashboard's panels
CROP = (1230, 90, 1890, 360)
SECOND = (1230, 560, 1890, 932)


def _noise(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    return cv2.GaussianBlur(rng.integers(60, 200, (h, w, 3), dtype=np.uint8), (0, 0), 3)


def _dashboard(crop: np.ndarray | None = None, ground: tuple[int, int, int] = GROUND) -> np.ndarray:
    """A dashboard screenshot: a wide frame, a zoomed crop and a second frame on a flat ground."""
    rng = np.random.default_rng(3)
    image = np.full((1080, 1920, 3), ground, np.uint8)
    for x0, y0, x1, y1 in (WIDE, CROP, SECOND):
        image[y0:y1, x0:x1] = _noise(rng, x1 - x0, y1 - y0)
    if crop is not None:
        image[CROP[1] : CROP[3], CROP[0] : CROP[2]] = crop
    return image


def _near(found: np.ndarray, want: tuple[int, int, int, int], tol: int = 6) -> bool:
    return any(np.abs(row - np.array(want)).max() <= tol for row in found)


def test_the_small_panels_of_a_dashboard_are_searched() -> None:
    panels = panels_to_search(_dashboard())
    assert len(panels) == 2  # the crop and the second frame; the wide frame takes over a third
    assert _near(panels, CROP) and _near(panels, SECOND)


@pytest.mark.parametrize("ground", [(255, 255, 255), (0, 0, 0), (245, 245, 245)], ids=["white", "black", "light"])
def test_a_dashboard_drawn_on_white_or_black_is_searched_too(ground: tuple[int, int, int]) -> None:
    # Other systems draw their dashboards on a web page's white or on black: the bands that
    # divide the picture for these looks may be of any brightness.
    panels = panels_to_search(_dashboard(ground=ground))
    assert len(panels) == 2 and _near(panels, CROP) and _near(panels, SECOND)


def test_a_night_frame_black_around_its_lights_is_not_searched() -> None:
    # Black rows and columns around a night frame's lit parts cut it, but into no two panels
    # small enough to look at shrunk beside one another: the frame's black is no interface.
    rng = np.random.default_rng(4)
    night = np.zeros((720, 1280, 3), np.uint8)
    night[420:720] = _noise(rng, 1280, 300)  # the road in the headlights
    night[300:340, 200:260] = 250  # a street lamp
    assert len(panels_to_search(night)) == 0


def test_a_picture_nothing_divides_is_not_searched() -> None:
    rng = np.random.default_rng(0)
    assert len(panels_to_search(_noise(rng, 400, 300))) == 0
    # A flat band that leaves a thin strip and one large part is no composed picture either
    # (a photo's wall above a lettered shirt).
    photo = _noise(rng, 300, 400)
    photo[24:33] = (120, 120, 120)
    assert len(panels_to_search(photo)) == 0


def test_only_panels_touching_the_windows_are_searched() -> None:
    image = _dashboard()
    panels = panels_to_search(image, [Tile(1300, 600, 1400, 700)])
    assert len(panels) == 1 and _near(panels, SECOND)
    assert len(panels_to_search(image, [Tile(100, 100, 200, 200)])) == 0  # in the wide frame only


def test_stretched_spreads_a_dim_panel_over_the_full_range() -> None:
    rng = np.random.default_rng(1)
    luma = rng.integers(90, 120, (50, 80, 1), dtype=np.uint8)
    dim = np.concatenate([luma, luma, luma], axis=2)
    out = stretched(dim)
    grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    assert np.percentile(grey, 1) <= 5 and np.percentile(grey, 99) >= 250
    flat = np.full((50, 80, 3), 100, np.uint8)
    same = stretched(flat)
    assert np.array_equal(same, flat) and same is not flat


def test_lifted_brings_out_a_dim_plates_characters() -> None:
    # A night crop: dark ground, a dim plate with darker strokes on it, and a lamp's glare in
    # a corner that keeps the percentile stretch from raising the plate's own contrast.
    rng = np.random.default_rng(0)
    panel = np.full((200, 600, 3), 18, np.float32)
    panel[:60, :120] = 250
    panel[90:150, 150:450] = 40
    for x in range(170, 440, 40):
        panel[100:140, x : x + 12] = 30
    panel = np.clip(panel + rng.normal(0, 2, panel.shape), 0, 255).astype(np.uint8)

    def strokes(picture: np.ndarray) -> float:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return float(grey[110:130, 185:200].mean() - grey[110:130, 170:182].mean())  # plate minus stroke

    assert strokes(lifted(panel)) > 1.8 * strokes(stretched(panel)) > 0
    assert lifted(panel).shape == panel.shape and lifted(panel).dtype == np.uint8


def test_kept_in_panel_wants_wide_boxes_no_taller_than_wide() -> None:
    boxes = np.array(
        [
            [100, 50, 490, 160],  # a zoomed plate: 0.59 of the panel's width
            [100, 50, 180, 80],  # a badge: 0.12 of it
            [100, 50, 280, 300],  # taller than wide
            [100, 50, 265, 150],  # a quarter of the panel, 0.6 as high as wide
            [270, 20, 390, 54],  # a plate zoomed less (120 px wide in a 660-px crop): 0.18
        ],
        np.float32,
    )
    assert kept_in_panel(boxes, 660).tolist() == [True, False, False, True, True]


def _plates(*boxes: list[float]) -> Detections:
    return Detections.from_arrays(np.array(boxes, np.float32).reshape(-1, 4), [0.8] * len(boxes), "plate")


def test_fill_in_keeps_only_what_the_other_opinions_missed() -> None:
    others = _plates([1360, 150, 1750, 260])
    found = _plates(
        [1340, 135, 1770, 275],  # the same plate, seen looser: inside the other box grown
        [1300, 100, 1850, 300],  # much larger than the other box
        [1240, 600, 1500, 700],  # elsewhere
    )
    kept = fill_in(found, others, 1920, 1080)
    assert kept.xyxy.tolist() == [[1300, 100, 1850, 300], [1240, 600, 1500, 700]]
    assert len(fill_in(found, Detections.empty(), 1920, 1080)) == 3


class _Fixed:
    """Stands in for a network: returns its boxes (in the picture it is given) and records
    what it was given."""

    def __init__(self, boxes: list[list[float]]) -> None:
        self.boxes = boxes
        self.seen: list[np.ndarray] = []

    def detect(self, image: np.ndarray, *, rois: object = None, floor: float | None = None) -> Detections:
        self.seen.append(image)
        return _plates(*self.boxes) if self.boxes else Detections.empty()

    def take_providers(self) -> set[str]:
        return set()


def test_boxes_come_back_in_source_pixels_from_the_stretched_panel() -> None:
    zoom = PanelZoom(MODELS["yolo_plate"], MODELS["text_plate"])
    plate, text = _Fixed([[130, 90, 520, 200], [10, 10, 40, 30]]), _Fixed([])
    zoom.plate, zoom.text = plate, text  # type: ignore[assignment]
    dim = (_dashboard()[CROP[1] : CROP[3], CROP[0] : CROP[2]] // 4 + 60).astype(np.uint8)
    image = _dashboard(dim)
    found = zoom.detect(image)
    # Each searched panel gives the wide box, moved to the screenshot; the badge-sized one is dropped.
    origins = panels_to_search(image)[:, :2]
    want = sorted((np.array([130, 90, 520, 200]) + np.tile(o, 2)).tolist() for o in origins)
    assert sorted(found.xyxy.tolist()) == want and (found.label == "plate").all()
    assert len(plate.seen) == len(text.seen) == 2
    crop_seen = min(plate.seen, key=lambda s: s.shape[0])  # the crop panel is the lower one
    assert np.percentile(cv2.cvtColor(crop_seen, cv2.COLOR_BGR2GRAY), 99) >= 250  # stretched
    assert cv2.cvtColor(dim, cv2.COLOR_BGR2GRAY).max() < 150


def test_decide_adds_only_the_plates_the_other_opinions_missed() -> None:
    detectors = build_detector_set(faces=False, plates=True)
    found = {name: Detections.empty() for name in ("yolo_plate", "text_plate", "vehicle_plate")}
    found["yolo_plate"] = _plates([1360, 150, 1750, 260])
    found[PANEL] = _plates([1340, 135, 1770, 275], [1240, 600, 1500, 700])
    dets = detectors.decide(found, 1920, 1080)
    assert sorted(dets.xyxy.tolist()) == [[1240, 600, 1500, 700], [1360, 150, 1750, 260]]


@pytest.mark.slow
def test_a_zoomed_plate_is_found_shrunk() -> None:
    # A plate as the camera saw it (44x11 px, characters 7 px tall) enlarged 9x into the crop.
    src = np.full((30, 73, 3), (90, 70, 110), np.uint8)
    cv2.rectangle(src, (14, 10), (58, 21), (200, 190, 215), -1)
    cv2.putText(src, "B12XYZ", (16, 19), cv2.FONT_HERSHEY_PLAIN, 0.6, (60, 50, 70), 1, cv2.LINE_AA)
    crop = cv2.resize(src, (CROP[2] - CROP[0], CROP[3] - CROP[1]), interpolation=cv2.INTER_CUBIC)
    found = PanelZoom(MODELS["yolo_plate"], MODELS["text_plate"]).detect(_dashboard(crop))
    plate = np.array([CROP[0] + 126, CROP[1] + 90, CROP[0] + 531, CROP[1] + 189], np.float32)
    assert len(found)
    union = np.concatenate([found.xyxy[:, :2].min(axis=0), found.xyxy[:, 2:].max(axis=0)])
    assert (union[:2] <= plate[:2] + 15).all() and (union[2:] >= plate[2:] - 15).all()


def test_regions_narrowed_to_one_place_are_one() -> None:
    from redact.detect.detector_set import _distinct  # decide()'s last step

    dets = Detections.concat([_plates([1334, 179, 1791, 415], [10, 10, 50, 30], [1334, 179, 1791, 415])])
    faces = Detections.from_arrays([[10, 10, 50, 30]], [0.9], "face")
    out = _distinct(Detections.concat([dets, faces]))
    assert out.xyxy.tolist() == [[1334, 179, 1791, 415], [10, 10, 50, 30], [10, 10, 50, 30]]
    assert out.label.tolist() == ["plate", "plate", "face"]
