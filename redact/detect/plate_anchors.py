"""Where plates place occupants.

A plate is found far more reliably than the vehicle around it, and it is on the vehicle's
front or rear, below the windows. So a plate does two things for the occupant regions of
``windows`` mode (:mod:`redact.detect.occupants`):

- a plate no vehicle box holds (enforcement crops a car's front fills, a car cut by the
  picture's border) anchors the windshield zone above it: :func:`add_plate_zones`, called
  by :meth:`redact.detect.DetectorSet.decide`;
- a vehicle whose own plate is seen (centred in its box, in its lower part, as wide as a
  plate on it) has its windows above that plate: its window zone ends there
  (:func:`windows_above_plates`, called by :meth:`redact.detect.DetectorSet.per_detector`).
  A vehicle's zone is taken from its box and class alone; a car the network calls a bus
  would otherwise get a bus's deep zone, down over its tail lights.

A vehicle box over half the picture with no plate of its own and an unsure score gives no
window zone (:func:`drop_unplated_large`): on dash-cam frames and dashboard screenshots the
COCO network's look at the whole picture calls the picture itself, or the sky and road above
a car, a vehicle, and its zone blacked out up to two thirds of a picture; a car that fills
the picture (an enforcement crop, a car just ahead) shows its plate. In a composed picture
the same holds of each panel (a dashboard's feed taken whole for a vehicle), and a box
centred on the ground between panels (two of them boxed as one) pictures no vehicle.

Boxes are ``xyxy`` source-picture pixels, exclusive right/bottom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from redact import geometry
from redact.detect.merge import box_area, iou_matrix
from redact.detect.occupants import OccupantFinds
from redact.detect.panels import clip_to_panels, panel_areas, panel_of
from redact.types import Detections, Label, Source

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
# A plate on a person (WORN: that share of its box inside a person's box) anchors a zone only
# when the network is sure of it (ANCHOR_SURE) or a second plate opinion sees it too (another
# plate detector's candidate with IoU >= ANCHOR_IOU, or at least ANCHOR_INSIDE of that
# candidate inside it: its characters). A plate network's unsure box on a walker's sweater or
# bag otherwise put a windscreen zone over the walker and the wall behind, a third of a video
# frame; the person's head is redacted as such. A plate seen on no person anchors its zone on
# one opinion's word: an overhead camera's view of a car the vehicle network misses shows a
# plate only the plate network sees, unsure, below the car's rear window.
WORN = 0.8
ANCHOR_SURE = 0.7
ANCHOR_IOU = 0.2
ANCHOR_INSIDE = 0.5
# A box within this many pixels of the picture's border is cut by it.
BORDER_PX = 2
# A vehicle's own plate: its centre within OWN_PLATE_OFFSET box widths of the box's middle,
# its top at least OWN_PLATE_LOW of the box's height below the box's top (windows of a
# front or rear view end at about 0.45; a sign or route display at the top is not the
# plate), and OWN_PLATE_WIDTH shares of the box's width wide (a plate is about 0.29 of a
# car's width and 0.2 of a bus's; a far car's plate seen past this one is narrower).
OWN_PLATE_OFFSET = 0.25
OWN_PLATE_LOW = 0.35
OWN_PLATE_WIDTH = (0.08, 0.6)
# A vehicle box over LARGE_VEHICLE_SHARE of the picture (or of its panel) needs its own plate
# seen, or a score of SURE_VEHICLE, for its window zone (see the module's docstring). On the
# dash-cam and dashboard dev sets, such boxes without a plate of their own scored 0.26-0.74.
LARGE_VEHICLE_SHARE = 0.5
SURE_VEHICLE = 0.8


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
    return np.asarray(geometry.centres_inside(plates, vehicles).any(axis=0), bool)


def plate_shaped(plates: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which boxes (xyxy (N, 4)) are shaped like a plate (:data:`PLATE_ASPECT`)."""
    p = np.asarray(plates, np.float32).reshape(-1, 4)
    aspect = (p[:, 2] - p[:, 0]) / np.maximum(p[:, 3] - p[:, 1], 1e-6)
    return np.asarray((aspect >= PLATE_ASPECT[0]) & (aspect <= PLATE_ASPECT[1]), bool)


def seconded(plates: Detections, name: str, found: Mapping[str, Detections]) -> NDArray[np.bool_]:
    """Which of detector ``name``'s ``plates`` are sure (:data:`ANCHOR_SURE`) or seen by
    another plate detector among ``found``'s candidates."""
    ok = np.asarray(plates.score >= ANCHOR_SURE, bool)
    for other, cands in found.items():
        if other == name or isinstance(cands, OccupantFinds) or not len(cands) or ok.all():
            continue
        c = cands.with_label(Label.PLATE.value)
        if not len(c):
            continue
        inside = geometry.inside_share(c.xyxy, plates.xyxy).T
        ok |= ((iou_matrix(plates.xyxy, c.xyxy) >= ANCHOR_IOU) | (inside >= ANCHOR_INSIDE)).any(axis=1)
    return ok


def worn(plates: NDArray[np.floating], persons: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which plates (xyxy (N, 4)) lie on a person (xyxy (P, 4)): :data:`WORN` of their area
    inside one person's box."""
    return np.asarray((geometry.inside_share(plates, persons) >= WORN).any(axis=1), bool)


def own_plates(vehicles: NDArray[np.floating], plates: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which plate is which vehicle's own (see :data:`OWN_PLATE_OFFSET`).

    Args:
        vehicles: xyxy (M, 4) vehicle boxes.
        plates: xyxy (N, 4) plate boxes.

    Returns:
        bool (M, N): plate ``j`` is vehicle ``i``'s own.
    """
    v = np.asarray(vehicles, np.float32).reshape(-1, 1, 4)
    p = np.asarray(plates, np.float32).reshape(1, -1, 4)
    vw = np.maximum(v[..., 2] - v[..., 0], 1e-6)
    vh = v[..., 3] - v[..., 1]
    pw = p[..., 2] - p[..., 0]
    centred = np.abs((p[..., 0] + p[..., 2]) / 2 - (v[..., 0] + v[..., 2]) / 2) <= OWN_PLATE_OFFSET * vw
    low = (p[..., 1] >= v[..., 1] + OWN_PLATE_LOW * vh) & (p[..., 3] <= v[..., 3] + BORDER_PX)
    wide = (pw >= OWN_PLATE_WIDTH[0] * vw) & (pw <= OWN_PLATE_WIDTH[1] * vw)
    return np.asarray(centred & low & wide, bool)


def drop_unplated_large(finds: OccupantFinds, plates: Detections, width: int, height: int) -> OccupantFinds:
    """Drop the vehicles over :data:`LARGE_VEHICLE_SHARE` of the picture (of their panel, in
    a composed picture: a dashboard's feed or second frame; or centred between its panels)
    that score under :data:`SURE_VEHICLE` and have no plate of their own (:func:`own_plates`)
    among ``plates``, with their window zones: neither a zone nor a holder of plates.

    Args:
        finds: the occupant detector's finds (zones tied to their vehicles by ``zone_of``).
        plates: plate boxes (xyxy source pixels) any plate opinion found, text included.
        width, height: the picture's size, pixels.

    Returns:
        ``finds`` without those vehicles (a new object; ``finds`` itself when none).
    """
    if not len(finds.vehicles):
        return finds
    share = box_area(finds.vehicles) / panel_areas(finds.vehicles, finds.panels, width, height)
    # A box centred on a composed picture's ground, between its panels, spans several of them:
    # no vehicle is pictured there.
    which = panel_of(finds.vehicles, finds.panels)
    between = which < 0
    large = ((share > LARGE_VEHICLE_SHARE) | between) & (finds.vehicle_score < SURE_VEHICLE)
    if not large.any():
        return finds
    p = plates.xyxy[plate_shaped(plates.xyxy)]
    if len(p):
        # A plate in another panel (a dashboard's zoomed crop below a feed taken whole for a
        # vehicle) is not the vehicle's own.
        same = which[:, None] == panel_of(p, finds.panels)[None, :]
        large &= ~(own_plates(finds.vehicles, p) & same).any(axis=1)
    if not large.any():
        return finds
    renumber = np.cumsum(~large) - 1
    zone = finds.zone_of >= 0
    stay = np.flatnonzero(~(zone & large[np.where(zone, finds.zone_of, 0)]))
    rest = finds[stay]
    zone_of = np.where(finds.zone_of[stay] >= 0, renumber[np.maximum(finds.zone_of[stay], 0)], -1)
    return replace(
        finds,
        xyxy=rest.xyxy,
        score=rest.score,
        label=rest.label,
        source=rest.source,
        track_id=rest.track_id,
        vehicles=finds.vehicles[~large],
        vehicle_score=finds.vehicle_score[~large],
        zone_of=zone_of,
    )


def windows_above_plates(finds: OccupantFinds, plates: Detections) -> OccupantFinds:
    """End each vehicle's window zone above its own plate.

    The zone's bottom moves up to :data:`PLATE_ZONE_GAP` units above the top of the highest
    own plate (as the windshield zone a plate anchors ends), never below where it was;
    persons aboard are left as they are.

    Args:
        finds: the occupant detector's finds (zones tied to their vehicles by ``zone_of``).
        plates: plate boxes (xyxy source pixels) the plate networks found.

    Returns:
        ``finds`` with its zones shortened (a new object; unchanged when nothing applies).
    """
    zones = np.nonzero(finds.zone_of >= 0)[0]
    if not len(zones) or not len(plates):
        return finds
    p = plates.xyxy[plate_shaped(plates.xyxy)]
    if not len(p):
        return finds
    owned = own_plates(finds.vehicles[finds.zone_of[zones]], p)
    if not owned.any():
        return finds
    ends = p[:, 1] - PLATE_ZONE_GAP * np.sqrt(box_area(p))
    end = np.where(owned, ends[None, :], np.inf).min(axis=1)
    xyxy = finds.xyxy.copy()
    xyxy[zones, 3] = np.maximum(np.minimum(xyxy[zones, 3], end), xyxy[zones, 1])
    return replace(finds, xyxy=xyxy)


def within_vehicles(
    zones: NDArray[np.floating],
    plates: NDArray[np.floating],
    vehicles: NDArray[np.floating],
    width: int,
    height: int,
) -> NDArray[np.float32]:
    """Each plate's zone cut to the smallest vehicle box that is the plate's own.

    A plate's windshield zone is drawn for a vehicle of unknown size; where a vehicle the
    network found, however unsure or cut by the border, is the plate's (:func:`own_plates`,
    or the plate's centre inside a box the border cuts), its windows lie within its box
    (taken on beyond the border where the border cuts it). On
    dash-cam frames a close car's plate with no sure vehicle around it otherwise blacked out
    the sky above the car, up to half the frame.

    Args:
        zones: xyxy (N, 4), the zone of each plate (:func:`plate_zones`).
        plates: xyxy (N, 4), the plates.
        vehicles: xyxy (M, 4), every vehicle found, at any score.
        width, height: the picture's size, pixels.

    Returns:
        xyxy float32 (N, 4): the zones, cut; a zone left empty has zero width or height.
    """
    out = np.asarray(zones, np.float32).reshape(-1, 4).copy()
    v = np.asarray(vehicles, np.float32).reshape(-1, 4)
    if not len(v) or not len(out):
        return out
    seen = geometry.extend_to_border(v, width, height, BORDER_PX)
    cut = cut_by_border(v, width, height)
    theirs = own_plates(v, plates) | (cut[:, None] & geometry.centres_inside(plates, seen))
    area = box_area(seen)
    for j in np.flatnonzero(theirs.any(axis=0)):
        smallest = seen[np.flatnonzero(theirs[:, j])[np.argmin(area[theirs[:, j]])]]
        out[j] = geometry.intersect_rows(out[j], smallest)[0]
    return out


def add_plate_zones(
    kept: Mapping[str, Detections],
    found: Mapping[str, Detections],
    width: int,
    height: int,
    threshold: float | None = None,
) -> dict[str, Detections]:
    """Add the windshield zone of every kept plate that no vehicle box holds.

    Plates outside :data:`PLATE_ASPECT` anchor nothing, nor do plates on a person
    (:func:`worn`) that are neither sure nor seen by a second plate opinion
    (:func:`seconded`). A vehicle cut by the picture's
    border holds no plate: the upper part of what is seen of it need not be its windows (a
    car half out at the top shows its bonnet there), and how much of it a network boxes
    depends on how it is shown (a window around it, the whole picture), while its plate
    places the windshield the same way in both.

    A zone is cut to the box of a vehicle the network found that is the plate's own, however
    unsure (:func:`within_vehicles`), and to the plate's panel of a composed picture (a
    dashboard's zoomed plate crop: :mod:`redact.detect.panels`). Only when an occupant
    detector in ``windows`` mode ran (its :class:`OccupantFinds` in ``found``); the zones
    join that detector's kept boxes, scored as their plates.

    Args:
        kept: per detector name, the boxes that passed (plates among them).
        found: per detector name, every candidate (as ``DetectorSet.per_detector`` gives).
        width, height: the picture's size, pixels.
        threshold: vehicles and persons scoring below this do not count as holding or
            wearing a plate (they were only candidates); ``None`` counts every one found.

    Returns:
        ``kept`` with the zones added (a new dict; the inputs are not changed).
    """
    out = dict(kept)
    windows = {name: f for name, f in found.items() if isinstance(f, OccupantFinds) and f.windows}
    parts = [(name, p) for name, d in kept.items() if len(p := d.with_label(Label.PLATE.value))]
    if not windows or not parts:
        return out
    plates = Detections.concat(p for _, p in parts)
    vouched = np.concatenate([seconded(p, name, found) for name, p in parts])
    for name, finds in windows.items():
        strong = finds.sure_vehicles(threshold)
        strong = strong[~cut_by_border(strong, width, height)]
        persons = finds.persons if threshold is None else finds.persons[finds.person_score >= threshold]
        lone = plates[plate_shaped(plates.xyxy) & ~held(plates.xyxy, strong) & (vouched | ~worn(plates.xyxy, persons))]
        if not len(lone):
            continue
        boxes = within_vehicles(plate_zones(lone.xyxy, width, height), lone.xyxy, finds.vehicles, width, height)
        boxes = clip_to_panels(boxes, lone.xyxy, finds.panels)
        zones = Detections.from_arrays(boxes, lone.score, Label.OCCUPANT.value, Source.DETECTOR.value)
        zones = zones[box_area(zones.xyxy) > 0]
        out[name] = Detections.concat([out.get(name, Detections.empty()), zones])
    return out
