"""COCO object detector: YOLOX-Nano (Megvii's COCO weights, Apache-2.0), for vehicles and people.

Vehicles are where plates and occupants are: their boxes tell the plate search where to
look closer and where a vehicle's windows are. The network is the one COCO model redact
ships; it finds all 80 COCO classes, and :class:`Objects` keeps their ids.

The file (``redact/models/yolox_nano.onnx``, from ``tools/fetch_yolox.py``) takes one
letterboxed picture and returns a row per cell (:mod:`redact.detect.yolox_io`).

Large pictures are also looked at in tiles (see :func:`views`): a whole 1280x720 frame
letterboxed into 416 px shrinks it 3x, and a car 60 px long becomes 20, at the edge of
what the network finds. And every whole picture is looked at once more zoomed out
(:func:`zoomed_out`): a vehicle that fills the picture (a roadside camera's crop of one car
front, the car just ahead) is what the network, trained on scenes around objects, misses
most often; shrunk to half inside a grey border it is found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.merge import box_area, iou_matrix, nms
from redact.detect.session import CPU, OnnxRunner
from redact.detect.tiles import Tile, tile_grid
from redact.detect.yolox_io import INPUT_SIZE, PAD_VALUE, decode, letterbox

YOLOX_MODEL = ModelFile(
    name="yolox_nano",
    label="object",
    file="yolox_nano.onnx",
    sha256="695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
    licence="Apache-2.0",
    origin="Kazuhito00/YOLOX-ONNX-TFLite-Sample@3d4f111 (model/yolox_nano.onnx), YOLOX-Nano COCO weights by "
    "Megvii (Megvii-BaseDetection/YOLOX); copied unchanged by tools/fetch_yolox.py",
)

# COCO class ids (0-based, in the order of YOLOX's COCO_CLASSES).
PERSON = 0
BICYCLE = 1
CAR = 2
MOTORCYCLE = 3
BUS = 5
TRUCK = 7
VEHICLES = (CAR, MOTORCYCLE, BUS, TRUCK)  # motor vehicles: what carries a licence plate
# The network often calls one van or pick-up a car in one view and a truck in the next;
# boxes of these classes suppress each other as if of one class.
_SAME_BODY = (CAR, BUS, TRUCK)

# Vehicles are anchors for the plate and occupant searches, which look only where a
# vehicle was found: a missed vehicle costs a missed plate, a spurious one only a little
# time. So the default keeps boxes from 0.25, under YOLOX's demo's 0.3. On the dev plate
# sets (bench/vehicles.py) a vehicle box held 593 of 643 plate centres at 0.25, 590 at 0.3,
# 594 at 0.2, and 605 at 0.1 with twice as many boxes per dash-cam frame (10 against 5).
DEFAULT_THRESHOLD = 0.25
NMS_IOU = 0.45  # YOLOX's own
# A picture whose longer side exceeds this is also looked at in tiles of at most this side
# (2x the input: each tile is shrunk at most 2x), overlapping by TILE_OVERLAP pixels.
TILE_SIDE = 2 * INPUT_SIZE
TILE_OVERLAP = 192
# Tile boxes within this many input pixels of an edge the tile shares with a neighbour
# are cut objects; the neighbour or the whole view sees them whole. The network often ends
# the box of a cut vehicle a few pixels short of the edge (3 input pixels in one dev image).
EDGE_MARGIN = 8.0
# The zoomed-out look: the whole picture shrunk by ZOOM_OUT, centred in a grey canvas.
# Only its boxes covering at least ZOOM_OUT_SHARE of the picture are kept: it is there for
# objects too large for the whole view, which sees everything smaller better. On grey
# 320x288 crops of car fronts and rears made from the occupant dev sets (bench/occupants.py
# --crops), 52 of 56 labelled windows lay in a vehicle found with it, 46 without
# (docs/performance.md).
ZOOM_OUT = 2.0
ZOOM_OUT_SHARE = 0.25


@dataclass(frozen=True, eq=False)
class Objects:
    """COCO objects as parallel arrays.

    Attributes:
        xyxy: float32 (N, 4), ``x1, y1, x2, y2`` in source-picture pixels, exclusive
            right/bottom, clipped to the picture.
        score: float32 (N,), objectness times class probability, 0..1.
        cls: int64 (N,), COCO class id (0 person, 2 car, ...; see :data:`VEHICLES`).
    """

    xyxy: NDArray[np.float32]
    score: NDArray[np.float32]
    cls: NDArray[np.int64]

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, np.float32)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f"Objects.xyxy must have shape (N, 4), got {xyxy.shape}")
        score = np.asarray(self.score, np.float32).reshape(-1)
        cls = np.asarray(self.cls, np.int64).reshape(-1)
        n = len(xyxy)
        for name, arr in (("score", score), ("cls", cls)):
            if len(arr) != n:
                raise ValueError(f"Objects.{name} has {len(arr)} entries, expected {n}")
        if n and not np.all(np.isfinite(xyxy)):
            raise ValueError("Objects.xyxy contains NaN or infinite coordinates")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "cls", cls)

    @classmethod
    def empty(cls) -> Objects:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.int64] | slice) -> Objects:
        return Objects(self.xyxy[index], self.score[index], self.cls[index])

    def of(self, classes: Sequence[int]) -> Objects:
        """The objects whose class is one of ``classes`` (COCO ids)."""
        return self[np.isin(self.cls, np.asarray(classes, np.int64))]

    def vehicles(self) -> Objects:
        """Cars, motorcycles, buses and trucks (not bicycles: see :meth:`of`)."""
        return self.of(VEHICLES)

    def persons(self) -> Objects:
        return self.of((PERSON,))


def views(width: int, height: int) -> list[tuple[Tile, bool]]:
    """The windows a ``width`` x ``height`` picture is looked at through, in its pixels.

    The whole picture, then, when its longer side exceeds :data:`TILE_SIDE`, overlapping
    tiles of at most that side (:func:`redact.detect.tiles.tile_grid`): a 1280x720 frame
    gets two tiles of 736x720, a 1920x1080 one six of 768x636.

    Returns:
        (window, is_tile) pairs, the whole picture first.
    """
    whole = Tile(0, 0, width, height)
    if max(width, height) <= TILE_SIDE:
        return [(whole, False)]
    return [(whole, False)] + [(t, True) for t in tile_grid(width, height, TILE_SIDE, TILE_OVERLAP)]


def whole_costs_less(rois: Sequence[Tile], width: int, height: int) -> bool:
    """Whether looking at the whole ``width`` x ``height`` picture takes no more runs of the
    network than looking at the windows ``rois`` (each clipped to it): then the whole is looked
    at, for the same cost, and objects come out boxed as a whole-picture run boxes them (a
    window that cuts a person or a vehicle off boxes it differently, and the head or window
    zone taken from the box with it). The whole picture's zoomed-out look (:func:`zoomed_out`)
    is not counted: it is one small run, and a whole look without it would box a vehicle
    that fills the picture differently from the keyframes' looks."""
    runs = 0
    for roi in rois:
        cw, ch = min(width, roi.x1) - max(0, roi.x0), min(height, roi.y1) - max(0, roi.y0)
        if cw > 0 and ch > 0:
            runs += len(views(cw, ch))
    return runs >= len(views(width, height))


def zoomed_out(
    image: NDArray[np.uint8], factor: float = ZOOM_OUT, size: int = INPUT_SIZE
) -> tuple[NDArray[np.uint8], float, float, int, int]:
    """The picture as a canvas ``factor`` times its size would show it letterboxed into
    ``size`` px: shrunk to fit, centred in grey (:data:`PAD_VALUE`), the canvas at most
    ``size`` a side (made at that scale: a 1080p frame's full-size canvas would be 4K).

    Returns:
        (canvas uint8, fx, fy, x0, y0): a source pixel x lies at ``x0 + x * fx`` on the canvas.
    """
    h, w = image.shape[:2]
    r = min(size / (h * factor), size / (w * factor))
    rw, rh = max(1, int(w * r)), max(1, int(h * r))
    cw, ch = min(size, max(rw, round(w * factor * r))), min(size, max(rh, round(h * factor * r)))
    x0, y0 = (cw - rw) // 2, (ch - rh) // 2
    canvas = np.full((ch, cw, 3), PAD_VALUE, np.uint8)
    canvas[y0 : y0 + rh, x0 : x0 + rw] = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_LINEAR)
    return canvas, rw / w, rh / h, x0, y0


def cut_by_edges(xyxy: NDArray[np.float32], window: Tile, frame: Tile, margin: float) -> NDArray[np.bool_]:
    """Which boxes (source pixels) touch an edge of ``window`` that is not an edge of ``frame``."""
    cut = np.zeros(len(xyxy), bool)
    if window.x0 > frame.x0:
        cut |= xyxy[:, 0] <= window.x0 + margin
    if window.y0 > frame.y0:
        cut |= xyxy[:, 1] <= window.y0 + margin
    if window.x1 < frame.x1:
        cut |= xyxy[:, 2] >= window.x1 - margin
    if window.y1 < frame.y1:
        cut |= xyxy[:, 3] >= window.y1 - margin
    return cut


def _groups(cls: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.where(np.isin(cls, _SAME_BODY), _SAME_BODY[0], cls)


def classwise_nms(
    xyxy: NDArray[np.float32], score: NDArray[np.float32], cls: NDArray[np.int64], iou: float
) -> NDArray[np.int64]:
    """Greedy NMS within each class (car, bus and truck counted as one); kept indices, best first."""
    group = _groups(cls)
    keep = [idx[nms(xyxy[idx], score[idx], iou)] for g in np.unique(group) for idx in [np.nonzero(group == g)[0]]]
    if not keep:
        return np.zeros(0, np.int64)
    kept = np.concatenate(keep)
    return kept[np.argsort(-score[kept], kind="stable")].astype(np.int64)


def fuse_views(objects: Objects, iou: float) -> Objects:
    """Merge boxes of several views: per class (car, bus and truck as one), the best box
    takes in every box overlapping it by ``iou`` or more and grows to enclose them all.

    Views disagree most about where an object ends (a tile holds only part of it, the
    whole view sees it small); the enclosing box keeps what each view saw, as the plate
    and window searches look only inside it. The best box's class and score stay.

    Returns:
        New objects, best first.
    """
    order = np.argsort(-objects.score, kind="stable")
    ordered = objects[order]
    boxes, group = ordered.xyxy.copy(), _groups(ordered.cls)
    alive = np.ones(len(ordered), bool)
    kept: list[int] = []
    for i in range(len(ordered)):
        if not alive[i]:
            continue
        idx = np.nonzero(alive & (group == group[i]))[0]
        members = idx[iou_matrix(boxes[i : i + 1], boxes[idx])[0] >= iou]
        members = np.union1d(members, [i])  # a zero-area box has IoU 0 with itself
        m = boxes[members]
        boxes[i] = (m[:, 0].min(), m[:, 1].min(), m[:, 2].max(), m[:, 3].max())
        alive[members] = False
        kept.append(i)
    keep = np.asarray(kept, np.int64)
    return Objects(boxes[keep], ordered.score[keep], ordered.cls[keep])


class YoloxCoco:
    """COCO objects (vehicles, people, ...) in a picture: YOLOX-Nano over the whole picture
    and, for large pictures, over overlapping tiles.

    Args:
        model: the weight file (SHA-256 checked when built); :data:`YOLOX_MODEL`.
        threshold: score (objectness x class probability) a box needs to be returned.
        threads: intra-op threads; ``None`` lets onnxruntime decide.
        cpu_only: run on the CPU even where a GPU provider is available.
        nms_iou: IoU at which two boxes of one class are one object (the weaker is dropped
            within a view; across views the stronger grows to enclose it).
    """

    name = "yolox_nano"

    def __init__(
        self,
        model: ModelFile = YOLOX_MODEL,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        threads: int | None = None,
        cpu_only: bool = False,
        nms_iou: float = NMS_IOU,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if not 0.0 < nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in (0, 1], got {nms_iou}")
        self.model = model
        self.threshold = threshold
        self.nms_iou = nms_iou
        self._runner = OnnxRunner(model, threads=threads, cpu_only=cpu_only)

    @property
    def accelerated(self) -> bool:
        """Whether the network runs on a GPU (opens its session)."""
        return self._runner.provider != CPU

    def take_providers(self) -> set[str]:
        """The execution providers the network ran on since the last call (then forgotten)."""
        return self._runner.take_providers()

    def infer(self, image: NDArray[np.uint8]) -> Objects:
        """One forward pass on a BGR uint8 picture (h, w, 3), letterboxed; boxes in its pixels,
        clipped to it, NMS-ed per class."""
        h, w = image.shape[:2]
        canvas, fx, fy = letterbox(image)
        blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32)
        xyxy, score, cls = decode(self._runner.run(blob)[0], self.threshold)
        xyxy[:, 0::2] = np.clip(xyxy[:, 0::2] / fx, 0, w)
        xyxy[:, 1::2] = np.clip(xyxy[:, 1::2] / fy, 0, h)
        keep = classwise_nms(xyxy, score, cls, self.nms_iou)
        return Objects(xyxy[keep], score[keep], cls[keep])

    def _zoomed_out(self, image: NDArray[np.uint8]) -> Objects:
        """The objects covering :data:`ZOOM_OUT_SHARE` of the picture or more, as the network
        sees them with the picture zoomed out (:func:`zoomed_out`); source pixels."""
        h, w = image.shape[:2]
        canvas, fx, fy, x0, y0 = zoomed_out(image)
        found = self.infer(canvas)
        offset, scale = np.array([x0, y0, x0, y0], np.float32), np.array([fx, fy, fx, fy], np.float32)
        xyxy = ((found.xyxy - offset) / scale).astype(np.float32)
        xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, w)
        xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, h)
        return Objects(xyxy, found.score, found.cls)[box_area(xyxy) >= ZOOM_OUT_SHARE * w * h]

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Objects:
        """COCO objects in a BGR uint8 picture (H, W, 3).

        Args:
            image: the whole picture.
            rois: look only inside these windows (source pixels, clipped to the picture),
                each looked at as a picture of its own (:func:`views`); a window smaller
                than the network's input is enlarged to fill it. ``None``: the whole picture,
                also zoomed out (:meth:`_zoomed_out`). Where the windows would take at least
                as many runs of the network as the whole picture, the whole picture is
                looked at instead (:func:`whole_costs_less`).

        Returns:
            Objects in source pixels (xyxy, exclusive right/bottom), NMS-ed per class within
            each view and fused across views and windows (:func:`fuse_views`), best first.

        Raises:
            ValueError: the picture is not BGR uint8 (H, W, 3) or is empty.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected a BGR uint8 picture (H, W, 3), got {image.dtype} {image.shape}")
        h, w = image.shape[:2]
        if h == 0 or w == 0:
            raise ValueError(f"picture is empty ({w}x{h})")
        whole = rois is None or whole_costs_less(rois, w, h)
        windows = [Tile(0, 0, w, h)] if whole or rois is None else rois
        zoomed = self._zoomed_out(image) if whole else Objects.empty()
        parts: list[Objects] = [zoomed] if len(zoomed) else []
        for roi in windows:
            frame = Tile(max(0, roi.x0), max(0, roi.y0), min(w, roi.x1), min(h, roi.y1))
            if frame.width <= 0 or frame.height <= 0:
                continue
            for view, is_tile in views(frame.width, frame.height):
                win = Tile(frame.x0 + view.x0, frame.y0 + view.y0, frame.x0 + view.x1, frame.y0 + view.y1)
                found = self.infer(image[win.y0 : win.y1, win.x0 : win.x1])
                xyxy = found.xyxy + np.array([win.x0, win.y0, win.x0, win.y0], np.float32)
                if is_tile:  # margin in source pixels: the tile's shrink factor times EDGE_MARGIN
                    margin = EDGE_MARGIN * max(win.width, win.height) / INPUT_SIZE
                    found = Objects(xyxy, found.score, found.cls)[~cut_by_edges(xyxy, win, frame, margin)]
                    parts.append(found)
                else:
                    parts.append(Objects(xyxy, found.score, found.cls))
        if not parts:
            return Objects.empty()
        merged = Objects(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.score for p in parts]),
            np.concatenate([p.cls for p in parts]),
        )
        return merged if len(parts) == 1 else fuse_views(merged, self.nms_iou)
