"""Panel zoom: plates in a dashboard's zoomed crops, looked for shrunk back.

A plate-reading system's dashboard shows the plate it read enlarged in a panel of its own:
a plate a few dozen pixels wide blown up four to ten times to fill the panel, its strokes
smeared over many pixels and, from dusk and night frames, dim and low in contrast. Seen at
that size, neither plate opinion finds some of them: both networks learnt plates from
pictures where a plate's strokes are a few pixels wide. Shrunk back to a half, a third and
a quarter of the panel's size, with the panel's contrast raised (:func:`lifted`), they are
found (``bench/dashboards.py``; docs/performance.md, "Zoomed crops shrunk back"). Which of
the three sizes finds a given crop varies, so all three are looked at.

Every panel of a composed picture (:mod:`redact.detect.panels`: a dashboard's frames and
crops, two or more, on a ground of any brightness: dashboards are drawn on grey, on black and
on a web page's white) that takes at most :data:`MAX_PANEL_SHARE` of it is looked at so.
Larger panels (a dashboard's wide frame) are the native passes' and the picture's 640-px
look's to search, as is a picture that nothing divides: looked at shrunk whole, photos gave
boxes over lettered shirts and whole pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.blobs import lifted
from redact.detect.opinions import PlateOpinions
from redact.detect.panels import PRINTED_SHARE, find_panels, ground_shares
from redact.detect.tiles import Tile, tiles_xyxy
from redact.detect.tiling import Pass, expand_boxes
from redact.geometry import inside_share, intersection_matrix
from redact.types import Detections

PANEL = "panel_plate"  # the detector's registry name
# A dashboard's crop and second frame take 5-14 % of its screenshot, its wide frame 38-50 %.
MAX_PANEL_SHARE = 0.25
MIN_PANEL_SIDE = 64  # px: a thinner panel (a header line, a caption strip) holds no zoomed crop
# The panel shrunk to a half, a third and a quarter of a dashboard crop's 660 px: a zoomed
# plate, 390 px wide there, becomes 195, 130 and 98 px wide. Boxes under MIN_BOX source px on
# their shorter side are left to the native passes (a zoomed plate is 80 px high or more).
MIN_BOX = 32.0
SHRUNK = tuple(Pass(fit=side, min_box=MIN_BOX) for side in (330, 220, 165))
# What is kept: a box spanning at least WIDE_SHARE of its panel's width (a zoomed plate fills
# much of its crop: 0.6 of it on the dev dashboards, 0.18 where a system zooms less, a plate
# 120 px wide in a 660-px crop; smaller plates are the native passes' to find, and the
# narrower boxes of these looks that touched no labelled plate lay on the second frame), at
# most as high as wide (boxes on zoomed plates, frame and holder included, reached 0.74).
WIDE_SHARE = 0.15
MAX_HEIGHT_RATIO = 1.0
# Where another opinion found the plate, its tighter box stands: a box of this look lying at
# least REDUNDANT_INSIDE inside another plate box grown by REDUNDANT_GROW of its size per
# side adds nothing (boxes seen at a quarter of the size are looser).
REDUNDANT_INSIDE = 0.8
REDUNDANT_GROW = 0.15


def panels_to_search(image: NDArray[np.uint8], rois: Sequence[Tile] | None = None) -> NDArray[np.int64]:
    """The panels of ``image`` looked at shrunk (xyxy int source pixels, (K, 4)): where the
    picture is composed of two or more panels at least :data:`MIN_PANEL_SIDE` a side, those
    of them that take at most :data:`MAX_PANEL_SHARE` of it and are not text printed on the
    interface (:func:`redact.detect.panels.ground_shares`), touching a window of ``rois``
    when given. Bands of any brightness divide it (``find_panels``'s ``any_ground``)."""
    panels = np.round(find_panels(image, any_ground=True)).astype(np.int64).reshape(-1, 4)
    w, h = panels[:, 2] - panels[:, 0], panels[:, 3] - panels[:, 1]
    keep = np.minimum(w, h) >= MIN_PANEL_SIDE
    if keep.sum() < 2:
        return np.zeros((0, 4), np.int64)
    keep &= w * h <= MAX_PANEL_SHARE * image.shape[0] * image.shape[1]
    keep &= ground_shares(image, panels, keep) < PRINTED_SHARE  # a header's words, printed
    if rois is not None:
        keep &= (intersection_matrix(panels.astype(np.float64), tiles_xyxy(rois), np.float64) > 0).any(axis=1)
    return panels[keep]


def kept_in_panel(boxes: NDArray[np.float32], panel_width: int) -> NDArray[np.bool_]:
    """Which boxes (xyxy, (N, 4)) found in a panel ``panel_width`` px wide are kept: wide
    in it (:data:`WIDE_SHARE`) and no taller than :data:`MAX_HEIGHT_RATIO` times as wide."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return np.asarray((w >= WIDE_SHARE * panel_width) & (h <= MAX_HEIGHT_RATIO * w), bool)


def fill_in(found: Detections, others: Detections, width: int, height: int) -> Detections:
    """The boxes of ``found`` (this look's, passing) that add to ``others`` (the other plate
    opinions' passing boxes) in a ``width`` x ``height`` picture: those not lying mostly
    inside one of them (see :data:`REDUNDANT_INSIDE`)."""
    if not len(found) or not len(others):
        return found
    grown = expand_boxes(others.xyxy, REDUNDANT_GROW, width, height)
    inside = inside_share(found.xyxy, grown).max(axis=1)
    return found[inside < REDUNDANT_INSIDE]


class PanelZoom(PlateOpinions):
    """Plates in a picture's small panels, looked for shrunk (by the passes given; :data:`SHRUNK`).

    Attributes:
        name: registry name.
        label: ``"plate"``.
        threshold: the plate label's threshold (both opinions' scores are on its scale).
    """

    name = PANEL

    def __init__(
        self,
        plate_model: ModelFile,
        text_model: ModelFile,
        *,
        threshold: float = 0.3,
        passes: Sequence[Pass] = SHRUNK,
        threads: int | None = None,
        cpu_only: bool = False,
    ) -> None:
        super().__init__(plate_model, text_model, threshold=threshold, passes=passes, threads=threads,
                         cpu_only=cpu_only)

    def detect(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> Detections:
        """Plates found in the small panels of a BGR uint8 picture, shrunk, their contrast
        raised (:func:`lifted`; xyxy source pixels), both opinions, unmerged; only panels
        touching ``rois`` when given."""
        found = []
        for x0, y0, x1, y1 in panels_to_search(image, rois):
            panel = lifted(image[y0:y1, x0:x1])
            boxes = self.both(panel, floor=floor)
            boxes = boxes[kept_in_panel(boxes.xyxy, x1 - x0)]
            if len(boxes):
                found.append(boxes.replace(xyxy=boxes.xyxy + np.array([x0, y0, x0, y0], np.float32)))
        return Detections.concat(found)
