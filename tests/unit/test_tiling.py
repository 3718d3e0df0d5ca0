"""Tiling geometry: full coverage, exact mapping back to source pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redact.detect import PRESETS, TILE_PIXELS, tiling
from redact.detect.blobs import UNSHARP_SIGMA, grey_percentiles, lifted, pad_to_multiple, resize, to_blob, unsharp
from redact.detect.tiles import Tile, tile_grid, windows_around
from redact.detect.tiling import (
    Pass,
    cut_sides,
    decode_threshold,
    expand_boxes,
    plan_pass,
    render_tile,
    run_pass,
    run_passes,
    source_tiles,
    to_source,
)


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 3000),
    height=st.integers(1, 3000),
    tile=st.integers(32, 1400),
    overlap_frac=st.floats(0.0, 0.5),
)
def test_tiles_cover_every_pixel_with_overlap(width: int, height: int, tile: int, overlap_frac: float) -> None:
    overlap = int(tile * overlap_frac)
    tiles = tile_grid(width, height, tile, overlap)
    cover = np.zeros((height, width), np.int32)
    for t in tiles:
        assert 0 <= t.x0 < t.x1 <= width and 0 <= t.y0 < t.y1 <= height
        assert t.width <= min(tile, width) and t.height <= min(tile, height)
        assert (t.width, t.height) == (tiles[0].width, tiles[0].height)
        cover[t.y0 : t.y1, t.x0 : t.x1] += 1
    assert cover.min() >= 1
    xs = sorted({t.x0 for t in tiles})
    for a, b in zip(xs, xs[1:], strict=False):
        assert a + tiles[0].width - b >= overlap  # neighbours overlap by at least `overlap`
    # As few tiles as the size limit allows, per axis.
    step = tile - overlap
    assert len(xs) == (1 if width <= tile else -(-(width - overlap) // step))


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 4000),
    height=st.integers(1, 4000),
    overlap=st.integers(0, 256),
    max_pixels=st.integers(300_000, 3_000_000),
)
def test_tiles_within_an_area_cover_every_pixel(width: int, height: int, overlap: int, max_pixels: int) -> None:
    tiles = tile_grid(width, height, 1600, overlap, max_pixels)
    plain = tile_grid(width, height, 1600, overlap)
    w, h = tiles[0].width, tiles[0].height
    assert all((t.width, t.height) == (w, h) for t in tiles)
    if plain[0].width * plain[0].height <= max_pixels:
        assert tiles == plain  # the area limit changes nothing where the side limit is enough
    else:
        assert w * h <= max_pixels and len(tiles) > len(plain)
    cover = np.zeros((height, width), np.int32)
    for t in tiles:
        assert 0 <= t.x0 < t.x1 <= width and 0 <= t.y0 < t.y1 <= height and w <= 1600 and h <= 1600
        cover[t.y0 : t.y1, t.x0 : t.x1] += 1
    assert cover.min() >= 1
    for axis in ("x0", "y0"):
        starts = sorted({getattr(t, axis) for t in tiles})
        size = w if axis == "x0" else h
        for a, b in zip(starts, starts[1:], strict=False):
            assert a + size - b >= overlap


@pytest.mark.parametrize(
    ("width", "height", "overlap", "max_pixels", "grid", "size"),
    [
        (3840, 2160, 160, TILE_PIXELS, (3, 3), (1387, 827)),  # 4K native: nine tiles instead of six
        (1920, 1080, 128, TILE_PIXELS, (2, 1), (1024, 1080)),  # 1080p native: unchanged
        (1080, 1920, 160, TILE_PIXELS, (1, 2), (1080, 1040)),
        (1600, 1600, 160, TILE_PIXELS, (1, 3), (1600, 640)),  # a window of changes
        (3840, 2160, 160, 1_700_000, (3, 2), (1387, 1160)),  # six 4K tiles of 1.6 Mpx fit 1.7
        (1600, 1600, 160, 1_700_000, (1, 2), (1600, 880)),
        (4000, 3000, 128, 1_700_000, (3, 3), (1419, 1086)),  # a 12-Mpx photo: nine tiles instead of six
    ],
)
def test_area_limit_table(
    width: int, height: int, overlap: int, max_pixels: int, grid: tuple[int, int], size: tuple[int, int]
) -> None:
    tiles = tile_grid(width, height, 1600, overlap, max_pixels)
    assert (len({t.x0 for t in tiles}), len({t.y0 for t in tiles})) == grid
    assert (tiles[0].width, tiles[0].height) == size


def test_an_area_no_grid_can_meet_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        tile_grid(3000, 3000, 1600, 200, 10_000)


@pytest.mark.parametrize(
    ("width", "tile", "overlap", "size", "starts"),
    [
        (100, 128, 16, 100, [0]),
        (128, 128, 16, 128, [0]),
        (129, 128, 16, 73, [0, 56]),
        (240, 128, 16, 128, [0, 112]),
        (241, 128, 16, 91, [0, 75, 150]),
        (1920, 1600, 128, 1024, [0, 896]),  # 1080p native: two tiles of 1024, not two of 1600
    ],
)
def test_tile_starts_table(width: int, tile: int, overlap: int, size: int, starts: list[int]) -> None:
    tiles = tile_grid(width, 10, tile, overlap)
    assert [t.x0 for t in tiles] == starts
    assert {t.width for t in tiles} == {size}


@pytest.mark.parametrize(("tile", "overlap"), [(0, 0), (64, 64), (64, -1)])
def test_bad_tile_arguments(tile: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        tile_grid(500, 500, tile, overlap)


def test_to_source_maps_exactly() -> None:
    boxes = np.array([[10, 20, 30, 40], [0, 0, 1, 1]], np.float32)
    out = to_source(boxes, Tile(100, 50, 300, 250), 2.0, 4.0)
    np.testing.assert_allclose(out, [[55, 17.5, 65, 22.5], [50, 12.5, 50.5, 12.75]])


def _marker_infer(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fake model: the bounding box of all white pixels in the picture it is given."""
    ys, xs = np.nonzero(image[:, :, 0] == 255)
    if len(xs) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32), np.ones(1, np.float32)


@pytest.mark.parametrize(
    "spec",
    [Pass(), Pass(tile=256, overlap=64), Pass(scale=2.0, tile=300, overlap=100), Pass(scale=0.5), Pass(fit=400)],
)
def test_run_pass_maps_boxes_back_to_source(spec: Pass) -> None:
    image = np.zeros((600, 800, 3), np.uint8)
    image[200:240, 320:400] = 255  # a 80x40 object
    xyxy, score = run_pass(_marker_infer, image, spec)
    assert len(xyxy) >= 1
    # The tile holding the whole object reports it exactly (resizing moves edges by < 1 source px).
    best = xyxy[np.argmax((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]))]
    np.testing.assert_allclose(best, [320, 200, 400, 240], atol=2.0)
    assert (xyxy[:, 0::2] <= 800).all() and (xyxy[:, 1::2] <= 600).all() and (xyxy >= 0).all()


@pytest.mark.parametrize(
    ("spec", "size", "factor"),
    [
        (Pass(fit=640), (1280, 720), 0.5),
        (Pass(fit=640), (640, 480), None),
        (Pass(scale=2.0, max_side=960), (600, 400), 2.0),
        (Pass(scale=2.0, max_side=960), (1280, 720), None),
        (Pass(scale=1.5, min_side=1280, max_side=1920), (1280, 720), None),
        (Pass(scale=1.5, min_side=1280, max_side=1920), (1920, 1080), 1.5),
        (Pass(scale=1.5, min_side=1280, max_side=1920), (3840, 2160), None),
        (Pass(), (1, 1), 1.0),
    ],
)
def test_pass_factor(spec: Pass, size: tuple[int, int], factor: float | None) -> None:
    assert spec.factor(*size) == factor


@pytest.mark.parametrize(("size", "scales"), [((320, 288), [2.0, 3.0]), ((600, 400), [2.0, 3.0]),
                                              ((800, 600), [2.0, 3.0]), ((1024, 768), [2.0]), ((1280, 720), [2.0]),
                                              ((1920, 1080), [1.5]), ((1080, 1920), [1.5]), ((2560, 1440), [1.5]),
                                              ((3840, 2160), [1.5]), ((4096, 3072), [1.5]), ((6000, 4000), [1.5])])
def test_small_faces_are_looked_for_enlarged_at_every_size(size: tuple[int, int], scales: list[float]) -> None:
    # Faces under 32 px tall need CenterFace to see them enlarged, whatever the picture's size;
    # in small pictures faces under 24 px are looked for at 3x as well.
    passes = PRESETS["balanced"]["centerface"]
    assert [p.scale for p in passes if p.scale > 1 and p.factor(*size) is not None] == scales
    x3 = [p for p in passes if p.scale == 3.0]
    assert len(x3) == 1 and x3[0].max_box == 24


@pytest.mark.parametrize(("size", "fits"), [((1280, 720), [640]), ((1920, 1080), [640]), ((2560, 1440), [1280, 640]),
                                            ((3840, 2160), [1280, 640]), ((6000, 4000), [1280, 640])])
def test_text_in_large_pictures_is_also_looked_for_at_1280_px(size: tuple[int, int], fits: list[int]) -> None:
    # A zoomed plate crop needs the text detector to see it shrunk, but a sixth of a 4K frame's
    # size is too small: pictures over 1920 px are looked at at 1280 px as well.
    for quality in ("balanced", "thorough"):
        passes = PRESETS[quality]["text_plate"]
        assert [p.fit for p in passes if p.fit is not None and p.factor(*size) is not None] == fits


def test_enlarged_face_tiles_of_large_pictures_are_no_larger_than_a_1080p_frames() -> None:
    # The 1.5x pass's working memory is bounded by its tile area, whatever the picture's size.
    x15 = next(p for p in PRESETS["balanced"]["centerface"] if p.scale == 1.5)
    areas = {}
    for w, h in ((1920, 1080), (3840, 2160), (6000, 4000)):
        plan = plan_pass(np.zeros((h, w, 3), np.uint8), x15)
        assert plan is not None
        areas[w] = max((t.x1 - t.x0) * (t.y1 - t.y0) for t in plan.tiles)
    assert x15.tile_pixels is not None and x15.tile_pixels <= 1.05 * areas[1920]
    assert areas[3840] <= x15.tile_pixels and areas[6000] <= x15.tile_pixels


def test_a_large_picture_is_enlarged_tile_by_tile() -> None:
    # Above WHOLE_RESIZE_PIXELS resized, no whole enlarged copy is made: each tile is rendered
    # from the source on its own, with the same pixels as a crop of the whole enlargement.
    image = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 255, (900, 1400, 3), dtype=np.uint8), (0, 0), 2)
    for sharp in (False, True):
        spec = Pass(scale=1.5, tile=700, overlap=64, sharp=sharp)
        small = plan_pass(image, spec)
        assert small is not None and small.scaled is not None  # 2100x1350 resized: whole
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tiling, "WHOLE_RESIZE_PIXELS", 1_000_000)
            plan = plan_pass(image, spec)
        assert plan is not None and plan.scaled is None
        assert plan.tiles == small.tiles and plan.scaled_size == (2100, 1350) and len(plan.tiles) > 1
        for lazy, whole in zip(plan.crops(), small.crops(), strict=True):
            assert lazy.shape == whole.shape
            assert np.abs(lazy.astype(int) - whole.astype(int)).max() <= 1


def test_tile_rendering_sharpens_like_the_whole_picture_inside_it() -> None:
    image = cv2.GaussianBlur(np.random.default_rng(4).integers(0, 255, (300, 460, 3), dtype=np.uint8), (0, 0), 1.5)
    whole = unsharp(resize(image, 2.0), 1.0)
    tile = Tile(200, 150, 500, 420)
    lazy = render_tile(image, (920, 600), tile, sharp=False, amount=1.0)
    assert np.abs(lazy.astype(int) - whole[150:420, 200:500].astype(int)).max() <= 2


def test_skipped_pass_returns_nothing() -> None:
    xyxy, score = run_pass(_marker_infer, np.full((100, 100, 3), 255, np.uint8), Pass(fit=640))
    assert xyxy.shape == (0, 4) and score.shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 255),
    st.integers(0, 255),
    st.floats(0.0, 100.0),
    st.integers(0, 2**31 - 1),
)
def test_grey_percentiles_are_numpys(h: int, w: int, lo: int, hi: int, q: float, seed: int) -> None:
    """The histogram's percentiles are exactly ``np.percentile``'s (linear interpolation)."""
    lo, hi = min(lo, hi), max(lo, hi)
    grey = np.random.default_rng(seed).integers(lo, hi + 1, (h, w), dtype=np.uint8)
    qs = [1.0, 99.0, q]
    np.testing.assert_allclose(grey_percentiles(grey, qs), np.percentile(grey, qs), rtol=0, atol=1e-9)


def test_pad_to_multiple_keeps_origin() -> None:
    image = np.random.default_rng(0).integers(0, 255, (33, 70, 3), dtype=np.uint8)
    padded = pad_to_multiple(image, 32, 114)
    assert padded.shape == (64, 96, 3)
    np.testing.assert_array_equal(padded[:33, :70], image)
    assert (padded[33:] == 114).all() and (padded[:, 70:] == 114).all()
    assert pad_to_multiple(padded, 32) is padded


def test_resize_identity_and_size() -> None:
    image = np.zeros((10, 20, 3), np.uint8)
    assert resize(image, 1.0) is image
    assert resize(image, 2.0).shape == (20, 40, 3)
    assert resize(image, 0.01).shape == (1, 1, 3)


def test_box_size_filters_in_source_pixels() -> None:
    image = np.zeros((400, 400, 3), np.uint8)
    image[100:120, 100:140] = 255  # shorter side 20 px in the source

    small_only = run_pass(_marker_infer, image, Pass(scale=2.0, max_box=32))[0]
    large_only = run_pass(_marker_infer, image, Pass(scale=2.0, min_box=32))[0]
    assert len(small_only) == 1 and len(large_only) == 0


def test_height_ratio_filter_keeps_wide_boxes_only() -> None:
    wide = np.zeros((400, 400, 3), np.uint8)
    wide[100:120, 100:160] = 255  # 60 x 20: a plate's line
    square = np.zeros((400, 400, 3), np.uint8)
    square[100:130, 100:140] = 255  # 40 x 30: a sign or a lamp
    spec = Pass(max_height_ratio=0.5)
    assert len(run_pass(_marker_infer, wide, spec)[0]) == 1
    assert len(run_pass(_marker_infer, square, spec)[0]) == 0
    assert len(run_pass(_marker_infer, square, Pass())[0]) == 1


def test_height_ratio_filter_judges_a_box_the_edge_cuts_as_up_to_twice_as_wide() -> None:
    """Half a plate left in the frame (30 x 20 at the left or right edge, of a 60 x 20 plate)
    is kept; the same box away from the edge is not, nor is a box the edge cuts that even
    twice as wide would be square; a window's edge cuts like the picture's."""
    spec = Pass(max_height_ratio=0.5)
    for cols in (slice(0, 30), slice(370, 400)):
        half = np.zeros((400, 400, 3), np.uint8)
        half[100:120, cols] = 255
        assert len(run_pass(_marker_infer, half, spec)[0]) == 1
    inside = np.zeros((400, 400, 3), np.uint8)
    inside[100:120, 100:130] = 255
    assert len(run_pass(_marker_infer, inside, spec)[0]) == 0
    narrow = np.zeros((400, 400, 3), np.uint8)
    narrow[100:130, 0:12] = 255  # 12 x 30: a post or a lamp at the edge
    assert len(run_pass(_marker_infer, narrow, spec)[0]) == 0
    window = Tile(100, 50, 300, 250)
    cut = np.zeros((400, 400, 3), np.uint8)
    cut[100:120, 70:130] = 255  # a 60 x 20 plate the window's left edge cuts to 30 x 20
    assert len(run_pass(_marker_infer, cut, spec, window)[0]) == 1
    within = np.zeros((400, 400, 3), np.uint8)
    within[100:120, 150:180] = 255  # 30 x 20 inside the window: square for a plate
    assert len(run_pass(_marker_infer, within, spec, window)[0]) == 0


def test_a_grey_pass_runs_on_the_windows_luma() -> None:
    """A ``grey`` pass gives the network the picture's luma in every channel, inside its
    window only, and maps boxes back as any pass does."""
    image = np.zeros((200, 300, 3), np.uint8)
    image[50:70, 100:160] = (40, 90, 230)  # a warm-lit patch: bright in red only
    seen: list[np.ndarray] = []

    def record(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The box of the pixels bright in the first channel (blue in a BGR picture)."""
        seen.append(img.copy())
        ys, xs = np.nonzero(img[:, :, 0] > 100)
        if len(xs) == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        return np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32), np.ones(1, np.float32)

    assert len(run_pass(record, image, Pass(), Tile(80, 30, 200, 100))[0]) == 0  # dark in blue
    seen.clear()
    xyxy = run_pass(record, image, Pass(grey=True), Tile(80, 30, 200, 100))[0]
    crop = seen[0]
    assert crop.shape == (70, 120, 3)
    assert (crop[..., 0] == crop[..., 1]).all() and (crop[..., 1] == crop[..., 2]).all()
    grey = cv2.cvtColor(image[30:100, 80:200], cv2.COLOR_BGR2GRAY)
    assert np.array_equal(crop[..., 0], grey)
    assert len(xyxy) == 1
    np.testing.assert_allclose(xyxy[0], [100, 50, 160, 70], atol=1e-4)
    # the picture itself is left as it was
    assert (image[55, 120] == (40, 90, 230)).all()
    # a picture already grey gets no grey pass: the colour passes saw the same
    seen.clear()
    flat = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert len(run_pass(record, flat, Pass(grey=True))[0]) == 0 and not seen


def test_an_unsharp_pass_sharpens_the_luma_and_runs_on_grey_pictures_too() -> None:
    """An ``unsharp`` grey pass gives the network the window's luma, resized, then
    sharpened; a picture already grey still gets it (it shows the network edges the
    colour passes did not see)."""
    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (0, 0), 1.5)
    seen: list[np.ndarray] = []

    def record(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append(img.copy())
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)

    run_pass(record, image, Pass(grey=True, unsharp=1.0, scale=2.0), Tile(20, 10, 100, 90))
    luma = cv2.cvtColor(image[10:90, 20:100], cv2.COLOR_BGR2GRAY)
    big = cv2.resize(luma, (160, 160), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(big, (0, 0), UNSHARP_SIGMA)
    want = np.clip(2.0 * big.astype(np.float64) - soft, 0, 255)
    got = seen[0]
    assert got.shape == (160, 160, 3)
    assert (got[..., 0] == got[..., 2]).all()
    assert np.abs(got[..., 0].astype(np.float64) - want).max() <= 1.0
    assert got[..., 0].std() > big.std()  # more contrast at the edges, not less
    seen.clear()
    flat = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    run_pass(record, flat, Pass(grey=True, unsharp=1.0))
    assert len(seen) == 1 and not np.array_equal(seen[0], flat)
    seen.clear()
    run_pass(record, flat, Pass(grey=True))
    assert not seen


def test_a_lifted_pass_runs_on_the_window_equalised_and_stretched() -> None:
    """A ``lift`` pass gives the network its window with the lightness equalised locally and
    stretched (as the panel zoom sees a panel), in colour, and maps boxes back as any pass
    does; a dim plate's characters come out of a dark frame."""
    image = np.full((240, 320, 3), (22, 18, 30), np.uint8)  # a night frame, red-tinted
    image[150:170, 100:180] = (40, 36, 52)  # a dim plate ...
    image[154:166, 108:112] = image[154:166, 124:128] = (16, 14, 22)  # ... and its strokes
    seen: list[np.ndarray] = []

    def record(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append(img.copy())
        return np.array([[10, 10, 50, 20]], np.float32), np.ones(1, np.float32)

    xyxy = run_pass(record, image, Pass(lift=True), Tile(40, 100, 280, 220))[0]
    np.testing.assert_allclose(xyxy[0], [50, 110, 90, 120], atol=1e-4)
    got = seen[0]
    assert got.shape == (120, 240, 3)
    assert np.array_equal(got, lifted(image[100:220, 40:280]))
    assert not (got[..., 0] == got[..., 2]).all()  # colour kept
    plate, stroke = got[52, 100].astype(int), got[60, 70].astype(int)  # window pixels
    assert (plate - stroke).sum() > 5 * (image[152, 140].astype(int) - image[160, 110].astype(int)).sum()
    assert (image[160, 110] == (16, 14, 22)).all()  # the picture itself is left as it was


def test_balanced_and_thorough_look_for_plates_in_grey_too() -> None:
    """Sharpened luma in both, plain luma too in ``thorough`` (``balanced`` runs the lifted
    pass in its place), each at native size, keeping plate-shaped boxes only."""
    for quality, amounts in (("balanced", [1.0]), ("thorough", [0.0, 1.0])):
        grey = [p for p in PRESETS[quality]["yolo_plate"] if p.grey]
        assert sorted(p.unsharp for p in grey) == amounts
        assert all(p.scale == 1.0 and p.fit is None and p.max_height_ratio == 0.5 for p in grey)
    assert not any(p.grey for p in PRESETS["fast"]["yolo_plate"])


def test_balanced_and_thorough_look_for_plates_lifted_out_of_the_dark() -> None:
    """One lifted pass at native size, keeping plate-shaped boxes only; not in previews."""
    for quality in ("balanced", "thorough"):
        lift = [p for p in PRESETS[quality]["yolo_plate"] if p.lift]
        assert len(lift) == 1
        assert lift[0].scale == 1.0 and lift[0].fit is None and lift[0].max_height_ratio == 0.5
        assert lift[0].tile_pixels == TILE_PIXELS
    assert not any(p.lift for p in PRESETS["fast"]["yolo_plate"])


@pytest.mark.parametrize(
    ("frac", "expected"),
    [(0.0, [10, 10, 30, 50]), (0.1, [8, 6, 32, 54]), (1.0, [0, 0, 50, 60])],
)
def test_expand_boxes_grows_and_clips(frac: float, expected: list[float]) -> None:
    out = expand_boxes(np.array([[10, 10, 30, 50]], np.float32), frac, 50, 60)
    np.testing.assert_allclose(out[0], expected, atol=1e-5)


def test_score_boost_lifts_a_pass_over_the_threshold() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:46, 40:60] = 255

    def weak(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xyxy, score = _marker_infer(img)
        return xyxy, score * 0.33

    plain = Pass(scale=2.0)
    boosted = Pass(scale=2.0, score_boost=0.1)
    assert len(run_passes(weak, image, [plain], threshold=0.4)[0]) == 0
    xyxy, score = run_passes(weak, image, [boosted], threshold=0.4)
    assert len(xyxy) == 1 and score[0] == pytest.approx(0.43)
    # the boost never lifts a score past 1
    assert run_pass(_marker_infer, image, Pass(score_boost=0.5))[1].max() == 1.0
    # the model must be asked for boxes down to threshold - largest boost
    assert decode_threshold(0.4, [plain, boosted]) == pytest.approx(0.3)
    assert decode_threshold(0.05, [Pass(score_boost=0.1)]) == 0.0


@pytest.mark.parametrize(
    "spec", [Pass(), Pass(scale=2.0, tile=300, overlap=100), Pass(fit=400), Pass(scale=2.0, max_box=64)]
)
def test_a_window_sees_what_the_whole_picture_pass_sees_there(spec: Pass) -> None:
    """A pass restricted to a window uses the scale the whole picture decides (``fit`` of the
    whole picture, not of the window) and maps boxes back to whole-picture pixels."""
    image = np.zeros((600, 800, 3), np.uint8)
    image[200:240, 320:350] = 255  # a 30x40 object
    whole = run_pass(_marker_infer, image, spec)[0]
    inside = run_pass(_marker_infer, image, spec, Tile(300, 150, 420, 300))[0]
    outside = run_pass(_marker_infer, image, spec, Tile(0, 0, 200, 150))[0]
    assert len(outside) == 0 and len(inside) >= 1 and len(whole) >= 1

    def largest(xyxy: np.ndarray) -> np.ndarray:  # tiles cutting the object also report parts of it
        return xyxy[np.argmax((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]))]

    np.testing.assert_allclose(largest(inside), largest(whole), atol=2.0)
    # windows are clipped to the picture; one wholly outside it sees nothing
    clipped = run_pass(_marker_infer, image, spec, Tile(-50, -50, 900, 700))[0]
    np.testing.assert_allclose(clipped, whole, atol=1e-4)
    assert len(run_pass(_marker_infer, image, spec, Tile(900, 0, 1000, 100))[0]) == 0


def test_run_passes_over_windows() -> None:
    image = np.zeros((300, 300, 3), np.uint8)
    image[20:40, 20:40] = 255
    image[200:240, 200:240] = 255
    assert len(run_passes(_marker_infer, image, [Pass()], rois=[Tile(0, 0, 100, 100)])[0]) == 1
    both = [Tile(0, 0, 100, 100), Tile(150, 150, 300, 300)]
    assert len(run_passes(_marker_infer, image, [Pass()], rois=both)[0]) == 2
    assert len(run_passes(_marker_infer, image, [Pass()], rois=[])[0]) == 0


def test_windows_around_grow_clip_and_merge() -> None:
    boxes = np.array([[100, 100, 120, 110], [130, 100, 150, 110], [500, 300, 700, 400]], np.float64)
    wins = windows_around(boxes, 800, 450, margin=0.5, min_margin=32)
    # the two small boxes' windows overlap (32 px margins): one union window
    assert [(t.x0, t.y0, t.x1, t.y1) for t in wins] == [(68, 68, 182, 142), (400, 200, 800, 450)]
    assert windows_around(np.zeros((0, 4)), 800, 450, margin=0.5, min_margin=32) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 80), st.integers(1, 80)),
                max_size=12))
def test_windows_hold_their_boxes_and_never_overlap(boxes: list[tuple[int, int, int, int]]) -> None:
    xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], np.float64).reshape(-1, 4)
    wins = windows_around(xyxy, 520, 520, margin=0.5, min_margin=8)
    for x0, y0, x1, y1 in xyxy:
        assert any(t.x0 <= x0 and t.y0 <= y0 and min(x1, 520) <= t.x1 and min(y1, 520) <= t.y1 for t in wins)
    for i, a in enumerate(wins):
        for b in wins[i + 1 :]:
            assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


@pytest.mark.parametrize("shape", [(64, 96), (33, 17), (1, 1)])
def test_to_blob_matches_the_transpose_and_cast_it_replaces(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (shape[0] + 9, shape[1] + 7, 3), dtype=np.uint8)
    image = big[4 : 4 + shape[0], 3 : 3 + shape[1]]  # a tile: a strided view, as the passes cut them
    nchw = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
    rgb = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32)
    mean = np.array([104.0, 117.0, 123.0], np.float32)
    for blob, expected in [
        (to_blob(image, rgb=True), rgb),
        (to_blob(image, rgb=True, scale=1.0 / 255.0), rgb * np.float32(1.0 / 255.0)),
        (to_blob(image, rgb=False, mean=mean.tolist()), nchw - mean[None, :, None, None]),
    ]:
        assert blob.dtype == np.float32 and blob.shape == (1, 3, *shape) and blob.flags.c_contiguous
        assert np.array_equal(blob, expected)  # bit for bit: the models see what they saw before


def test_source_tiles_are_the_tiles_a_whole_picture_pass_runs_on() -> None:
    text = PRESETS["balanced"]["text_plate"]
    native, fit = text[0], text[-1]
    # A 1080p screenshot's two tiles, overlapping 160 px; a 720p frame is one tile.
    assert source_tiles(1920, 1080, native) == [Tile(0, 0, 1040, 1080), Tile(880, 0, 1920, 1080)]
    assert source_tiles(1280, 720, native) == [Tile(0, 0, 1280, 720)]
    assert source_tiles(1920, 1080, fit) == [Tile(0, 0, 1920, 1080)]  # looked at in one piece
    assert source_tiles(640, 360, fit) == []  # not looked at
    halved = Pass(scale=0.5, tile=600, overlap=40)
    assert source_tiles(2000, 500, halved) == [Tile(0, 0, 1040, 500), Tile(960, 0, 2000, 500)]
    # A window is looked at in tiles of its own, at the scale of the whole picture.
    assert source_tiles(2000, 500, halved, Tile(100, 50, 700, 450)) == [Tile(100, 50, 700, 450)]
    two = [Tile(100, 0, 1140, 500), Tile(1060, 0, 2100, 500)]
    assert source_tiles(4000, 500, halved, Tile(100, 0, 2100, 500)) == two


def test_cut_sides_are_the_sides_near_a_tiles_inner_edge() -> None:
    tiles = [Tile(0, 0, 1040, 1080), Tile(880, 0, 1920, 1080)]
    # Starting 31 px inside the right tile's left edge; ending 122 px before the left tile's right edge.
    assert cut_sides(np.array([911, 900, 918, 1000]), tiles, 1920, 1080, 40).tolist() == [True, False, False, False]
    assert cut_sides(np.array([600, 900, 1020, 1000]), tiles, 1920, 1080, 40).tolist() == [False, False, True, False]
    assert not cut_sides(np.array([1200, 900, 1400, 1000]), tiles, 1920, 1080, 40).any()
    # Past an edge by up to half the reach (a box grows past what its tile saw), not further.
    assert cut_sides(np.array([600, 900, 1059, 1000]), tiles, 1920, 1080, 40).tolist() == [False, False, True, False]
    assert not cut_sides(np.array([600, 900, 1061, 1000]), tiles, 1920, 1080, 40).any()
    # The picture's own edges are no seams; a window's edges inside the picture are.
    assert not cut_sides(np.array([5, 0, 300, 1080]), tiles, 1920, 1080, 40).any()
    window = [Tile(100, 50, 700, 450)]
    assert cut_sides(np.array([110, 60, 400, 200]), window, 1920, 1080, 40).tolist() == [True, True, False, False]
