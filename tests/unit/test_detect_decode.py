"""Model-output decoding on synthetic tensors (no model files needed)."""

from __future__ import annotations

import numpy as np

from redact.detect import centerface, retinaface, yolo_plate


def test_centerface_decode_one_peak() -> None:
    h, w = 20, 30  # output cells at stride 4 -> an 80x120 picture
    heat = np.zeros((h, w), np.float32)
    heat[5, 10] = 0.9
    heat[6, 10] = 0.1  # below threshold
    scale = np.zeros((2, h, w), np.float32)
    scale[0, 5, 10] = np.log(16 / 4)  # box height 16 px
    scale[1, 5, 10] = np.log(12 / 4)  # box width 12 px
    offset = np.zeros((2, h, w), np.float32)
    offset[0, 5, 10] = 0.25  # +1 px in y
    offset[1, 5, 10] = -0.5  # -2 px in x
    xyxy, score = centerface.decode(heat, scale, offset, (80, 120), 0.2)
    # centre x = (10 - 0.5 + 0.5) * 4 = 40, centre y = (5 + 0.25 + 0.5) * 4 = 23
    np.testing.assert_allclose(xyxy, [[34, 15, 46, 31]], atol=1e-4)
    np.testing.assert_allclose(score, [0.9])


def test_centerface_decode_clips_to_picture_without_shifting() -> None:
    heat = np.zeros((4, 4), np.float32)
    heat[0, 0] = 0.5
    scale = np.full((2, 4, 4), np.log(40 / 4), np.float32)  # 40x40 box centred at (2, 2)
    xyxy, _ = centerface.decode(heat, scale, np.zeros((2, 4, 4), np.float32), (16, 16), 0.2)
    np.testing.assert_allclose(xyxy, [[0, 0, 16, 16]])


def test_centerface_decode_nothing() -> None:
    z = np.zeros((3, 3), np.float32)
    xyxy, score = centerface.decode(z, np.zeros((2, 3, 3), np.float32), np.zeros((2, 3, 3), np.float32), (12, 12), 0.2)
    assert xyxy.shape == (0, 4) and score.shape == (0,)


def test_yolo_decode_rows() -> None:
    out = np.array(
        [
            [50, 10, 100],  # cx
            [40, 10, 100],  # cy
            [20, 30, 10],  # w
            [10, 30, 10],  # h
            [0.9, 0.5, 0.1],  # score
        ],
        np.float32,
    )
    xyxy, score = yolo_plate.decode(out, (64, 64), 0.25)
    np.testing.assert_allclose(xyxy, [[40, 35, 60, 45], [0, 0, 25, 25]])
    np.testing.assert_allclose(score, [0.9, 0.5])


def test_yolo_decode_nothing() -> None:
    xyxy, score = yolo_plate.decode(np.zeros((5, 7), np.float32), (64, 64), 0.25)
    assert xyxy.shape == (0, 4) and score.shape == (0,)


def test_retinaface_anchor_layout() -> None:
    a = retinaface.anchors(64, 96)
    # stride 8: 8x12 cells, stride 16: 4x6, stride 32: 2x3; two sizes per cell.
    assert a.shape == ((8 * 12 + 4 * 6 + 2 * 3) * 2, 4)
    np.testing.assert_allclose(a[0], [4, 4, 16, 16])
    np.testing.assert_allclose(a[1], [4, 4, 32, 32])
    np.testing.assert_allclose(a[2], [12, 4, 16, 16])  # next cell along x
    np.testing.assert_allclose(a[8 * 12 * 2], [8, 8, 64, 64])  # first stride-16 anchor


def test_retinaface_decode_zero_offsets_give_anchor_boxes() -> None:
    n = len(retinaface.anchors(32, 32))
    loc = np.zeros((n, 4), np.float32)
    conf = np.zeros((n, 2), np.float32)
    conf[1, 1] = 0.8  # second anchor: centre (4, 4), size 32
    loc[3] = [1.0, 0.0, np.log(2) / 0.2, 0.0]  # fourth anchor: centre (12, 4) size 32, shifted/grown
    conf[3, 1] = 0.6
    xyxy, score = retinaface.decode(loc, conf, (32, 32), 0.5)
    np.testing.assert_allclose(xyxy[0], [-12, -12, 20, 20], atol=1e-4)
    # x centre moves by 0.1 * 32 = 3.2 px; width doubles to 64.
    np.testing.assert_allclose(xyxy[1], [12 + 3.2 - 32, 4 - 16, 12 + 3.2 + 32, 4 + 16], atol=1e-3)
    np.testing.assert_allclose(score, [0.8, 0.6])
