"""``bench/captions.py``: the captions it draws, where their plate strings are, and what it
counts as a caption's words redacted for nothing."""

from __future__ import annotations

import re

import numpy as np

from tests.helpers import load_bench


def test_made_up_plates_follow_the_formats() -> None:
    bench = load_bench("captions")
    rng = np.random.default_rng(3)
    shapes = {re.sub(r"\d", "D", re.sub(r"[A-Z]", "L", bench.made_up_plate(rng))) for _ in range(200)}
    assert shapes <= set(bench.FORMATS) and len(shapes) > 4


def test_captions_land_on_flat_ground_with_their_plate_string_inside_the_line() -> None:
    bench = load_bench("captions")
    image = np.full((1080, 1920, 3), 30, np.uint8)
    image[300:600, 100:800] = np.random.default_rng(0).integers(0, 255, (300, 700, 3))  # a picture panel
    captions = bench.draw_captions(image, np.random.default_rng(7), 6)
    assert len(captions) == 6
    for c in captions:
        px0, py0, px1, py1 = c.plate
        lx0, ly0, lx1, ly1 = c.line
        assert lx0 <= px0 < px1 <= lx1 and (py0, py1) == (ly0, ly1)
        assert not (300 <= py0 < 600 or 300 <= py1 < 600) or px0 >= 800  # not over the panel
        assert image[py0:py1, px0:px1].max() > 200  # the string is drawn there
        assert 12 <= c.height <= 30 and c.style in bench.STYLES


def test_caption_away_counts_only_the_words_beside_the_plate() -> None:
    bench = load_bench("captions")
    c = bench.Caption(style="label", height=20, plate=(160, 100, 260, 120), line=(100, 100, 260, 120))
    assert bench.caption_away(c, np.array([[160, 100, 260, 120]])) == 0.0
    assert bench.caption_away(c, np.array([[90, 90, 270, 130]])) == 1.0
    assert bench.caption_away(c, np.array([[130, 100, 260, 120]])) == 0.5
    assert bench.caption_away(c, np.zeros((0, 4), np.int64)) == 0.0


def test_a_list_of_reads_stacks_its_rows_on_flat_ground() -> None:
    bench = load_bench("captions")
    image = np.full((1080, 1920, 3), 30, np.uint8)
    image[0:700, :] = np.random.default_rng(0).integers(0, 255, (700, 1920, 3))  # the pictures
    rows = bench.draw_list(image, np.random.default_rng(5))
    assert len(rows) == bench.LIST_ROWS and {r.style for r in rows} == {"list"}
    tops = [r.line[1] for r in rows]
    assert tops == sorted(tops) and min(tops) >= 700  # one below another, on the ground
    for r in rows:
        px0, py0, px1, py1 = r.plate
        assert r.line[0] <= px0 < px1 <= r.line[2] and image[py0:py1, px0:px1].max() > 200
        assert 12 <= r.height <= 20
    assert bench.draw_list(np.random.default_rng(1).integers(0, 255, (400, 1000, 3), np.uint8),
                           np.random.default_rng(5)) == []  # no flat ground: no list
