"""Vehicle occupants: the window zones of vehicles, and people in or on them.

Drivers and passengers behind glass are dim, oblique, tinted or reflected; the face
networks find them only when they are clear. A vehicle is found far more reliably
(YOLOX-Nano, :mod:`redact.detect.yolox`), and where a vehicle is, its windows are: in
``windows`` mode every vehicle's *window zone* is an ``occupant`` region, whatever is
seen through it. Persons found inside a car, bus or truck box, or on a motorcycle or
bicycle (riders), are ``occupant`` regions in both ``windows`` and ``people`` modes.

A vehicle's view (front, rear, side) is not known, so one zone per class covers where
windows and heads are in all three: the upper part of the box, inset a little from its
sides (:data:`WINDOW_ZONES`). Motorcycles and bicycles have no windows; their riders are
persons.

Enforcement-camera crops often show only a car's front, filling the picture; the network
then finds no vehicle, but the plate detectors find the plate. :func:`plate_zones` gives
the windshield zone a plate implies, and :func:`add_plate_zones` adds it for plates no
vehicle box holds (called by :meth:`redact.detect.DetectorSet.decide`).

Boxes are ``xyxy`` source-picture pixels, exclusive right/bottom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from redact import geometry
from redact.detect.base import ModelFile
from redact.detect.merge import box_area, intersection_matrix
from redact.detect.tiling import Pass, Tile
from redact.detect.yolox import BICYCLE, BUS, CAR, DEFAULT_THRESHOLD, MOTORCYCLE, TRUCK, Objects, YoloxCoco
from redact.types import Detections, Label, Source


@dataclass(frozen=True)
class WindowZone:
    """Where a vehicle's windows are, as shares of its box.

    Attributes:
        inset: share of the box's width left out on each side.
        top: top of the zone, share of the box's height from its top.
        bottom: bottom of the zone, share of the box's height from its top.
    """

    inset: float
    top: float
    bottom: float


# Calibrated on occupants-dev with bench/occupants.py (figures in docs/performance.md):
# windows reach about half a car box's height from its top at most (a high rear window), a
# side view's between about 0.05 and 0.45. Buses and coaches carry windows lower down their
# sides (up to about 0.65), so their zone reaches further.
CAR_ZONE = WindowZone(inset=0.04, top=0.0, bottom=0.45)
BUS_ZONE = WindowZone(inset=0.04, top=0.0, bottom=0.7)
WINDOW_ZONES: dict[int, WindowZone] = {CAR: CAR_ZONE, TRUCK: CAR_ZONE, BUS: BUS_ZONE}
# Classes a person can be in (the body hides all but the occupants' upper bodies) and on.
ENCLOSED = (CAR, BUS, TRUCK)
TWO_WHEELERS = (MOTORCYCLE, BICYCLE)
# A person is in a car, bus or truck when at least this share of its box lies inside the
# vehicle's box (a pedestrian beside a car stands above its roof line), and on a
# two-wheeler when at least RIDER_SHARE does (a rider's legs and seat are in the bike's box).
INSIDE_SHARE = 0.7
RIDER_SHARE = 0.3

# Plate-anchored windshield zone, in units of sqrt(plate width x plate height) (a European
# and a US plate differ 1.7x in width but 1.1x in this), from the plate's centre and top.
# Calibrated on the 46 openalpr pictures of occupants-dev with their labelled plates: the
# zone holds 30 of 32 heads and 94.7 % of the windows' area, and takes 33 % of a picture
# (these pictures are crops around one car); the two heads outside belong to a car whose
# plate is not the labelled one.
PLATE_ZONE_HALF_WIDTH = 4.5
PLATE_ZONE_ABOVE = 6.0  # top of the zone, units above the plate's top
PLATE_ZONE_GAP = 0.5  # bottom of the zone, units above the plate's top (the bonnet)
# Plates anchor a zone only when shaped like one (width / height): the text detector also
# finds captions and signs, which are longer, and upright patches, which are not plates.
PLATE_ASPECT = (1.2, 6.0)
# A box within this many pixels of the picture's border is cut by it.
BORDER_PX = 2


def window_zones(vehicles: Objects) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The window zone of each vehicle with windows (see :data:`WINDOW_ZONES`).

    Args:
        vehicles: COCO objects (xyxy source pixels); classes without a zone are skipped.

    Returns:
        (xyxy float32 (K, 4) source pixels, score float32 (K,): the vehicle's score).
    """
    boxes: list[NDArray[np.float32]] = []
    scores: list[NDArray[np.float32]] = []
    for cls, zone in WINDOW_ZONES.items():
        v = vehicles.of((cls,))
        if not len(v):
            continue
        w = v.xyxy[:, 2] - v.xyxy[:, 0]
        h = v.xyxy[:, 3] - v.xyxy[:, 1]
        boxes.append(
            np.stack(
                [
                    v.xyxy[:, 0] + zone.inset * w,
                    v.xyxy[:, 1] + zone.top * h,
                    v.xyxy[:, 2] - zone.inset * w,
                    v.xyxy[:, 1] + zone.bottom * h,
                ],
                axis=1,
            )
        )
        scores.append(v.score)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return np.concatenate(boxes).astype(np.float32), np.concatenate(scores).astype(np.float32)


def riders(persons: Objects, vehicles: Objects) -> NDArray[np.bool_]:
    """Which persons are in a car, bus or truck, or on a motorcycle or bicycle.

    Args:
        persons: person boxes (xyxy source pixels).
        vehicles: COCO objects of any class (only :data:`ENCLOSED` and
            :data:`TWO_WHEELERS` count).

    Returns:
        bool (len(persons),).
    """
    out = np.zeros(len(persons), bool)
    if not len(persons):
        return out
    area = np.maximum(box_area(persons.xyxy), 1e-6)[:, None]
    for classes, share in ((ENCLOSED, INSIDE_SHARE), (TWO_WHEELERS, RIDER_SHARE)):
        v = vehicles.of(classes)
        if len(v):
            out |= (intersection_matrix(persons.xyxy, v.xyxy) / area >= share).any(axis=1)
    return out


def plate_zones(plates: NDArray[np.floating], width: int, height: int) -> NDArray[np.float32]:
    """The windshield zone each plate implies when its vehicle's box is not known.

    The zone is :data:`PLATE_ZONE_HALF_WIDTH` units either side of the plate's centre and
    from :data:`PLATE_ZONE_ABOVE` to :data:`PLATE_ZONE_GAP` units above its top, a unit
    being ``sqrt(plate width * plate height)``; clipped to the picture.

    Args:
        plates: xyxy (N, 4) plate boxes, source pixels.
        width, height: the picture's size, pixels.

    Returns:
        xyxy float32 (N, 4), source pixels; a plate at the picture's top gives an empty
        (zero-height) zone.
    """
    p = np.asarray(plates, np.float32).reshape(-1, 4)
    unit = np.sqrt(box_area(p))
    cx = (p[:, 0] + p[:, 2]) / 2
    zones = np.stack(
        [
            cx - PLATE_ZONE_HALF_WIDTH * unit,
            p[:, 1] - PLATE_ZONE_ABOVE * unit,
            cx + PLATE_ZONE_HALF_WIDTH * unit,
            p[:, 1] - PLATE_ZONE_GAP * unit,
        ],
        axis=1,
    )
    zones[:, 0::2] = np.clip(zones[:, 0::2], 0, width)
    zones[:, 1::2] = np.clip(zones[:, 1::2], 0, height)
    return zones.astype(np.float32)


def cut_by_border(boxes: NDArray[np.floating], width: int, height: int) -> NDArray[np.bool_]:
    """Which boxes (xyxy (N, 4)) reach within :data:`BORDER_PX` of the picture's border."""
    return geometry.cut_by_border(boxes, width, height, BORDER_PX)


def held(plates: NDArray[np.floating], vehicles: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which plates (xyxy (N, 4)) have their centre inside some vehicle box (xyxy (M, 4))."""
    p = np.asarray(plates, np.float32).reshape(-1, 4)
    v = np.asarray(vehicles, np.float32).reshape(-1, 4)
    if not len(p) or not len(v):
        return np.zeros(len(p), bool)
    cx, cy = (p[:, 0] + p[:, 2]) / 2, (p[:, 1] + p[:, 3]) / 2
    inside = (
        (cx[:, None] >= v[None, :, 0])
        & (cx[:, None] < v[None, :, 2])
        & (cy[:, None] >= v[None, :, 1])
        & (cy[:, None] < v[None, :, 3])
    )
    return np.asarray(inside.any(axis=1))


@dataclass(frozen=True, eq=False)
class OccupantFinds(Detections):
    """Occupant regions plus the vehicles they were found from.

    A :class:`Detections` of label ``occupant`` everywhere one is expected; the extra
    fields let :func:`add_plate_zones` tell which plates have no vehicle around them.
    Indexing or concatenating gives plain :class:`Detections`.

    Attributes:
        vehicles: float32 (M, 4), xyxy source pixels of every vehicle found (any of
            :data:`redact.detect.yolox.VEHICLES`, and bicycles).
        vehicle_score: float32 (M,), their scores.
        persons: float32 (P, 4), xyxy source pixels of every person found, aboard or not
            (:mod:`redact.detect.heads` looks for faces where their heads are).
        person_score: float32 (P,), their scores.
        windows: whether window zones are wanted (``windows`` mode), plate-anchored ones too.
    """

    vehicles: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    vehicle_score: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    persons: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    person_score: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    windows: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for boxes_name, score_name in (("vehicles", "vehicle_score"), ("persons", "person_score")):
            boxes = np.asarray(getattr(self, boxes_name), np.float32).reshape(-1, 4)
            score = np.asarray(getattr(self, score_name), np.float32).reshape(-1)
            if len(score) != len(boxes):
                raise ValueError(f"OccupantFinds.{score_name} has {len(score)} entries, expected {len(boxes)}")
            for arr in (boxes, score):
                arr.setflags(write=False)
            object.__setattr__(self, boxes_name, boxes)
            object.__setattr__(self, score_name, score)


def add_plate_zones(
    kept: Mapping[str, Detections],
    found: Mapping[str, Detections],
    width: int,
    height: int,
    threshold: float | None = None,
) -> dict[str, Detections]:
    """Add the windshield zone of every kept plate that no vehicle box holds.

    Plates outside :data:`PLATE_ASPECT` anchor nothing. A vehicle cut by the picture's
    border holds no plate: the upper part of what is seen of it need not be its windows (a
    car half out at the top shows its bonnet there), and how much of it a network boxes
    depends on how it is shown (a window around it, the whole picture), while its plate
    places the windshield the same way in both.

    Only when an occupant detector in ``windows`` mode ran (its :class:`OccupantFinds` in
    ``found``); the zones join that detector's kept boxes, scored as their plates.

    Args:
        kept: per detector name, the boxes that passed (plates among them).
        found: per detector name, every candidate (as ``DetectorSet.per_detector`` gives).
        width, height: the picture's size, pixels.
        threshold: vehicles scoring below this do not count as holding a plate (they were
            only candidates); ``None`` counts every vehicle found.

    Returns:
        ``kept`` with the zones added (a new dict; the inputs are not changed).
    """
    out = dict(kept)
    plates = Detections.concat(d.with_label(Label.PLATE.value) for d in kept.values())
    if not len(plates):
        return out
    for name, finds in found.items():
        if not isinstance(finds, OccupantFinds) or not finds.windows:
            continue
        strong = finds.vehicles if threshold is None else finds.vehicles[finds.vehicle_score >= threshold]
        strong = strong[~cut_by_border(strong, width, height)]
        w = plates.xyxy[:, 2] - plates.xyxy[:, 0]
        h = np.maximum(plates.xyxy[:, 3] - plates.xyxy[:, 1], 1e-6)
        shaped = (w / h >= PLATE_ASPECT[0]) & (w / h <= PLATE_ASPECT[1])
        lone = plates[shaped & ~held(plates.xyxy, strong)]
        if not len(lone):
            continue
        zones = Detections.from_arrays(
            plate_zones(lone.xyxy, width, height), lone.score, Label.OCCUPANT.value, Source.DETECTOR.value
        )
        zones = zones[box_area(zones.xyxy) > 0]
        out[name] = Detections.concat([out.get(name, Detections.empty()), zones])
    return out


class Occupants:
    """Occupant regions: vehicles' window zones and persons in or on vehicles.

    Args:
        model: the YOLOX weight file (SHA-256 checked when the session opens).
        threshold: score a vehicle or person needs (objectness x class probability).
        passes: unused (the COCO network looks at the whole picture and, for large ones,
            its own tiles: :func:`redact.detect.yolox.views`); kept for the registry's
            factory signature.
        threads: intra-op threads; ``None`` lets onnxruntime decide.
        cpu_only: run on the CPU even where a GPU provider is available.
        mode: ``"windows"`` (zones and persons), ``"people"`` (persons only) or ``"off"``
            (no regions: the vehicles and persons found are still reported, for the plate
            zoom and :mod:`redact.detect.heads`).
    """

    name = "occupants"
    label = Label.OCCUPANT.value

    def __init__(
        self,
        model: ModelFile,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        passes: Sequence[Pass] = (),
        threads: int | None = None,
        cpu_only: bool = False,
        mode: str = "windows",
    ) -> None:
        if mode not in ("windows", "people", "off"):
            raise ValueError(f"occupant mode must be 'windows', 'people' or 'off', got {mode!r}")
        self.model = model
        self.threshold = threshold
        self.passes = tuple(passes)
        self.mode = mode
        self._coco = YoloxCoco(model, threshold=threshold, threads=threads, cpu_only=cpu_only)

    @property
    def accelerated(self) -> bool:
        """Whether the network runs on a GPU (opens its session)."""
        return self._coco.accelerated

    def take_providers(self) -> set[str]:
        """The execution providers the network ran on since the last call (then forgotten)."""
        return self._coco.take_providers()

    def detect(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> OccupantFinds:
        """Occupant regions in a BGR uint8 picture (H, W, 3).

        Args:
            image: the whole picture.
            rois: look only inside these windows (source pixels); ``None`` looks everywhere.
            floor: keep vehicles and persons scoring at least this instead of ``threshold``
                (lower, to see the candidates just under it).

        Returns:
            Occupant regions (xyxy source pixels, unmerged: zones and persons may overlap)
            with the vehicles found (:class:`OccupantFinds`).
        """
        self._coco.threshold = self.threshold if floor is None else min(floor, self.threshold)
        objects = self._coco.detect(image, rois=rois)
        vehicles = objects.of((*ENCLOSED, *TWO_WHEELERS))
        persons = objects.persons()
        aboard = persons[riders(persons, vehicles)] if self.mode != "off" else persons[:0]
        xyxy, score = [aboard.xyxy], [aboard.score]
        if self.mode == "windows":
            zx, zs = window_zones(vehicles)
            xyxy.append(zx)
            score.append(zs)
        boxes = np.concatenate(xyxy).reshape(-1, 4)
        return OccupantFinds(
            xyxy=boxes,
            score=np.concatenate(score),
            label=np.array([self.label] * len(boxes), dtype=object),
            source=np.array([Source.DETECTOR.value] * len(boxes), dtype=object),
            vehicles=vehicles.xyxy,
            vehicle_score=vehicles.score,
            persons=persons.xyxy,
            person_score=persons.score,
            windows=self.mode == "windows",
        )
