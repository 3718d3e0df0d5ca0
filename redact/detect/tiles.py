"""Windows of a picture: the overlapping tiles that cover it, and windows around boxes.

Coordinates are pixels with exclusive right/bottom bounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Tile:
    """A window of a picture, ``[x0, x1) x [y0, y1)`` in pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def tiles_xyxy(tiles: Sequence[Tile]) -> NDArray[np.float64]:
    """Windows as an (N, 4) xyxy array."""
    return np.array([[t.x0, t.y0, t.x1, t.y1] for t in tiles], np.float64).reshape(-1, 4)


def _span(length: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """Window size and start offsets covering ``[0, length)`` with windows of at most ``tile``.

    Uses as few windows as the limit allows, then shrinks them evenly so neighbours overlap
    by about ``overlap`` (at least that much) instead of by whatever is left over: 1920 px in
    windows of at most 1600 overlapping by 128 are two windows of 1024, not two of 1600 (1.07x
    the pixels instead of 1.67x, and a smaller peak of memory).
    """
    if length <= tile:
        return length, [0]
    step = tile - overlap
    if step <= 0:
        raise ValueError(f"overlap {overlap} must be smaller than the tile size {tile}")
    # n windows of tile - overlap fresh pixels each reach length, so their even size fits tile.
    return _split(length, math.ceil((length - overlap) / step), overlap)


def _split(length: int, n: int, overlap: int) -> tuple[int, list[int]]:
    """Window size and start offsets covering ``[0, length)`` with exactly ``n`` windows
    overlapping by at least ``overlap``."""
    if n == 1:
        return length, [0]
    size = math.ceil((length + (n - 1) * overlap) / n)
    span = length - size
    # Spread the n windows evenly between 0 and length - size: overlap only grows.
    return size, [round(i * span / (n - 1)) for i in range(n)]


def tile_grid(width: int, height: int, tile: int, overlap: int, max_pixels: int | None = None) -> list[Tile]:
    """Overlapping tiles that cover every pixel of a ``width`` x ``height`` picture.

    Args:
        width: picture width in pixels (> 0).
        height: picture height in pixels (> 0).
        tile: largest tile side in pixels; a dimension no larger than this is one tile.
        overlap: least overlap between neighbouring tiles in pixels (< tile).
        max_pixels: largest tile area (width x height), when given: the picture is cut into
            more tiles until each is at most this large, in as few tiles as that allows
            (then the fewest pixels in all).

    Returns:
        Tiles in row-major order, all of one size (at most ``tile`` a side), as few as
        the limits allow.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"picture size must be positive, got {width}x{height}")
    if tile <= 0:
        raise ValueError(f"tile size must be positive, got {tile}")
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0, got {overlap}")
    tw, xs = _span(width, tile, overlap)
    th, ys = _span(height, tile, overlap)
    if max_pixels is not None and tw * th > max_pixels:
        tw, xs, th, ys = _within(width, height, overlap, max_pixels, len(xs), len(ys))
    return [Tile(x, y, x + tw, y + th) for y in ys for x in xs]


def _within(
    width: int, height: int, overlap: int, max_pixels: int, nx: int, ny: int
) -> tuple[int, list[int], int, list[int]]:
    """The grid of at least ``nx`` x ``ny`` tiles whose tiles are at most ``max_pixels``."""
    best: tuple[tuple[int, int], int, list[int], int, list[int]] | None = None
    for cols in range(nx, nx + 16):
        tw, xs = _split(width, cols, overlap)
        if cols > 1 and tw <= overlap:
            break
        for rows in range(ny, ny + 16):
            th, ys = _split(height, rows, overlap)
            if rows > 1 and th <= overlap:
                break
            if tw * th <= max_pixels:
                key = (cols * rows, cols * rows * tw * th)
                if best is None or key < best[0]:
                    best = (key, tw, xs, th, ys)
                break  # more rows only adds tiles
    if best is None:
        raise ValueError(f"no grid of tiles overlapping by {overlap} px has tiles of at most {max_pixels} px")
    return best[1], best[2], best[3], best[4]


def windows_around(
    xyxy: NDArray[np.floating], width: int, height: int, *, margin: float, min_margin: int
) -> list[Tile]:
    """Windows that hold each box with room around it, merged until none overlap.

    Each box grows by ``margin`` times its longer side (at least ``min_margin`` pixels) on
    every side and is clipped to the picture; overlapping windows become their union, so
    no pixel is looked at twice and an object cut by one window's edge is whole in the union.
    """
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    wins: list[list[int]] = []
    for x0, y0, x1, y1 in boxes:
        m = max(float(min_margin), margin * max(x1 - x0, y1 - y0))
        win = [max(0, math.floor(x0 - m)), max(0, math.floor(y0 - m)),
               min(width, math.ceil(x1 + m)), min(height, math.ceil(y1 + m))]
        if win[2] > win[0] and win[3] > win[1]:
            wins.append(win)
    merged = True
    while merged:
        merged = False
        for i in range(len(wins)):
            for j in range(i + 1, len(wins)):
                a, b = wins[i], wins[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    wins[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del wins[j]
                    merged = True
                    break
            if merged:
                break
    return [Tile(*w) for w in wins]
