"""Where a video's picture changed since the detectors last looked at it.

Roadside traffic cameras, and many others, stand still: between two looks most of the
picture is the same pixels, and a detector shown the same pixels finds the same things.
:class:`ChangeMap` keeps, per cell of the picture, its colours as they were when last looked
at, and says which cells moved since (in luma or colour) by more than :data:`CHANGE_LEVEL`
levels beyond the whole picture's own shift (exposure drift moves every cell alike and is not
a newcomer). The video schedule (``redact.videojob``) points keyframes and the glance at
those cells, and at the whole picture when much of it changed (a moving camera, a cut).

Pictures are compared at a quarter of the picture's size, lightly blurred, so compression noise
stays under the level; a newcomer of a few pixels still moves its cell well beyond it.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.tiling import Tile, windows_around
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
