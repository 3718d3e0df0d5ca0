"""Shared plumbing of the ONNX detectors: a session, resize/tile passes, threshold, growth.

On a GPU, pictures of one size (the tiles of a pass, the same pass on several frames) run
through the network as one batch, up to :data:`BATCH_PIXELS`: one run instead of one per
tile. On the CPU each picture runs on its own, as batches bring nothing there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.session import CPU, OnnxRunner
from redact.detect.tiles import Tile
from redact.detect.tiling import (
    Pass,
    decode_threshold,
    empty_boxes,
    expand_boxes,
    finish_pass,
    plan_pass,
    run_passes,
    scoring_at_least,
)
from redact.types import Detections, Source

Boxes = tuple[NDArray[np.float32], NDArray[np.float32]]  # xyxy float32 (N, 4) pixels, score float32 (N,)
# Runs a network on several pictures, one result per picture in order.
InferManyFn = Callable[[Sequence[NDArray[np.uint8]]], Sequence[Boxes]]

# Largest batch in input pixels (pictures x height x width): about a 4K frame's native
# tiles, or two 1080p frames' tiles and their smaller passes, per run.
BATCH_PIXELS = 8_500_000


def batches(count: int, pixels: int, limit: int | None = None) -> list[range]:
    """Split ``count`` pictures of ``pixels`` each into batches of at most ``limit`` pixels
    (default :data:`BATCH_PIXELS`; at least one picture each), as even in size as that
    allows (fewer distinct shapes)."""
    per = max(1, (BATCH_PIXELS if limit is None else limit) // max(1, pixels))
    n = -(-count // per)
    cuts = [round(i * count / n) for i in range(n + 1)] if n else [0]
    return [range(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def run_passes_many(
    infer_many: InferManyFn,
    images: Sequence[NDArray[np.uint8]],
    passes: Sequence[Pass],
    threshold: float = 0.0,
    rois: Sequence[Tile] | None = None,
) -> list[Boxes]:
    """:func:`redact.detect.tiling.run_passes` on several pictures, with one call of
    ``infer_many`` on every tile of every pass of every picture; a pass whose tiles are
    enlarged one by one (:data:`redact.detect.tiling.WHOLE_RESIZE_PIXELS`) runs a batch's
    worth of them per call instead, so no more than a batch of them is ever held.

    Returns:
        Per picture, in order: (xyxy float32 (N, 4) source pixels, score float32 (N,)).
    """
    windows: Sequence[Tile | None] = [None] if rois is None else rois
    plans = [[plan_pass(image, p, roi) for p in passes for roi in windows] for image in images]
    whole = [plan for per in plans for plan in per if plan is not None and plan.scaled is not None]
    results = iter(infer_many([crop for plan in whole for crop in plan.crops()]))
    found: dict[int, list[Boxes]] = {id(plan): [next(results) for _ in plan.tiles] for plan in whole}
    for plan in (plan for per in plans for plan in per if plan is not None and plan.scaled is None):
        crops, tile = plan.crops(), plan.tiles[0]
        found[id(plan)] = [
            box
            for part in batches(len(plan.tiles), tile.width * tile.height)
            for box in infer_many([next(crops) for _ in part])
        ]
    out = []
    for per in plans:
        parts = [empty_boxes() if plan is None else finish_pass(plan, found[id(plan)]) for plan in per]
        out.append(scoring_at_least(parts, threshold))
    return out


class PassDetector:
    """A detector that runs its network's :meth:`infer` over a list of :class:`Pass` es.

    Subclasses set ``name`` and ``label`` and implement :meth:`blob` (a picture as the
    network's input), :meth:`boxes` (one picture's outputs as boxes, keeping scores from
    ``self._decode_threshold`` up) and, where the network is more than one run,
    :meth:`forward`.

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
        # Whether same-sized pictures run as one batch: None decides by where the network
        # runs (a GPU); True or False forces it (tests compare the two on the CPU).
        self.batch: bool | None = None

    @property
    def accelerated(self) -> bool:
        """Whether the network runs on a GPU (opens its session)."""
        return self._runner.provider != CPU

    def take_providers(self) -> set[str]:
        """The execution providers the network ran on since the last call (then forgotten)."""
        return self._runner.take_providers()

    @property
    def batching(self) -> bool:
        """Whether same-sized pictures run as one batch: on a GPU unless ``batch`` says
        otherwise, and only where the model file takes batches (opens its session)."""
        wanted = self.accelerated if self.batch is None else self.batch
        return wanted and self._runner.dynamic_batch

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        """A BGR uint8 picture (h, w, 3) as the network's input, NCHW float32 (1, 3, H, W)."""
        raise NotImplementedError

    def forward(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """The network's outputs for an NCHW blob (a batch of any size), batch axis first."""
        return self._runner.run(blob)

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> Boxes:
        """One picture's boxes from its outputs (batch axis of 1), the picture ``size``
        (height, width) in pixels: (xyxy float32 (N, 4) in its pixels, score float32 (N,)), NMS-ed."""
        raise NotImplementedError

    def infer(self, image: NDArray[np.uint8]) -> Boxes:
        """One forward pass on a BGR uint8 picture (h, w, 3) at its own size.

        Returns:
            (xyxy float32 (N, 4) in this picture's pixels, score float32 (N,)), NMS-ed.
        """
        return self.boxes(self.forward(self.blob(image)), (image.shape[0], image.shape[1]))

    def infer_many(self, images: Sequence[NDArray[np.uint8]]) -> list[Boxes]:
        """:meth:`infer` on each picture; while :attr:`batching`, pictures of one size run
        as batches of at most :data:`BATCH_PIXELS`."""
        if not self.batching:
            return [self.infer(image) for image in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(image.shape, []).append(i)
        out: list[Boxes] = [empty_boxes()] * len(images)
        for shape, members in groups.items():
            for part in batches(len(members), shape[0] * shape[1]):
                chosen = [members[k] for k in part]
                blob = np.concatenate([self.blob(images[i]) for i in chosen])
                outputs = self.forward(blob)
                for k, i in enumerate(chosen):
                    out[i] = self.boxes([o[k : k + 1] for o in outputs], (shape[0], shape[1]))
        return out

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
        if self.batching:
            return self.detect_many([image], rois=rois, floor=floor)[0]
        least = self.threshold if floor is None else min(floor, self.threshold)
        self._decode_threshold = decode_threshold(least, self.passes)
        xyxy, score = run_passes(self.infer, image, self.passes, least, rois)
        xyxy = expand_boxes(xyxy, self.expand, image.shape[1], image.shape[0])
        return Detections.from_arrays(xyxy, score, self.label, Source.DETECTOR.value)

    def detect_many(
        self,
        images: Sequence[NDArray[np.uint8]],
        *,
        rois: Sequence[Tile] | None = None,
        floor: float | None = None,
    ) -> list[Detections]:
        """:meth:`detect` on several pictures (``rois`` the same windows in each); while
        :attr:`batching`, the same-sized tiles of all of them run as batches."""
        if not self.batching:
            return [self.detect(image, rois=rois, floor=floor) for image in images]
        least = self.threshold if floor is None else min(floor, self.threshold)
        self._decode_threshold = decode_threshold(least, self.passes)
        found = run_passes_many(self.infer_many, images, self.passes, least, rois)
        return [
            Detections.from_arrays(
                expand_boxes(xyxy, self.expand, image.shape[1], image.shape[0]), score, self.label,
                Source.DETECTOR.value,
            )
            for image, (xyxy, score) in zip(images, found, strict=True)
        ]
