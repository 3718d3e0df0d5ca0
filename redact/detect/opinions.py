"""Both plate opinions at once, for the looks that run them on parts of a picture (the
vehicle zoom, the panel zoom): the plate network and the text detector with the same passes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.text import PLATE_SHAPED, TextPlate
from redact.detect.tiles import Tile
from redact.detect.tiling import Pass
from redact.detect.yolo_plate import YoloPlate
from redact.types import Detections, Label


class PlateOpinions:
    """The plate network and the text detector (plate-shaped lines only: its text is not
    read), both on the passes given.

    Attributes:
        label: ``"plate"``.
        threshold: the plate label's threshold (both opinions' scores are on its scale).
    """

    label = Label.PLATE.value

    def __init__(
        self,
        plate_model: ModelFile,
        text_model: ModelFile,
        *,
        threshold: float,
        passes: Sequence[Pass],
        threads: int | None = None,
        cpu_only: bool = False,
    ) -> None:
        self.threshold = threshold
        self.plate = YoloPlate(plate_model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only)
        self.text = TextPlate(text_model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only,
                              geometry=PLATE_SHAPED)

    @property
    def accelerated(self) -> bool:
        """Whether the networks run on a GPU (opens their sessions)."""
        return self.plate.accelerated

    def take_providers(self) -> set[str]:
        """The execution providers the networks ran on since the last call (then forgotten)."""
        return self.plate.take_providers() | self.text.take_providers()

    def both(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> Detections:
        """Both opinions' boxes in ``image`` (xyxy pixels), unmerged."""
        return Detections.concat([self.plate.detect(image, rois=rois, floor=floor),
                                  self.text.detect(image, rois=rois, floor=floor)])
