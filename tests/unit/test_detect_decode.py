"""Model-output decoding on synthetic tensors (no model files needed)."""

from __future__ import annotations

import numpy as np
import pytest

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


def _yolo_heads(height: int, width: int) -> list[np.ndarray]:
    """The cut plate network's outputs for a ``height`` x ``width`` input, scoring nothing."""
    heads = []
    for stride in yolo_plate.STRIDES:
        h, w = height // stride, width // stride
        heads += [np.zeros((1, 4 * yolo_plate.REG_MAX, h, w), np.float32), np.full((1, 1, h, w), -10, np.float32)]
    return heads


def test_yolo_decode_cells() -> None:
    heads = _yolo_heads(64, 96)  # stride 8: 8x12 cells, 16: 4x6, 32: 2x3
    box8, cls8, _, cls16, box32, cls32 = heads
    cls8[0, 0, 2, 3] = np.log(0.9 / 0.1)  # score 0.9
    for side, cells in enumerate((1, 2, 3, 4)):  # left 1, top 2, right 3, bottom 4 cells: one-hot bins
        box8[0, side * yolo_plate.REG_MAX + cells, 2, 3] = 30.0
    cls32[0, 0, 0, 0] = 0.0  # score 0.5; its flat distribution puts every side 7.5 cells away
    cls16[0, 0, 1, 1] = -200.0  # exp overflows in float32: score 0, quietly
    xyxy, score = yolo_plate.decode(heads, (64, 96), 0.25)
    # cell (y 2, x 3) at stride 8: centre (3.5, 2.5) cells -> (20, 4, 52, 52) px
    np.testing.assert_allclose(xyxy, [[20, 4, 52, 52], [0, 0, 96, 64]], atol=1e-4)
    np.testing.assert_allclose(score, [0.9, 0.5], rtol=1e-6)
    assert xyxy.dtype == np.float32 and score.dtype == np.float32
    # The flat cell in a larger picture: (0.5 - 7.5) * 32 .. (0.5 + 7.5) * 32, clipped at 0.
    xyxy, _ = yolo_plate.decode(heads, (1000, 1000), 0.4)
    np.testing.assert_allclose(xyxy[1], [0, 0, 256, 256], atol=1e-4)
    xyxy, score = yolo_plate.decode(heads, (1000, 1000), 0.6)
    np.testing.assert_allclose(score, [0.9], rtol=1e-6)


def test_yolo_decode_nothing() -> None:
    xyxy, score = yolo_plate.decode(_yolo_heads(64, 64), (64, 64), 0.25)
    assert xyxy.shape == (0, 4) and score.shape == (0,)


def test_yolo_decode_refuses_other_outputs() -> None:
    with pytest.raises(ValueError, match="expected 6"):
        yolo_plate.decode(_yolo_heads(64, 64)[:4], (64, 64), 0.25)


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
