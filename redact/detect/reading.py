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

Text a plate network holds (:data:`SUPPORT` of its area in one of that network's boxes that
pass the threshold) is never read and never dropped here. Text only candidates under the
threshold held was, on the dev sets, bus destination boards, street names and shop signs,
never a labelled plate (docs/performance.md).

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
from redact.geometry import intersection_matrix
from redact.types import Detections, Label

READER_MODEL = ModelFile(
    name="text_reader",
    label=Label.PLATE.value,
    file="ppocrv4_rec.onnx",
    sha256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
    licence="Apache-2.0",
    origin="rapidocr-onnxruntime 1.4.4 (rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx), "
    "PP-OCRv4 text recogniser (SVTR-LCNet) by PaddlePaddle",
)

HEIGHT = 48  # the recogniser's input height
MAX_WIDTH = 12 * HEIGHT  # longer crops are squeezed: no plate is longer than this ratio
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

_DATE_OR_TIME = re.compile(r"\d{4}[-./]\d{1,2}([-./]\d{1,2})?|\d{1,2}:\d{2}:\d{2}|\d{1,2}:\d{2}\s*[AaPp][Mm]")


@dataclass(frozen=True)
class Reading:
    """What the recogniser read in one crop, and how sure it is (0..1; 0 for nothing read)."""

    text: str
    confidence: float


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
    return Reading("".join(out), float(conf[keep].mean()) if keep.any() else 0.0)


def crop_blob(image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> tuple[NDArray[np.float32], list[int]]:
    """The crops of ``boxes`` (xyxy source pixels) as one batch, each resized to
    :data:`HEIGHT` px high and padded on the right to the widest; their widths."""
    h, w = image.shape[:2]
    crops: list[NDArray[np.float32]] = []
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64):
        a, b = int(np.clip(np.floor(x1), 0, w - 1)), int(np.clip(np.ceil(x2), 1, w))
        c, d = int(np.clip(np.floor(y1), 0, h - 1)), int(np.clip(np.ceil(y2), 1, h))
        crop = image[c : max(d, c + 1), a : max(b, a + 1)]
        width = int(np.clip(np.ceil(HEIGHT * crop.shape[1] / crop.shape[0]), HEIGHT // 3, MAX_WIDTH))
        resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_LINEAR)
        crops.append((resized.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1))
    widths = [c.shape[2] for c in crops]
    batch = np.zeros((len(crops), 3, HEIGHT, max(widths)), np.float32)
    for i, one in enumerate(crops):
        batch[i, :, :, : one.shape[2]] = one
    return batch, widths


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

    def read(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> list[Reading]:
        """Read each box (xyxy source pixels) of a BGR uint8 picture."""
        if not len(boxes):
            return []
        if self._characters is None:
            self._characters = self._runner.metadata().get("character", "").splitlines()
        batch, widths = crop_blob(image, boxes)
        probs = self._runner.run(batch)[0]
        # The network maps 8 input columns to one output column; padding columns are dropped.
        cols = [max(1, round(probs.shape[1] * wd / batch.shape[3])) for wd in widths]
        return [ctc_decode(p[:n], self._characters) for p, n in zip(probs, cols, strict=True)]

    def veto(self, image: NDArray[np.uint8], text: Detections, seen: Sequence[Detections]) -> Detections:
        """``text`` without the boxes that no box in ``seen`` (the plate networks' boxes that
        pass the plate threshold) holds and whose reading has too few characters
        (:func:`too_few_characters`) or cannot be a plate (:func:`veto_reason`)."""
        if not len(text):
            return text
        others = [d.xyxy for d in seen if len(d)]
        lone: NDArray[np.bool_] = np.ones(len(text), bool)
        if others:
            area = np.maximum(text.area, 1e-6)
            held = intersection_matrix(text.xyxy, np.concatenate(others)) / area[:, None] >= SUPPORT
            lone = np.logical_not(held.any(axis=1))
        idx = np.flatnonzero(lone)
        if not len(idx):
            return text
        readings = self.read(image, text.xyxy[idx])
        drop = np.zeros(len(text), bool)
        for i, reading in zip(idx, readings, strict=True):
            vetoed = veto_reason(reading, min_confidence=self.min_confidence) is not None
            drop[i] = vetoed or too_few_characters(reading)
        return text[~drop]
