"""Vehicle-guided zoom: both plate opinions, enlarged, inside each distant vehicle.

Plates sit on vehicles. A 16-px plate on a distant car is at the edge of what the plate
network and the text detector find; enlarged 2x it is 32 px, well inside. Enlarging the
whole frame costs 4x its pixels; enlarging only the vehicles that are small enough to
carry such plates costs a few percent of it. The vehicles come from the COCO detector
(:mod:`redact.detect.yolox`); only those no taller than :data:`MAX_VEHICLE_HEIGHT` are
enlarged (a nearer vehicle's plate is large enough at native size). What the enlarged look
finds is kept only where a plate can hang on one of those vehicles (:func:`on_vehicles`):
a sign or a lamp above a vehicle, or in the space between vehicles that a merged window
takes in, is the native passes' to judge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.merge import box_area
from redact.detect.opinions import PlateOpinions
from redact.detect.tiles import Tile, tiles_xyxy, windows_around
from redact.detect.tiling import Pass
from redact.detect.yolox import YOLOX_MODEL, YoloxCoco
from redact.geometry import centres_inside
from redact.types import Detections

MAX_VEHICLE_HEIGHT = 240  # source px: taller vehicles' plates are found at native size
# The enlarged look: boxes found enlarged are kept when small (shorter side in source
# pixels): larger plates are the native passes' to find. Bicubic enlargement keeps a dim
# plate's strokes distinct enough for the text detector (bench/accuracy.py, dash-cam set).
ZOOM = Pass(scale=2.0, tile=1600, overlap=160, max_box=40, sharp=True)
# Plates hang below a vehicle box's edge when the box is cut short: look a little outside.
MARGIN = 0.1
# A plate's centre lies at least this share of its vehicle box's height below the box's top
# (bumpers, boots, tailgates, seen from any side); the roof, windows and what rises above
# them (signs on posts, route displays) lie higher (bench/accuracy.py; docs/performance.md).
PLATE_TOP = 0.3
# A vehicle box whose top lies within this share of its height of the picture's top is cut
# there (the network's box edges wander a few pixels): its top is not the vehicle's, and its
# plate may lie anywhere in it.
TOP_CUT = 0.05


def on_vehicles(
    boxes: NDArray[np.floating], vehicles: NDArray[np.floating], margin: float = MARGIN
) -> NDArray[np.bool_]:
    """Which boxes (N, 4) could be the plate of one of ``vehicles`` (M, 4), all xyxy source
    pixels: the box's centre lies within the vehicle's box grown by ``margin`` times its
    longer side (a box cut short), and no higher than :data:`PLATE_TOP` of its height from its
    top (from the top itself where the picture's top cuts it)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    v = np.asarray(vehicles, np.float64).reshape(-1, 4)
    if not len(b) or not len(v):
        return np.zeros(len(b), bool)
    h = v[:, 3] - v[:, 1]
    m = margin * np.maximum(v[:, 2] - v[:, 0], h)
    top = np.where(v[:, 1] <= TOP_CUT * h, v[:, 1], v[:, 1] + PLATE_TOP * h)
    zones = np.stack([v[:, 0] - m, top, v[:, 2] + m, v[:, 3] + m], axis=1)
    return np.asarray(centres_inside(b, zones).any(axis=0), bool)


class VehicleZoom(PlateOpinions):
    """Plates inside small vehicles, looked for enlarged (by the passes given; :data:`ZOOM`).

    Attributes:
        name: registry name.
        label: ``"plate"``.
        threshold: the plate label's threshold (both opinions' scores are on its scale).
    """

    name = "vehicle_plate"

    def __init__(
        self,
        plate_model: ModelFile,
        text_model: ModelFile,
        vehicle_model: ModelFile = YOLOX_MODEL,
        *,
        threshold: float = 0.3,
        passes: Sequence[Pass] = (ZOOM,),
        threads: int | None = None,
        cpu_only: bool = False,
    ) -> None:
        super().__init__(plate_model, text_model, threshold=threshold, passes=passes, threads=threads,
                         cpu_only=cpu_only)
        self.vehicles = YoloxCoco(vehicle_model, threads=threads, cpu_only=cpu_only)

    def take_providers(self) -> set[str]:
        """The execution providers the networks ran on since the last call (then forgotten)."""
        return super().take_providers() | self.vehicles.take_providers()

    def windows(
        self,
        image: NDArray[np.uint8],
        rois: Sequence[Tile] | None = None,
        vehicles: NDArray[np.float32] | None = None,
    ) -> list[Tile]:
        """Source-pixel windows around the vehicles small enough to be enlarged.

        Args:
            image: the whole picture.
            rois: look for vehicles only inside these windows; ``None`` looks everywhere.
            vehicles: vehicle boxes (xyxy source pixels) another detector already found in
                this picture; ``None`` runs the COCO network.
        """
        return _windows(image, self.enlarged(image, rois, vehicles))

    def enlarged(
        self,
        image: NDArray[np.uint8],
        rois: Sequence[Tile] | None = None,
        vehicles: NDArray[np.float32] | None = None,
    ) -> NDArray[np.float32]:
        """The vehicles (xyxy float32 (K, 4) source pixels) small enough to be enlarged;
        arguments as :meth:`windows`."""
        if vehicles is None:
            vehicles = self.vehicles.detect(image, rois=rois).vehicles().xyxy
        boxes = np.asarray(vehicles, np.float32).reshape(-1, 4)
        if rois is not None:  # the COCO network may have looked at the whole picture
            boxes = boxes[centres_inside(boxes, tiles_xyxy(rois)).any(axis=0)]
        return boxes[((boxes[:, 3] - boxes[:, 1]) <= MAX_VEHICLE_HEIGHT) & (box_area(boxes) > 0)]

    def detect(
        self,
        image: NDArray[np.uint8],
        *,
        rois: Sequence[Tile] | None = None,
        floor: float | None = None,
        vehicles: NDArray[np.float32] | None = None,
    ) -> Detections:
        """Plates found enlarged inside small vehicles (xyxy source pixels), both opinions,
        unmerged, each where it can hang on one of them (:func:`on_vehicles`); looking for
        vehicles only inside ``rois`` when given, or taking ``vehicles`` (xyxy source pixels)
        found by another detector."""
        small = self.enlarged(image, rois, vehicles)
        wins = _windows(image, small)
        if not wins:
            return Detections.empty()
        found = self.both(image, rois=wins, floor=floor)
        return found[on_vehicles(found.xyxy, small)]


def _windows(image: NDArray[np.uint8], vehicles: NDArray[np.float32]) -> list[Tile]:
    """The windows enlarged around ``vehicles`` (xyxy source pixels) in ``image``."""
    h, w = image.shape[:2]
    return windows_around(vehicles, w, h, margin=MARGIN, min_margin=4)
