"""Pictures stored on their side, upside down or askew, looked at turned.

A photo saved without its orientation tag where the camera was held on its side (or a camera
mounted upside down) shows its faces and plates on their side or upside down, and the
networks, trained on upright pictures, find few of them (docs/performance.md, "Pictures on
their side"); a phone's photo of a screen, or a camera mounted askew, shows them on a slant,
and from about 12 degrees the plate networks miss some ("Pictures askew"). :class:`AllTurns`
wraps a detector set so that it also looks at each picture turned (:data:`VIEWS`: a quarter,
a half and three quarters for ``--orientations all``; 12 degrees either way for ``askew``),
and gives every box back in the picture's own pixels, fused with what it found as stored.

Faces and plates are taken from every look: whichever way a picture is stored, one of them
sees them upright. Occupant regions (vehicles' window zones, the upper part of a vehicle's
box as the look saw it) are taken from the look at the picture as stored and from the look
that shows it upright, where that is a turned one (a picture stored on its side): a car the
network makes out in a turned look of an upright street is a weaker, turned box whose
"upper part" is its side or its wheels. The look that shows the picture upright is the one
whose boxes score most, a look's score counted once more for each of its vehicles that
carries its plate low in its box (:func:`carrying`): a look upside down finds the plates as
well, at the top of the car, and often scores as much.

Boxes are ``xyxy`` pixels, exclusive right/bottom; quarter turns are anticlockwise
(``numpy.rot90``'s ``k``), and so are slants of a positive angle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.base import WrappedSet
from redact.detect.merge import merge_detections, not_inside
from redact.detect.tiles import Tile
from redact.geometry import affine_hull, inside_share
from redact.types import Detections, Label

# The quarter turns looked at besides the picture as stored.
TURNS = (1, 2, 3)
# The slants looked at besides the picture as stored, degrees anticlockwise: with the picture
# as stored (level to about 8 degrees), a plate or face turned by up to 20 degrees either way
# is seen within 8 degrees of level in one look (docs/performance.md, "Pictures askew").
SLANTS = (12.0, -12.0)
# A slanted look's box lying this share inside a box of the same label that the look at the
# picture as stored found, as the turn there and back grows it, is that object's grown copy
# (:func:`_not_around`).
AROUND_SHARE = 0.9
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


class View(Protocol):
    """One way of turning a picture to look at it, and its boxes there and back.

    ``exact``: whether a box there and back is the same box (quarter turns); a slant's is
    the level box around its turned corners, larger.
    """

    @property
    def exact(self) -> bool: ...

    def picture(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The picture turned."""
        ...

    def there(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        """Boxes of a ``width`` x ``height`` picture where they lie in it turned."""
        ...

    def back(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        """Boxes found in a ``width`` x ``height`` picture turned, where they lie in it."""
        ...


@dataclass(frozen=True)
class QuarterTurn:
    """``k`` quarter turns anticlockwise (:class:`View`)."""

    k: int
    exact: bool = True

    def picture(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return np.ascontiguousarray(np.rot90(image, self.k))

    def there(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        return turned_boxes(xyxy, self.k, width, height)

    def back(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        tw, th = (height, width) if self.k % 2 else (width, height)
        return turned_back(xyxy, self.k, tw, th)


@dataclass(frozen=True)
class Slant:
    """The picture turned ``degrees`` anticlockwise on a canvas that holds all of it, black
    around it (:class:`View`). A box there or back becomes the level box around its turned
    corners (larger than the object by up to a fifth of its other side at 12 degrees), cut to
    the picture; one wholly outside it (on the black) is dropped by :meth:`AllTurns`."""

    degrees: float
    exact: bool = False

    def _matrix(self, width: int, height: int) -> tuple[NDArray[np.float64], int, int]:
        m = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), self.degrees, 1.0)
        c, s = abs(m[0, 0]), abs(m[0, 1])
        tw, th = int(np.ceil(width * c + height * s - 1e-6)), int(np.ceil(width * s + height * c - 1e-6))
        m[0, 2] += tw / 2.0 - width / 2.0
        m[1, 2] += th / 2.0 - height / 2.0
        return m, tw, th

    def picture(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        m, tw, th = self._matrix(image.shape[1], image.shape[0])
        return cv2.warpAffine(image, m, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def _box_matrix(self, width: int, height: int) -> tuple[NDArray[np.float64], int, int]:
        # OpenCV puts a pixel's centre at its integer coordinates, a box its edges: the same
        # turn on box coordinates is shifted by half a pixel before and after.
        m, tw, th = self._matrix(width, height)
        m = m.copy()
        m[:, 2] += 0.5 - m[:, :2] @ np.array([0.5, 0.5])
        return m, tw, th

    def there(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        m, tw, th = self._box_matrix(width, height)
        return _cut(affine_hull(xyxy, m), tw, th)

    def back(self, xyxy: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
        m, _, _ = self._box_matrix(width, height)
        return _cut(affine_hull(xyxy, cv2.invertAffineTransform(m)), width, height)


def _cut(xyxy: NDArray[np.float32], width: int, height: int) -> NDArray[np.float32]:
    return np.clip(xyxy, 0.0, [width, height, width, height]).astype(np.float32)


# The looks of each --orientations choice besides the picture as stored.
VIEWS: Mapping[str, tuple[View, ...]] = {
    "all": tuple(QuarterTurn(k) for k in TURNS),
    "askew": tuple(Slant(d) for d in SLANTS),
}


def looking(detectors: Any, orientations: str) -> Any:
    """``detectors`` as ``--orientations`` asks: wrapped in :class:`AllTurns` with the
    looks of :data:`VIEWS`, or as they are (``upright``)."""
    views = VIEWS.get(orientations)
    return AllTurns(detectors, views) if views else detectors


def _turned_tiles(tiles: Sequence[Tile] | None, view: View, width: int, height: int) -> list[Tile] | None:
    if tiles is None:
        return None
    boxes = view.there(np.array([[t.x0, t.y0, t.x1, t.y1] for t in tiles], np.float64), width, height)
    lo, hi = np.floor(boxes[:, :2] + 1e-3).astype(np.int64), np.ceil(boxes[:, 2:] - 1e-3).astype(np.int64)
    out = [Tile(int(a[0]), int(a[1]), int(b[0]), int(b[1])) for a, b in zip(lo, hi, strict=True)]
    return [t for t in out if t.x1 > t.x0 and t.y1 > t.y0]


class AllTurns(WrappedSet):
    """A detector set (:class:`~redact.detect.base.WrappedSet`; the inner set also gives
    :meth:`redact.detect.DetectorSet.seen`) that looks at every picture as stored and in each
    of ``views``, its boxes fused as the set fuses its own passes.

    Args:
        inner: the detector set.
        views: the looks besides the picture as stored (:data:`VIEWS`); the quarter turns
            by default.
    """

    def __init__(self, inner: Any, views: Sequence[View] = VIEWS["all"]) -> None:
        super().__init__(inner)
        self.views = tuple(views)

    def wrap(self, inner: Any) -> Any:
        return type(self)(inner, self.views)

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
        seen = self.inner.seen(image, rois=rois, plates=plates, **kwargs)
        out = [(seen.detections, seen.suspects, _votes(seen))]
        stored = seen.detections
        for view in self.views:
            tiles = _turned_tiles(rois, view, w, h)
            if tiles is not None and not tiles:
                continue  # every window lies on the black around a slanted picture
            at = plates if plates is None else plates.replace(xyxy=view.there(plates.xyxy, w, h))
            seen = self.inner.seen(view.picture(image), rois=tiles, plates=at, **kwargs)
            dets = _back(seen.detections, view, w, h)
            if not view.exact:
                dets = _not_around(dets, stored, view, w, h)
            out.append((dets, _back(seen.suspects, view, w, h), _votes(seen)))
        return out


def _votes(seen: Any) -> int:
    dets = seen.detections
    return carrying(seen.vehicles, dets.xyxy[dets.label == Label.PLATE.value])


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


def _not_around(dets: Detections, stored: Detections, view: View, width: int, height: int) -> Detections:
    """``dets`` (a slanted look's, in the picture's pixels) less the grown copies of what the
    look at the picture as stored found: boxes lying :data:`AROUND_SHARE` inside a box of the
    same label from it, as ``view`` turns that box there and back. Turned there and back, a
    level plate's box grows to the level box around the level box around it (a 390x110-px
    zoomed crop's to about 434x269 at 12 degrees), while the look as stored already boxed it
    as it lies; a box reaching further (the whole of a plate the look as stored found part
    of) stays."""
    if not len(dets) or not len(stored):
        return dets
    grown = view.back(view.there(stored.xyxy, width, height), width, height)
    share = inside_share(dets.xyxy, grown)  # (dets, stored): share of each box inside each grown one
    same = dets.label[:, None] == stored.label[None, :]
    around = ((share >= AROUND_SHARE) & same).any(axis=1)
    return dets if not around.any() else dets[~around]


def _back(dets: Detections, view: View, width: int, height: int) -> Detections:
    """``dets`` found in the picture as ``view`` turns it, in the picture's own pixels; boxes
    that lie wholly outside it (on a slant's black) dropped."""
    if not len(dets):
        return dets
    xyxy = view.back(dets.xyxy, width, height)
    inside = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    dets = dets.replace(xyxy=xyxy)
    return dets if inside.all() else dets[inside]
