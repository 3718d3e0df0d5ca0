"""YOLOX-Nano's input and output: the letterboxed picture it takes and the cells it returns.

The file (``redact/models/yolox_nano.onnx``) takes a BGR float32 picture in 0..255, NCHW,
exactly :data:`INPUT_SIZE` a side: the picture is letterboxed into it (resized keeping its
aspect ratio, to the top-left corner, the rest grey :data:`PAD_VALUE`). It returns, for each
of the 3549 cells of strides 8, 16 and 32 (row by row, stride 8 first), ``(dx, dy, log w,
log h, objectness, 80 class probabilities)``: centre offsets and log sizes in cells,
probabilities already through their sigmoid. :func:`decode` turns the cells that score into
boxes.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

INPUT_SIZE = 416  # the file's fixed input side, pixels
PAD_VALUE = 114  # the grey YOLOX letterboxes with in training and evaluation
STRIDES = (8, 16, 32)
NUM_CLASSES = 80


def letterbox(image: NDArray[np.uint8], size: int = INPUT_SIZE) -> tuple[NDArray[np.uint8], float, float]:
    """Fit a BGR uint8 picture (h, w, 3) into a ``size`` x ``size`` canvas as YOLOX expects.

    The picture is resized (bilinear, as in YOLOX's training) by ``min(size / h, size / w)``
    to the canvas's top-left corner; the rest is :data:`PAD_VALUE`.

    Returns:
        (canvas uint8 (size, size, 3), fx, fy): a source pixel x lies at ``x * fx`` on the
        canvas (fx, fy: resized width / w and resized height / h, each side rounded down
        to whole pixels as YOLOX does).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 picture (H, W, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"picture is empty ({w}x{h})")
    r = min(size / h, size / w)
    rw, rh = max(1, min(size, int(w * r))), max(1, min(size, int(h * r)))
    canvas = np.full((size, size, 3), PAD_VALUE, np.uint8)
    canvas[:rh, :rw] = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_LINEAR) if (rw, rh) != (w, h) else image
    return canvas, rw / w, rh / h


def grids(size: int = INPUT_SIZE) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Each output cell's (x, y) position in cells (K, 2) and its stride in pixels (K, 1),
    in the network's order (stride 8 first, row by row)."""
    cells: list[NDArray[np.float32]] = []
    strides: list[NDArray[np.float32]] = []
    for stride in STRIDES:
        n = size // stride
        ys, xs = np.mgrid[:n, :n]
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32))
        strides.append(np.full((n * n, 1), stride, np.float32))
    return np.concatenate(cells), np.concatenate(strides)


_GRID, _STRIDE = grids()


def decode(
    output: NDArray[np.float32], threshold: float, size: int = INPUT_SIZE
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """Turn the network's output into boxes, one per cell that scores, not yet NMS-ed.

    Args:
        output: (1, K, 5 + 80) or (K, 85): per cell ``dx, dy, log w, log h`` (cells),
            objectness and class probabilities (0..1), K cells of :func:`grids` order.
        threshold: keep cells whose best class score (objectness x probability) is >= this.
        size: the input side the output belongs to, pixels.

    Returns:
        (xyxy float32 (M, 4) in input pixels, score float32 (M,), cls int64 (M,)); each
        cell keeps its best class only (as YOLOX's own post-processing does).
    """
    pred = np.asarray(output, np.float32).reshape(-1, 5 + NUM_CLASSES)
    grid, stride = (_GRID, _STRIDE) if size == INPUT_SIZE else grids(size)
    if len(pred) != len(grid):
        raise ValueError(f"YOLOX output has {len(pred)} cells, expected {len(grid)} for a {size}-px input")
    scores = pred[:, 4:5] * pred[:, 5:]
    cls = scores.argmax(axis=1)
    best = scores[np.arange(len(cls)), cls]
    idx = np.nonzero(best >= threshold)[0]
    p, s = pred[idx], stride[idx]
    centre = (p[:, :2] + grid[idx]) * s
    with np.errstate(over="ignore"):  # a wild log size: an infinite box, clipped by the caller
        half = np.exp(p[:, 2:4]) * s / 2
    xyxy = np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
    return xyxy, best[idx].astype(np.float32), cls[idx].astype(np.int64)
