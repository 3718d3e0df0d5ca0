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
then finds no vehicle, but the plate detectors find the plate. Plates place occupants
too (the windshield zone a lone plate implies; a zone ending above its vehicle's own
plate): :mod:`redact.detect.plate_anchors`.

Boxes are ``xyxy`` source-picture pixels, exclusive right/bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.merge import box_area, intersection_matrix
from redact.detect.panels import clip_to_panels, find_panels
from redact.detect.tiles import Tile
from redact.detect.tiling import Pass
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
# ... and only on a two-wheeler scoring at least RIDER_SCORE: the network's weak motorcycles
# and bicycles are mostly luggage trolleys, prams and suitcases pushed or pulled by the
# person. On the dev stills, 7 of the 8 person-on-two-wheeler pairs under 0.4 are no riders
# (trolleys, a pram, people walking past a shop window), 2 of the 5 from 0.4 up (strollers).
# A rider's head is a face region either way (redact.detect.heads).
RIDER_SCORE = 0.4


def window_zones(vehicles: Objects) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """The window zone of each vehicle with windows (see :data:`WINDOW_ZONES`).

    Args:
        vehicles: COCO objects (xyxy source pixels); classes without a zone are skipped.

    Returns:
        (xyxy float32 (K, 4) source pixels, score float32 (K,): the vehicle's score,
        int64 (K,): the vehicle's index in ``vehicles``).
    """
    boxes: list[NDArray[np.float32]] = []
    scores: list[NDArray[np.float32]] = []
    index: list[NDArray[np.int64]] = []
    for cls, zone in WINDOW_ZONES.items():
        which = np.nonzero(vehicles.cls == cls)[0]
        if not len(which):
            continue
        v = vehicles[which]
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
        index.append(which.astype(np.int64))
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    return (
        np.concatenate(boxes).astype(np.float32),
        np.concatenate(scores).astype(np.float32),
        np.concatenate(index),
    )


def riders(persons: Objects, vehicles: Objects) -> NDArray[np.float32]:
    """Which persons are in a car, bus or truck, or on a motorcycle or bicycle, and how sure.

    Args:
        persons: person boxes (xyxy source pixels).
        vehicles: COCO objects of any class (only :data:`ENCLOSED` and
            :data:`TWO_WHEELERS` count; two-wheelers from :data:`RIDER_SCORE`).

    Returns:
        float32 (len(persons),): per person the lesser of its own score and that of the
        best vehicle it is aboard; 0 where it is aboard none. An occupant region is as
        sure as both: a person is one only because the vehicle is there.
    """
    best = np.zeros(len(persons), np.float32)
    if not len(persons):
        return best
    area = np.maximum(box_area(persons.xyxy), 1e-6)[:, None]
    for classes, share, least in ((ENCLOSED, INSIDE_SHARE, 0.0), (TWO_WHEELERS, RIDER_SHARE, RIDER_SCORE)):
        v = vehicles.of(classes)
        v = v[v.score >= least]
        if len(v):
            inside = intersection_matrix(persons.xyxy, v.xyxy) / area >= share
            best = np.maximum(best, np.where(inside, v.score[None, :], 0.0).max(axis=1))
    return np.where(best > 0, np.minimum(best, persons.score), 0.0).astype(np.float32)


@dataclass(frozen=True, eq=False)
class OccupantFinds(Detections):
    """Occupant regions plus the vehicles they were found from.

    A :class:`Detections` of label ``occupant`` everywhere one is expected; the extra
    fields let :mod:`redact.detect.plate_anchors` tell which plates have no vehicle around
    them and which zone is whose. Indexing or concatenating gives plain :class:`Detections`.

    Attributes:
        vehicles: float32 (M, 4), xyxy source pixels of every vehicle found (any of
            :data:`redact.detect.yolox.VEHICLES`, and bicycles).
        vehicle_score: float32 (M,), their scores.
        persons: float32 (P, 4), xyxy source pixels of every person found, aboard or not
            (:mod:`redact.detect.heads` looks for faces where their heads are).
        person_score: float32 (P,), their scores.
        windows: whether window zones are wanted (``windows`` mode), plate-anchored ones too.
        zone_of: int64 (N,), per region the index in ``vehicles`` of the vehicle it is the
            window zone of; -1 for persons (and when not given).
        panels: float32 (K, 4), xyxy source pixels of the picture's panels
            (:mod:`redact.detect.panels`); a zone stays inside its vehicle's or plate's
            panel. Empty: not looked for (one panel).
    """

    vehicles: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    vehicle_score: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    persons: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    person_score: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    windows: bool = True
    zone_of: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    panels: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))

    def __post_init__(self) -> None:
        super().__post_init__()
        panels = np.asarray(self.panels, np.float32).reshape(-1, 4)
        panels.setflags(write=False)
        object.__setattr__(self, "panels", panels)
        zone_of = np.asarray(self.zone_of, np.int64).reshape(-1)
        if not len(zone_of):
            zone_of = np.full(len(self), -1, np.int64)
        if len(zone_of) != len(self) or (zone_of >= len(np.asarray(self.vehicles).reshape(-1, 4))).any():
            raise ValueError(f"OccupantFinds.zone_of has {len(zone_of)} entries or an index past the vehicles")
        zone_of.setflags(write=False)
        object.__setattr__(self, "zone_of", zone_of)
        for boxes_name, score_name in (("vehicles", "vehicle_score"), ("persons", "person_score")):
            boxes = np.asarray(getattr(self, boxes_name), np.float32).reshape(-1, 4)
            score = np.asarray(getattr(self, score_name), np.float32).reshape(-1)
            if len(score) != len(boxes):
                raise ValueError(f"OccupantFinds.{score_name} has {len(score)} entries, expected {len(boxes)}")
            for arr in (boxes, score):
                arr.setflags(write=False)
            object.__setattr__(self, boxes_name, boxes)
            object.__setattr__(self, score_name, score)

    def sure_vehicles(self, threshold: float | None) -> NDArray[np.float32]:
        """The vehicles (xyxy float32 (K, 4) source pixels) scoring at least ``threshold``
        (the finds keep weaker candidates too); every one when ``None``."""
        return self.vehicles if threshold is None else self.vehicles[self.vehicle_score >= threshold]


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
        sure = riders(persons, vehicles) if self.mode != "off" else np.zeros(len(persons), np.float32)
        aboard = persons[sure > 0]
        xyxy, score, zone_of = [aboard.xyxy], [sure[sure > 0]], [np.full(len(aboard), -1, np.int64)]
        panels = np.zeros((0, 4), np.float32)
        if self.mode == "windows":
            panels = find_panels(image)
            zx, zs, zi = window_zones(vehicles)
            zx = clip_to_panels(zx, vehicles.xyxy[zi], panels)
            shown = box_area(zx) > 0  # a zone outside its vehicle's panel shows none of it
            xyxy.append(zx[shown])
            score.append(zs[shown])
            zone_of.append(zi[shown])
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
            zone_of=np.concatenate(zone_of),
            panels=panels,
        )
