"""Core value types that flow through the pipeline.

Coordinates are pixels in the source frame, ``xyxy`` with exclusive right/bottom
bounds (a box ``[0, 0, 10, 10]`` covers pixels 0..9). Images are BGR uint8 arrays
of shape ``(H, W, 3)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray


class Label(StrEnum):
    """What a detection is."""

    FACE = "face"
    PLATE = "plate"
    OCCUPANT = "occupant"  # a vehicle's window zone, or a person in or on a vehicle


class Source(StrEnum):
    """Where a detection or region came from."""

    DETECTOR = "detector"
    TRACKER = "tracker"
    MANUAL = "manual"


LABELS: tuple[str, ...] = tuple(lbl.value for lbl in Label)
SOURCES: tuple[str, ...] = tuple(src.value for src in Source)

FrameCallback = Callable[[str, int, int | None], None]
"""Called during a video with (input path relative to its root, frames done, frames total or None)."""


def _as_str_array(values: Sequence[str] | NDArray[np.str_] | str, n: int) -> NDArray[np.object_]:
    if isinstance(values, str):
        return np.array([values] * n, dtype=object)
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v.value if isinstance(v, Enum) else str(v)
    return arr


@dataclass(frozen=True, eq=False)
class Detections:
    """A set of boxes as parallel arrays.

    Attributes:
        xyxy: float32 array (N, 4) of ``x1, y1, x2, y2`` in source-frame pixels.
        score: float32 array (N,) of confidences in 0..1 (NaN for manual regions).
        label: object array (N,) of label strings (see :class:`Label`).
        source: object array (N,) of source strings (see :class:`Source`).
        track_id: int64 array (N,) of track ids, -1 where untracked.
    """

    xyxy: NDArray[np.float32]
    score: NDArray[np.float32]
    label: NDArray[np.object_]
    source: NDArray[np.object_]
    track_id: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        score = np.asarray(self.score, dtype=np.float32).reshape(-1)
        label = np.asarray(_as_str_array(list(self.label), n) if len(self.label) else np.empty(0, dtype=object))
        source = np.asarray(_as_str_array(list(self.source), n) if len(self.source) else np.empty(0, dtype=object))
        track = np.asarray(self.track_id, dtype=np.int64).reshape(-1)
        if len(track) == 0 and n:
            track = np.full(n, -1, dtype=np.int64)
        for name, arr in (("score", score), ("label", label), ("source", source), ("track_id", track)):
            if len(arr) != n:
                raise ValueError(f"Detections.{name} has {len(arr)} entries, expected {n}")
        if n and not np.all(np.isfinite(xyxy)):
            raise ValueError("Detections.xyxy contains NaN or infinite coordinates")
        bad = [v for v in label if v not in LABELS]
        if bad:
            raise ValueError(f"unknown label {bad[0]!r}; valid labels: {', '.join(LABELS)}")
        bad = [v for v in source if v not in SOURCES]
        if bad:
            raise ValueError(f"unknown source {bad[0]!r}; valid sources: {', '.join(SOURCES)}")
        for arr in (xyxy, score, label, source, track):
            arr.setflags(write=False)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "track_id", track)

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            score=np.zeros(0, np.float32),
            label=np.empty(0, dtype=object),
            source=np.empty(0, dtype=object),
        )

    @classmethod
    def from_arrays(
        cls,
        xyxy: NDArray[np.floating] | Sequence[Sequence[float]],
        score: NDArray[np.floating] | Sequence[float],
        label: str | Sequence[str],
        source: str | Sequence[str] = Source.DETECTOR.value,
        track_id: NDArray[np.integer] | Sequence[int] | None = None,
    ) -> Detections:
        """Build from arrays; a single ``label``/``source`` string applies to every box."""
        boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(boxes)
        lab = label.value if isinstance(label, Enum) else label
        src = source.value if isinstance(source, Enum) else source
        return cls(
            xyxy=boxes,
            score=np.asarray(score, dtype=np.float32).reshape(-1),
            label=_as_str_array(lab, n),
            source=_as_str_array(src, n),
            track_id=np.full(n, -1, np.int64) if track_id is None else np.asarray(track_id, np.int64),
        )

    @classmethod
    def concat(cls, parts: Iterable[Detections]) -> Detections:
        items = [p for p in parts if len(p)]
        if not items:
            return cls.empty()
        return cls(
            xyxy=np.concatenate([p.xyxy for p in items]),
            score=np.concatenate([p.score for p in items]),
            label=np.concatenate([p.label for p in items]),
            source=np.concatenate([p.source for p in items]),
            track_id=np.concatenate([p.track_id for p in items]),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.integer] | slice) -> Detections:
        return Detections(
            xyxy=self.xyxy[index],
            score=self.score[index],
            label=self.label[index],
            source=self.source[index],
            track_id=self.track_id[index],
        )

    def with_label(self, label: str) -> Detections:
        """Only the detections of one label."""
        return self[self.label == label]

    def replace(self, **changes: object) -> Detections:
        """A copy with some arrays replaced."""
        values: dict[str, object] = {
            "xyxy": self.xyxy,
            "score": self.score,
            "label": self.label,
            "source": self.source,
            "track_id": self.track_id,
        }
        values.update(changes)
        return Detections(**values)  # type: ignore[arg-type]

    @property
    def area(self) -> NDArray[np.float32]:
        w = np.clip(self.xyxy[:, 2] - self.xyxy[:, 0], 0, None)
        h = np.clip(self.xyxy[:, 3] - self.xyxy[:, 1], 0, None)
        return (w * h).astype(np.float32)


@dataclass(frozen=True)
class MediaInfo:
    """Facts about an input file.

    Attributes:
        kind: ``"image"`` or ``"video"``.
        width: upright picture width in pixels (after rotation for video).
        height: upright picture height in pixels.
        fps: average frame rate (video only).
        frame_count: number of decoded frames, if known before decoding.
        duration: seconds, if known.
        rotation: clockwise degrees the picture is displayed rotated by (0, 90, 180, 270).
    """

    kind: str
    width: int
    height: int
    format: str = ""
    fps: Fraction | None = None
    frame_count: int | None = None
    duration: float | None = None
    rotation: int = 0


@dataclass(frozen=True)
class Frame:
    """One decoded picture.

    Attributes:
        index: 0-based frame number in decode order (0 for a still image).
        pts: presentation time in seconds (0.0 for a still image).
        image: BGR uint8 array (H, W, 3), upright.
    """

    index: int
    pts: float
    image: NDArray[np.uint8]


@dataclass(frozen=True, eq=False)
class Regions:
    """Exactly what gets redacted in one picture.

    Attributes:
        boxes: int32 array (N, 4) of ``x1, y1, x2, y2`` in output pixels, clipped to the
            frame with exclusive right/bottom bounds; every box has positive area.
        label: object array (N,) of label strings.
        score: float32 array (N,); NaN for manual regions.
        source: object array (N,) of source strings.
        track_id: int64 array (N,), -1 where untracked.
        shape: object array (N,) of ``"rect"`` or ``"ellipse"`` (ellipse inscribed in the box).
    """

    boxes: NDArray[np.int32]
    label: NDArray[np.object_]
    score: NDArray[np.float32]
    source: NDArray[np.object_]
    track_id: NDArray[np.int64]
    shape: NDArray[np.object_]

    def __post_init__(self) -> None:
        n = len(self.boxes)
        for name in ("label", "score", "source", "track_id", "shape"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Regions.{name} has {len(getattr(self, name))} entries, expected {n}")
        if n and np.any((self.boxes[:, 2] <= self.boxes[:, 0]) | (self.boxes[:, 3] <= self.boxes[:, 1])):
            raise ValueError("Regions.boxes must all have positive width and height")

    @classmethod
    def empty(cls) -> Regions:
        return cls(
            boxes=np.zeros((0, 4), np.int32),
            label=np.empty(0, object),
            score=np.zeros(0, np.float32),
            source=np.empty(0, object),
            track_id=np.zeros(0, np.int64),
            shape=np.empty(0, object),
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def subset(self, index: Sequence[int], offset: tuple[int, int] = (0, 0)) -> Regions:
        """The regions at ``index``, their boxes moved by ``-offset`` (``x, y``: a crop's corner)."""
        idx = np.asarray(index, np.int64)
        boxes = self.boxes[idx] - np.array([offset[0], offset[1], offset[0], offset[1]], np.int32)
        return Regions(
            boxes=boxes.astype(np.int32), label=self.label[idx], score=self.score[idx],
            source=self.source[idx], track_id=self.track_id[idx], shape=self.shape[idx],
        )

    def xywh(self) -> NDArray[np.int32]:
        """Boxes as ``x, y, w, h`` (top-left origin, output pixels)."""
        out = self.boxes.copy()
        out[:, 2] -= out[:, 0]
        out[:, 3] -= out[:, 1]
        return out

    def to_records(self) -> list[dict[str, object]]:
        """Manifest records: label, score (None when unknown), box [x, y, w, h], source, track."""
        records: list[dict[str, object]] = []
        for i, box in enumerate(self.xywh().tolist()):
            score = float(self.score[i])
            rec: dict[str, object] = {
                "label": str(self.label[i]),
                "score": None if np.isnan(score) else round(score, 4),
                "box": [int(v) for v in box],
                "source": str(self.source[i]),
                "shape": str(self.shape[i]),
            }
            if self.track_id[i] >= 0:
                rec["track"] = int(self.track_id[i])
            records.append(rec)
        return records
