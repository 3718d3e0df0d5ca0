"""Reading text: PP-OCRv4's recogniser as a check on text no plate network saw.

The text detector finds every line of characters shaped like a plate: plates, and also
dashboard overlays (dates, times, camera names), shop signs, lettering on vehicles, and
textures that only look like writing (foliage, railings, a house front, waste bins). Where no
plate network sees a plate (a candidate under the plate threshold does not count), the
recogniser reads the line, and the line stays only when it reads as something a plate might
carry:

- at least :data:`MIN_CHARACTERS` Latin letters or digits, in any reading, however unsure
  (what a plate adds to the road is characters, and the recogniser reads plates' Latin
  letters and digits well where the text detector finds them: every such line on a labelled
  plate of the dev sets read as 5 to 7 of them);
- and, when the reading is sure, nothing no plate carries (a date or a time of day,
  lower-case words, a longer string than any plate, a long word without digits).

A *line* of text longer than any plate's (:func:`redact.detect.text.is_line`) is read
wherever it is: a plate-reading system's dashboard prints the plate it read in its captions
("Plate: B 320 WTW"), and that string identifies the car as the plate itself does. Only the
stretches of a line that read as a plate's characters (:func:`plate_tokens`) become plate
boxes (:meth:`TextReader.plates_in_lines`); the line itself is never one. A plate-shaped
piece of such a line (the line seen whole at one scale, in pieces at another) is held to
the same: where it reads surely, it stays only if it holds a plate's characters
(:data:`PIECE`).

Plate-shaped text a plate network holds (:data:`SUPPORT` of its area in one of that
network's boxes that pass the threshold and the evidence rules of
:mod:`redact.detect.evidence`) is never read and never dropped here. Text only candidates
under the threshold held was, on the dev sets, bus destination boards, street names and shop
signs, never a labelled plate (docs/performance.md); text only a box too large to be a plate
on its own word held, a truck's lettering (the network boxed the truck's back whole).

Input of the network: a BGR crop resized to 48 px high, ``(pixel / 255 - 0.5) / 0.5``,
NCHW, any width; output: per column, probabilities over its character list (stored in the
model file's metadata) with CTC's blank first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.detect.session import OnnxRunner
from redact.detect.text import is_line, stacked_on
from redact.detect.tiles import Tile
from redact.geometry import inside_share, intersection_matrix
from redact.types import Detections, Label

READER_MODEL = ModelFile(
    name="text_reader",
    label=Label.PLATE.value,
    file="ppocrv4_rec.onnx",
    sha256="5b9915c5a49e632a52af348b8201e0c0a77bbe157cf9a78029e47e373e001065",
    licence="Apache-2.0",
    origin="rapidocr-onnxruntime 1.4.4 (rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx), "
    "PP-OCRv4 text recogniser (SVTR-LCNet) by PaddlePaddle",
)

HEIGHT = 48  # the recogniser's input height
MAX_WIDTH = 12 * HEIGHT  # longer crops are squeezed: no plate is longer than this ratio
MAX_LINE_WIDTH = 48 * HEIGHT  # lines are read at their own width up to this one
# Where DetectorSet.per_detector puts the plate characters read in lines (beside the
# detectors' own boxes, by their names).
LINE_PLATES = "text_line"
# A reading vetoes a line only when the recogniser is this sure of it (mean of its
# characters' probabilities): an unsure reading of a plate can look like anything.
MIN_CONFIDENCE = 0.8
# Most characters any plate carries (letters and digits, separators not counted).
MAX_PLATE_CHARACTERS = 10
# Plates are written in capitals: this many lower-case letters make words.
MIN_LOWER = 3
# A word this long with no digit is not a plate (vanity plates run to 7 or 8 letters).
MIN_WORD_LETTERS = 9
# A text box seen by no plate network must read as at least this many Latin letters or
# digits (any confidence). The recogniser's other characters are Chinese: what it reads as
# such in a line no plate network saw was, on the dev sets, never a plate.
MIN_CHARACTERS = 3
# A text box counts as seen by a plate network when this share of its area lies in one of
# that network's boxes.
SUPPORT = 0.3
# A text box lying this share inside a line of text is a piece of it, and stays only where
# its reading holds a plate's characters as a line's would (plate_tokens; or reads unsure):
# a header "violation 2025-210729 | camera 52" is seen whole at one scale and in
# plate-shaped pieces at another ("5-210729").
PIECE = 0.8

# A plate's characters in a line of text (plate_tokens): groups of capitals and digits, one
# separator (space, hyphen, dot) apart, together 4 to MAX_PLATE_CHARACTERS of them with a
# letter and digits among them (a word, a number, a date, a time is none of these).
MIN_TOKEN_CHARACTERS = 4
# ... and at least this many digits: a maker's name in chrome letters read with one letter
# as a digit ("SU8URBAN") is no plate.
MIN_TOKEN_DIGITS = 2
# A group of up to this many characters, longer than a plate's, with a letter and digits in
# it is a plate read together with a number printed after it ("L592VBI2025-12-01").
MAX_GLUED = 16
MIN_WORD_IN_LINE = 5  # letters without a digit that make a word in a line, not a plate's group
SPAN_BEFORE, SPAN_AFTER = 2, 4  # output columns around a token's first and last characters'
SPAN_REACH = 8  # columns a span reaches further over what lies unread beside it (two characters)
_GROUPS = re.compile(r"[A-Z0-9]+(?:[ .\-\u00b7][A-Z0-9]+)*")
# A date read glued to what is printed before it ("SAA 09252025-12-01": the space after the
# plate lost) starts a group of its own.
_GLUED_DATE = re.compile(r"(?<=[A-Z0-9])\d{4}[-./]\d{1,2}[-./]\d{1,2}")

# A bar between fields read as I or l, and a lone I or l before a lower-case word (see
# plate_tokens).
_BAR = re.compile(r"[Il]?\|[Il]?|^\s*[Il](?=\s)|(?<=\s)[Il]\s*$")
_BEFORE_WORD = re.compile(r"(?<![^\s])[Il](?=\s+[a-z])")

_DATE_OR_TIME = re.compile(r"\d{4}[-./]\d{1,2}([-./]\d{1,2})?|\d{1,2}:\d{2}:\d{2}|\d{1,2}:\d{2}\s*[AaPp][Mm]")


@dataclass(frozen=True)
class Reading:
    """What the recogniser read in one crop, and how sure it is (0..1; 0 for nothing read).

    Attributes:
        text: the characters read.
        confidence: the mean of their probabilities.
        columns: per character of ``text``, the output column it was read in (empty when
            not known).
        width: how many output columns the crop gave (0 when not known).
    """

    text: str
    confidence: float
    columns: tuple[int, ...] = ()
    width: int = 0


def plate_tokens(text: str) -> list[tuple[int, int]]:
    """Where a reading holds a plate's characters: ``[start, end)`` character ranges of
    ``text``.

    A plate is read as groups of capitals and digits one separator apart (:data:`_GROUPS`),
    but so are the numbers printed next to it ("B 320 WTW 2025-12-01"), and the recogniser
    may drop the space between them. So a run of such groups, split at words
    (:data:`MIN_WORD_IN_LINE` letters and no digit), is searched for stretches of
    :data:`MIN_TOKEN_CHARACTERS` to :data:`MAX_PLATE_CHARACTERS` characters with a letter
    and :data:`MIN_TOKEN_DIGITS` digits among them; every group in one of them is a plate's,
    and a token runs over consecutive such groups (a date beside a plate goes with it:
    recall first). A single group of up to :data:`MAX_GLUED` characters with a letter and
    digits is a token too, a date read glued to what comes before it starts a group of its
    own (:data:`_GLUED_DATE`), and one or two lower-case letters between capitals or digits
    count as capitals.
    """
    def plate_like(chars: str) -> bool:
        return sum(c.isdigit() for c in chars) >= MIN_TOKEN_DIGITS and any(c.isalpha() for c in chars)

    # The recogniser now and then reads a plate's capital in lower case ("8QHc925"): one or
    # two lower-case letters between capitals or digits count as capitals.
    text = re.sub(r"(?<=[A-Z0-9])[a-z]{1,2}(?=[A-Z0-9])", lambda m: m.group().upper(), text)
    # Fields parted by bars ("2025-779650 | camera 95"): a bar may be read as I or l, beside a
    # | or alone at the line's end (the line cut there); it is the bar, not a plate's letter.
    # Nor is a lone I or l before a lower-case word (a bar before the next field's label, or
    # a word). Spaces keep each character's place.
    if "|" in text:
        text = _BAR.sub(lambda m: " " * len(m.group()), text)
    text = _BEFORE_WORD.sub(lambda m: " " * len(m.group()), text)
    cuts = [m.start() for m in _GLUED_DATE.finditer(text)]
    out: list[tuple[int, int]] = []
    for match in _GROUPS.finditer(text):
        runs: list[list[tuple[int, int]]] = [[]]
        for group in re.finditer(r"[A-Z0-9]+", match.group()):
            a, z = match.start() + group.start(), match.start() + group.end()
            inner = [c for c in cuts if a < c < z]
            for start, end in zip([a, *inner], [*inner, z], strict=True):
                word = text[start:end]
                if len(word) >= MIN_WORD_IN_LINE and word.isalpha():
                    runs.append([])
                elif MAX_PLATE_CHARACTERS < len(word) <= MAX_GLUED and plate_like(word):
                    # a plate and the number printed after it, read without the space between
                    out.append((start, end))
                    runs.append([])
                else:
                    runs[-1].append((start, end))
        for run in runs:
            marked = [False] * len(run)
            for i in range(len(run)):
                for j in range(i, len(run)):
                    chars = "".join(text[a:b] for a, b in run[i : j + 1])
                    if len(chars) > MAX_PLATE_CHARACTERS:
                        break
                    if len(chars) >= MIN_TOKEN_CHARACTERS and plate_like(chars):
                        marked[i : j + 1] = [True] * (j + 1 - i)
            k = 0
            while k < len(run):
                if not marked[k]:
                    k += 1
                    continue
                end = k
                while end + 1 < len(run) and marked[end + 1]:
                    end += 1
                out.append((run[k][0], run[end][1]))
                k = end + 1
    return sorted(out)


def token_spans(reading: Reading) -> list[tuple[float, float]]:
    """Where a line's plate characters lie across it, as ``[start, end)`` shares of the
    crop's width; the whole line where the characters' columns are not known.

    CTC reads a character in one column somewhere over it, often near its left edge, and may
    miss a character at a token's end: a span runs from :data:`SPAN_BEFORE` columns before
    its first character's column to :data:`SPAN_AFTER` after its last one's (a character is
    about 3-4 columns wide), and on over what lies unread between it and the characters read
    next to it, up to :data:`SPAN_REACH` columns further."""
    tokens = plate_tokens(reading.text)
    if not tokens or not reading.columns or reading.width <= 0:
        return [(0.0, 1.0)] if tokens else []
    text, columns = reading.text, reading.columns
    spans = []
    for start, end in tokens:
        first, last = columns[start], columns[end - 1] + 1
        before = [columns[i] for i in range(start) if not text[i].isspace()]
        after = [columns[i] for i in range(end, len(text)) if not text[i].isspace()]
        left = min(first - SPAN_BEFORE, max(first - SPAN_BEFORE - SPAN_REACH, before[-1] + 1 if before else 0))
        right = max(last + SPAN_AFTER, min(last + SPAN_AFTER + SPAN_REACH, after[0] if after else reading.width))
        spans.append((max(0.0, left / reading.width), min(1.0, right / reading.width)))
    return spans


def veto_reason(reading: Reading, *, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """Why a confident reading cannot be a licence plate, or ``None`` when it might be one."""
    if reading.confidence < min_confidence:
        return None
    text = reading.text
    alnum = [c for c in text if c.isascii() and c.isalnum()]
    if _DATE_OR_TIME.search(text):
        return "a date or time of day"
    if sum(c.islower() for c in text) >= MIN_LOWER:
        return "lower-case words"
    if len(alnum) > MAX_PLATE_CHARACTERS:
        return f"more than {MAX_PLATE_CHARACTERS} letters and digits"
    if len(alnum) >= MIN_WORD_LETTERS and not any(c.isdigit() for c in alnum):
        return "a long word without digits"
    return None


def too_few_characters(reading: Reading, *, least: int = MIN_CHARACTERS) -> bool:
    """Whether a reading holds fewer than ``least`` Latin letters or digits."""
    return sum(c.isascii() and c.isalnum() for c in reading.text) < least


def ctc_decode(probs: NDArray[np.float32], characters: Sequence[str]) -> Reading:
    """Greedy CTC decoding of one crop's (columns, classes) probabilities; class 0 is blank,
    class ``i`` is ``characters[i - 1]``, the last class a space."""
    best = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    keep = (best != 0) & np.concatenate([[True], best[1:] != best[:-1]])
    out = [characters[i - 1] if i - 1 < len(characters) else " " for i in best[keep]]
    columns = tuple(int(c) for c in np.flatnonzero(keep))
    return Reading("".join(out), float(conf[keep].mean()) if keep.any() else 0.0, columns, len(probs))


def crops_of(
    image: NDArray[np.uint8], boxes: NDArray[np.float32], max_width: int = MAX_WIDTH
) -> list[NDArray[np.float32]]:
    """The crops of ``boxes`` (xyxy source pixels) as the network's input, (3, :data:`HEIGHT`,
    width) each: resized to :data:`HEIGHT` px high, at most ``max_width`` wide (longer ones
    are squeezed)."""
    h, w = image.shape[:2]
    crops: list[NDArray[np.float32]] = []
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64):
        a, b = int(np.clip(np.floor(x1), 0, w - 1)), int(np.clip(np.ceil(x2), 1, w))
        c, d = int(np.clip(np.floor(y1), 0, h - 1)), int(np.clip(np.ceil(y2), 1, h))
        crop = image[c : max(d, c + 1), a : max(b, a + 1)]
        width = int(np.clip(np.ceil(HEIGHT * crop.shape[1] / crop.shape[0]), HEIGHT // 3, max_width))
        resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_LINEAR)
        crops.append((resized.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1))
    return crops


class TextReader:
    """PP-OCRv4's recogniser, and the veto it gives on text boxes no plate network saw.

    Attributes:
        min_confidence: how sure a reading must be to veto its box.
    """

    def __init__(
        self,
        model: ModelFile = READER_MODEL,
        *,
        threads: int | None = None,
        cpu_only: bool = False,
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        self._runner = OnnxRunner(model, threads=threads, cpu_only=cpu_only)
        self._characters: list[str] | None = None
        self.min_confidence = min_confidence

    def take_providers(self) -> set[str]:
        """The execution providers the recogniser ran on since the last call (then forgotten)."""
        return self._runner.take_providers()

    def read(
        self, image: NDArray[np.uint8], boxes: NDArray[np.float32], *, max_width: int = MAX_WIDTH
    ) -> list[Reading]:
        """Read each box (xyxy source pixels) of a BGR uint8 picture; crops wider than
        ``max_width`` at the recogniser's height are squeezed to it."""
        if not len(boxes):
            return []
        if self._characters is None:
            self._characters = self._runner.metadata().get("character", "").splitlines()
        # Crops are read in batches of one width, each as it would be read alone: padded to a
        # wider crop's width, a line reads differently (beside a line three times as long, a
        # caption lost its spaces, and the plate in it, glued to the date, was not found).
        crops = crops_of(image, boxes, max_width)
        by_width: dict[int, list[int]] = {}
        for i, crop in enumerate(crops):
            by_width.setdefault(crop.shape[2], []).append(i)
        readings: list[Reading] = [Reading("", 0.0)] * len(crops)
        for same in by_width.values():
            probs = self._runner.run(np.stack([crops[i] for i in same]))[0]
            for i, p in zip(same, probs, strict=True):
                readings[i] = ctc_decode(p, self._characters)
        return readings

    def veto(
        self,
        image: NDArray[np.uint8],
        text: Detections,
        seen: Sequence[Detections],
        windows: Sequence[Tile] | None = None,
    ) -> Detections:
        """``text`` without its lines (:func:`redact.detect.text.is_line`: see
        :meth:`plates_in_lines`) and without the boxes that no box in ``seen`` (the plate
        networks' boxes that pass the plate threshold and the evidence rules) holds and
        whose reading has too few characters (:func:`too_few_characters`: but not the other
        line of a two-line plate, stacked on a box that stays) or cannot be a plate
        (:func:`veto_reason`), or, for a piece of a line (:data:`PIECE`), surely holds no
        plate's characters (:func:`plate_tokens`).
        ``windows``: where the text was looked for (``None``: the whole picture)."""
        if not len(text):
            return text
        line = is_line(text.xyxy, image.shape[0], windows)
        # A plate-shaped piece of a line (the line seen whole at another scale) must read as a
        # plate's characters, as the line's stretches must.
        piece = np.zeros(len(text), bool)
        if line.any():
            piece = ~line & (inside_share(text.xyxy, text.xyxy[line]).max(axis=1) >= PIECE)
        others = [d.xyxy for d in seen if len(d)]
        lone: NDArray[np.bool_] = np.ones(len(text), bool)
        if others:
            area = np.maximum(text.area, 1e-6)
            held = intersection_matrix(text.xyxy, np.concatenate(others)) / area[:, None] >= SUPPORT
            lone = np.logical_not(held.any(axis=1))
        drop = line.copy()
        few = np.zeros(len(text), bool)
        idx = np.flatnonzero(lone & ~line)
        for i, reading in zip(idx, self.read(image, text.xyxy[idx]), strict=True):
            vetoed = veto_reason(reading, min_confidence=self.min_confidence) is not None
            if piece[i] and reading.confidence >= self.min_confidence and not plate_tokens(reading.text):
                vetoed = True
            few[i] = not vetoed and too_few_characters(reading)
            drop[i] = vetoed or few[i]
        # The other line of a two-line plate ("京A" over "12345") can read as too few Latin
        # characters on its own: it stays where it lies on a line that stays.
        if few.any() and not drop.all():
            drop &= ~(few & stacked_on(text.xyxy, text.xyxy[~drop]))
        return text[~drop]

    def plates_in_lines(
        self, image: NDArray[np.uint8], text: Detections, windows: Sequence[Tile] | None = None
    ) -> Detections:
        """Boxes over the plate characters read in the lines among ``text``
        (:func:`token_spans`), each with its line's score; the lines themselves are not
        returned. Unlike a plate, such a string has no vehicle around it and no plate's
        frame: it anchors no windscreen zone and fits no large plate. ``windows``: as for
        :meth:`veto`."""
        lines = np.flatnonzero(is_line(text.xyxy, image.shape[0], windows)) if len(text) else np.zeros(0, np.int64)
        if not len(lines):
            return Detections.empty()
        xyxy = text.xyxy.astype(np.float64)
        spans: list[NDArray[np.float32]] = []
        which: list[int] = []
        for i, reading in zip(lines, self.read(image, text.xyxy[lines], max_width=MAX_LINE_WIDTH), strict=True):
            x1, y1, x2, y2 = xyxy[i]
            for a, b in token_spans(reading):
                spans.append(np.array([x1 + a * (x2 - x1), y1, x1 + b * (x2 - x1), y2], np.float32))
                which.append(int(i))
        if not spans:
            return Detections.empty()
        return text[np.asarray(which)].replace(xyxy=np.stack(spans))
