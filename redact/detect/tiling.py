"""Multi-scale, tiled inference: resize a picture, cut it into overlapping tiles, map boxes back.

Coordinates are pixels, ``xyxy`` with exclusive right/bottom bounds. A *pass* resizes
the source by a factor, cuts the result into tiles no larger than ``tile`` pixels a side
(overlapping by at least ``overlap`` pixels so an object cut by one tile edge is whole
in a neighbour: :func:`redact.detect.tiles.tile_grid`), runs the model on each tile and
maps the boxes back to source pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.blobs import UNSHARP_SIGMA, is_grey, lifted, resize, resized_size, unsharp
from redact.detect.tiles import Tile, tile_grid

# Runs a model on one BGR uint8 picture (h, w, 3) and returns (xyxy float32 (N, 4) in that
# picture's pixels, score float32 (N,)).
InferFn = Callable[[NDArray[np.uint8]], tuple[NDArray[np.float32], NDArray[np.float32]]]


@dataclass(frozen=True)
class Pass:
    """One inference pass over a picture.

    Attributes:
        scale: resize factor applied to the source before inference (2.0 doubles it).
        fit: if set, resize so the longer side is ``fit`` pixels instead of using ``scale``;
            the pass is skipped when the source's longer side is already ``<= fit``.
        tile: largest tile side in resized pixels; ``None`` runs on the whole resized picture.
        tile_pixels: largest tile area in resized pixels (bounds a run's working memory where
            ``tile`` alone allows 1600 x 1600); ``None``: only ``tile`` bounds it.
        overlap: least overlap between tiles in resized pixels.
        max_side: skip the pass when the source's longer side exceeds this (for upscaling
            passes meant for small pictures); ``None`` means never skip.
        min_side: skip the pass when the source's longer side is at most this (a picture
            that small has a stronger upscaling pass); ``None`` means never skip.
        max_box: keep only boxes whose shorter side is below this many source pixels (an
            upscaled pass is there for small objects; larger ones come from other passes).
        min_box: keep only boxes whose shorter side is at least this many source pixels (a
            downscaled pass is there for objects filling the frame).
        score_boost: added to this pass's scores (capped at 1): networks score an object
            seen through heavy upscaling lower than the same object seen large, so a
            small-object pass may count its (few, size-filtered) boxes as more certain.
        sharp: enlarge with bicubic rather than bilinear interpolation: the strokes of a
            small, dim plate's characters keep their edges.
        grey: run on the picture's luma (the same grey in every channel): a network that
            misses a small plate under coloured light or in a tinted, compressed frame can
            find it by its contrast alone.
        max_height_ratio: keep only boxes at most this many times as high as wide (a pass
            looking for plates' lines of characters, not square signs and lamps); a box
            the left or right edge of the part looked at cuts is judged as if that edge
            hid up to half of it (:data:`EDGE_HIDDEN`).
        unsharp: sharpen the pass's picture by this amount of an unsharp mask (the picture
            less its blur of :data:`~redact.detect.blobs.UNSHARP_SIGMA` px): where soft
            focus, motion or an enlarged export runs a small plate's strokes together, the
            network finds it by the edges the mask gives back; 0 leaves the picture as it is.
        lift: run on the picture with its lightness equalised locally and stretched
            (:func:`~redact.detect.blobs.lifted`): a dim plate on a dark night frame, its
            characters a few levels above their ground, is found once its own surroundings
            set the contrast.
    """

    scale: float = 1.0
    fit: int | None = None
    tile: int | None = None
    tile_pixels: int | None = None
    overlap: int = 128
    max_side: int | None = None
    min_side: int | None = None
    max_box: float | None = None
    min_box: float | None = None
    score_boost: float = 0.0
    sharp: bool = False
    grey: bool = False
    max_height_ratio: float | None = None
    unsharp: float = 0.0
    lift: bool = False

    def factor(self, width: int, height: int) -> float | None:
        """Resize factor for a source of this size, or ``None`` when the pass is skipped."""
        side = max(width, height)
        if self.max_side is not None and side > self.max_side:
            return None
        if self.min_side is not None and side <= self.min_side:
            return None
        if self.fit is not None:
            if side <= self.fit:
                return None
            return self.fit / side
        return self.scale


# An enlarging pass whose resized picture would be larger than this many pixels (a 4K frame)
# renders each tile from the source on its own instead: a 1.5x look at a 24-Mpx still holds
# one tile at a time, not a 54-Mpx copy (160 MB).
WHOLE_RESIZE_PIXELS = 3840 * 2160
# A plate that the picture's (or a window's) left or right edge cuts shows only part of its
# width: its box is judged by max_height_ratio as up to this many times as wide as seen, so
# the half of a plate left in the frame, its characters readable, is still a plate's shape.
# Boxes within EDGE_PX source pixels of the edge count as cut.
EDGE_HIDDEN = 2.0
EDGE_PX = 2.0


@dataclass(frozen=True, eq=False)
class PassPlan:
    """One pass over one picture before inference: the resized window and its tiles.

    Attributes:
        source: the window of the source picture the pass looks at (grey where the pass
            is), BGR uint8.
        scaled: ``source`` resized by the pass's factor (and sharpened where the pass
            is), BGR uint8 (sh, sw, 3); ``None`` where each tile is rendered on its own
            (:data:`WHOLE_RESIZE_PIXELS`).
        scaled_size: the resized window's (width, height), pixels.
        roi: the window in source pixels, clipped to the picture.
        tiles: windows of the resized picture the network runs on, all of one size.
        size: the source picture's (width, height), pixels.
        spec: the pass.
    """

    source: NDArray[np.uint8]
    scaled: NDArray[np.uint8] | None
    scaled_size: tuple[int, int]
    roi: Tile
    tiles: list[Tile]
    size: tuple[int, int]
    spec: Pass

    def crops(self) -> Iterator[NDArray[np.uint8]]:
        """The tiles' pictures, in the order of ``tiles``: views of ``scaled``, or each
        rendered from ``source`` when it is asked for."""
        for t in self.tiles:
            if self.scaled is not None:
                yield self.scaled[t.y0 : t.y1, t.x0 : t.x1]
            else:
                yield render_tile(self.source, self.scaled_size, t, sharp=self.spec.sharp, amount=self.spec.unsharp)


def render_tile(
    source: NDArray[np.uint8], scaled_size: tuple[int, int], tile: Tile, *, sharp: bool, amount: float
) -> NDArray[np.uint8]:
    """One tile of ``source`` enlarged to ``scaled_size`` (width, height), made from the
    source pixels under it: the same sampling as resizing the whole picture
    (:func:`redact.detect.blobs.resize`; OpenCV's pixel centres, borders repeated) and, with
    ``amount``, the same unsharp mask (a margin of resized pixels around the tile feeds the
    blur)."""
    h, w = source.shape[:2]
    fx, fy = scaled_size[0] / w, scaled_size[1] / h
    margin = math.ceil(4 * UNSHARP_SIGMA) if amount else 0
    x0, y0 = tile.x0 - margin, tile.y0 - margin
    # Resized pixel (u, v) of the window samples source ((u + x0 + 0.5) / fx - 0.5, ...).
    matrix = np.array([[1 / fx, 0, (x0 + 0.5) / fx - 0.5], [0, 1 / fy, (y0 + 0.5) / fy - 0.5]], np.float64)
    size = (tile.width + 2 * margin, tile.height + 2 * margin)
    interp = cv2.INTER_CUBIC if sharp else cv2.INTER_LINEAR
    out = cv2.warpAffine(
        source, matrix, size, flags=interp | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    if amount:
        out = unsharp(out, amount)[margin : margin + tile.height, margin : margin + tile.width]
    return np.ascontiguousarray(out)


def empty_boxes() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def _grid(
    width: int, height: int, spec: Pass, roi: Tile | None
) -> tuple[float, Tile, tuple[int, int], list[Tile]] | None:
    """A pass's factor for a ``width`` x ``height`` picture, its window (``roi`` clipped to
    the picture; the whole picture when ``None``), the window's resized (width, height) and
    the tiles cut from it (resized pixels); ``None`` when the pass skips the picture or the
    window is empty."""
    factor = spec.factor(width, height)
    if factor is None:
        return None
    roi = Tile(0, 0, width, height) if roi is None else roi
    roi = Tile(max(0, roi.x0), max(0, roi.y0), min(width, roi.x1), min(height, roi.y1))
    if roi.width <= 0 or roi.height <= 0:
        return None
    sw, sh = resized_size(roi.width, roi.height, factor)
    tiles = [Tile(0, 0, sw, sh)] if spec.tile is None else tile_grid(sw, sh, spec.tile, spec.overlap, spec.tile_pixels)
    return factor, roi, (sw, sh), tiles


def plan_pass(image: NDArray[np.uint8], spec: Pass, roi: Tile | None = None) -> PassPlan | None:
    """What one pass runs the network on (see :func:`run_pass`); ``None`` when the pass
    is skipped for this picture (a grey pass that sharpens nothing, for a window already
    grey too) or the window is empty."""
    h, w = image.shape[:2]
    grid = _grid(w, h, spec, roi)
    if grid is None:
        return None
    factor, roi, (sw, sh), tiles = grid
    crop = image[roi.y0 : roi.y1, roi.x0 : roi.x1]
    if spec.lift:
        crop = lifted(crop)
    elif spec.grey:
        already = is_grey(crop)
        if already and not spec.unsharp:  # the colour passes saw the same picture
            return None
        if not already:
            crop = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    scaled: NDArray[np.uint8] | None = None
    if factor <= 1.0 or len(tiles) == 1 or sw * sh <= WHOLE_RESIZE_PIXELS:
        scaled = resize(crop, factor, sharp=spec.sharp)
        if spec.unsharp:
            scaled = unsharp(scaled, spec.unsharp)
    return PassPlan(crop, scaled, (sw, sh), roi, tiles, (w, h), spec)


def finish_pass(
    plan: PassPlan, results: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Boxes of one pass in source pixels, from the network's results on each of the plan's
    tiles (in tile order): mapped back, clipped, size-filtered and boosted."""
    w, h = plan.size
    roi, spec = plan.roi, plan.spec
    sw, sh = plan.scaled_size
    boxes: list[NDArray[np.float32]] = []
    scores: list[NDArray[np.float32]] = []
    for t, (xyxy, score) in zip(plan.tiles, results, strict=True):
        if len(xyxy):
            offset = np.array([roi.x0, roi.y0, roi.x0, roi.y0], np.float32)
            boxes.append(to_source(xyxy, t, sw / roi.width, sh / roi.height) + offset)
            scores.append(score)
    if not boxes:
        return empty_boxes()
    out = np.concatenate(boxes)
    out[:, 0::2] = np.clip(out[:, 0::2], 0, w)
    out[:, 1::2] = np.clip(out[:, 1::2], 0, h)
    score = np.concatenate(scores).astype(np.float32)
    side = np.minimum(out[:, 2] - out[:, 0], out[:, 3] - out[:, 1])
    keep = np.ones(len(out), bool)
    if spec.max_box is not None:
        keep &= side < spec.max_box
    if spec.min_box is not None:
        keep &= side >= spec.min_box
    if spec.max_height_ratio is not None:
        width = out[:, 2] - out[:, 0]
        cut = (out[:, 0] <= roi.x0 + EDGE_PX) | (out[:, 2] >= roi.x1 - EDGE_PX)
        keep &= out[:, 3] - out[:, 1] <= spec.max_height_ratio * np.where(cut, EDGE_HIDDEN * width, width)
    out, score = out[keep], np.minimum(score[keep] + spec.score_boost, 1.0)
    return out.astype(np.float32), score.astype(np.float32)


def source_tiles(width: int, height: int, spec: Pass, roi: Tile | None = None) -> list[Tile]:
    """The tiles a pass over a ``width`` x ``height`` picture (or only its window ``roi``, as
    :func:`run_pass` looks at one) runs on, in source pixels, rounded outwards; none where
    the pass skips the picture. A tile's edges inside the picture are where it cuts what
    lies across them (:func:`cut_sides`)."""
    grid = _grid(width, height, spec, roi)
    if grid is None:
        return []
    _, roi, (sw, sh), tiles = grid
    fx, fy = sw / roi.width, sh / roi.height
    return [Tile(roi.x0 + math.floor(t.x0 / fx), roi.y0 + math.floor(t.y0 / fy),
                 min(roi.x1, roi.x0 + math.ceil(t.x1 / fx)), min(roi.y1, roi.y0 + math.ceil(t.y1 / fy)))
            for t in tiles]


def cut_sides(
    box: NDArray[np.floating], tiles: Sequence[Tile], width: int, height: int, reach: float
) -> NDArray[np.bool_]:
    """Which sides of ``box`` (xyxy source pixels: left, top, right, bottom) lie up to
    ``reach`` pixels inside an inner edge of a tile they are in, or up to half that outside
    it (a box grows past what its tile saw), ``tiles`` as :func:`source_tiles` gives them:
    there the tile may have cut what the box holds."""
    x0, y0, x1, y1 = (float(v) for v in box)

    def near(inside: float) -> bool:
        return -reach / 2 <= inside <= reach

    out = np.zeros(4, bool)
    for t in tiles:
        if x1 <= t.x0 or x0 >= t.x1 or y1 <= t.y0 or y0 >= t.y1:
            continue
        out |= [
            t.x0 > 0 and near(x0 - t.x0),
            t.y0 > 0 and near(y0 - t.y0),
            t.x1 < width and near(t.x1 - x1),
            t.y1 < height and near(t.y1 - y1),
        ]
    return out


def run_pass(
    infer: InferFn, image: NDArray[np.uint8], spec: Pass, roi: Tile | None = None
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Run one pass and return boxes in source pixels.

    Args:
        infer: the network's forward pass on one picture.
        image: the whole BGR picture; the pass's scale is decided by its size.
        spec: the pass.
        roi: run only on this window of ``image`` (source pixels, at the scale the pass
            would use on the whole picture, so a window sees what a whole-picture pass sees
            there); ``None`` runs on the whole picture.

    Returns:
        (xyxy float32 (N, 4) in source pixels clipped to the picture, score float32 (N,)).
    """
    plan = plan_pass(image, spec, roi)
    if plan is None:
        return empty_boxes()
    return finish_pass(plan, [infer(crop) for crop in plan.crops()])


def expand_boxes(xyxy: NDArray[np.floating], frac: float, width: int, height: int) -> NDArray[np.float32]:
    """Grow boxes by ``frac`` of their width/height on each side, clipped to the picture."""
    out = np.asarray(xyxy, np.float32).reshape(-1, 4).copy()
    if frac == 0.0 or not len(out):
        return out
    dw = (out[:, 2] - out[:, 0]) * frac
    dh = (out[:, 3] - out[:, 1]) * frac
    out[:, 0] = np.clip(out[:, 0] - dw, 0, width)
    out[:, 2] = np.clip(out[:, 2] + dw, 0, width)
    out[:, 1] = np.clip(out[:, 1] - dh, 0, height)
    out[:, 3] = np.clip(out[:, 3] + dh, 0, height)
    return out


def to_source(xyxy: NDArray[np.floating], tile: Tile, fx: float, fy: float) -> NDArray[np.float32]:
    """Map boxes from tile pixels to source pixels.

    Args:
        xyxy: (N, 4) boxes in the tile's pixels.
        tile: the tile's window in the resized picture.
        fx: resized width / source width.
        fy: resized height / source height.
    """
    out = np.asarray(xyxy, np.float64).copy()
    out[:, 0::2] = (out[:, 0::2] + tile.x0) / fx
    out[:, 1::2] = (out[:, 1::2] + tile.y0) / fy
    return out.astype(np.float32)


def decode_threshold(threshold: float, passes: Sequence[Pass]) -> float:
    """The score an ``infer`` call must keep so boosted passes can still reach ``threshold``."""
    return max(0.0, threshold - max((p.score_boost for p in passes), default=0.0))


def scoring_at_least(
    parts: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]], threshold: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Passes' (xyxy, score) in one, keeping the boxes scoring at least ``threshold``."""
    xyxy = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 4), np.float32)
    score = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.float32)
    keep = score >= threshold
    return xyxy[keep].astype(np.float32).reshape(-1, 4), score[keep].astype(np.float32)


def run_passes(
    infer: InferFn,
    image: NDArray[np.uint8],
    passes: Sequence[Pass],
    threshold: float = 0.0,
    rois: Sequence[Tile] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Run several passes and concatenate their boxes scoring at least ``threshold``
    (after each pass's boost; source pixels, unmerged). ``rois``: only these windows of the
    picture (see :func:`run_pass`); ``None`` is the whole picture."""
    windows: Sequence[Tile | None] = [None] if rois is None else rois
    return scoring_at_least([run_pass(infer, image, p, roi) for p in passes for roi in windows], threshold)
