"""Evidence a large region needs before it blacks out much of a picture.

One network's word is enough for a small box: recall comes first, and a stray face-sized
patch costs little. A box that covers a large share of the picture costs the story, and
the mistakes that make such boxes have a shape: pairs of headlights at night scored as a
face, a plain bright panel scored as a plate. A large box is therefore kept only when a
second opinion agrees (the other face network; for plates, characters found inside by the
text detector, since a plate that can be read has text) or when its own score is high.
Where the witness detector is not running (a preset without it, ``--no-plates``), the rule
does not apply: a box is never dropped for want of a witness that was never asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redact.detect.merge import box_area, intersection_matrix, iou_matrix
from redact.types import Detections


@dataclass(frozen=True)
class LargeRule:
    """When a detector's box counts as large, and what confirms it.

    Attributes:
        detector: the detector whose boxes the rule judges.
        share: a box over this share of the picture's area is large.
        witnesses: detectors whose candidates can confirm a large box.
        match: how a witness box must sit on the judged box: ``"iou"`` (the same object,
            IoU >= ``overlap``) or ``"inside"`` (at least ``overlap`` of the witness's area
            inside the judged box: characters on a plate).
        overlap: the IoU or inside share a witness needs.
        witness_floor: the least score a witness box needs (below the witness's own
            threshold: a second opinion need not be sure on its own).
        sure: a large box scoring at least this needs no witness.
    """

    detector: str
    share: float
    witnesses: tuple[str, ...]
    match: str
    overlap: float
    witness_floor: float
    sure: float


def _witnessed(boxes: Detections, witness: Detections, rule: LargeRule) -> NDArray[np.bool_]:
    """Which of ``boxes`` some ``witness`` box confirms under ``rule``."""
    if not len(witness):
        return np.zeros(len(boxes), bool)
    if rule.match == "iou":
        agree = iou_matrix(boxes.xyxy, witness.xyxy) >= rule.overlap
    else:
        inside = intersection_matrix(boxes.xyxy, witness.xyxy) / np.maximum(box_area(witness.xyxy)[None, :], 1e-6)
        agree = inside >= rule.overlap
    return np.asarray(agree.any(axis=1), bool)


def confirm(
    judged: Mapping[str, Detections],
    found: Mapping[str, Detections],
    width: int,
    height: int,
    *,
    rules: Sequence[LargeRule] | None = None,
) -> dict[str, Detections]:
    """Drop the large boxes that lack the evidence their size asks for.

    Args:
        judged: per detector name, the boxes to judge (xyxy source pixels).
        found: per detector name, every candidate seen in the picture (down to at least
            each rule's ``witness_floor``, for it to count): the witnesses.
        width, height: the picture's size, pixels.
        rules: the rules; ``None`` uses :data:`RULES`.

    Returns:
        ``judged`` with unconfirmed large boxes removed (other detectors' boxes unchanged).
    """
    area = float(max(width * height, 1))
    out = dict(judged)
    for rule in RULES if rules is None else rules:
        boxes = out.get(rule.detector)
        present = [w for w in rule.witnesses if w in found]
        if boxes is None or not len(boxes) or not present:
            continue
        large = (box_area(boxes.xyxy) > rule.share * area) & (boxes.score < rule.sure)
        if not large.any():
            continue
        seen = np.zeros(len(boxes), bool)
        for name in present:
            witness = found[name]
            if len(witness):
                seen |= _witnessed(boxes, witness[witness.score >= rule.witness_floor], rule)
        out[rule.detector] = boxes[~large | seen]
    return out


# Calibrated on the dev sets (bench/accuracy.py; docs/performance.md). Faces: pairs of
# headlights scored as a face by one network cover a fifth to a third of a night frame; a
# real face that large is found by both (none of the face sets' faces over 5 % lacks the
# other network's box at 0.2). Plates: a plate the network sees large has characters on it;
# a large text box (zoomed plate crops) is kept with a plate box on it or when DBNet is
# sure of it (sky and foliage read as text only faintly).
WITNESS_RATIO = 0.5  # candidates down to this share of each threshold are looked at as witnesses
RULES: tuple[LargeRule, ...] = (
    LargeRule("centerface", 0.05, ("retinaface",), match="iou", overlap=0.3, witness_floor=0.2, sure=0.8),
    LargeRule("retinaface", 0.05, ("centerface",), match="iou", overlap=0.3, witness_floor=0.2, sure=0.8),
    LargeRule("yolo_plate", 0.04, ("text_plate",), match="iou", overlap=0.2, witness_floor=0.15, sure=1.01),
    LargeRule("text_plate", 0.015, ("yolo_plate",), match="iou", overlap=0.2, witness_floor=0.15, sure=0.7),
)
