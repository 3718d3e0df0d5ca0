"""Where a video's picture changed since the detectors last looked at it.

Roadside traffic cameras, and many others, stand still: between two looks most of the
picture is the same pixels, and a detector shown the same pixels finds the same things.
:class:`ChangeMap` keeps, per cell of the picture, its colours as they were when last looked
at, and says which cells moved since (in luma or colour) by more than :data:`CHANGE_LEVEL`
levels beyond the whole picture's own shift (exposure drift moves every cell alike and is not
a newcomer). The video schedule (``redact.video.job``) points the full detectors (on
keyframes and on the frames between) and the glance at those cells, and at the whole picture
when much of it changed (a moving camera, a cut).

Pictures are compared at a quarter of the picture's size, lightly blurred, so compression noise
stays under the level; a newcomer of a few pixels still moves its cell well beyond it.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.tiles import Tile, windows_around
from redact.io.yuv import Picture, planes

CHANGE_SCALE = 4  # pictures are compared at 1/CHANGE_SCALE of the picture's size ...
CHANGE_CELL = 8  # ... in cells of CHANGE_CELL x CHANGE_CELL of those pixels (32 x 32 source pixels)
CHANGE_LEVEL = 12  # levels (Y, U or V) a cell's largest change must exceed, beyond the picture's shift
CHANGE_MARGIN = 0.25  # a window around changed cells grows by this share of its longer side ...
CHANGE_MIN_MARGIN = 64  # ... and at least this many source pixels, on every side

Cells = NDArray[np.bool_]


def thumbnail(picture: Picture) -> NDArray[np.int16]:
    """The picture's Y, U and V at 1/:data:`CHANGE_SCALE` size, blurred: int16 (h, w, 3).

    Chroma counts as well as luma: an object as bright as what it covers (a magenta shirt on
    grey asphalt) changes only the colour.
    """
    if picture.yuv:
        y, u, v = planes(picture.data)
    else:
        y, u, v = cv2.split(cv2.cvtColor(picture.data, cv2.COLOR_BGR2YUV))
    h, w = y.shape
    size = (max(1, w // CHANGE_SCALE), max(1, h // CHANGE_SCALE))
    small = cv2.merge([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in (y, u, v)])
    return cv2.GaussianBlur(small, (3, 3), 0).astype(np.int16)


class ChangeMap:
    """Per-cell reference of what the detectors last saw, for one video."""

    def __init__(self) -> None:
        self._ref: NDArray[np.int16] | None = None

    def changed(self, thumb: NDArray[np.int16], least: int = 1) -> Cells:
        """Cells (rows, cols) of a :func:`thumbnail` where at least ``least`` of its pixels
        moved beyond the level since last looked at; every cell when nothing was looked at
        yet (or the picture changed size)."""
        h, w = thumb.shape[:2]
        gh, gw = -(-h // CHANGE_CELL), -(-w // CHANGE_CELL)
        if self._ref is None or self._ref.shape != thumb.shape:
            return np.ones((gh, gw), bool)
        diff = thumb - self._ref
        diff -= np.median(diff[::2, ::2].reshape(-1, 3), axis=0).astype(np.int16)  # the picture's shift
        np.abs(diff, out=diff)
        # Channel by channel: numpy's max over a short last axis is far slower.
        moved = np.maximum(np.maximum(diff[..., 0], diff[..., 1]), diff[..., 2]) > CHANGE_LEVEL
        padded = np.zeros((gh * CHANGE_CELL, gw * CHANGE_CELL), bool)
        padded[:h, :w] = moved
        blocks = padded.reshape(gh, CHANGE_CELL, gw, CHANGE_CELL)
        if least <= 1:
            return np.asarray(blocks.any(axis=(1, 3)))
        return np.asarray(np.count_nonzero(blocks, axis=(1, 3)) >= least)

    def looked(self, thumb: NDArray[np.int16], cells: Cells | None = None) -> None:
        """The detectors looked at ``cells`` (every cell when ``None``) of this :func:`thumbnail`."""
        if cells is None or self._ref is None or self._ref.shape != thumb.shape:
            self._ref = thumb.copy()
            return
        h, w = thumb.shape[:2]
        mask = np.repeat(np.repeat(cells, CHANGE_CELL, 0), CHANGE_CELL, 1)[:h, :w]
        self._ref[mask] = thumb[mask]


def windows(cells: Cells, width: int, height: int) -> list[Tile]:
    """Windows (source pixels) around each connected group of changed cells, with margins
    (:data:`CHANGE_MARGIN`, :data:`CHANGE_MIN_MARGIN`), merged where they overlap."""
    if not cells.any():
        return []
    n, _, stats, _ = cv2.connectedComponentsWithStats(cells.astype(np.uint8), connectivity=8)
    side = CHANGE_CELL * CHANGE_SCALE
    boxes = np.array(
        [[x * side, y * side, (x + w) * side, (y + h) * side] for x, y, w, h, _ in stats[1:n]], np.float64
    )
    np.clip(boxes, 0, [width, height, width, height], out=boxes)
    return windows_around(boxes, width, height, margin=CHANGE_MARGIN, min_margin=CHANGE_MIN_MARGIN)


# Cuts between shots. A cut is where most of the picture changes at once: PySceneDetect's
# content detector scores a pair of frames by the mean absolute difference of hue, saturation
# and value (0-255 scales, OpenCV's 0-179 hue) and calls 27 a cut. Here that score is taken on
# the change map's thumbnail shrunk to CUT_WIDTH px, and made robust to what is not a cut:
# - a pan or a shake: the score is taken again after shifting one picture onto the other by
#   their phase correlation, a zoom after enlarging one's centre (CUT_ZOOMS), and the lowest
#   counts;
# - a flash or exposure change: the picture's median change of value is taken out first, and a
#   frame that differs from the one before it but whose next frame matches that one again (a
#   single bright or dark frame) is no cut;
# - restless pictures (water, crowds, a handheld camera): the score must also be CUT_RATIO
#   times the mean score of the last CUT_HISTORY frames of the shot.
CUT_LEVEL = 27.0
CUT_RATIO = 2.5
CUT_HISTORY = 5
CUT_WIDTH = 128  # px
CUT_MAX_SHIFT = 0.25  # a pan moves the picture by at most this share of its size between frames
CUT_ZOOMS = (1.03, 1 / 1.03, 1.07, 1 / 1.07)  # zooms tried between two frames, in and out


def cut_picture(thumb: NDArray[np.int16]) -> NDArray[np.uint8]:
    """A :func:`thumbnail` (Y, U, V) as the HSV picture cuts are judged on: uint8 (h, w, 3),
    at most :data:`CUT_WIDTH` px wide."""
    yuv = np.clip(thumb, 0, 255).astype(np.uint8)
    h, w = yuv.shape[:2]
    if w > CUT_WIDTH:
        yuv = cv2.resize(yuv, (CUT_WIDTH, max(1, round(h * CUT_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR), cv2.COLOR_BGR2HSV))


def _content(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """PySceneDetect's content score of two HSV pictures of one size, with the value channel's
    median shift (exposure, a flash) taken out."""
    if a.size == 0:
        return 0.0
    diff = b.astype(np.int16) - a.astype(np.int16)
    diff[..., 2] -= np.int16(np.median(diff[..., 2]))
    return float(np.abs(diff).reshape(-1, 3).mean(axis=0).mean())


def content_score(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """How much of the picture changed from HSV picture ``a`` to ``b`` (same shape, from
    :func:`cut_picture`), 0-255: the content score, or the score after shifting ``b`` onto
    ``a`` where that is lower (a pan moves the picture, a cut replaces it)."""
    best = _content(a, b)
    if best < CUT_LEVEL:
        return best
    h, w = a.shape[:2]
    sx = sy = 0
    if min(h, w) >= 2:  # OpenCV's phase correlation needs two columns (a strip of video may be one wide)
        (dx, dy), _ = cv2.phaseCorrelate(a[..., 2].astype(np.float32), b[..., 2].astype(np.float32))
        sx, sy = int(round(dx)), int(round(dy))
    if (sx or sy) and abs(sx) <= CUT_MAX_SHIFT * w and abs(sy) <= CUT_MAX_SHIFT * h:
        # b(x + sx, y + sy) shows what a(x, y) showed.
        ax0, ay0 = max(0, -sx), max(0, -sy)
        ax1, ay1 = min(w, w - sx), min(h, h - sy)
        best = min(best, _content(a[ay0:ay1, ax0:ax1], b[ay0 + sy : ay1 + sy, ax0 + sx : ax1 + sx]))
    for zoom in CUT_ZOOMS:
        if best < CUT_LEVEL:
            break
        # A zoom in by ``zoom``: b's centre is a's centre enlarged (or the other way round).
        small, large = (a, b) if zoom > 1 else (b, a)
        z = zoom if zoom > 1 else 1 / zoom
        cw, ch = max(1, round(w / z)), max(1, round(h / z))
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        centre = cv2.resize(small[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)
        best = min(best, _content(centre, large))
    return best


class CutDetector:
    """Finds the first frames of new shots, frame by frame in decode order."""

    def __init__(self) -> None:
        self._prev: NDArray[np.uint8] | None = None  # the last frame of the current shot
        self._scores: list[float] = []  # recent scores within the shot

    def check(self, now: NDArray[np.uint8], upcoming: NDArray[np.uint8] | None = None) -> bool:
        """Whether the frame ``now`` starts a new shot (never the first frame).

        Args:
            now: this frame's :func:`cut_picture`.
            upcoming: the next frame's, when there is one (a single changed frame between two
                alike is a flash, not a cut).
        """
        prev, self._prev = self._prev, now
        if prev is None or prev.shape != now.shape:
            self._scores = []
            return False
        score = content_score(prev, now)
        recent = self._scores[-CUT_HISTORY:]
        cut = score >= CUT_LEVEL and (not recent or score >= CUT_RATIO * float(np.mean(recent)))
        if cut and upcoming is not None and upcoming.shape == prev.shape and content_score(prev, upcoming) < CUT_LEVEL:
            self._prev = prev  # a flash: the next frame is compared with the one before it
            return False
        # A cut's own score stays in the history: in restless pictures the frame after it is
        # judged against it, not against nothing.
        self._scores = [score] if cut else [*recent, score]
        return cut
