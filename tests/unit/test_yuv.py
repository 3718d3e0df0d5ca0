from __future__ import annotations

import numpy as np
import pytest

from redact.config import RedactConfig
from redact.io.yuv import FINGERPRINT_ROWS, Picture, Scratch, pack, planes
from redact.render import get_style, regions
from redact.render.picture import redact_picture
from redact.review.checks import region_redacted
from redact.types import Detections

W, H = 160, 120


@pytest.fixture
def bgr() -> np.ndarray:
    rng = np.random.default_rng(3)
    # Smooth at the 2x2 scale (as real pictures are), so 4:2:0 loses little.
    return np.repeat(np.repeat(rng.integers(0, 256, (H // 2, W // 2, 3), dtype=np.uint8), 2, 0), 2, 1)


def test_even_pictures_are_i420_at_half_the_bytes_and_convert_back_closely(bgr) -> None:
    pic = Picture.from_bgr(bgr)
    assert pic.yuv and (pic.width, pic.height) == (W, H) and pic.nbytes == bgr.nbytes // 2
    back = pic.bgr()
    assert back.shape == bgr.shape and np.abs(back.astype(int) - bgr).mean() < 3


def test_odd_pictures_stay_bgr(bgr) -> None:
    odd = bgr[: H - 1, : W - 1]
    pic = Picture.from_bgr(odd)
    assert not pic.yuv and pic.bgr() is odd and (pic.width, pic.height) == (W - 1, H - 1)


def test_bgr_in_converts_into_the_given_buffer(bgr) -> None:
    pic = Picture.from_bgr(bgr)
    buffer = np.zeros((H, W, 3), np.uint8)
    assert pic.bgr_in(buffer) is buffer and np.array_equal(buffer, pic.bgr())
    other = Picture.from_bgr(bgr[::-1].copy())
    assert other.bgr_in(buffer) is buffer and np.array_equal(buffer, other.bgr())  # reused, all overwritten
    with pytest.raises(ValueError, match="does not fit"):
        pic.bgr_in(np.zeros((H, W + 2, 3), np.uint8))
    odd = Picture.from_bgr(bgr[: H - 1, : W - 1])
    assert odd.bgr_in(buffer) is odd.data  # BGR already: its own array, the buffer untouched
    assert np.array_equal(buffer, other.bgr())


def test_fingerprint_tells_another_decode_of_the_frame_apart(bgr) -> None:
    """The video writer decodes each frame again and checks it against the detectors' decode."""
    pic = Picture.from_bgr(bgr)
    assert Picture(pic.data.copy(), True).fingerprint() == pic.fingerprint()
    changed = pic.data.copy()
    changed[FINGERPRINT_ROWS * 3, 5] ^= 1  # one sample of a fingerprinted row
    assert Picture(changed, True).fingerprint() != pic.fingerprint()
    assert Picture(pic.data[::-1].copy(), True).fingerprint() != pic.fingerprint()
    odd = Picture.from_bgr(bgr[: H - 1, : W - 1])
    assert odd.fingerprint() == Picture(odd.data.copy(), False).fingerprint()


def test_planes_and_pack_round_trip(bgr) -> None:
    data = Picture.from_bgr(bgr).data
    y, u, v = planes(data)
    assert y.shape == (H, W) and u.shape == v.shape == (H // 2, W // 2)
    assert np.array_equal(pack(y, u, v), data)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rotation_turns_every_plane(bgr, k) -> None:
    pic = Picture.from_bgr(bgr)
    turned = pic.rotated(k)
    assert (turned.width, turned.height) == ((H, W) if k % 2 else (W, H))
    assert np.array_equal(turned.rotated(-k).data, pic.data)
    want = np.rot90(pic.bgr(), k)
    assert np.abs(turned.bgr().astype(int) - want).mean() < 2
    flat = Picture(bgr, False).rotated(k)
    assert not flat.yuv and np.array_equal(flat.data, np.rot90(bgr, k))


def _regions(boxes, shape):
    d = Detections.from_arrays(boxes, [0.8] * len(boxes), "face")
    return regions.build(d, W, H, padding=0.0, face_shape=shape)


@pytest.mark.parametrize("style", ["fill", "blur", "pixelate"])
@pytest.mark.parametrize("shape", ["rect", "ellipse"])
@pytest.mark.parametrize("boxes", [[[11, 9, 60, 71]], [[0, 0, 5, 5]], [[101, 61, 160, 120], [20, 21, 43, 30]]])
def test_regions_are_redacted_in_i420_and_nothing_else_changes(bgr, style, shape, boxes) -> None:
    pic = Picture.from_bgr(bgr)
    before = pic.data.copy()
    regs = _regions(boxes, shape)
    out = redact_picture(get_style(RedactConfig(style=style)), pic, regs)
    assert np.array_equal(pic.data, before), "the input picture was modified"
    assert out.yuv and out.data.shape == pic.data.shape
    inside = regions.frame_mask(regs, W, H)
    chroma = inside.reshape(H // 2, 2, W // 2, 2).any(axis=(1, 3))
    (y0, u0, v0), (y1, u1, v1) = planes(pic.data), planes(out.data)
    assert np.array_equal(y1[~inside], y0[~inside]), "luma outside every region changed"
    assert np.array_equal(u1[~chroma], u0[~chroma]) and np.array_equal(v1[~chroma], v0[~chroma])
    got, orig = out.bgr(), pic.bgr()
    for box, shp in zip(regs.boxes, regs.shape, strict=True):
        x1, y1_, x2, y2 = (int(c) for c in box)
        mask = regions.region_mask(box, str(shp))
        ok, why = region_redacted(got[y1_:y2, x1:x2], orig[y1_:y2, x1:x2], mask, lossy=False)
        assert ok, why


@pytest.mark.parametrize("style", ["fill", "blur", "pixelate"])
@pytest.mark.parametrize(
    ("boxes", "shared"),
    [([[10, 10, 60, 50], [80, 60, 130, 110]], True), ([[10, 10, 90, 70], [50, 40, 130, 110], [60, 50, 80, 60]], False)],
)
def test_in_place_gives_the_same_pixels_as_a_copy(bgr, style, boxes, shared) -> None:
    """The writer redacts its own decode in place where no regions overlap; overlapping
    regions are each redacted from the picture as it came, on a copy."""
    regs = _regions(boxes, "ellipse")
    chosen = get_style(RedactConfig(style=style))
    copied = redact_picture(chosen, Picture.from_bgr(bgr), regs)
    pic = Picture.from_bgr(bgr)
    own = redact_picture(chosen, pic, regs, in_place=True)
    assert (own.data is pic.data) == shared
    assert np.array_equal(own.data, copied.data)


def test_fill_reaches_the_colour(bgr) -> None:
    regs = _regions([[10, 10, 50, 40]], "rect")
    out = redact_picture(get_style(RedactConfig(style="fill")), Picture.from_bgr(bgr), regs).bgr()
    assert np.abs(out[10:40, 10:50].astype(int)).max() <= 2  # black, to rounding


def test_outline_draws_on_the_whole_picture_and_bgr_pictures_use_the_style_as_is(bgr) -> None:
    regs = _regions([[10, 10, 50, 40]], "rect")
    outline = get_style(RedactConfig(style="outline"))
    out = redact_picture(outline, Picture.from_bgr(bgr), regs)
    assert out.yuv and not np.array_equal(out.data, Picture.from_bgr(bgr).data)
    flat = redact_picture(outline, Picture(bgr, False), regs)
    assert not flat.yuv and np.array_equal(flat.data, outline.apply(bgr, regs))
    empty = redact_picture(get_style(RedactConfig()), Picture.from_bgr(bgr), _regions([], "rect"))
    assert np.array_equal(empty.data, Picture.from_bgr(bgr).data)


def test_a_scratch_buffer_is_reused_while_the_size_stays() -> None:
    scratch = Scratch()
    a = Picture.from_bgr(np.full((4, 6, 3), 100, np.uint8))
    first = scratch.of(a)
    assert first.shape == (4, 6, 3) and abs(int(first[0, 0, 0]) - 100) <= 2
    assert scratch.of(Picture.from_bgr(np.zeros((4, 6, 3), np.uint8))) is first
    assert scratch.of(Picture.from_bgr(np.zeros((8, 6, 3), np.uint8))).shape == (8, 6, 3)
