"""Pictures stored on their side or upside down, looked at in every orientation.

A photo saved without its orientation tag where the camera was held on its side (or a camera
mounted upside down) shows its faces and plates on their side or upside down, and the
networks, trained on upright pictures, find few of them (docs/performance.md, "Pictures on
their side"). :class:`AllTurns` wraps a detector set so that it also looks at each picture
turned a quarter, a half and three quarters, and gives every box back in the picture's own
pixels, fused with what it found upright.

Faces and plates are taken from every look: whichever way a picture is stored, one of them
sees them upright. Occupant regions (vehicles' window zones, the upper part of a vehicle's
box as the look saw it) are taken from the look at the picture as stored and from the look
that shows it upright, where that is a turned one (a picture stored on its side): a car the
network makes out in a turned look of an upright street is a weaker, turned box whose
"upper part" is its side or its wheels. The look that shows the picture upright is the one
whose boxes score most, a look's score counted once more for each of its vehicles that
carries its plate low in its box (:func:`carrying`): a look upside down finds the plates as
well, at the top of the car, and often scores as much.

Boxes are ``xyxy`` pixels, exclusive right/bottom; turns are quarter turns anticlockwise
(``numpy.rot90``'s ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.base import WrappedSet
from redact.detect.merge import merge_detections, not_inside
from redact.detect.tiles import Tile
from redact.types import Detections, Label

# The quarter turns looked at besides the picture as stored.
TURNS = (1, 2, 3)
# An upright vehicle carries its plate below the middle of its box (CARRIED_LOW of its
# height down), at least CARRIED_INSET of its width in from either side, the plate narrower
# than CARRIED_WIDTH of it.
CARRIED_LOW = 0.5
CARRIED_INSET = 0.1
CARRIED_WIDTH = 0.8


def turned_boxes(xyxy: NDArray[np.floating], k: int, width: int, height: int) -> NDArray[np.float32]:
    """Boxes (xyxy, (N, 4)) of a ``width`` x ``height`` picture where they lie in the picture
    turned ``k`` quarter turns anticlockwise."""
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    k %= 4
    if k == 1:  # (x, y) -> (y, width - x)
        out = np.stack([y0, width - x1, y1, width - x0], axis=1)
    elif k == 2:  # (x, y) -> (width - x, height - y)
        out = np.stack([width - x1, height - y1, width - x0, height - y0], axis=1)
    elif k == 3:  # (x, y) -> (height - y, x)
        out = np.stack([height - y1, x0, height - y0, x1], axis=1)
    else:
        out = b
    return out.astype(np.float32)


def turned_back(xyxy: NDArray[np.floating], k: int, width: int, height: int) -> NDArray[np.float32]:
    """Boxes found in a ``width`` x ``height`` picture turned ``k`` quarter turns, where they
    lie in the picture before the turn."""
    return turned_boxes(xyxy, 4 - k % 4, width, height)


def _turned_tiles(tiles: Sequence[Tile] | None, k: int, width: int, height: int) -> list[Tile] | None:
    if tiles is None:
        return None
    boxes = turned_boxes(np.array([[t.x0, t.y0, t.x1, t.y1] for t in tiles], np.float64), k, width, height)
    return [Tile(int(x0), int(y0), int(x1), int(y1)) for x0, y0, x1, y1 in np.rint(boxes).astype(np.int64)]


class AllTurns(WrappedSet):
    """A detector set (:class:`~redact.detect.base.WrappedSet`; the inner set also gives
    :meth:`redact.detect.DetectorSet.seen`) that looks at every picture as stored and turned
    by each of :data:`TURNS`, its boxes fused as the set fuses its own passes.

    Args:
        inner: the detector set.
    """

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        looks = self._looks(image, rois)
        return _fused(upright_occupants([d for d, _, _ in looks], votes=[v for _, _, v in looks]))

    def look(
        self,
        image: NDArray[np.uint8],
        *,
        ratio: float,
        rois: Sequence[Tile] | None = None,
        plates: Detections | None = None,
    ) -> tuple[Detections, Detections]:
        looks = self._looks(image, rois, ratio=ratio, plates=plates, suspects=True)
        found, votes = [d for d, _, _ in looks], [v for _, _, v in looks]
        dets = _fused(upright_occupants(found, votes=votes))
        weak = _fused(upright_occupants([wk for _, wk, _ in looks], weigh=found, votes=votes))  # the same looks' zones
        return dets, not_inside(weak, dets, MERGE_CONTAIN)

    def _looks(
        self, image: NDArray[np.uint8], rois: Sequence[Tile] | None, *, plates: Detections | None = None, **kwargs: Any
    ) -> list[tuple[Detections, Detections, int]]:
        """Each look's (detections, suspects) in the picture's pixels, and how many of its
        vehicles carry a plate (:func:`carrying`); the picture as stored first."""
        h, w = image.shape[:2]
        out = []
        for k in (0, *TURNS):
            turned = np.ascontiguousarray(np.rot90(image, k)) if k else image
            at = plates if plates is None or not k else plates.replace(xyxy=turned_boxes(plates.xyxy, k, w, h))
            seen = self.inner.seen(turned, rois=_turned_tiles(rois, k, w, h) if k else rois, plates=at, **kwargs)
            dets = seen.detections
            votes = carrying(seen.vehicles, dets.xyxy[dets.label == Label.PLATE.value])
            tw, th = turned.shape[1], turned.shape[0]
            out.append((_back(dets, k, tw, th), _back(seen.suspects, k, tw, th), votes))
        return out


def carrying(vehicles: NDArray[np.floating], plates: NDArray[np.floating]) -> int:
    """How many of ``vehicles`` (xyxy, (K, 4)) carry one of ``plates`` (xyxy, (N, 4)) as an
    upright vehicle does: low in its box, away from its sides (:data:`CARRIED_LOW`)."""
    v = np.asarray(vehicles, np.float64).reshape(-1, 1, 4)
    p = np.asarray(plates, np.float64).reshape(1, -1, 4)
    if not v.shape[0] or not p.shape[1]:
        return 0
    vw, vh = v[..., 2] - v[..., 0], v[..., 3] - v[..., 1]
    cx, cy = (p[..., 0] + p[..., 2]) / 2, (p[..., 1] + p[..., 3]) / 2
    held = (
        (cx > v[..., 0] + CARRIED_INSET * vw)
        & (cx < v[..., 2] - CARRIED_INSET * vw)
        & (cy > v[..., 1] + CARRIED_LOW * vh)
        & (cy < v[..., 3])
        & (p[..., 2] - p[..., 0] < CARRIED_WIDTH * vw)
    )
    return int(held.any(axis=1).sum())


def _fused(parts: Sequence[Detections]) -> Detections:
    return merge_detections(Detections.concat(parts), iou=MERGE_IOU, contain=MERGE_CONTAIN)


def upright_occupants(
    looks: Sequence[Detections], *, weigh: Sequence[Detections] | None = None, votes: Sequence[int] | None = None
) -> list[Detections]:
    """``looks`` (one picture's, in its pixels; the first the picture as stored) with occupant
    regions kept only in the first and in the look that shows the picture upright: the one
    whose boxes' scores add up most (those of ``weigh``, one per look, where given: a look's
    suspects go with its detections), each look's sum counted once more for each of its
    ``votes`` (its vehicles carrying a plate as upright vehicles do: :func:`carrying`)."""
    weight = [float(np.nansum(d.score)) for d in (looks if weigh is None else weigh)]
    if votes is not None:
        weight = [w * (1 + v) for w, v in zip(weight, votes, strict=True)]
    best = int(np.argmax(weight)) if weight else 0
    occupant = Label.OCCUPANT.value
    return [d if i in (0, best) or not len(d) else d[d.label != occupant] for i, d in enumerate(looks)]


def _back(dets: Detections, k: int, width: int, height: int) -> Detections:
    if not len(dets):
        return dets
    return dets.replace(xyxy=turned_back(dets.xyxy, k, width, height))
