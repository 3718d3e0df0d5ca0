from __future__ import annotations

import numpy as np

from redact.change import CHANGE_CELL, CHANGE_SCALE, ChangeMap, thumbnail, windows
from redact.io.yuv import Picture

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
