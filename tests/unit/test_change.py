from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.io.yuv import Picture
from redact.video.change import (
    CHANGE_CELL,
    CHANGE_SCALE,
    ChangeMap,
    CutDetector,
    content_score,
    cut_picture,
    thumbnail,
    windows,
)

W, H = 320, 240
SIDE = CHANGE_CELL * CHANGE_SCALE  # source pixels per cell


def scene(seed: int = 0) -> np.ndarray:
    """A camera's view: texture in 8-px blocks, the same for a given seed."""
    blocks = np.random.default_rng(seed).integers(40, 200, (H // 8, W // 8, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 8, 0), 8, 1)


def thumb(bgr: np.ndarray) -> np.ndarray:
    return thumbnail(Picture.from_bgr(bgr))


def test_everything_changed_until_something_was_looked_at() -> None:
    cm = ChangeMap()
    cells = cm.changed(thumb(scene()))
    assert cells.shape == (-(-H // SIDE), -(-W // SIDE)) and cells.all()


def test_the_same_picture_and_an_exposure_shift_change_nothing() -> None:
    cm = ChangeMap()
    base = scene()
    cm.looked(thumb(base))
    assert not cm.changed(thumb(base)).any()
    brighter = np.clip(base.astype(int) + 25, 0, 255).astype(np.uint8)
    assert not cm.changed(thumb(brighter)).any()


def test_a_small_newcomer_changes_its_cells_only_and_its_window_holds_it() -> None:
    cm = ChangeMap()
    base = scene()
    cm.looked(thumb(base))
    now = base.copy()
    now[100:110, 200:210] = (30, 30, 30)  # a 10-px dark face
    cells = cm.changed(thumb(now))
    assert 1 <= cells.sum() <= 4
    rows, cols = np.nonzero(cells)
    assert set(rows) <= {100 // SIDE, 109 // SIDE} and set(cols) <= {200 // SIDE, 209 // SIDE}
    wins = windows(cells, W, H)
    assert len(wins) == 1
    win = wins[0]
    assert win.x0 <= 200 - 64 and win.y0 <= 100 - 64 and win.x1 >= 210 + 64 and win.y1 >= 110 + 64


def test_least_leaves_out_cells_where_only_a_speck_changed() -> None:
    cm = ChangeMap()
    base = scene()
    cm.looked(thumb(base))
    now = base.copy()
    now[20:24, 20:24] = (255, 255, 255)  # a 4-px speck of flicker
    now[100:160, 200:260] = (30, 30, 30)  # a 60-px newcomer, large enough for the glance
    t = thumb(now)
    every = cm.changed(t)
    assert every[20 // SIDE, 20 // SIDE]
    strict = cm.changed(t, least=8)
    assert not strict[20 // SIDE, 20 // SIDE]  # the speck is left to the next keyframe
    assert strict[130 // SIDE, 230 // SIDE] and (strict <= every).all()


def test_a_change_of_colour_alone_counts() -> None:
    cm = ChangeMap()
    base = np.full((H, W, 3), 128, np.uint8)
    cm.looked(thumb(base))
    now = base.copy()
    now[40:80, 40:80] = (200, 100, 140)  # about as bright as the grey, another colour
    assert cm.changed(thumb(now)).any()


def test_looked_updates_only_the_cells_looked_at() -> None:
    cm = ChangeMap()
    base = scene()
    cm.looked(thumb(base))
    now = base.copy()
    now[0:30, 0:30] = 0
    now[200:230, 280:310] = 255
    cells = cm.changed(thumb(now))
    part = np.zeros_like(cells)
    part[0, 0] = True
    cm.looked(thumb(now), part)
    left = cm.changed(thumb(now))
    assert not left[0, 0] and left.sum() == cells.sum() - 1


def test_a_new_scene_changes_most_cells_and_odd_pictures_work() -> None:
    cm = ChangeMap()
    cm.looked(thumb(scene(0)))
    assert cm.changed(thumb(scene(1))).mean() > 0.9
    odd = scene(0)[: H - 1, : W - 1]
    cm2 = ChangeMap()
    cm2.looked(thumbnail(Picture.from_bgr(odd)))
    assert not cm2.changed(thumbnail(Picture.from_bgr(odd))).any()
    assert windows(np.zeros((2, 2), bool), W, H) == []


def picture(seed: int, width: int = 2 * W, height: int = 2 * H) -> np.ndarray:
    """A wide view with structure at several scales (what a camera pans over), BGR."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(0, 255, (height // 64, width // 64, 3), dtype=np.uint8), (width, height))
    fine = cv2.resize(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8), (width, height))
    return cv2.addWeighted(coarse, 0.6, fine, 0.4, 0)


def cuts_in(frames: list[np.ndarray]) -> list[int]:
    small = [cut_picture(thumb(f)) for f in frames]
    detector = CutDetector()
    return [i for i in range(len(small)) if detector.check(small[i], small[i + 1] if i + 1 < len(small) else None)]


def view(img: np.ndarray, x: int, y: int) -> np.ndarray:
    return np.ascontiguousarray(img[y : y + H, x : x + W])


def test_a_cut_between_two_shots_is_found_where_it_is() -> None:
    a, b = picture(0), picture(1)
    frames = [view(a, 0, 0)] * 6 + [view(b, 0, 0)] * 6 + [view(a, 40, 20)] * 3
    assert cuts_in(frames) == [6, 12]


def test_pans_zooms_and_flashes_are_no_cuts() -> None:
    a = picture(2)
    pan = [view(a, 12 * i, 3 * i) for i in range(20)]  # 12 px a frame, a fast pan at 320 px
    zoom = []
    for i in range(12):
        z = 1.0 + 0.02 * i
        big = cv2.resize(a, None, fx=z, fy=z)
        zoom.append(view(big, (big.shape[1] - W) // 2, (big.shape[0] - H) // 2))
    base = view(a, 0, 0)
    flash = [base, base, np.clip(base.astype(int) + 90, 0, 255).astype(np.uint8), base, base]
    assert cuts_in(pan) == []
    assert cuts_in(zoom) == []
    assert cuts_in(flash) == []


def test_restless_pictures_are_not_a_cut_on_every_frame() -> None:
    frames = [np.random.default_rng(i).integers(40, 200, (H, W, 3), dtype=np.uint8) for i in range(12)]
    assert len(cuts_in(frames)) <= 1


def test_the_content_score_follows_pyscenedetect_on_plain_pictures() -> None:
    grey = np.full((36, 64, 3), 100, np.uint8)
    other = grey.copy()
    other[..., 1] = 160  # saturation only: (0 + 60 + 0) / 3
    assert content_score(grey, other) == pytest.approx(20.0)


@pytest.mark.parametrize(("h", "w"), [(400, 2), (2, 400), (1, 1), (3, 2)])
def test_cuts_are_judged_on_strips_of_video_too(h: int, w: int) -> None:
    # A video a pixel or two wide has a one-column thumbnail: judged without the pan search.
    a, b = (np.random.default_rng(s).integers(0, 256, (h, w, 3), dtype=np.uint8) for s in (0, 1))
    small = [cut_picture(thumb(f)) for f in (a, a, b, b)]
    assert content_score(small[0], small[2]) >= 0
    detector = CutDetector()
    assert [detector.check(s) for s in small][:2] == [False, False]
