"""YOLOX decoding, letterbox, views and merging on synthetic arrays (no model runs)."""

from __future__ import annotations

import numpy as np
import pytest

from redact.detect import yolox, yolox_io
from redact.detect.tiles import Tile
from redact.detect.yolox import CAR, PERSON, TRUCK, Objects


def _output(cells: dict[int, tuple[float, float, float, float, float, int, float]]) -> np.ndarray:
    """A (1, 3549, 85) output, zero but for the given cells: index -> (dx, dy, log w, log h, obj, cls, p)."""
    out = np.zeros((1, 3549, 85), np.float32)
    for k, (dx, dy, lw, lh, obj, cls, p) in cells.items():
        out[0, k, :5] = (dx, dy, lw, lh, obj)
        out[0, k, 5 + cls] = p
    return out


def test_grids_match_the_networks_cell_order() -> None:
    grid, stride = yolox_io.grids(416)
    assert grid.shape == (3549, 2) and stride.shape == (3549, 1)
    assert tuple(np.nonzero(np.diff(stride[:, 0]))[0] + 1) == (52 * 52, 52 * 52 + 26 * 26)
    np.testing.assert_array_equal(grid[1], [1, 0])  # row by row: x runs first
    np.testing.assert_array_equal(grid[52], [0, 1])
    np.testing.assert_array_equal(grid[52 * 52 + 26 * 26 + 13 * 13 - 1], [12, 12])


def test_decode_one_cell_per_stride() -> None:
    s16 = 52 * 52 + 3 * 26 + 5  # stride 16, cell x=5, y=3
    out = _output(
        {
            0: (0.5, 0.5, np.log(2.0), np.log(1.0), 0.9, CAR, 0.8),  # stride 8, cell (0, 0)
            s16: (0.0, 0.0, np.log(4.0), np.log(2.0), 0.5, PERSON, 0.9),
            7: (0.0, 0.0, 0.0, 0.0, 0.5, CAR, 0.3),  # 0.15: below the threshold
        }
    )
    xyxy, score, cls = yolox_io.decode(out, 0.2)
    # stride 8: centre (0.5 * 8, 0.5 * 8) = (4, 4), 16 x 8 px
    # stride 16: centre (5 * 16, 3 * 16) = (80, 48), 64 x 32 px
    np.testing.assert_allclose(xyxy, [[-4, 0, 12, 8], [48, 32, 112, 64]], atol=1e-4)
    np.testing.assert_allclose(score, [0.72, 0.45], atol=1e-6)
    np.testing.assert_array_equal(cls, [CAR, PERSON])


def test_decode_keeps_each_cells_best_class() -> None:
    out = _output({100: (0, 0, 0, 0, 1.0, CAR, 0.6)})
    out[0, 100, 5 + TRUCK] = 0.7
    _, score, cls = yolox_io.decode(out, 0.1)
    np.testing.assert_array_equal(cls, [TRUCK])
    np.testing.assert_allclose(score, [0.7])


def test_decode_nothing_and_wrong_size() -> None:
    xyxy, score, cls = yolox_io.decode(np.zeros((1, 3549, 85), np.float32), 0.25)
    assert xyxy.shape == (0, 4) and score.shape == (0,) and cls.shape == (0,) and cls.dtype == np.int64
    with pytest.raises(ValueError, match="3549"):
        yolox_io.decode(np.zeros((1, 100, 85), np.float32), 0.25)


@pytest.mark.parametrize(
    ("h", "w", "rw", "rh"),
    [
        (720, 1280, 416, 234),  # landscape: width fills, the bottom is grey
        (1280, 720, 234, 416),  # portrait
        (416, 416, 416, 416),  # already the input size: no resize
        (100, 200, 416, 208),  # small: enlarged
    ],
)
def test_letterbox_top_left_with_grey(h: int, w: int, rw: int, rh: int) -> None:
    image = np.full((h, w, 3), 7, np.uint8)
    canvas, fx, fy = yolox_io.letterbox(image)
    assert canvas.shape == (416, 416, 3) and canvas.dtype == np.uint8
    assert (canvas[:rh, :rw] == 7).all()
    assert (canvas[rh:, :] == yolox_io.PAD_VALUE).all() and (canvas[:, rw:] == yolox_io.PAD_VALUE).all()
    assert fx == pytest.approx(rw / w) and fy == pytest.approx(rh / h)


@pytest.mark.parametrize(
    "image",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((0, 10, 3), np.uint8)],
    ids=["grey", "float", "empty"],
)
def test_letterbox_rejects_bad_pictures(image: np.ndarray) -> None:
    with pytest.raises(ValueError):
        yolox_io.letterbox(image)


def test_views_whole_then_tiles() -> None:
    assert yolox.views(800, 600) == [(Tile(0, 0, 800, 600), False)]
    views = yolox.views(1280, 720)
    assert views[0] == (Tile(0, 0, 1280, 720), False)
    tiles = [t for t, is_tile in views if is_tile]
    assert len(tiles) == 2 and all(t.width <= yolox.TILE_SIDE and t.height == 720 for t in tiles)
    assert tiles[0].x1 - tiles[1].x0 >= yolox.TILE_OVERLAP and tiles[1].x1 == 1280
    assert len(yolox.views(1920, 1080)) == 1 + 6


def test_whole_picture_when_the_windows_cost_as_much() -> None:
    # 768x432 is one run whole: any window costs as much.
    assert yolox.whole_costs_less([Tile(100, 50, 300, 200)], 768, 432)
    # 1920x1080 is seven runs whole (the picture and six tiles); a window of 832 px or less is one.
    assert not yolox.whole_costs_less([Tile(0, 0, 400, 400)] * 6, 1920, 1080)
    assert yolox.whole_costs_less([Tile(0, 0, 400, 400)] * 7, 1920, 1080)
    assert yolox.whole_costs_less([Tile(0, 0, 1900, 1000)], 1920, 1080)  # a large window is tiled too
    assert not yolox.whole_costs_less([Tile(2000, 0, 2100, 100)], 1920, 1080)  # outside: no run


def test_detect_looks_at_the_whole_picture_for_the_same_cost() -> None:
    class Counting(yolox.YoloxCoco):
        seen: list[tuple[int, ...]]

        def infer(self, image: np.ndarray) -> Objects:
            self.seen.append(image.shape[:2])
            return Objects.empty()

    coco = Counting()
    coco.seen = []
    image = np.zeros((432, 768, 3), np.uint8)
    coco.detect(image, rois=[Tile(100, 50, 300, 200), Tile(400, 50, 600, 200)])
    assert coco.seen == [(234, 416), (432, 768)]  # the whole picture zoomed out, then as it is
    coco.seen = []
    coco.detect(np.zeros((1080, 1920, 3), np.uint8), rois=[Tile(100, 50, 300, 200)])
    assert coco.seen == [(150, 200)]


def test_cut_by_edges_only_inner_edges() -> None:
    frame = Tile(0, 0, 1280, 720)
    window = Tile(544, 0, 1280, 720)  # the right tile: its left edge is inner
    boxes = np.array([[545, 100, 600, 200], [700, 0, 800, 100], [1200, 600, 1280, 720], [560, 10, 600, 50]], np.float32)
    np.testing.assert_array_equal(yolox.cut_by_edges(boxes, window, frame, 2.0), [True, False, False, False])


def test_classwise_nms_merges_car_and_truck_not_person() -> None:
    xyxy = np.array([[0, 0, 100, 100], [2, 2, 100, 100], [0, 0, 100, 100], [300, 0, 400, 100]], np.float32)
    score = np.array([0.6, 0.9, 0.8, 0.5], np.float32)
    cls = np.array([CAR, TRUCK, PERSON, CAR], np.int64)
    keep = yolox.classwise_nms(xyxy, score, cls, 0.45)
    np.testing.assert_array_equal(keep, [1, 2, 3])  # the car under the truck goes; best first


def test_objects_validation_and_helpers() -> None:
    objs = Objects(
        np.array([[0, 0, 10, 10], [0, 0, 5, 5], [1, 1, 2, 2], [3, 3, 9, 9]], np.float32),
        np.array([0.9, 0.8, 0.7, 0.6], np.float32),
        np.array([PERSON, CAR, 1, yolox.BUS]),
    )
    assert len(objs) == 4 and objs.cls.dtype == np.int64
    np.testing.assert_array_equal(objs.vehicles().cls, [CAR, yolox.BUS])
    np.testing.assert_allclose(objs.persons().score, [0.9])
    np.testing.assert_array_equal(objs.of((1,)).cls, [1])
    assert len(Objects.empty()) == 0 and Objects.empty().xyxy.shape == (0, 4)
    with pytest.raises(ValueError, match="score"):
        Objects(np.zeros((2, 4)), np.zeros(1), np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        Objects(np.zeros((2, 3)), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        Objects(np.full((1, 4), np.nan), np.zeros(1), np.zeros(1))


def test_fuse_views_encloses_what_each_view_saw() -> None:
    # The whole view's box of a vehicle, a stronger box of its right part from a tile, a truck
    # box of the same vehicle, a person in front and a car elsewhere.
    objs = Objects(
        np.array(
            [[110, 3, 1126, 418], [549, 2, 1126, 405], [120, 0, 1100, 420], [300, 100, 400, 400], [0, 500, 90, 560]],
            np.float32,
        ),
        np.array([0.8, 0.9, 0.5, 0.7, 0.4], np.float32),
        np.array([CAR, CAR, TRUCK, PERSON, CAR]),
    )
    fused = yolox.fuse_views(objs, 0.45)
    np.testing.assert_allclose(fused.xyxy, [[110, 0, 1126, 420], [300, 100, 400, 400], [0, 500, 90, 560]])
    np.testing.assert_allclose(fused.score, [0.9, 0.7, 0.4])
    np.testing.assert_array_equal(fused.cls, [CAR, PERSON, CAR])
    assert len(yolox.fuse_views(Objects.empty(), 0.45)) == 0


def test_zoomed_out_centres_the_picture_in_a_grey_canvas() -> None:
    image = np.full((30, 40, 3), 7, np.uint8)
    canvas, fx, fy, x0, y0 = yolox.zoomed_out(image, 2.0, size=80)
    assert canvas.shape == (60, 80, 3) and (fx, fy, x0, y0) == (1.0, 1.0, 20, 15)
    assert np.all(canvas[y0 : y0 + 30, x0 : x0 + 40] == 7)
    assert canvas[0, 0, 0] == yolox_io.PAD_VALUE and canvas[-1, -1, 0] == yolox_io.PAD_VALUE
    # A 1080p frame: made at the network's scale, never as a 4K canvas.
    canvas, fx, fy, x0, y0 = yolox.zoomed_out(np.zeros((1080, 1920, 3), np.uint8))
    assert canvas.shape == (234, 416, 3) and (x0, y0) == (104, 58) and fx == pytest.approx(208 / 1920)


def test_the_zoomed_out_look_adds_only_objects_that_fill_much_of_the_picture() -> None:
    class Canvas(yolox.YoloxCoco):
        def infer(self, image: np.ndarray) -> Objects:
            if image.shape[:2] == (432, 768):  # the picture as it is: a small car only
                return Objects(np.array([[10, 10, 60, 40]], np.float32), np.array([0.6], np.float32),
                               np.array([CAR], np.int64))
            # Zoomed out (a 416x234 canvas, the picture 208x117 at 104, 58): a car filling
            # it, and a small person.
            return Objects(np.array([[100, 50, 320, 180], [130, 80, 135, 90]], np.float32),
                           np.array([0.5, 0.9], np.float32), np.array([CAR, PERSON], np.int64))

    found = Canvas().detect(np.zeros((432, 768, 3), np.uint8))
    assert sorted(found.xyxy.tolist()) == [[0, 0, 768, 432], [10, 10, 60, 40]]
    # Windows (not the whole picture) are never zoomed out.
    assert len(Canvas().detect(np.zeros((1080, 1920, 3), np.uint8), rois=[Tile(0, 0, 768, 432)])) == 1
