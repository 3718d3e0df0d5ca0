"""Evidence a region needs before it is redacted on one network's word.

One network's word is enough for a small, plate- or face-shaped box: recall comes first, and
a stray face-sized patch costs little. Two kinds of box ask for more:

- A box that covers a large share of the picture costs the story, and the mistakes that
  make such boxes have a shape: pairs of headlights at night scored as a face, a plain
  bright panel scored as a plate. A large box is kept only when a second opinion agrees
  (the other face network; for plates, characters found inside by the text detector, since
  a plate that can be read has text) or when its own score is high (:class:`LargeRule`).
- A plate box taller than it is wide: no plate is, seen from the road, except two-line
  plates that carry characters the text detector sees; what the plate networks box that
  tall is a sign post, a shop sign's column, a window (:class:`TallRule`). A box cut by the
  picture's border is never judged by its shape.

Where the witness detector is not running (a preset without it, ``--no-plates``), a rule
does not apply: a box is never dropped for want of a witness that was never asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redact.detect.merge import box_area, iou_matrix
from redact.detect.tiles import Tile
from redact.detect.tiling import cut_sides
from redact.geometry import centres_inside, cut_by_border, inside_share
from redact.types import Detections


@dataclass(frozen=True)
class Rule:
    """Which of a detector's boxes need a witness, and what counts as one.

    Attributes:
        detector: the detector whose boxes the rule judges.
        witnesses: detectors whose candidates can confirm a judged box.
        match: how a witness box must sit on the judged box: ``"iou"`` (the same object,
            IoU >= ``overlap``) or ``"inside"`` (at least ``overlap`` of the witness's area
            inside the judged box: characters on a plate).
        overlap: the IoU or inside share a witness needs.
        witness_floor: the least score a witness box needs (below the witness's own
            threshold: a second opinion need not be sure on its own).
    """

    detector: str
    witnesses: tuple[str, ...]
    match: str
    overlap: float
    witness_floor: float

    def judged(self, boxes: Detections, width: int, height: int) -> NDArray[np.bool_]:
        """Which of ``boxes`` (in a ``width`` x ``height`` picture) need a witness."""
        raise NotImplementedError


@dataclass(frozen=True)
class LargeRule(Rule):
    """Boxes over ``share`` of the picture's area, and at least ``min_side`` pixels on their
    shorter side, need a witness unless they score ``sure``.

    Attributes:
        share: a box over this share of the picture's area is large.
        sure: a large box scoring at least this needs no witness.
        min_side: a box shorter than this on its shorter side (pixels) is never judged.
    """

    share: float
    sure: float = 1.01
    min_side: float = 0.0

    def judged(self, boxes: Detections, width: int, height: int) -> NDArray[np.bool_]:
        area = float(max(width * height, 1))
        xyxy = boxes.xyxy.astype(np.float64)
        side = np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
        large = (box_area(boxes.xyxy) > self.share * area) & (side >= self.min_side)
        return np.asarray(large & (boxes.score < self.sure), bool)


@dataclass(frozen=True)
class TallRule(Rule):
    """Boxes taller than ``ratio`` times their width need a witness, unless the picture's
    border cuts them (within ``border`` pixels).

    Attributes:
        ratio: height over width above which a box is judged.
        border: pixels from the picture's edge within which a box counts as cut.
    """

    ratio: float = 1.0
    border: float = 1.0

    def judged(self, boxes: Detections, width: int, height: int) -> NDArray[np.bool_]:
        xyxy = boxes.xyxy.astype(np.float64)
        tall = (xyxy[:, 3] - xyxy[:, 1]) > self.ratio * (xyxy[:, 2] - xyxy[:, 0])
        return np.asarray(tall & ~cut_by_border(xyxy, width, height, self.border), bool)


def _witnessed(boxes: Detections, witness: Detections, rule: Rule) -> NDArray[np.bool_]:
    """Which of ``boxes`` some ``witness`` box confirms under ``rule``."""
    if not len(witness):
        return np.zeros(len(boxes), bool)
    if rule.match == "iou":
        agree = iou_matrix(boxes.xyxy, witness.xyxy) >= rule.overlap
    else:
        agree = rule.overlap <= inside_share(witness.xyxy, boxes.xyxy).T
    return np.asarray(agree.any(axis=1), bool)


def confirm(
    judged: Mapping[str, Detections],
    found: Mapping[str, Detections],
    width: int,
    height: int,
    *,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Detections]:
    """Drop the boxes that lack the evidence their size or shape asks for.

    Args:
        judged: per detector name, the boxes to judge (xyxy source pixels).
        found: per detector name, every candidate seen in the picture (down to at least
            each rule's ``witness_floor``, for it to count): the witnesses.
        width, height: the picture's size, pixels.
        rules: the rules; ``None`` uses :data:`RULES`.

    Returns:
        ``judged`` with unconfirmed boxes removed (other detectors' boxes unchanged).
    """
    out = dict(judged)
    for rule in RULES if rules is None else rules:
        boxes = out.get(rule.detector)
        present = [w for w in rule.witnesses if w in found]
        if boxes is None or not len(boxes) or not present:
            continue
        needs = rule.judged(boxes, width, height)
        if not needs.any():
            continue
        seen = np.zeros(len(boxes), bool)
        for name in present:
            witness = found[name]
            if len(witness):
                seen |= _witnessed(boxes, witness[witness.score >= rule.witness_floor], rule)
        out[rule.detector] = boxes[~needs | seen]
    return out


# Calibrated on the dev sets (bench/accuracy.py; docs/performance.md). Faces: pairs of
# headlights scored as a face by one network cover a fifth to a third of a night frame; a
# real face that large is found by both (the other network's box scored 0.40 or more on every
# such face of the face sets and their degraded copies; on a car's rear at night a box over
# half the frame had one at 0.20: FACE_WITNESS_FLOOR). The headlight pairs are large in
# pixels too (229-581 px on the plate sets' frames); in a small picture one face fills a
# large share, and on darker, harder compressed or smaller copies of the face sets some such
# faces (51-95 px) were seen by one network only: a face box under FACE_LARGE_SIDE px is
# never judged. Plates: a plate the
# network sees large has characters on it, unless the network is sure and the box is under a
# tenth of the picture (the plain door panel it scored 0.76 in a street clip filled a third
# of the frame). A plate fills 3-5 % of an enforcement camera's 320x288 crop, and on streaked
# or smaller copies of such crops the network scored real plates 0.38-0.70 with no characters
# seen (boxes 24-59 px on their shorter side), while the boxes the rules dropped on the plate
# sets' pictures were 175 px or more: a plate box under PLATE_LARGE_SIDE px is never judged
# as large. A large text box (zoomed plate crops) is kept with a plate box on it, the plate
# network's or the look at a dashboard's panel shrunk back (a dim crop of a 20-px plate,
# enlarged 5x, that the network sees only there), or when DBNet is sure of it (sky and
# foliage read as text only faintly). No labelled plate of the
# dev sets is taller than half its width; the plate networks' boxes touching them reach 0.72
# of their width on the dash-cam frames, and the two taller than wide elsewhere lay on plates
# other boxes covered as well.
WITNESS_RATIO = 0.5  # candidates down to this share of each threshold are looked at as witnesses
LARGE_TEXT_SHARE = 0.015  # a text box over this share of the picture is large
FACE_LARGE_SIDE = 160.0  # px: a face box shorter than this on its shorter side is never judged
FACE_WITNESS_FLOOR = 0.25  # the least score of the other face network's box that confirms a large face
PLATE_LARGE_SIDE = 64.0  # px: the same for a plate-network box
RULES: tuple[Rule, ...] = (
    LargeRule("centerface", ("retinaface",), match="iou", overlap=0.3, witness_floor=FACE_WITNESS_FLOOR, share=0.05,
              sure=0.8, min_side=FACE_LARGE_SIDE),
    LargeRule("retinaface", ("centerface",), match="iou", overlap=0.3, witness_floor=FACE_WITNESS_FLOOR, share=0.05,
              sure=0.8, min_side=FACE_LARGE_SIDE),
    LargeRule("yolo_plate", ("text_plate",), match="iou", overlap=0.2, witness_floor=0.15, share=0.04, sure=0.7,
              min_side=PLATE_LARGE_SIDE),
    LargeRule("yolo_plate", ("text_plate",), match="iou", overlap=0.2, witness_floor=0.15, share=0.1,
              min_side=PLATE_LARGE_SIDE),
    LargeRule("text_plate", ("yolo_plate", "panel_plate"), match="iou", overlap=0.2, witness_floor=0.15,
              share=LARGE_TEXT_SHARE, sure=0.7),
    TallRule("yolo_plate", ("text_plate",), match="inside", overlap=0.5, witness_floor=0.15),
    TallRule("vehicle_plate", ("text_plate",), match="inside", overlap=0.5, witness_floor=0.15),
)


# A large plate is boxed by the plate network around the whole plate and its frame or holder
# (on the dashboard's zoomed crops about 20-50 px past the plate), by the text detector
# around its lines of characters: where both see it, its region is where they agree, since
# the characters lie in both. Only when that keeps at least KEEP_TEXT of the text boxes'
# extent (a network box that cuts the characters decides nothing), and when the text spans
# at least MIN_TEXT_SPAN of the network boxes' width: a plate's characters run across most
# of it, and text found on only part of them (one group of a US plate seen small, the rest
# under the text threshold; a plate's first group of one or two characters, too short to
# be a plate's line, set apart by a space the text detector does not bridge at 4K) would
# leave the others out. Calibrated on the dashboard set's zoomed crops
# (docs/performance.md#plates-on-the-footage-the-tool-exists-for), where the text spans
# 0.79-1.04 of the network's width, and openalpr's plates (0.59-1.0). Nor where a
# network box that passes the threshold has its middle in the plate but outside where the
# text lies: the other line of a two-line plate, whose characters the text detector missed.
LARGE_PLATE_PX = 64  # shorter side of a merged plate box
KEEP_TEXT = 0.95
MIN_TEXT_SPAN = 0.75
# An unsure text box on a line (every one in the plate under SURE_TEXT) can stop a character
# short of its end ("HLO KTY" of "HLO KTY1" on a night plate), so the plate is then narrowed
# no closer than CHARACTER_REACH line heights (about a character's width) beside it. Sure
# text boxes held their lines on the dev sets (docs/performance.md, "Large plates narrowed
# only where the text spans them").
CHARACTER_REACH = 0.5
SURE_TEXT = 0.5
# A line of characters longer than the text detector's tiles overlap (a zoomed crop's plate
# across the seam of a 1080p screenshot's two tiles) is whole in neither tile, and each text
# box ends near its tile's edge, up to about a character short of it (a cut character is not
# taken for text). A side of the text within SEAM_REACH line heights of a tile's inner edge
# does not narrow the plate.
SEAM_REACH = 1.0


def _union(boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()], np.float64)


def fit_large_plates(
    dets: Detections, network: Detections, text: Detections, *, label: str = "plate", least: float = 0.0,
    text_tiles: Sequence[Tile] = (), size: tuple[int, int] | None = None,
) -> Detections:
    """Large plate boxes narrowed to where the plate network and the text detector agree.

    Args:
        dets: merged detections (any labels; only ``label`` boxes whose shorter side is at
            least :data:`LARGE_PLATE_PX` change).
        network: every plate-network candidate seen in the picture (xyxy source pixels).
        text: every text-detector plate candidate seen in the picture.
        least: the plate threshold: a network box scoring it whose middle lies in a box but
            outside where the two agree keeps that box as it is.
        text_tiles: the tiles the text detector looked at the picture in (source pixels,
            :meth:`redact.detect.text.TextPlate.tiles`), with ``size``, the picture's
            (width, height): a side of the text near a tile's edge inside the picture
            (:data:`SEAM_REACH`) narrows nothing.

    Returns:
        ``dets`` with those boxes narrowed to the intersection of the union of the network
        boxes and the union of the text boxes centred in each, widened by
        :data:`CHARACTER_REACH` line heights either side where those text boxes are all
        unsure (:data:`SURE_TEXT`), and never grown; a box
        whose text spans less than :data:`MIN_TEXT_SPAN` of its network boxes' width stays.
    """
    if not len(dets) or not len(network) or not len(text):
        return dets
    xyxy = dets.xyxy.astype(np.float64)
    side = np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
    large = np.nonzero((dets.label == label) & (side >= LARGE_PLATE_PX))[0]
    if not len(large):
        return dets
    out = xyxy.copy()
    for i in large:
        box = xyxy[i]
        on_net = centres_inside(network.xyxy, box)[0]
        on_text = centres_inside(text.xyxy, box)[0]
        if not on_net.any() or not on_text.any():
            continue
        lines = text.xyxy[on_text].astype(np.float64)
        net, chars = _union(network.xyxy[on_net].astype(np.float64)), _union(lines)
        if chars[2] - chars[0] < MIN_TEXT_SPAN * (net[2] - net[0]):
            continue
        weak = float(text.score[on_text].max()) < SURE_TEXT
        line = float(np.median(lines[:, 3] - lines[:, 1]))
        reach = CHARACTER_REACH * line if weak else 0.0
        wide = chars + np.array([-reach, 0.0, reach, 0.0])
        if text_tiles and size is not None:
            cut = cut_sides(chars, text_tiles, *size, SEAM_REACH * line)
            wide[cut] = np.array([-np.inf, -np.inf, np.inf, np.inf])[cut]
        agreed = np.concatenate([np.maximum(net[:2], wide[:2]), np.minimum(net[2:], wide[2:])])
        agreed = np.concatenate([np.maximum(agreed[:2], box[:2]), np.minimum(agreed[2:], box[2:])])
        w, h = agreed[2] - agreed[0], agreed[3] - agreed[1]
        if w <= 0 or h <= 0:
            continue
        sure = network.xyxy[on_net & (network.score >= least)].astype(np.float64)
        middle = (sure[:, :2] + sure[:, 2:]) / 2
        if not ((middle >= agreed[:2]) & (middle <= agreed[2:])).all():
            continue  # a line the text detector missed
        if w * h >= KEEP_TEXT * (chars[2] - chars[0]) * (chars[3] - chars[1]):
            out[i] = agreed
    return dets.replace(xyxy=out.astype(np.float32))
