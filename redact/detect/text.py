"""Text detector (PP-OCRv4's DBNet, Apache-2.0): the context-free opinion for plates.

A plate matters when it can be read, and what can be read is text: the network finds
characters whether or not a car surrounds them, at any zoom, by day or night. Its output
is a per-pixel text probability map; :func:`text_boxes` turns it into rotated text boxes
the way PaddleOCR's ``DBPostProcess`` does (threshold, contours, minimum-area rectangles,
mean probability inside, "unclip" growth), and :func:`plate_like` keeps those shaped like
the characters of a licence plate, grown to cover the plate around them.

Input: a BGR picture, ``(pixel / 255 - 0.5) / 0.5``, NCHW, sides multiples of 32 (any size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.blobs import pad_to_multiple, to_blob
from redact.detect.merge import nms
from redact.detect.passes import Boxes, PassDetector
from redact.detect.tiles import Tile
from redact.detect.tiling import Pass, source_tiles
from redact.types import Detections, Label


@dataclass(frozen=True)
class TextGeometry:
    """What a text box must look like to be a plate's characters, and how it grows.

    Sizes are in the pixels of the picture the network saw (a pass's resized picture).

    Attributes:
        bin_threshold: probability a pixel needs to belong to text.
        min_height: shorter side of the text box (after unclip), pixels.
        min_aspect: least longer/shorter side ratio of a plate's line of characters.
        min_second_aspect: least ratio of a shorter line (one to three characters), kept
            only as a line of a two-line plate: stacked on a plate-shaped line or on
            another such short line (:func:`stacked_on`).
        max_aspect: largest ratio of a plate's line of characters.
        max_line_aspect: longer lines (captions, headers) are kept up to this ratio for the
            recogniser to look for a plate's characters in (a dashboard prints the plate it
            read); :mod:`redact.detect.reading` keeps only those stretches of them.
        max_tilt: largest angle from horizontal, degrees (plates are seen roughly level).
        unclip: DBNet's growth of the shrunk text kernel, as PaddleOCR uses it.
        grow_x, grow_y: growth per side, fraction of the text box's width/height, from the
            characters out to the plate's border.
    """

    bin_threshold: float = 0.3
    min_height: float = 6.0
    min_aspect: float = 2.0
    min_second_aspect: float = 0.8
    max_aspect: float = 6.0
    max_line_aspect: float = 40.0
    max_tilt: float = 30.0
    unclip: float = 1.6
    grow_x: float = 0.06
    grow_y: float = 0.15


# DBNet's box probability is put on the plate network's scale so one plate threshold judges
# both: this probability lands on the default plate threshold (a lower --plate-threshold
# then takes fainter text too).
TEXT_SCORE_AT = 0.5
PLATE_SCORE_AT = 0.3


# Plate-shaped lines only, no longer lines: for a look whose boxes are not read
# (redact.detect.vehicle_zoom).
PLATE_SHAPED = TextGeometry(max_line_aspect=TextGeometry.max_aspect)

# A text box (as :func:`plate_like` gives it) wider than this many times its height is a line
# of text longer than a plate's: a plate-shaped box is at most ``max_aspect`` (6) times as
# long as high, its grown hull at most 6 x 1.12 / 1.3 = 5.2 times; a line's box at least
# 6 x cos 30° + sin 30° = 5.7 times.
LINE_ASPECT = 5.5


def is_line(
    xyxy: NDArray[np.floating], height: int | None = None, windows: Sequence[Tile] | None = None
) -> NDArray[np.bool_]:
    """Which text boxes (xyxy, (N, 4)) are lines of text longer than a plate's (:data:`LINE_ASPECT`).

    ``height``: the picture's; ``windows``: those the boxes were looked for in. A box the
    picture's or a window's top or bottom cuts is never a line (cut short, a plate-shaped box
    can look as long as one)."""
    box = np.asarray(xyxy, np.float64).reshape(-1, 4)
    line = box[:, 2] - box[:, 0] > LINE_ASPECT * np.maximum(box[:, 3] - box[:, 1], 1e-6)
    if height is not None:
        line &= (box[:, 1] > 1.0) & (box[:, 3] < height - 1.0)
    for w in windows or ():
        across = (box[:, 0] < w.x1) & (box[:, 2] > w.x0)
        line &= ~(across & ((np.abs(box[:, 1] - w.y0) <= 1.0) | (np.abs(box[:, 3] - w.y1) <= 1.0)))
    return np.asarray(line, bool)


# Text boxes are lines of one stack (stacked_lines) when they overlap across by this share of
# the narrower, differ in height by at most this ratio and lie at most this share of the
# lower one's height apart; rows of a stack are this share of a line's height apart or more.
STACK_OVERLAP = 0.5
STACK_HEIGHTS = 1.5
STACK_GAP = 0.5
STACK_ROW = 0.5
# The other line of a two-line plate (square European and motorcycle plates, many Asian
# plates: "BIM" over "MIAN", "京A" over "12345", "B 6" over "RCV") may be too short to be
# shaped like a plate's line on its own. It is one where it lies directly above or below a
# plate-shaped line or another short line: as a stack's lines do, but its height within
# SECOND_HEIGHTS of the other's (a Japanese plate's upper line is about half as high as its
# lower).
SECOND_HEIGHTS = 2.0
# A plate box (as plate_like grows it) narrower than this many times its height is such a
# short line: a plate-shaped line's box is at least min_aspect (2) x 1.12 / 1.3 times as wide.
SHORT_ASPECT = 1.7


def _linked(
    box: NDArray[np.float64], on: NDArray[np.float64], *, heights: float, row: float = 0.0
) -> NDArray[np.bool_]:
    """(N, M): which boxes of ``box`` lie one above another with which of ``on``:
    overlapping across by :data:`STACK_OVERLAP` of the narrower, their heights within
    ``heights`` of each other, at most :data:`STACK_GAP` of the lower one's height apart,
    and their middles ``row`` of the higher one's height apart or more. Symmetric."""
    w, h = box[:, None, 2] - box[:, None, 0], np.maximum(box[:, None, 3] - box[:, None, 1], 1e-6)
    lw, lh = on[None, :, 2] - on[None, :, 0], np.maximum(on[None, :, 3] - on[None, :, 1], 1e-6)
    across = np.minimum(box[:, None, 2], on[None, :, 2]) - np.maximum(box[:, None, 0], on[None, :, 0])
    gap = np.maximum(box[:, None, 1], on[None, :, 1]) - np.minimum(box[:, None, 3], on[None, :, 3])
    apart = np.abs((box[:, None, 1] + box[:, None, 3]) - (on[None, :, 1] + on[None, :, 3])) / 2
    return np.asarray(
        (across >= STACK_OVERLAP * np.minimum(w, lw))
        & (np.maximum(h, lh) <= heights * np.minimum(h, lh))
        & (gap <= STACK_GAP * np.minimum(h, lh))
        & (apart >= row * np.maximum(h, lh)),
        bool,
    )


def _groups(linked: NDArray[np.bool_]) -> list[NDArray[np.int64]]:
    """The connected groups of a symmetric (N, N) link matrix, as sorted indices, in the
    order of their first member."""
    seen = np.zeros(len(linked), bool)
    out = []
    for start in range(len(linked)):
        if seen[start]:
            continue
        group, k = [start], 0
        seen[start] = True
        while k < len(group):
            near = np.flatnonzero(linked[group[k]] & ~seen)
            seen[near] = True
            group.extend(int(j) for j in near)
            k += 1
        out.append(np.array(sorted(group), np.int64))
    return out


def stacked_on(xyxy: NDArray[np.floating], lines: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which boxes of ``xyxy`` (N, 4) lie directly above or below one of ``lines`` (M, 4):
    overlapping it across by :data:`STACK_OVERLAP` of the narrower, their heights within
    :data:`SECOND_HEIGHTS` of each other, at most :data:`STACK_GAP` of the lower one's height
    apart and a row away (their middles :data:`STACK_ROW` of the higher one's height apart
    or more: a piece of the same line is not stacked on it)."""
    box = np.asarray(xyxy, np.float64).reshape(-1, 4)
    on = np.asarray(lines, np.float64).reshape(-1, 4)
    if not len(box) or not len(on):
        return np.zeros(len(box), bool)
    return np.asarray(_linked(box, on, heights=SECOND_HEIGHTS, row=STACK_ROW).any(axis=1), bool)


def two_line_plates(text: Detections) -> Detections:
    """``text`` (plate boxes as :func:`plate_like` grows them) with each short line (a box
    under :data:`SHORT_ASPECT` times as wide as high: one to three characters) joined with
    the boxes it lies on or under (:func:`stacked_on`), plate-shaped or short: a two-line
    plate's lines as one box, scored as its surest line. Lines longer than a plate's are
    never joined."""
    if len(text) < 2:
        return text
    xyxy = text.xyxy.astype(np.float64)
    short = (xyxy[:, 2] - xyxy[:, 0]) < SHORT_ASPECT * (xyxy[:, 3] - xyxy[:, 1])
    if not short.any():
        return text
    joinable = ~is_line(xyxy)
    linked = _linked(xyxy, xyxy, heights=SECOND_HEIGHTS, row=STACK_ROW)
    linked &= (short[:, None] | short[None, :]) & joinable[:, None] & joinable[None, :]
    if not linked.any():
        return text
    groups = _groups(linked)
    out = text[np.array([g[0] for g in groups])]
    boxes, scores = out.xyxy.copy(), out.score.copy()
    for k, members in enumerate(groups):
        boxes[k] = [*xyxy[members, :2].min(axis=0), *xyxy[members, 2:].max(axis=0)]
        scores[k] = text.score[members].max()
    return out.replace(xyxy=boxes, score=scores)


def stacked_lines(xyxy: NDArray[np.floating], rows: int) -> list[NDArray[np.int64]]:
    """Stacks of text boxes (xyxy, (N, 4)) at least ``rows`` rows deep: each a connected
    set of boxes one above another (:data:`STACK_OVERLAP`, :data:`STACK_HEIGHTS`,
    :data:`STACK_GAP`), as indices into ``xyxy``. The same line boxed twice (two passes)
    counts as one row."""
    box = np.asarray(xyxy, np.float64).reshape(-1, 4)
    if len(box) < rows:
        return []
    h = np.maximum(box[:, 3] - box[:, 1], 1e-6)
    out = []
    for group in _groups(_linked(box, box, heights=STACK_HEIGHTS)):
        centre = (box[group, 1] + box[group, 3]) / 2
        depth, last = 0, -np.inf
        for i in np.argsort(centre):
            if centre[i] - last > STACK_ROW * h[group[i]]:
                depth, last = depth + 1, centre[i]
        if depth >= rows:
            out.append(group)
    return out


def to_plate_score(text_score: NDArray[np.floating]) -> NDArray[np.float32]:
    """DBNet's box probability on the plate label's scale: monotonic, piecewise linear,
    :data:`TEXT_SCORE_AT` to :data:`PLATE_SCORE_AT`, 0 to 0 and 1 to 1."""
    t, p = TEXT_SCORE_AT, PLATE_SCORE_AT
    s = np.asarray(text_score, np.float64)
    out = np.where(s >= t, p + (s - t) * (1.0 - p) / (1.0 - t), s * p / t)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def from_plate_score(score: float) -> float:
    """The DBNet probability whose plate-scale score is ``score`` (inverse of :func:`to_plate_score`)."""
    t, p = TEXT_SCORE_AT, PLATE_SCORE_AT
    return float(t + (score - p) * (1.0 - t) / (1.0 - p)) if score >= p else float(score * t / p)


def text_boxes(
    prob: NDArray[np.float32], *, bin_threshold: float, min_score: float, unclip: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Rotated text boxes in a DBNet probability map.

    Args:
        prob: (h, w) text probability per pixel of the network's input.
        bin_threshold: probability a pixel needs to belong to text.
        min_score: least mean probability inside a box.
        unclip: growth of each box: its area times this over its perimeter, per side.

    Returns:
        (rects float32 (N, 5): centre x, centre y, width, height (pixels), angle (degrees,
        OpenCV's ``minAreaRect`` convention); score float32 (N,): mean probability).
    """
    mask = cv2.dilate((prob > bin_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    h, w = prob.shape
    rects: list[tuple[float, float, float, float, float]] = []
    scores: list[float] = []
    for contour in contours:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < 3:
            continue
        pts = cv2.boxPoints(((cx, cy), (rw, rh), angle))
        x0, y0 = (int(np.clip(np.floor(pts[:, i].min()), 0, s - 1)) for i, s in ((0, w), (1, h)))
        x1, y1 = (int(np.clip(np.ceil(pts[:, i].max()), 0, s - 1)) for i, s in ((0, w), (1, h)))
        inside = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
        cv2.fillPoly(inside, [np.round(pts - [x0, y0]).astype(np.int32)], 1)
        score = float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], inside)[0])
        if score < min_score:
            continue
        grow = rw * rh * unclip / (2.0 * (rw + rh))
        rw, rh = rw + 2 * grow, rh + 2 * grow
        if min(rw, rh) < 5:
            continue
        rects.append((cx, cy, rw, rh, angle))
        scores.append(score)
    if not rects:
        return np.zeros((0, 5), np.float32), np.zeros(0, np.float32)
    return np.asarray(rects, np.float32), np.asarray(scores, np.float32)


def plate_like(
    rects: NDArray[np.float32], geometry: TextGeometry
) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Which rotated text boxes look like a plate's characters, and the plate around each:
    plate-shaped lines, and shorter lines stacked on one of them or on each other (the
    lines of a two-line plate, :func:`stacked_on`).

    Args:
        rects: (N, 5) rotated boxes as :func:`text_boxes` returns them.
        geometry: the shape rules and growth.

    Returns:
        (keep bool (N,), xyxy float32 (N, 4): each box's axis-aligned hull grown from the
        characters to the plate, pixels, not clipped; for a line longer than a plate's, a
        level box as wide as its hull and as high as the line).
    """
    if not len(rects):
        return np.zeros(0, bool), np.zeros((0, 4), np.float32)
    cx, cy, rw, rh, angle = (rects[:, i].astype(np.float64) for i in range(5))
    # OpenCV reports the angle of the side it calls width; make "long" the reading direction.
    swap = rh > rw
    long = np.where(swap, rh, rw)
    short = np.where(swap, rw, rh)
    tilt = np.abs(((np.where(swap, angle + 90.0, angle) + 90.0) % 180.0) - 90.0)
    aspect = long / np.maximum(short, 1e-6)
    seen = (short >= geometry.min_height) & (tilt <= geometry.max_tilt)
    keep = seen & (aspect >= geometry.min_aspect) & (aspect <= geometry.max_line_aspect)
    few = seen & (aspect >= geometry.min_second_aspect) & (aspect < geometry.min_aspect)
    rad = np.deg2rad(tilt)
    half_w = 0.5 * (long * np.cos(rad) + short * np.sin(rad))
    half_h = 0.5 * (long * np.sin(rad) + short * np.cos(rad))
    half_w = half_w * (1.0 + 2.0 * geometry.grow_x)
    half_h = half_h * (1.0 + 2.0 * geometry.grow_y)
    # A line longer than a plate's: a level box as wide as its hull and as high as the line
    # itself, not grown (is_line tells it from a plate-shaped box by that shape).
    line = aspect > geometry.max_aspect
    half_w = np.where(line, 0.5 * (long * np.cos(rad) + short * np.sin(rad)), half_w)
    half_h = np.where(line, 0.5 * short, half_h)
    xyxy = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1).astype(np.float32)
    # A short line is one as its grown box is too (two_line_plates joins it with its line).
    few &= (xyxy[:, 2] - xyxy[:, 0]) < SHORT_ASPECT * (xyxy[:, 3] - xyxy[:, 1])
    if few.any():
        keep = keep | (few & stacked_on(xyxy, xyxy[(keep & ~line) | few]))
    return keep, xyxy


class TextPlate(PassDetector):
    """Plate regions from text: DBNet's text boxes shaped like plate characters.

    Scores are DBNet's mean text probability inside each box, on the plate scale
    (:func:`to_plate_score`): one per-label threshold judges both plate opinions.

    Attributes:
        name: registry name.
        label: ``"plate"``: text regions are redacted as plates.
        threshold: the plate label's score threshold (on the mapped scale).
        passes: the resize/tile passes run by :meth:`detect`.
    """

    name = "text_plate"
    label = Label.PLATE.value

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float = PLATE_SCORE_AT,
        passes: Sequence[Pass] = (Pass(tile=1600, overlap=160),),
        threads: int | None = None,
        cpu_only: bool = False,
        nms_iou: float = 0.5,
        geometry: TextGeometry | None = None,
    ) -> None:
        super().__init__(model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only, nms_iou=nms_iou)
        self.geometry = geometry or TextGeometry()

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        return to_blob(pad_to_multiple(image, 32, 0), rgb=False, scale=2.0 / 255.0, mean=(127.5, 127.5, 127.5))

    def tiles(self, width: int, height: int, rois: Sequence[Tile] | None = None) -> list[Tile]:
        """The tiles its passes look at a ``width`` x ``height`` picture in (inside ``rois``
        when given), source pixels: a line of characters longer than the tiles' overlap is
        whole in neither of two neighbours, and each may see only its own part of it."""
        windows: Sequence[Tile | None] = [None] if rois is None else rois
        return [t for spec in self.passes for roi in windows for t in source_tiles(width, height, spec, roi)]

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> Boxes:
        """Plate regions (xyxy float32 (N, 4) in the picture's pixels, clipped) and their
        scores on the plate scale, NMS-ed."""
        h, w = size
        prob = outputs[0][0, 0, :h, :w]
        g = self.geometry
        least = from_plate_score(self._decode_threshold)
        rects, text_score = text_boxes(prob, bin_threshold=g.bin_threshold, min_score=least, unclip=g.unclip)
        keep, xyxy = plate_like(rects, g)
        xyxy, score = xyxy[keep], to_plate_score(text_score[keep])
        np.clip(xyxy[:, 0::2], 0, w, out=xyxy[:, 0::2])
        np.clip(xyxy[:, 1::2], 0, h, out=xyxy[:, 1::2])
        # A line never suppresses a plate-shaped box: the reader keeps only parts of lines.
        line = is_line(xyxy, h)
        idx = np.concatenate([np.flatnonzero(m)[nms(xyxy[m], score[m], self.nms_iou)] for m in (~line, line)])
        return xyxy[idx], score[idx]
