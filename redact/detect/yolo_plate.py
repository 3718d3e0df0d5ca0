"""YOLOv8n licence-plate detector (ONNX exported from pyplatex 0.0.5's checkpoint; MIT).

The network takes an RGB float picture in 0..1, NCHW, sides multiples of 32 (any size:
the export has dynamic H/W), and returns (1, 5, N) rows of centre x, centre y, width,
height (input pixels) and the plate score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.merge import nms
from redact.detect.passes import PassDetector
from redact.detect.tiling import Pass, pad_to_multiple, to_blob
from redact.types import Label

PAD_VALUE = 114  # the grey ultralytics letterboxes with


def decode(
    output: NDArray[np.float32], size: tuple[int, int], threshold: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Turn YOLOv8 output rows into boxes.

    Args:
        output: (5, N) centre x, centre y, width, height in input pixels, then score.
        size: (height, width) the boxes are clipped to, pixels.
        threshold: keep rows with score >= threshold.

    Returns:
        (xyxy float32 (K, 4) in input pixels, score float32 (K,)), not yet NMS-ed.
    """
    score = output[4]
    keep = score >= threshold
    if not np.any(keep):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    cx, cy, bw, bh = (output[i, keep] for i in range(4))
    h, w = size
    xyxy = np.stack(
        [
            np.clip(cx - bw / 2, 0, w),
            np.clip(cy - bh / 2, 0, h),
            np.clip(cx + bw / 2, 0, w),
            np.clip(cy + bh / 2, 0, h),
        ],
        axis=1,
    ).astype(np.float32)
    return xyxy, score[keep].astype(np.float32)


class YoloPlate(PassDetector):
    """Plate detector: YOLOv8n at one or more scales.

    Attributes:
        name: registry name.
        label: ``"plate"``.
        threshold: score a box needs to be returned.
        passes: the resize/tile passes run by :meth:`detect`.
    """

    name = "yolo_plate"
    label = Label.PLATE.value

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float = 0.25,
        passes: Sequence[Pass] = (Pass(fit=640), Pass(max_side=640)),
        threads: int | None = None,
        cpu_only: bool = False,
        nms_iou: float = 0.5,
    ) -> None:
        super().__init__(model, threshold=threshold, passes=passes, threads=threads, cpu_only=cpu_only, nms_iou=nms_iou)

    def infer(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """One forward pass on a BGR uint8 picture (h, w, 3) at its own size.

        Returns:
            (xyxy float32 (N, 4) in this picture's pixels, score float32 (N,)), NMS-ed.
        """
        h, w = image.shape[:2]
        padded = pad_to_multiple(image, 32, PAD_VALUE)
        blob = to_blob(padded, rgb=True, scale=1.0 / 255.0)
        output = self._runner.run(blob)[0]
        xyxy, score = decode(output[0], (h, w), self._decode_threshold)
        keep = nms(xyxy, score, self.nms_iou)
        return xyxy[keep], score[keep]
