"""What looking through windows between keyframes needs (:mod:`redact.video.schedule`).

The vehicle network follows occupant tracks in windows of its own; a vehicle cut by the
frame's edge is looked for in the whole frame instead (where its window zone says it ends);
a face found in a window may reach a little past the box the network drew there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.merge import merge_detections
from redact.detect.occupants import CAR_ZONE
from redact.detect.tiles import Tile, tiles_xyxy, windows_around
from redact.types import Detections, Label

# A face network draws a face's box in a window a little differently from the whole
# frame's (the context around it differs). On the dev person clip (1008 faces found both
# ways), the whole frame's region reached past the window's by up to 2.5 % of its width at a
# side and 3 % of its height below in 95 of 100, 7.5 % and 10 % in 99 (a head at the frame's
# edge, hair the network takes for a face). A face found in a window is widened by
# WINDOW_SLACK: a share of its width at each side, of its height above and below (about
# 2.6 % and 4.4 % of its region, which grows to the whole head).
WINDOW_SLACK = (0.04, 0.08)


def vehicle_below(zones: NDArray[np.floating]) -> NDArray[np.float64]:
    """The vehicle boxes car window zones (N, 4) were taken from, about: a zone is the upper
    part of its vehicle (:data:`~redact.detect.occupants.CAR_ZONE`; a bus's reaches lower, so
    its vehicle is overestimated; one ended above its plate is shorter, so its vehicle is
    underestimated, but that vehicle's plate is in the picture)."""
    z = np.asarray(zones, np.float64).reshape(-1, 4).copy()
    z[:, 3] += (z[:, 3] - z[:, 1]) * (1 - CAR_ZONE.bottom) / CAR_ZONE.bottom
    return z


def one_zone_each(dets: Detections) -> Detections:
    """The window zones of the whole set's windows and the vehicle network's own fused per
    label (as in a still): where both windows overlap, both find the same zone, and a second
    copy would start a track of its own, seen once. Faces and heads stay as they are (a
    person's head and the face in it are followed as the tracks they are)."""
    occ = dets.label == Label.OCCUPANT.value
    if occ.sum() < 2:
        return dets
    return Detections.concat([dets[~occ], merge_detections(dets[occ], iou=MERGE_IOU, contain=MERGE_CONTAIN)])


def widen_faces(dets: Detections, width: int, height: int) -> Detections:
    """Faces found in windows, widened by :data:`WINDOW_SLACK` (clipped to the frame)."""
    face = dets.label == Label.FACE.value
    if not face.any():
        return dets
    xyxy = dets.xyxy.copy()
    sx, sy = WINDOW_SLACK
    bw, bh = xyxy[face, 2] - xyxy[face, 0], xyxy[face, 3] - xyxy[face, 1]
    xyxy[face] += np.stack([-sx * bw, -sy * bh, sx * bw, sy * bh], axis=1)
    np.clip(xyxy[:, 0::2], 0, width, out=xyxy[:, 0::2])
    np.clip(xyxy[:, 1::2], 0, height, out=xyxy[:, 1::2])
    return replace(dets, xyxy=xyxy)


def merged_windows(tiles: list[Tile], width: int, height: int) -> list[Tile]:
    """``tiles`` merged until none overlap (their union, window by window)."""
    return windows_around(tiles_xyxy(tiles), width, height, margin=0.0, min_margin=0)


def occupant_only(detectors: Any) -> Any:
    """The occupant detector of a detector set on its own, with the heads of the persons it
    finds where the set has person heads, or ``None`` where the set has no occupant
    detector (or cannot be split: test doubles)."""
    only = getattr(detectors, "only", None)
    names = [getattr(d, "name", "") for d in getattr(detectors, "detectors", ())]
    if only is None or "occupants" not in names:
        return None
    return only(("occupants",), heads=True)
