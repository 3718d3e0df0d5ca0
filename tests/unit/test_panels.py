"""Panels of a composed picture, and window zones kept inside their own panel
(redact.detect.panels)."""

from __future__ import annotations

import cv2
import numpy as np

from redact.detect.occupants import OccupantFinds, Occupants
from redact.detect.panels import (
    PRINTED_SHARE,
    clip_to_panels,
    find_panels,
    ground_shares,
    panel_areas,
    panel_of,
    printed,
)
from redact.detect.plate_anchors import add_plate_zones, drop_unplated_large
from redact.detect.reading import Reading
from redact.detect.yolox import CAR, YOLOX_MODEL, Objects
from redact.geometry import box_area, centres_inside
from redact.types import Detections
from tests.helpers import FakeCoco, GivenReadings

# A dashboard screenshot, 1920x1080: a header line, a wide frame on the left, a zoomed
# plate crop top right and a second frame below it, on a flat dark grey ground.
HEADER = (24, 16, 900, 44)
WIDE = (24, 80, 1204, 932)
CROP = (1228, 88, 1892, 316)
SECOND = (1228, 560, 1892, 932)


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _dashboard() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((1080, 1920, 3), 34, np.uint8)
    for x0, y0, x1, y1 in (HEADER, WIDE, CROP, SECOND):
        image[y0:y1, x0:x1] = _texture(rng, y1 - y0, x1 - x0)
    return image


def _near(found: np.ndarray, want: tuple, tol: float = 6.0) -> bool:
    return bool((np.abs(found - np.array(want, np.float32)).max(axis=1) <= tol).any())


def _finds_with_car(box: list[float], score: float = 0.8) -> OccupantFinds:
    """The occupant detector's finds on the dashboard, its network seeing one car at ``box``."""
    det = Occupants(YOLOX_MODEL)
    det._coco = FakeCoco(  # type: ignore[assignment]
        Objects(np.array([box], np.float32), np.array([score], np.float32), np.array([CAR], np.int64))
    )
    return det.detect(_dashboard())


def _with_plate_zones(finds: OccupantFinds, plate: list[float]) -> Detections:
    """The occupant regions once a plate at ``plate`` (xyxy) has added its zone to ``finds``."""
    plates = Detections.from_arrays([plate], [0.9], "plate")
    kept = add_plate_zones({"yolo_plate": plates}, {"yolo_plate": plates, "occupants": finds}, 1920, 1080)
    return kept.get("occupants", Detections.empty())


def test_a_dashboard_screenshot_falls_into_its_panels() -> None:
    panels = find_panels(_dashboard())
    assert len(panels) == 4
    for want in (HEADER, WIDE, CROP, SECOND):
        assert _near(panels, want), (want, panels.tolist())


def test_a_screenshot_passed_on_as_a_hard_jpeg_still_falls_into_its_panels() -> None:
    ok, buf = cv2.imencode(".jpg", _dashboard(), [cv2.IMWRITE_JPEG_QUALITY, 30])
    assert ok
    panels = find_panels(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    for want in (WIDE, CROP, SECOND):
        assert _near(panels, want, tol=8.0), (want, panels.tolist())


def test_two_colours_of_one_brightness_are_not_a_flat_band() -> None:
    photo = _texture(np.random.default_rng(2), 720, 1280)
    # Across the whole width, rows of red beside rows of grey of the same luma (96).
    photo[300:360, :640] = (50, 52, 200)  # BGR
    photo[300:360, 640:] = 96
    assert find_panels(photo).tolist() == [[0, 0, 1280, 720]]


def test_a_photo_is_one_panel_and_black_or_white_bands_cut_nothing() -> None:
    rng = np.random.default_rng(1)
    photo = _texture(rng, 720, 1280)
    assert find_panels(photo).tolist() == [[0, 0, 1280, 720]]
    # A night sky: the top third black across the whole width; a burnt-out band of white.
    night = photo.copy()
    night[:240] = 0
    night[400:420] = 255
    assert find_panels(night).tolist() == [[0, 0, 1280, 720]]
    # Looks that only add candidates take such bands as a ground too: the sky is trimmed off
    # and the white band cuts.
    looked = find_panels(night, any_ground=True)
    assert len(looked) == 2 and looked[:, 1].min() >= 240 and looked[:, 3].max() == 720
    # A smooth grey surface across the whole picture (a bumper in a grey crop): flat to the
    # eye, not as flat as a drawn ground.
    smooth = photo.copy()
    smooth[300:360] = np.linspace(86, 94, 1280, dtype=np.float32).astype(np.uint8)[None, :, None]
    assert find_panels(smooth).tolist() == [[0, 0, 1280, 720]]


def test_a_box_is_cut_to_its_anchors_panel_only() -> None:
    panels = np.array([WIDE, CROP, SECOND], np.float32)
    boxes = np.array([[900, 0, 1920, 300], [900, 0, 1920, 300], [1000, 100, 1100, 200]], np.float32)
    anchors = np.array([[1400, 200, 1700, 280], [1210, 500, 1220, 520], [1300, 600, 1400, 650]], np.float32)
    out = clip_to_panels(boxes, anchors, panels)
    assert out[0].tolist() == [1228, 88, 1892, 300]  # inside the crop's panel
    assert out[1].tolist() == [900, 0, 1920, 300]  # the anchor lies on the ground between panels
    assert box_area(out[2:3])[0] == 0  # wholly outside its anchor's panel: empty, to drop
    one = np.array([[0, 0, 1920, 1080]], np.float32)
    assert np.array_equal(clip_to_panels(boxes, anchors, one), boxes)


def test_a_zoomed_plates_zone_stays_in_the_crop_and_a_cars_zone_in_its_frame() -> None:
    # A car in the second frame whose box the network drew past the frame's edge, and the
    # zoomed crop's plate (300x80 px: its windscreen zone, drawn for a vehicle of that
    # plate's size, would cover the header and the wide frame).
    finds = _finds_with_car([1300, 540, 1900, 900])
    assert len(finds.panels) == 4
    zone = finds.xyxy[finds.zone_of == 0]
    assert len(zone) == 1 and zone[0, 1] >= SECOND[1] and zone[0, 2] <= SECOND[2]
    zones = _with_plate_zones(finds, [1400, 200, 1700, 280]).xyxy
    assert len(zones) == 1
    x0, y0, x1, y1 = zones[0]
    assert x0 >= CROP[0] and y0 >= CROP[1] and x1 <= CROP[2] and y1 <= 200


def test_a_zone_wholly_outside_its_panel_is_dropped() -> None:
    # A zoomed crop whose plate fills it: the zone drawn for a plate of that size lies above
    # the crop, over the header, and shows nothing of the plate's car; and a car whose box the
    # network drew from the second frame up into the crop, its windows above its own panel.
    finds = _finds_with_car([1300, 200, 1800, 1000])
    assert len(finds) == 0 and len(finds.vehicles) == 1
    assert len(_with_plate_zones(finds, [1300, 95, 1820, 300])) == 0


def test_a_strip_one_or_two_pixels_deep_is_one_panel() -> None:
    rng = np.random.default_rng(3)
    for h, w in ((3, 4000), (4000, 3), (1, 5000), (1, 1)):
        np.testing.assert_array_equal(find_panels(_texture(rng, h, w)), [[0, 0, w, h]])


def _printed_dashboard() -> np.ndarray:
    """The dashboard with its header printed on the ground (words apart, as an interface
    draws them) and a small plate thumbnail panel on the ground below the crop."""
    image = _dashboard()
    image[HEADER[1] : HEADER[3], HEADER[0] : HEADER[2]] = 34
    for x, word in ((30, "violation 2025-210729"), (520, "camera 52")):
        cv2.putText(image, word, (x, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (235, 235, 235), 2, cv2.LINE_AA)
    thumb = np.full((60, 200, 3), 210, np.uint8)  # a white plate, its characters dark
    cv2.putText(thumb, "B 320 WTW", (10, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 3, cv2.LINE_AA)
    image[400:460, 1400:1600] = thumb
    return image


def test_text_printed_on_the_interface_is_told_from_pictures() -> None:
    image = _printed_dashboard()
    panels = find_panels(image)
    header_word = [28, 16, 400, 46]  # over "violation 2025-..."
    across = [150, 14, 650, 48]  # over two words and the gap between them
    in_frame, in_crop, on_thumb = [200, 300, 320, 340], [1300, 150, 1500, 210], [1405, 405, 1595, 455]
    boxes = np.array([header_word, across, in_frame, in_crop, on_thumb], np.float32)
    assert printed(image, boxes, panels).tolist() == [True, True, False, False, False]
    shares = ground_shares(image, panels)
    thumb = int(np.argmax(centres_inside(np.array([on_thumb], np.float32), panels)[:, 0]))
    assert shares[thumb] < PRINTED_SHARE  # a photographed plate has colours of its own
    # A picture nothing divides prints nothing.
    whole = np.array([[0, 0, 1920, 1080]], np.float32)
    assert not printed(image, boxes, whole).any()


def test_a_plate_network_box_on_printed_text_is_dropped_and_its_text_read() -> None:
    # Shown at twice the size, a dashboard's header words look like plates to the plate
    # network (0.3-0.4): on the interface such a box is no plate on the network's word, and
    # the text under it is read like text nothing holds ("camera 52": lower-case, dropped).
    # The same box over a frame's picture stands and vouches for its text.
    from redact.detect import DetectorSet

    class Fixed:
        def __init__(self, name: str, box: list[int], score: float) -> None:
            self.name, self.label, self.threshold, self.box, self.score = name, "plate", 0.3, box, score

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            return Detections.from_arrays([self.box], [self.score], "plate")

    image = _printed_dashboard()
    for plate_box, text_box, on_interface in (([515, 14, 665, 46], [540, 16, 640, 44], True),
                                              ([500, 300, 650, 332], [520, 302, 620, 330], False)):
        reader = GivenReadings({tuple(text_box): Reading("camera 52", 0.95)})
        ds = DetectorSet(detectors=[Fixed("yolo_plate", plate_box, 0.38), Fixed("text_plate", text_box, 0.7)],  # type: ignore[list-item]
                         models=[], thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25}, quality="balanced",
                         reader=reader)
        found = ds.per_detector(image, ratio=0.5)
        assert len(found["yolo_plate"]) == (0 if on_interface else 1)
        assert tuple(text_box) in reader.read_boxes or not on_interface
        assert len(found["text_plate"]) == (0 if on_interface else 1)
        assert len(ds.decide(found, 1920, 1080)) == (0 if on_interface else 1)


def test_each_box_is_measured_against_its_own_panel() -> None:
    panels = np.array([WIDE, CROP, SECOND], np.float32)
    boxes = np.array([[100, 100, 300, 300], [1300, 600, 1400, 700], [1210, 500, 1220, 520]], np.float32)
    assert panel_of(boxes, panels).tolist() == [0, 2, -1]  # the last on the ground between them
    areas = panel_areas(boxes, panels, 1920, 1080)
    assert areas.tolist() == [1180 * 852, 664 * 372, 1920 * 1080]
    one = np.array([[0, 0, 1920, 1080]], np.float32)
    assert panel_of(boxes, one).tolist() == [0, 0, 0]
    assert panel_areas(boxes, one, 1920, 1080).tolist() == [1920 * 1080] * 3


def test_a_vehicle_over_half_its_panel_needs_its_own_plate_in_that_panel() -> None:
    # The network takes a dashboard's feed whole for a car (under half the screenshot, all of
    # its panel), or the whole screenshot, unsure: no window zone over the feed unless a plate
    # of the feed shows it is a car; the zoomed crop's or the second frame's plate does not.
    feed_car = _finds_with_car([30, 90, 1200, 925], score=0.5)
    assert len(feed_car.xyxy[feed_car.zone_of >= 0]) == 1
    assert len(drop_unplated_large(feed_car, Detections.empty(), 1920, 1080).vehicles) == 0
    own = Detections.from_arrays([[520, 780, 720, 830]], [0.9], "plate")  # centred low in the feed
    assert drop_unplated_large(feed_car, own, 1920, 1080) is feed_car
    screen = _finds_with_car([0, 60, 1920, 1080], score=0.5)
    in_second = Detections.from_arrays([[1240, 700, 1420, 740]], [0.9], "plate")  # centred and low in its box
    assert len(drop_unplated_large(screen, in_second, 1920, 1080).vehicles) == 0
    in_feed = Detections.from_arrays([[800, 700, 1000, 740]], [0.9], "plate")
    assert drop_unplated_large(screen, in_feed, 1920, 1080) is screen
    # A car filling a frame's panel with a sure score keeps its zone.
    sure = _finds_with_car([30, 90, 1200, 925], score=0.85)
    assert drop_unplated_large(sure, Detections.empty(), 1920, 1080) is sure


def test_a_vehicle_centred_between_panels_is_none_unless_sure() -> None:
    # A box over the crop and the second frame at once, centred on the ground between them.
    across = [1240, 100, 1880, 900]
    assert panel_of(np.array([across], np.float32), find_panels(_dashboard())).tolist() == [-1]
    unsure = _finds_with_car(across, score=0.6)
    out = drop_unplated_large(unsure, Detections.empty(), 1920, 1080)
    assert len(out.vehicles) == 0 and len(out) == 0
    sure = _finds_with_car(across, score=0.85)
    assert drop_unplated_large(sure, Detections.empty(), 1920, 1080) is sure
