"""Heads of people whose faces the face networks do not find.

A rider in a helmet, a cyclist, someone turned half away or far off: the face networks
need a face, the COCO network (:mod:`redact.detect.yolox`) finds the person whole. Where a
person is found and no face lies where that person's head is, the head is redacted as a
``face`` region. Where a face is found there, it alone is enough: region building grows
every face to the whole head (:data:`redact.render.regions.HEAD`).

The head is looked for at the top of the person's box, as wide as the box less an inset
and :data:`PERSON_HEAD` ``.height`` box widths tall (a person's box is as wide as the
shoulders or the arms, whether the person stands, sits or is cut off at the chest); the
zone is a face-sized box that region building then grows like any face.

Boxes are ``xyxy`` source-picture pixels, exclusive right/bottom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redact.detect.occupants import OccupantFinds
from redact.geometry import box_area
from redact.types import Detections, Label, Source


@dataclass(frozen=True)
class HeadZone:
    """Where a person's head is, as shares of the person box's width, and which persons count.

    Attributes:
        inset: left out on each side.
        height: the zone's height from the box's top (at most the box's height).
        threshold: the score a person needs (YOLOX's objectness x class probability).
    """

    inset: float
    height: float
    threshold: float


# Calibrated on the face dev sets (bench/heads.py; docs/performance.md, "Whole heads and
# people without a face"): half of the labelled faces inside a person box start within 0.2
# box widths of its top and are about 0.35 widths tall. On the street photos, heads of
# persons scoring 0.4 covered about 17 more labelled faces for 180 more face regions; from
# 0.25 about 31 for 310; from 0.55 about 11 for 110. Taller or wider zones covered hardly more.
PERSON_HEAD = HeadZone(inset=0.15, height=0.5, threshold=0.4)
# A face found with its centre in the top FACE_REACH box widths of a person's box is that
# person's (95 % of the labelled faces inside a person box end within 1.2 widths of its top).
FACE_REACH = 1.2


def head_zones(persons: NDArray[np.floating], zone: HeadZone = PERSON_HEAD) -> NDArray[np.float32]:
    """The head zone of each person box.

    Args:
        persons: xyxy (N, 4) person boxes, source pixels.
        zone: the zone's shape.

    Returns:
        xyxy float32 (N, 4), source pixels, inside the person boxes.
    """
    p = np.asarray(persons, np.float32).reshape(-1, 4)
    w = p[:, 2] - p[:, 0]
    bottom = np.minimum(p[:, 1] + zone.height * w, p[:, 3])
    return np.stack([p[:, 0] + zone.inset * w, p[:, 1], p[:, 2] - zone.inset * w, bottom], axis=1).astype(np.float32)


def upper(persons: NDArray[np.floating]) -> NDArray[np.float32]:
    """The top :data:`FACE_REACH` widths of each person box (xyxy (N, 4), source pixels),
    where that person's face would be."""
    p = np.asarray(persons, np.float32).reshape(-1, 4)
    bottom = np.minimum(p[:, 1] + FACE_REACH * (p[:, 2] - p[:, 0]), p[:, 3])
    return np.stack([p[:, 0], p[:, 1], p[:, 2], bottom], axis=1).astype(np.float32)


def _centres_in(boxes: NDArray[np.floating], regions: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Whether the centre of each box (N, 4) lies inside each region (M, 4); shape (N, M)."""
    cx = (boxes[:, 0] + boxes[:, 2])[:, None] / 2
    cy = (boxes[:, 1] + boxes[:, 3])[:, None] / 2
    r = regions[None]
    return np.asarray((cx >= r[..., 0]) & (cx < r[..., 2]) & (cy >= r[..., 1]) & (cy < r[..., 3]))


def add_person_heads(
    kept: Mapping[str, Detections],
    found: Mapping[str, Detections],
    zone: HeadZone = PERSON_HEAD,
) -> dict[str, Detections]:
    """Add a ``face`` box at the head of every person with no kept face there.

    Only where the COCO network ran (an :class:`OccupantFinds` in ``found``); the boxes
    join that detector's kept boxes, scored as their persons.

    Args:
        kept: per detector name, the boxes that passed (faces among them).
        found: per detector name, every candidate (as ``DetectorSet.per_detector`` gives).
        zone: where the head is in a person's box, and the score a person needs.

    Returns:
        ``kept`` with the heads added (a new dict; the inputs are not changed).
    """
    out = dict(kept)
    faces = Detections.concat(d[d.label == Label.FACE.value] for d in kept.values() if len(d))
    for name, finds in found.items():
        if not isinstance(finds, OccupantFinds) or not len(finds.persons):
            continue
        sure = finds.person_score >= zone.threshold
        heads = head_zones(finds.persons[sure], zone)
        score = finds.person_score[sure]
        if len(faces) and len(heads):
            bare = ~_centres_in(faces.xyxy, upper(finds.persons[sure])).any(axis=0)
            heads, score = heads[bare], score[bare]
        heads_ok = box_area(heads) > 0
        if not heads_ok.any():
            continue
        added = Detections.from_arrays(heads[heads_ok], score[heads_ok], Label.FACE.value, Source.DETECTOR.value)
        out[name] = Detections.concat([out.get(name, Detections.empty()), added])
    return out
