"""Characters as evidence: what reading says of plate boxes and of text no plate carries.

A plate that matters can be read, and a plate large enough to read shows characters. Two
kinds of box the networks give on road footage show none, or show a sign's:

- A plate network's box at least :data:`READ_WIDTH` px wide with no text box in it (the
  text detector saw no characters there) whose reading holds fewer than
  :data:`MIN_READ` Latin letters or digits: red-and-white chevron boards, a pair of
  headlights, a lamp, a logo (:func:`unread_plates`). On the dev frames every labelled plate
  that wide read as 3 to 7 of them; the plate network's boxes that read as none were chevron
  boards, signs and lamps, and a night plate blown out white by its own lamp, whose
  characters no one can read either. Narrower plates are never judged: the recogniser
  missed the characters of some plates 48-77 px wide that a person reads. Nor is a box
  where a vehicle the COCO network found carries its plate (centred, low, plate-wide:
  :func:`~redact.detect.plate_anchors.own_plates`): none of the boxes the rule is for sat
  there, while a plate smeared by a streak or a shaken camera, its characters run together
  past the recogniser's reading but not past a person's guess, does.
- Three or more stacked lines of text, each read surely and none with a digit: the lines of a
  road or shop sign ("TERMINAL", "RATB", "AUTOGARA") cut into plate-sized pieces
  (:func:`sign_lines`), and a plate network's box around two or more of them and no other
  text: the sign as that network boxed it (:func:`on_signs`). A plate has at most two lines,
  and a list of plates printed on a dashboard has digits in every line.

Both only drop boxes; they never add one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from redact.detect.plate_anchors import own_plates, plate_shaped
from redact.detect.reading import MIN_CONFIDENCE, Reading, TextReader
from redact.detect.text import stacked_lines
from redact.geometry import inside_share
from redact.types import Detections

# The detectors whose boxes are judged (the plate network, on the whole picture and zoomed on
# vehicles), and the one whose boxes are characters.
PLATE_NETWORKS = ("yolo_plate", "vehicle_plate")
TEXT = "text_plate"
# A plate box at least this wide (source pixels) is wide enough for its characters to be
# read: about 7 characters of 15 px high.
READ_WIDTH = 90.0
# ... and must read as at least this many Latin letters or digits, unless a text box lies in it.
MIN_READ = 2
# A text box counts as characters in a plate box when this share of its area lies inside.
TEXT_INSIDE = 0.5
# Lines of text stacked this many rows deep are a sign's, when every line reads surely
# without a digit.
SIGN_ROWS = 3


def _alnum(reading: Reading) -> int:
    return sum(c.isascii() and c.isalnum() for c in reading.text)


def unreadable(
    boxes: Detections, text: Detections, vehicles: NDArray[np.floating] | None = None
) -> NDArray[np.bool_]:
    """Which plate-network ``boxes`` are wide enough to read, hold no ``text`` box and are no
    plate-shaped box where one of ``vehicles`` (xyxy (M, 4) source pixels) carries its plate:
    those whose reading decides (:func:`unread_plates`)."""
    if not len(boxes):
        return np.zeros(0, bool)
    wide = (boxes.xyxy[:, 2] - boxes.xyxy[:, 0]) >= READ_WIDTH
    if len(text) and wide.any():
        wide &= ~(inside_share(text.xyxy, boxes.xyxy) >= TEXT_INSIDE).any(axis=0)
    if vehicles is not None and len(vehicles) and wide.any():
        wide &= ~(own_plates(vehicles, boxes.xyxy).any(axis=0) & plate_shaped(boxes.xyxy))
    return np.asarray(wide, bool)


def unread_plates(
    boxes: Detections,
    text: Detections,
    readings: Sequence[Reading],
    vehicles: NDArray[np.floating] | None = None,
) -> Detections:
    """``boxes`` without those :func:`unreadable` picks (with ``vehicles``) whose reading
    (``readings``, one per box it picks, in order) holds fewer than :data:`MIN_READ` Latin
    letters or digits."""
    picked = np.flatnonzero(unreadable(boxes, text, vehicles))
    if len(picked) != len(readings):
        raise ValueError(f"expected {len(picked)} readings, got {len(readings)}")
    drop = np.zeros(len(boxes), bool)
    for i, reading in zip(picked, readings, strict=True):
        drop[i] = _alnum(reading) < MIN_READ
    return boxes[~drop] if drop.any() else boxes


def sign_stacks(text: Detections) -> list[NDArray[np.int64]]:
    """The stacks of :data:`SIGN_ROWS` or more rows among ``text`` (indices into it)."""
    return stacked_lines(text.xyxy, SIGN_ROWS) if len(text) >= SIGN_ROWS else []


def sign_lines(
    text: Detections, stacks: Sequence[NDArray[np.int64]], readings: Sequence[Sequence[Reading]]
) -> NDArray[np.bool_]:
    """Which ``text`` boxes are a sign's lines: those of a stack (:func:`sign_stacks`) whose
    every line reads with at least :data:`~redact.detect.reading.MIN_CONFIDENCE` and none
    with a digit. ``readings``: per stack, its lines' readings in its order."""
    out = np.zeros(len(text), bool)
    for stack, read in zip(stacks, readings, strict=True):
        sure = all(r.confidence >= MIN_CONFIDENCE for r in read)
        if sure and not any(c.isdigit() for r in read for c in r.text):
            out[stack] = True
    return out


def on_signs(boxes: Detections, text: Detections, signs: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which plate ``boxes`` hold a sign's lines two rows deep or more (``signs``: which
    ``text`` boxes are a sign's, :func:`sign_lines`) and no other text: the sign itself, as
    the plate network boxed it."""
    out = np.zeros(len(boxes), bool)
    if not len(boxes) or not signs.any():
        return out
    inside = inside_share(text.xyxy, boxes.xyxy) >= TEXT_INSIDE  # (text, boxes)
    for j in np.flatnonzero(inside[signs].any(axis=0)):
        held = inside[:, j]
        out[j] = not (held & ~signs).any() and bool(stacked_lines(text.xyxy[held], 2))
    return out


def read_characters(
    reader: TextReader,
    image: NDArray[np.uint8],
    found: Mapping[str, Detections],
    vehicles: NDArray[np.floating] | None = None,
) -> dict[str, Detections]:
    """The boxes of ``found`` (per detector name, as :meth:`DetectorSet.per_detector` has
    them) that change: the text detector's without a sign's lines (:func:`sign_lines`), the
    plate networks' without the signs they boxed (:func:`on_signs`) and those that read as no
    plate (:func:`unread_plates`), but where one of ``vehicles`` (xyxy (M, 4) source pixels,
    found by the COCO network; ``None``: not looked for) carries its plate. Every text box
    found counts as characters in a plate box, a sign's too."""
    text = found[TEXT]
    stacks = sign_stacks(text)
    signs = sign_lines(text, stacks, [reader.read(image, text.xyxy[s]) for s in stacks])
    out: dict[str, Detections] = {}
    for name in PLATE_NETWORKS:
        boxes = found.get(name)
        if boxes is None or not len(boxes):
            continue
        kept = boxes[~on_signs(boxes, text, signs)]
        picked = unreadable(kept, text, vehicles)
        if picked.any():
            kept = unread_plates(kept, text, reader.read(image, kept.xyxy[picked]), vehicles)
        if len(kept) != len(boxes):
            out[name] = kept
    if signs.any():
        out[TEXT] = text[~signs]
    return out
