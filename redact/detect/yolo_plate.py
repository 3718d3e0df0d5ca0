"""YOLOv8n licence-plate detector (ONNX exported from pyplatex 0.0.5's checkpoint; MIT).

The network takes an RGB float picture in 0..1, NCHW, sides multiples of 32 (any size:
the export has dynamic H/W). The file is cut before YOLOv8's box decoding
(``tools/export_models.py``): it returns, for strides 8, 16 and 32, each cell's box as a
distribution over :data:`REG_MAX` bins per side (64 channels) and its plate logit (one
channel). :func:`decode` turns only the cells that score into boxes; the whole network ran
that softmax over every cell of the picture, about a tenth of its time on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.blobs import pad_to_multiple, to_blob
from redact.detect.merge import nms
from redact.detect.passes import Boxes, PassDetector
from redact.detect.tiling import Pass
from redact.types import Label

PAD_VALUE = 114  # the grey ultralytics letterboxes with
STRIDES = (8, 16, 32)  # of the network's outputs, in file order (box8, cls8, box16, ...)
REG_MAX = 16  # distribution bins per box side (YOLOv8's DFL): a side is 0..15 cells away
_BINS = np.arange(REG_MAX, dtype=np.float32)


def decode(
    heads: Sequence[NDArray[np.float32]], size: tuple[int, int], threshold: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Turn the network's per-stride outputs into boxes.

    Args:
        heads: per stride of :data:`STRIDES`, its box distributions (1, 4 * REG_MAX, h, w)
            (left, top, right, bottom) then its plate logits (1, 1, h, w).
        size: (height, width) the boxes are clipped to, pixels.
        threshold: keep cells whose score (sigmoid of the logit) is >= threshold.

    Returns:
        (xyxy float32 (K, 4) in input pixels, score float32 (K,)), not yet NMS-ed; cells in
        the network's order (stride 8 first, row by row).
    """
    if len(heads) != 2 * len(STRIDES):
        raise ValueError(f"the plate network gives {len(heads)} outputs, expected {2 * len(STRIDES)}")
    boxes: list[NDArray[np.float32]] = []
    scores: list[NDArray[np.float32]] = []
    for stride, dist, logit in zip(STRIDES, heads[0::2], heads[1::2], strict=True):
        with np.errstate(over="ignore"):  # exp of a very negative logit: score 0
            score = (1.0 / (1.0 + np.exp(-logit[0, 0]))).astype(np.float32)
        ys, xs = np.nonzero(score >= threshold)
        if ys.size == 0:
            continue
        d = dist[0][:, ys, xs].reshape(4, REG_MAX, -1)  # side, bin, cell
        e = np.exp(d - d.max(axis=1, keepdims=True))
        ltrb = (e * _BINS[None, :, None]).sum(axis=1) / e.sum(axis=1)  # expected distance, cells
        cx, cy = xs.astype(np.float32) + 0.5, ys.astype(np.float32) + 0.5
        boxes.append(np.stack([cx - ltrb[0], cy - ltrb[1], cx + ltrb[2], cy + ltrb[3]], axis=1) * stride)
        scores.append(score[ys, xs])
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    xyxy = np.concatenate(boxes).astype(np.float32)
    h, w = size
    np.clip(xyxy[:, 0::2], 0, w, out=xyxy[:, 0::2])
    np.clip(xyxy[:, 1::2], 0, h, out=xyxy[:, 1::2])
    return xyxy, np.concatenate(scores).astype(np.float32)


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

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        return to_blob(pad_to_multiple(image, 32, PAD_VALUE), rgb=True, scale=1.0 / 255.0)

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> Boxes:
        xyxy, score = decode(outputs, size, self._decode_threshold)
        keep = nms(xyxy, score, self.nms_iou)
        return xyxy[keep], score[keep]
