"""Panels of a composed picture: the frames, crops and header of a dashboard screenshot.

A plate-reading system's dashboard shows a wide frame, a zoomed crop of the plate and a
second frame side by side, with bands of one flat colour between them. A window zone belongs
to the panel its vehicle or plate is in: drawn for the size of a zoomed plate, it would run
over the header and the next frame. Panels are found by cutting the picture along bands that
are flat across the whole part being cut, again inside each part (a recursive XY cut, on the
picture shrunk to at most :data:`SIDE` px). A photo or a video frame has no such bands and is
one panel; taken for several, its zones would be cut short, so flat means as flat as a
drawn ground, not a smooth surface. Near-black and near-white bands never cut: a night sky
or a burnt-out one is flat too, and a zone cut there could leave a windscreen's upper part
out.

Flatness is judged on luma: a screenshot passed on as a hard JPEG (quality 30) smears
colour over 16-px blocks and rings beside every panel's edge, and its bands' colour then
varies as much as a photo's smooth wall; their luma stays flat. A looser limit on colour
keeps a boundary between two colours of one brightness from passing as flat.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.geometry import centres_inside, intersect_rows

SIDE = 480  # the picture is shrunk to at most this many px per side to look for bands
# A row or column whose luma varies less than FLAT_STD (0-255, standard deviation along the
# part) and whose colour varies less than COLOUR_STD (largest channel's) is flat. A
# dashboard's ground is one colour: luma under 1.2 on the dev and composed screenshots, also
# re-compressed at JPEG quality 30 (colour there up to 4.8, 0.2-1.4 at quality 95); luma at
# 1.5, or colour alone at 2.5, cut some of the dev photos into pieces.
FLAT_STD = 1.2
COLOUR_STD = 5.0
LUMA = (0.114, 0.587, 0.299)  # B, G, R weights (ITU-R BT.601)
MIN_BAND = 2  # a band is at least this many flat rows or columns of the shrunk picture
GREY = (12.0, 243.0)  # a band's mean brightness lies inside this range (not black, not white)
MAX_DEPTH = 6  # cuts and trims, nested


def find_panels(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The panels of a BGR uint8 picture, xyxy source pixels (K, 4); the whole picture
    when nothing cuts it. Flat bands between panels belong to none."""
    h, w = image.shape[:2]
    scale = min(1.0, SIDE / max(h, w))
    if scale == 1.0:
        shrunk = image
    elif min(h, w) * scale >= 1:
        shrunk = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:  # a strip a few pixels deep keeps one row (or column)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        shrunk = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    # Channel first (B, G, R, luma): numpy reduces a line of one channel's pixels far faster
    # than a line of interleaved BGR (a 480x270 picture's rows: 0.5 against 6 ms).
    sh, sw = shrunk.shape[:2]
    small: NDArray[np.float32] = np.empty((4, sh, sw), np.float32)
    small[:3] = np.moveaxis(shrunk, -1, 0)
    small[3] = LUMA[0] * small[0] + LUMA[1] * small[1] + LUMA[2] * small[2]
    found: list[tuple[int, int, int, int]] = []
    _cut(small, 0, 0, sw, sh, MAX_DEPTH, found)
    if len(found) <= 1:
        return np.array([[0, 0, w, h]], np.float32)
    fx, fy = w / sw, h / sh
    boxes = np.array(found, np.float32) * np.array([fx, fy, fx, fy], np.float32)
    return np.clip(np.round(boxes), 0, [w, h, w, h]).astype(np.float32)


def _cut(small: NDArray[np.float32], x0: int, y0: int, x1: int, y1: int, depth: int,
         out: list[tuple[int, int, int, int]]) -> None:
    part = small[:, y0:y1, x0:x1]
    for axis in (0, 1):  # rows (cut across), then columns
        runs = _content(part, axis)
        if depth > 0 and runs != [(0, part.shape[axis + 1])]:  # cut, or trimmed of a band at its edge
            for a, b in runs:
                if axis == 0:
                    _cut(small, x0, y0 + a, x1, y0 + b, depth - 1, out)
                else:
                    _cut(small, x0 + a, y0, x0 + b, y1, depth - 1, out)
            return
    out.append((x0, y0, x1, y1))


def _content(part: NDArray[np.float32], axis: int) -> list[tuple[int, int]]:
    """Runs [a, b) of rows (axis 0) or columns (axis 1) between flat grey bands of at least
    MIN_BAND; the whole extent when there are none."""
    along = 2 if axis == 0 else 1  # part is channel first: (B G R luma, rows, columns)
    n, length = part.shape[axis + 1], part.shape[along]
    if n < 3 * MIN_BAND or length < 2:
        return [(0, n)]
    spread = part.std(axis=along)  # (4, n)
    level = part[:3].mean(axis=(0, along))
    flat = (spread[3] < FLAT_STD) & (spread[:3].max(axis=0) < COLOUR_STD) & (level > GREY[0]) & (level < GREY[1])
    runs: list[tuple[int, int]] = []
    start, i = 0, 0
    while i < n:
        if not flat[i]:
            i += 1
            continue
        j = i
        while j < n and flat[j]:
            j += 1
        if j - i >= MIN_BAND:
            if i > start:
                runs.append((start, i))
            start = j
        i = j
    if start < n:
        runs.append((start, n))
    return runs or [(0, n)]


def clip_to_panels(
    boxes: NDArray[np.floating], anchors: NDArray[np.floating], panels: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Each box cut to the panel that holds its anchor's centre (xyxy, row for row). A box
    whose anchor lies in no panel stays as it is; one wholly outside its anchor's panel comes
    back empty (zero area), for the caller to drop: it shows none of its anchor's windows (a
    zoomed plate crop's zone, drawn above the crop, lies over the header)."""
    out = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    p = np.asarray(panels, np.float32).reshape(-1, 4)
    if len(p) <= 1 or not len(out):
        return out
    inside = centres_inside(anchors, p).T  # (boxes, panels)
    rows = np.flatnonzero(inside.any(axis=1))
    out[rows] = intersect_rows(out[rows], p[inside[rows].argmax(axis=1)])
    return out
