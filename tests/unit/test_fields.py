"""Detection on interlaced video, field by field."""

from __future__ import annotations

import cv2
import numpy as np

from redact.types import Detections
from redact.video.fields import BothFields, field_picture


class Solid:
    """A detector set that, like the networks, finds only whole objects: bright blobs at
    least 6 rows high (a combed object's rows, one apart, are no object to it). Records the
    pictures it saw."""

    thresholds = {"plate": 0.5}

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def detect(self, image, *, rois=None) -> Detections:  # noqa: ANN001
        self.seen.append(image)
        n, _, stats, _ = cv2.connectedComponentsWithStats((image[..., 0] > 128).astype(np.uint8))
        boxes = [[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:] if h >= 6]
        return Detections.from_arrays(np.array(boxes, np.float32).reshape(-1, 4), [0.9] * len(boxes), "plate")

    def look(self, image, *, ratio, rois=None, plates=None):  # noqa: ANN001, ANN201
        dets = self.detect(image, rois=rois)
        weak = Detections.from_arrays(np.array([[0, 0, 4, 4]], np.float32), [0.2], "plate")
        return dets, Detections.concat([weak, dets.replace(score=np.full(len(dets), 0.2, np.float32))])

    def only(self, names, *, heads=False):  # noqa: ANN001, ANN201
        return None if "none" in names else Solid()


def woven(shift: int) -> np.ndarray:
    """A 120x200 frame with a plate (30x12) that moved ``shift`` px right from the top
    field to the bottom one, and a still one."""
    top = np.zeros((120, 200, 3), np.uint8)
    bottom = top.copy()
    top[40:52, 20:50] = 255
    bottom[40:52, 20 + shift : 50 + shift] = 255
    for f in (top, bottom):
        f[90:102, 140:170] = 255
    frame = bottom.copy()
    frame[0::2] = top[0::2]
    return frame


def test_a_field_shows_what_moved_at_its_own_place_and_the_still_parts_at_full_resolution() -> None:
    frame = woven(40)
    top, bottom = field_picture(frame, 0), field_picture(frame, 1)
    assert top.shape == bottom.shape == frame.shape
    assert (top[40:51, 20:50] > 128).all() and (top[40:52, 60:90] < 128).all()
    assert (bottom[41:52, 60:90] > 128).all() and (bottom[40:52, 20:50] < 128).all()
    # The still plate and a smooth shading are the same in both, row for row: nothing combed.
    shade = np.repeat(np.linspace(30, 220, 120).astype(np.uint8)[:, None, None], 200, axis=1).repeat(3, axis=2)
    shade[90:102, 140:170] = 255
    assert np.array_equal(field_picture(shade, 0), shade) and np.array_equal(field_picture(shade, 1), shade)
    assert np.array_equal(top[85:110, 130:180], frame[85:110, 130:180])
    line = np.zeros((1, 50, 3), np.uint8)  # one row: one field
    assert field_picture(line, 0) is line and np.array_equal(field_picture(line, 1), line)


def test_a_moving_object_combed_in_the_frame_is_found_in_both_places() -> None:
    frame = woven(40)
    inner = Solid()
    still_box = [140, 90, 170, 102]
    # As woven, the moving plate's rows alternate between two places: nothing whole is seen.
    assert inner.detect(frame).xyxy.tolist() == [still_box]
    dets = BothFields(inner).detect(frame)
    boxes = sorted(dets.xyxy.tolist())
    # Each field shows it whole: once where the top field has it, once where the bottom one.
    assert len(boxes) == 3 and boxes[-1] == still_box  # the still plate once, not twice
    (a, b) = boxes[:2]
    assert a[0] <= 20 and a[2] >= 50 and b[0] <= 60 and b[2] >= 90
    assert all(y0 <= 41 and y1 >= 51 for _, y0, _, y1 in boxes[:2])  # each field's rows and between


def test_an_object_that_moved_less_than_its_size_becomes_one_box_over_both_places() -> None:
    dets = BothFields(Solid()).detect(woven(6))
    moving = [b for b in dets.xyxy.tolist() if b[0] < 100]
    assert len(moving) == 1 and moving[0][0] <= 20 and moving[0][2] >= 56  # enclosing both


def test_look_gives_each_fields_detections_and_only_suspects_no_detection_holds() -> None:
    inner = Solid()
    dets, weak = BothFields(inner).look(woven(40), ratio=0.5)
    assert len(inner.seen) == 2 and len(dets) == 3
    assert weak.xyxy.tolist() == [[0, 0, 4, 4]]  # the fields' weak copies of detections dropped
    both = BothFields(inner)
    assert both.thresholds == {"plate": 0.5}  # the rest is the inner set's
    assert isinstance(both.only(("occupants",), heads=True), BothFields) and both.only(("none",)) is None
