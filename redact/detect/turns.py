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
whose boxes score most in all, where that is a turned one (a picture stored on its side): a
car the network makes out in a turned look of an upright street is a weaker, turned box
whose "upper part" is its side or its wheels.

Boxes are ``xyxy`` pixels, exclusive right/bottom; turns are quarter turns anticlockwise
(``numpy.rot90``'s ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.merge import merge_detections, not_inside
from redact.detect.tiles import Tile
from redact.types import Detections, Label

# The quarter turns looked at besides the picture as stored.
TURNS = (1, 2, 3)


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


class AllTurns:
    """A detector set (``detect``, ``look``, ``only``; anything else is the inner set's) that
    looks at every picture as stored and turned by each of :data:`TURNS`, its boxes fused as
    the set fuses its own passes.

    Args:
        inner: the detector set.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def only(self, names: Sequence[str], **kwargs: Any) -> AllTurns | None:
        part = self.inner.only(names, **kwargs)
        return None if part is None else AllTurns(part)

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        h, w = image.shape[:2]
        parts = [self.inner.detect(image, rois=rois)]
        for k in TURNS:
            turned = np.ascontiguousarray(np.rot90(image, k))
            found = self.inner.detect(turned, rois=_turned_tiles(rois, k, w, h))
            parts.append(_back(found, k, turned.shape[1], turned.shape[0]))
        return _fused(upright_occupants(parts))

    def look(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, **kwargs: Any
    ) -> tuple[Detections, Detections]:
        h, w = image.shape[:2]
        plates = kwargs.pop("plates", None)
        seen = [self.inner.look(image, rois=rois, plates=plates, **kwargs)]
        for k in TURNS:
            turned = np.ascontiguousarray(np.rot90(image, k))
            at = None if plates is None else plates.replace(xyxy=turned_boxes(plates.xyxy, k, w, h))
            dets, weak = self.inner.look(turned, rois=_turned_tiles(rois, k, w, h), plates=at, **kwargs)
            tw, th = turned.shape[1], turned.shape[0]
            seen.append((_back(dets, k, tw, th), _back(weak, k, tw, th)))
        found = [d for d, _ in seen]
        dets = _fused(upright_occupants(found))
        weak = _fused(upright_occupants([wk for _, wk in seen], weigh=found))  # the same looks' zones
        return dets, not_inside(weak, dets, MERGE_CONTAIN)


def _fused(parts: Sequence[Detections]) -> Detections:
    return merge_detections(Detections.concat(parts), iou=MERGE_IOU, contain=MERGE_CONTAIN)


def upright_occupants(looks: Sequence[Detections], *, weigh: Sequence[Detections] | None = None) -> list[Detections]:
    """``looks`` (one picture's, in its pixels; the first the picture as stored) with occupant
    regions kept only in the first and in the look whose boxes' scores add up most (those of
    ``weigh``, one per look, where given: a look's suspects go with its detections)."""
    weight = [float(np.nansum(d.score)) for d in (looks if weigh is None else weigh)]
    best = int(np.argmax(weight)) if weight else 0
    occupant = Label.OCCUPANT.value
    return [d if i in (0, best) or not len(d) else d[d.label != occupant] for i, d in enumerate(looks)]


def _back(dets: Detections, k: int, width: int, height: int) -> Detections:
    if not len(dets):
        return dets
    return dets.replace(xyxy=turned_back(dets.xyxy, k, width, height))
