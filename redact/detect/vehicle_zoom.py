"""Vehicle-guided zoom: both plate opinions, enlarged, inside each distant vehicle.

Plates sit on vehicles. A 16-px plate on a distant car is at the edge of what the plate
network and the text detector find; enlarged 2x it is 32 px, well inside. Enlarging the
whole frame costs 4x its pixels; enlarging only the vehicles that are small enough to
carry such plates costs a few percent of it. The vehicles come from the COCO detector
(:mod:`redact.detect.yolox`); only those no taller than :data:`MAX_VEHICLE_HEIGHT` are
enlarged (a nearer vehicle's plate is large enough at native size).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.merge import box_area
from redact.detect.text import PLATE_SHAPED, TextPlate
from redact.detect.tiles import Tile, tiles_xyxy, windows_around
from redact.detect.tiling import Pass
from redact.detect.yolo_plate import YoloPlate
from redact.detect.yolox import YOLOX_MODEL, YoloxCoco
from redact.geometry import centres_inside
from redact.types import Detections, Label

MAX_VEHICLE_HEIGHT = 240  # source px: taller vehicles' plates are found at native size
# The enlarged look: boxes found enlarged are kept when small (shorter side in source
# pixels): larger plates are the native passes' to find. Bicubic enlargement keeps a dim
# plate's strokes distinct enough for the text detector (bench/accuracy.py, dash-cam set).
ZOOM = Pass(scale=2.0, tile=1600, overlap=160, max_box=40, sharp=True)
# Plates hang below a vehicle box's edge when the box is cut short: look a little outside.
MARGIN = 0.1


class VehicleZoom:
    """Plates inside small vehicles, looked for enlarged (by the passes given; :data:`ZOOM`).

    Attributes:
        name: registry name.
        label: ``"plate"``.
        threshold: the plate label's threshold (both opinions' scores are on its scale).
    """

    name = "vehicle_plate"
    label = Label.PLATE.value

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
        self.threshold = threshold
        self.plate = YoloPlate(plate_model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only)
        # Its text is not read: plate-shaped lines only.
        self.text = TextPlate(text_model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only,
                              geometry=PLATE_SHAPED)
        self.vehicles = YoloxCoco(vehicle_model, threads=threads, cpu_only=cpu_only)

    @property
    def accelerated(self) -> bool:
        """Whether the networks run on a GPU (opens their sessions)."""
        return self.plate.accelerated

    def take_providers(self) -> set[str]:
        """The execution providers the networks ran on since the last call (then forgotten)."""
        return self.plate.take_providers() | self.text.take_providers() | self.vehicles.take_providers()

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
        h, w = image.shape[:2]
        if vehicles is None:
            vehicles = self.vehicles.detect(image, rois=rois).vehicles().xyxy
        boxes = np.asarray(vehicles, np.float32).reshape(-1, 4)
        if rois is not None:  # the COCO network may have looked at the whole picture
            boxes = boxes[centres_inside(boxes, tiles_xyxy(rois)).any(axis=0)]
        boxes = boxes[((boxes[:, 3] - boxes[:, 1]) <= MAX_VEHICLE_HEIGHT) & (box_area(boxes) > 0)]
        return windows_around(boxes, w, h, margin=MARGIN, min_margin=4)

    def detect(
        self,
        image: NDArray[np.uint8],
        *,
        rois: Sequence[Tile] | None = None,
        floor: float | None = None,
        vehicles: NDArray[np.float32] | None = None,
    ) -> Detections:
        """Plates found enlarged inside small vehicles (xyxy source pixels), both opinions,
        unmerged; looking for vehicles only inside ``rois`` when given, or taking
        ``vehicles`` (xyxy source pixels) found by another detector."""
        wins = self.windows(image, rois, vehicles)
        if not wins:
            return Detections.empty()
        return Detections.concat(
            [self.plate.detect(image, rois=wins, floor=floor), self.text.detect(image, rois=wins, floor=floor)]
        )
