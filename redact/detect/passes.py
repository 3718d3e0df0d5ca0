"""Shared plumbing of the ONNX detectors: a session, resize/tile passes, threshold, growth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.session import CPU, OnnxRunner
from redact.detect.tiling import Pass, Tile, decode_threshold, expand_boxes, run_passes
from redact.types import Detections, Source


class PassDetector:
    """A detector that runs its network's :meth:`infer` over a list of :class:`Pass` es.

    Subclasses set ``name`` and ``label`` and implement :meth:`infer` (one forward pass on
    a picture at its own size, keeping scores from ``self._decode_threshold`` up).

    Args:
        model: the weight file (its SHA-256 is checked when the session opens).
        threshold: score a box needs to be returned (after any pass's boost).
        passes: the resize/tile passes run by :meth:`detect`.
        threads: intra-op threads; None lets onnxruntime decide.
        cpu_only: run on the CPU even where a GPU provider is available.
        nms_iou: IoU above which the weaker of two boxes is suppressed within one pass.
        expand: growth per side, fraction of the box size, applied to every returned box.
    """

    name: str
    label: str

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float,
        passes: Sequence[Pass],
        threads: int | None,
        nms_iou: float,
        expand: float = 0.0,
        cpu_only: bool = False,
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.expand = expand
        self.passes = tuple(passes)
        # Boosted passes must see boxes below the threshold before their boost.
        self._decode_threshold = decode_threshold(threshold, self.passes)
        self.nms_iou = nms_iou
        self._runner = OnnxRunner(model, threads=threads, cpu_only=cpu_only)

    @property
    def accelerated(self) -> bool:
        """Whether the network runs on a GPU (opens its session)."""
        return self._runner.provider != CPU

    def take_providers(self) -> set[str]:
        """The execution providers the network ran on since the last call (then forgotten)."""
        return self._runner.take_providers()

    def infer(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        raise NotImplementedError

    def detect(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> Detections:
        """Boxes in a BGR uint8 picture (H, W, 3); xyxy source pixels, unmerged across passes.

        Args:
            image: the whole picture.
            rois: look only in these windows (source pixels; each pass at the scale it
                uses on the whole picture); ``None`` looks everywhere.
            floor: return boxes scoring at least this instead of ``threshold`` (lower, to
                see the candidates just under it).
        """
        least = self.threshold if floor is None else min(floor, self.threshold)
        self._decode_threshold = decode_threshold(least, self.passes)
        xyxy, score = run_passes(self.infer, image, self.passes, least, rois)
        xyxy = expand_boxes(xyxy, self.expand, image.shape[1], image.shape[0])
        return Detections.from_arrays(xyxy, score, self.label, Source.DETECTOR.value)
