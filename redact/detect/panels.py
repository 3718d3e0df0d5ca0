"""Panels of a composed picture: the frames, crops and header of a dashboard screenshot.

A plate-reading system's dashboard shows a wide frame, a zoomed crop of the plate and a
second frame side by side, with bands of one flat colour between them. A window zone belongs
to the panel its vehicle or plate is in: drawn for the size of a zoomed plate, it would run
over the header and the next frame. Panels are found by cutting the picture along bands that
are flat across the whole part being cut, again inside each part (a recursive XY cut, on the
picture shrunk to at most :data:`SIDE` px). A photo or a video frame has no such bands and is
one panel; taken for several, its zones would be cut short, so flat means as flat as a
drawn ground, not a smooth surface. Near-black and near-white bands do not cut the panels
that zones are cut to and printed text is judged by: a night sky or a burnt-out one is flat
too, a zone cut there could leave a windscreen's upper part out, and a night frame's black
around a lit plate would make the plate a small panel of the ground's colour, taken for
printed text. Dashboards are also drawn on black or on a web page's white; for looks that
only add candidates (:mod:`redact.detect.panel_zoom`) such bands cut too (``any_ground``).

Flatness is judged on luma: a screenshot passed on as a hard JPEG (quality 30) smears
colour over 16-px blocks and rings beside every panel's edge, and its bands' colour then
varies as much as a photo's smooth wall; their luma stays flat. A looser limit on colour
keeps a boundary between two colours of one brightness from passing as flat.

The cut also splits a header line into its words: a small panel mostly of the colour of the
band around it is text printed on the interface (a violation number, a camera's name, a
caption), not a photograph (:func:`printed`).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.geometry import box_area, centres_inside, intersect_rows, intersection_matrix

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
ANY_LEVEL = (-1.0, 256.0)  # ... or anywhere, with ``any_ground``
MAX_DEPTH = 6  # cuts and trims, nested
# Text printed on the interface: a panel taking at most PRINTED_AREA of the picture whose
# pixels lie at least PRINTED_SHARE within GROUND_TOLERANCE (in every channel, 0-255) of
# the colour of the band around it. The dev screenshots' header words are 0.56-0.70 of it
# (0.49 and up at twice the size), a frame's or crop's panel at most 0.2-0.3; a dashboard's
# frames and crops take 5-45 % of it.
PRINTED_AREA = 0.02
PRINTED_SHARE = 0.4
GROUND_TOLERANCE = 8
# The interface's ground reaches the picture's edge (its margins, a header bar): at least
# EDGE_SHARE of the pixels along the edge are of the colour around a printed panel. A plate
# shown in a small panel of its own is cut around its characters too, along its own flat
# ground, which lies inside the panel.
EDGE_SHARE = 0.05
# A box lies on the interface when at most this share of it lies in larger panels.
ON_PICTURES = 0.1


def find_panels(image: NDArray[np.uint8], *, any_ground: bool = False) -> NDArray[np.float32]:
    """The panels of a BGR uint8 picture, xyxy source pixels (K, 4); the whole picture
    when nothing cuts it. Flat bands between panels belong to none. ``any_ground``: flat
    bands of any brightness cut, near-black and near-white ones too (see the module's
    docstring: only for looks that add candidates)."""
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
    _cut(small, 0, 0, sw, sh, MAX_DEPTH, found, ANY_LEVEL if any_ground else GREY)
    if len(found) <= 1:
        return np.array([[0, 0, w, h]], np.float32)
    fx, fy = w / sw, h / sh
    boxes = np.array(found, np.float32) * np.array([fx, fy, fx, fy], np.float32)
    return np.clip(np.round(boxes), 0, [w, h, w, h]).astype(np.float32)


def ground_shares(
    image: NDArray[np.uint8], panels: NDArray[np.number], which: NDArray[np.bool_] | None = None
) -> NDArray[np.float32]:
    """Per panel (xyxy source pixels, as :func:`find_panels` gives them) of a BGR uint8
    picture, the share of its pixels of the colour of the band around it (the median of a
    ring one shrunk pixel wide just outside it; :data:`GROUND_TOLERANCE`); 0 for panels over
    :data:`PRINTED_AREA` of the picture, for panels whose band is of no colour along the
    picture's edge (:data:`EDGE_SHARE`), for every panel of a picture that is one, and for
    panels ``which`` (a mask, when given) leaves out."""
    p = np.round(np.asarray(panels, np.float64)).astype(np.int64).reshape(-1, 4)
    out = np.zeros(len(p), np.float32)
    h, w = image.shape[:2]
    if len(p) < 2:
        return out
    r = int(np.ceil(max(h, w) / SIDE))
    edge = [image[:r], image[-r:], image[:, :r], image[:, -r:]]
    for i, (x0, y0, x1, y1) in enumerate(p):
        if (which is not None and not which[i]) or x1 <= x0 or y1 <= y0:
            continue
        if (x1 - x0) * (y1 - y0) > PRINTED_AREA * w * h:
            continue
        ring = [image[max(0, y0 - r) : y0, x0:x1], image[y1 : y1 + r, x0:x1],
                image[y0:y1, max(0, x0 - r) : x0], image[y0:y1, x1 : x1 + r]]
        around = np.concatenate([part.reshape(-1, 3) for part in ring])
        if not len(around):
            continue
        ground = np.median(around, axis=0)
        if _share_of(edge, ground) < EDGE_SHARE:
            continue  # not the interface's ground: a plate's own, around its characters
        out[i] = _share_of([image[y0:y1, x0:x1]], ground)
    return out


def _share_of(parts: list[NDArray[np.uint8]], colour: NDArray[np.floating]) -> float:
    """The share of the pixels of ``parts`` (BGR uint8 pictures) within
    :data:`GROUND_TOLERANCE` of ``colour`` in every channel."""
    lo = np.clip(np.ceil(colour - GROUND_TOLERANCE), 0, 255)
    hi = np.clip(np.floor(colour + GROUND_TOLERANCE), 0, 255)
    near = sum(cv2.countNonZero(cv2.inRange(part, lo, hi)) for part in parts if part.size)
    return near / max(1, sum(part.shape[0] * part.shape[1] for part in parts))


def printed(image: NDArray[np.uint8], boxes: NDArray[np.floating], panels: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which boxes (xyxy source pixels, (N, 4)) of a BGR uint8 picture divided into
    ``panels`` lie on text printed on its interface: at most :data:`ON_PICTURES` of the box
    in panels over :data:`PRINTED_AREA` of the picture (its frames and crops), and the small
    panels it overlaps, weighted by the overlap, at least :data:`PRINTED_SHARE` of their
    ground's colour (:func:`ground_shares`). A photograph of a plate, however small its
    panel, has its own colours."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    p = np.asarray(panels, np.float64).reshape(-1, 4)
    if len(p) < 2 or not len(b):
        return np.zeros(len(b), bool)
    h, w = image.shape[:2]
    large = box_area(p, np.float64) > PRINTED_AREA * w * h
    overlap = intersection_matrix(b, p, np.float64)  # (boxes, panels)
    area = np.maximum(box_area(b, np.float64), 1e-9)
    on_interface = overlap[:, large].sum(axis=1) <= ON_PICTURES * area
    small = overlap[:, ~large]
    touched = small.sum(axis=1)
    if not (on_interface & (touched > 0)).any():
        return np.zeros(len(b), bool)
    shares = ground_shares(image, p, ~large & (overlap[on_interface].sum(axis=0) > 0))[~large]
    ground = (small * shares[None, :]).sum(axis=1) / np.maximum(touched, 1e-9)
    return np.asarray(on_interface & (touched > 0) & (ground >= PRINTED_SHARE), bool)


def _cut(small: NDArray[np.float32], x0: int, y0: int, x1: int, y1: int, depth: int,
         out: list[tuple[int, int, int, int]], levels: tuple[float, float]) -> None:
    part = small[:, y0:y1, x0:x1]
    for axis in (0, 1):  # rows (cut across), then columns
        runs = _content(part, axis, levels)
        if depth > 0 and runs != [(0, part.shape[axis + 1])]:  # cut, or trimmed of a band at its edge
            for a, b in runs:
                if axis == 0:
                    _cut(small, x0, y0 + a, x1, y0 + b, depth - 1, out, levels)
                else:
                    _cut(small, x0 + a, y0, x0 + b, y1, depth - 1, out, levels)
            return
    out.append((x0, y0, x1, y1))


def _content(part: NDArray[np.float32], axis: int, levels: tuple[float, float]) -> list[tuple[int, int]]:
    """Runs [a, b) of rows (axis 0) or columns (axis 1) between flat bands of at least
    MIN_BAND whose mean brightness lies strictly inside ``levels``; the whole extent when
    there are none."""
    along = 2 if axis == 0 else 1  # part is channel first: (B G R luma, rows, columns)
    n, length = part.shape[axis + 1], part.shape[along]
    if n < 3 * MIN_BAND or length < 2:
        return [(0, n)]
    spread = part.std(axis=along)  # (4, n)
    level = part[:3].mean(axis=(0, along))
    flat = (spread[3] < FLAT_STD) & (spread[:3].max(axis=0) < COLOUR_STD) & (level > levels[0]) & (level < levels[1])
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


def panel_of(boxes: NDArray[np.floating], panels: NDArray[np.floating]) -> NDArray[np.int64]:
    """The index of the panel holding each box's centre (xyxy, (N, 4)); -1 where none does,
    and 0 for every box where the picture is one panel (or none is given)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    p = np.asarray(panels, np.float64).reshape(-1, 4)
    if len(p) <= 1 or not len(b):
        return np.zeros(len(b), np.int64)
    inside = centres_inside(b, p).T  # (boxes, panels)
    return np.where(inside.any(axis=1), inside.argmax(axis=1), -1).astype(np.int64)


def panel_areas(
    boxes: NDArray[np.floating], panels: NDArray[np.floating], width: int, height: int
) -> NDArray[np.float64]:
    """The area each box (xyxy, (N, 4)) is measured against: that of the panel holding its
    centre where the picture is composed of two or more panels (a dashboard's feed, crop or
    second frame), else the whole picture's."""
    p = np.asarray(panels, np.float64).reshape(-1, 4)
    which = panel_of(boxes, p)
    out = np.full(len(which), float(max(width * height, 1)))
    if len(p) <= 1:
        return out
    held = which >= 0
    out[held] = np.maximum(box_area(p[which[held]], np.float64), 1.0)
    return out
