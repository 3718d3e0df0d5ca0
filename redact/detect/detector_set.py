"""The merged detector set: every detector's looks, the evidence rules and per-label fusion.

:class:`DetectorSet` runs its detectors on a picture (side by side where it has lanes),
applies the evidence large or lone boxes need, adds the zones plates and people imply and
fuses the boxes per label (:mod:`redact.detect.merge`). :func:`redact.detect.build_detector_set`
builds one for the chosen labels and quality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import Detector, ModelFile
from redact.detect.characters import read_characters
from redact.detect.evidence import WITNESS_RATIO, confirm, fit_large_plates
from redact.detect.heads import HeadZone, add_person_heads
from redact.detect.lanes import Lanes, first_looks
from redact.detect.merge import merge_detections, not_inside
from redact.detect.occupants import OccupantFinds
from redact.detect.panel_zoom import PANEL, fill_in
from redact.detect.panels import find_panels, printed
from redact.detect.plate_anchors import add_plate_zones, drop_unplated_large, windows_above_plates
from redact.detect.presets import READ_TEXT
from redact.detect.reading import LINE_PLATES, READER_MODEL, TextReader
from redact.detect.registry import LABEL_DETECTORS
from redact.detect.text import is_line, two_line_plates
from redact.detect.tiles import Tile
from redact.types import Detections, Label

MERGE_IOU = 0.45
MERGE_CONTAIN = 0.85


@dataclass(frozen=True)
class Seen:
    """One look at a picture (:meth:`DetectorSet.seen`).

    Attributes:
        detections: what passes, as :meth:`DetectorSet.detect` returns it.
        suspects: near-threshold candidates, as :meth:`DetectorSet.look` returns them
            (empty unless asked for).
        vehicles: xyxy float32 (K, 4) source pixels, the vehicles the occupant detector
            found scoring its threshold (none where it did not run).
    """

    detections: Detections
    suspects: Detections
    vehicles: NDArray[np.float32]


@dataclass
class DetectorSet:
    """The detectors in use and how their boxes are merged.

    Call :meth:`detect` from one thread at a time per instance.

    Attributes:
        detectors: the configured detectors, each with its own passes and threshold.
        models: the weight files in use (for the manifest): one per detector, in order,
            then the reader's when there is one.
        thresholds: resolved per-label score thresholds.
        quality: the preset name.
        person_heads: where the head of a person with no face found there is redacted
            as a face (:mod:`redact.detect.heads`); ``None``: people add no faces.
        reader: reads text (:mod:`redact.detect.reading`): the plate characters in lines
            longer than a plate's, and, in the qualities of ``READ_TEXT``, the text boxes
            no plate network saw, dropping those that cannot be a plate; ``None``: no
            line counts, every plate-shaped text box stays.
        lanes: where the detectors run side by side (:mod:`redact.detect.lanes`);
            ``None``: one after another.
    """

    detectors: list[Detector]
    models: list[ModelFile]
    thresholds: dict[str, float]
    quality: str
    person_heads: HeadZone | None = None
    reader: TextReader | None = None
    lanes: Lanes | None = None

    @property
    def accelerated(self) -> bool:
        """Whether any detector runs on a GPU (opens the sessions)."""
        return any(getattr(d, "accelerated", False) for d in self.detectors)

    def take_providers(self) -> set[str]:
        """The onnxruntime execution providers the detectors ran on since the last call
        (``CPUExecutionProvider``, ``CUDAExecutionProvider``); then forgotten."""
        runs = [d for d in (*self.detectors, self.reader) if d is not None and hasattr(d, "take_providers")]
        return set().union(*(d.take_providers() for d in runs))

    def only(self, names: Sequence[str], *, heads: bool = False) -> DetectorSet:
        """The same set with only the named detectors (the same instances and thresholds).
        Person heads stay only with a face detector (without one, every person would be
        bare), or with ``heads``: then every person scoring enough gets a head region."""
        keep = [i for i, d in enumerate(self.detectors) if d.name in names]
        detectors, models = [self.detectors[i] for i in keep], [self.models[i] for i in keep]
        reader = self.reader if any(d.name == "text_plate" for d in detectors) else None
        if reader is not None:
            models.append(READER_MODEL)
        faces = any(d.label == Label.FACE.value for d in detectors)
        return DetectorSet(
            detectors=detectors,
            models=models,
            thresholds=self.thresholds,
            quality=self.quality,
            person_heads=self.person_heads if faces or heads else None,
            reader=reader,
            lanes=self.lanes,
        )

    def per_detector(
        self,
        image: NDArray[np.uint8],
        *,
        rois: Sequence[Tile] | None = None,
        ratio: float = 1.0,
        plates: Detections | None = None,
    ) -> dict[str, Detections]:
        """Each detector's boxes before merging (xyxy source pixels), by detector name,
        scoring at least ``ratio`` times its threshold, inside ``rois`` when given.
        ``plates``: plates found in this picture by another look (a set without plate
        networks, following vehicles), for the window zones to end above."""
        _check_image(image)
        if rois is not None and not rois:
            return {d.name: Detections.empty() for d in self.detectors}
        def floor(d: Detector) -> float | None:
            return d.threshold * ratio if ratio < 1.0 else None

        # The vehicle zoom takes the vehicles the occupant detector found, if it ran (one
        # COCO run per picture), else finds them itself.
        found = first_looks(self.detectors, image, rois, floor, self.lanes)
        # Text printed on a dashboard's interface (its header's violation number and camera
        # name) is read like text nothing holds, not boxed as a plate on a network's word.
        _drop_printed(found, image)
        occupants = {name: finds for name, finds in found.items() if isinstance(finds, OccupantFinds)}
        # Plate boxes wide enough to read with no characters in them, and a sign's stacked
        # lines, are no plates (redact.detect.characters); not where a vehicle carries its plate.
        if "text_plate" in found and self.reader is not None and self.quality in READ_TEXT:
            least = self.thresholds[Label.OCCUPANT.value]
            vehicles = np.concatenate([f.sure_vehicles(least) for f in occupants.values()]) if occupants else None
            found.update(read_characters(self.reader, image, found, vehicles))
        # The plate networks' boxes that pass, and pass the evidence rules: text only a
        # candidate under the threshold holds, or a box too large to be a plate on its own
        # word (a truck's back boxed whole), is read like text nothing holds.
        height, width = image.shape[:2]
        nets = {n: _at_least(found[n], self.thresholds)
                for n in LABEL_DETECTORS[Label.PLATE.value] if n in found and n != "text_plate"}
        sure = list(confirm(nets, found, width, height).values())
        # Lines of text longer than a plate's count only for the plate characters read in
        # them (a dashboard's caption printing the plate it read).
        if "text_plate" in found:
            text = found["text_plate"]
            if self.reader is not None and self.quality in READ_TEXT:
                found["text_plate"] = self.reader.veto(image, text, sure, rois)
            else:  # every plate-shaped line stays
                found["text_plate"] = text[~is_line(text.xyxy, image.shape[0], rois)]
            # A two-line plate's lines are one plate.
            found["text_plate"] = two_line_plates(found["text_plate"])
            if self.reader is not None:
                found[LINE_PLATES] = self.reader.plates_in_lines(image, text, rois)
        # A vehicle's windows are above its own plate (as the plate networks see it); a
        # vehicle over half the picture needs a plate of its own or a sure score.
        if occupants:
            known = Detections.concat([*sure, *([_at_least(plates, self.thresholds)] if plates is not None else [])])
            # Characters the text detector found count as a vehicle's plate too.
            text = _at_least(found.get("text_plate", Detections.empty()), self.thresholds)
            evidence = Detections.concat([known, text])
            for name, finds in occupants.items():
                found[name] = windows_above_plates(drop_unplated_large(finds, evidence, width, height), known)
        return found

    def candidates(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, ratio: float = 1.0
    ) -> Detections:
        """Every detector's boxes before merging, in one set (see :meth:`per_detector`)."""
        return Detections.concat(self.per_detector(image, rois=rois, ratio=ratio).values())

    def decide(
        self,
        found: Mapping[str, Detections],
        width: int,
        height: int,
        *,
        thresholds: Mapping[str, float] | None = None,
        rois: Sequence[Tile] | None = None,
    ) -> Detections:
        """The detections that pass: each label's threshold, the evidence large regions need
        (:func:`redact.detect.evidence.confirm`), the zones plates and people imply, then
        per-label fusion.

        Args:
            found: per detector name, its candidates (as :meth:`per_detector` gives them).
            width, height: the picture's size, pixels.
            thresholds: per-label thresholds; ``None`` uses this set's.
            rois: the windows ``found`` was looked for in, as given to :meth:`per_detector`.
        """
        least = dict(self.thresholds if thresholds is None else thresholds)
        strong = {name: _at_least(d, least) for name, d in found.items()}
        kept = confirm(strong, found, width, height)
        # Zoomed crops looked at shrunk: only what the other plate opinions did not find.
        if PANEL in kept:
            others = [kept[n] for n in LABEL_DETECTORS[Label.PLATE.value] if n in kept and n != PANEL]
            kept[PANEL] = fill_in(kept[PANEL], Detections.concat(others), width, height)
        # Occupants: the windshield zone above each plate that no vehicle box holds (not
        # above a plate printed in a caption).
        printed = kept.pop(LINE_PLATES, None)
        kept = add_plate_zones(kept, found, width, height, least.get(Label.OCCUPANT.value))
        if printed is not None:
            kept[LINE_PLATES] = printed
        # Faces: the heads of people where no face was found.
        if self.person_heads is not None:
            kept = add_person_heads(kept, found, self.person_heads)
        merged = merge_detections(Detections.concat(kept.values()), iou=MERGE_IOU, contain=MERGE_CONTAIN)
        # Large plates: where the plate network and the text detector agree (the characters).
        nets = [n for n in LABEL_DETECTORS[Label.PLATE.value] if n in found and n not in ("text_plate", PANEL)]
        plate_nets = [found[n] for n in nets]
        tiles = [t for d in self.detectors if d.name == "text_plate" and hasattr(d, "tiles")
                 for t in d.tiles(width, height, rois)]
        fitted = fit_large_plates(merged, Detections.concat(plate_nets), found.get("text_plate", Detections.empty()),
                                  least=least.get(Label.PLATE.value, 0.0), text_tiles=tiles, size=(width, height))
        return _distinct(fitted)

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        """Faces, plates and occupants in a BGR uint8 picture (H, W, 3), as the set is built to find.

        Args:
            image: the whole picture.
            rois: look only in these windows (source pixels), each at the scales a
                whole-picture run would use; ``None`` looks everywhere.

        Returns:
            Merged detections (per-label fusion), xyxy source pixels, ``source="detector"``.
        """
        # Candidates under the thresholds are looked at as witnesses for large boxes only.
        return self.seen(image, rois=rois).detections

    def look(
        self,
        image: NDArray[np.uint8],
        *,
        ratio: float,
        rois: Sequence[Tile] | None = None,
        plates: Detections | None = None,
    ) -> tuple[Detections, Detections]:
        """:meth:`detect` plus the *suspects*: merged candidates scoring from ``ratio`` times
        the threshold up to it, which overlap no detection (for video, where later frames
        get a closer look at them, and a track may be continued by weaker evidence).
        A large box that lacks the evidence its size asks for is not a suspect either.
        ``plates``: as for :meth:`per_detector`."""
        seen = self.seen(image, ratio=ratio, rois=rois, plates=plates, suspects=True)
        return seen.detections, seen.suspects

    def seen(
        self,
        image: NDArray[np.uint8],
        *,
        ratio: float = WITNESS_RATIO,
        rois: Sequence[Tile] | None = None,
        plates: Detections | None = None,
        suspects: bool = False,
    ) -> Seen:
        """What :meth:`detect` (or, with ``suspects``, :meth:`look`) finds, with the vehicles
        the occupant detector found on the way (:class:`Seen`)."""
        found = self.per_detector(image, rois=rois, ratio=ratio, plates=plates)
        width, height = image.shape[1], image.shape[0]
        dets = self.decide(found, width, height, rois=rois)
        weak = Detections.empty()
        if suspects:
            below = {name: _below(d, self.thresholds) for name, d in found.items()}
            weak = merge_detections(
                Detections.concat(confirm(below, found, width, height).values()), iou=MERGE_IOU, contain=MERGE_CONTAIN
            )
            weak = not_inside(weak, dets, MERGE_CONTAIN)
        least = self.thresholds[Label.OCCUPANT.value]
        vehicles = [f.sure_vehicles(least) for f in found.values() if isinstance(f, OccupantFinds)]
        return Seen(dets, weak, np.concatenate(vehicles) if vehicles else np.zeros((0, 4), np.float32))


def _distinct(dets: Detections) -> Detections:
    """``dets`` less the boxes equal to an earlier one of the same label (two regions of one
    plate, a tight one and a looser one, narrowed to the same place its characters are)."""
    if len(dets) < 2:
        return dets
    seen: set[tuple[object, ...]] = set()
    keep = np.ones(len(dets), bool)
    for i, (box, label) in enumerate(zip(dets.xyxy.tolist(), dets.label.tolist(), strict=True)):
        key = (label, *box)
        keep[i] = key not in seen
        seen.add(key)
    return dets if keep.all() else dets[keep]


def _at_least(dets: Detections, thresholds: Mapping[str, float]) -> Detections:
    least = np.array([thresholds.get(str(lbl), 0.0) for lbl in dets.label], np.float32)
    return dets[dets.score >= least] if len(dets) else dets


def _below(dets: Detections, thresholds: Mapping[str, float]) -> Detections:
    least = np.array([thresholds.get(str(lbl), 0.0) for lbl in dets.label], np.float32)
    return dets[dets.score < least] if len(dets) else dets


def _check_image(image: NDArray[np.uint8]) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", None)
        raise ValueError(f"detect expects a BGR uint8 array (H, W, 3), got shape {shape} dtype {dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"detect got an empty picture of shape {image.shape}")


def _drop_printed(found: dict[str, Detections], image: NDArray[np.uint8]) -> None:
    """Takes the plate networks' boxes lying on text printed on the picture's interface
    (:func:`redact.detect.panels.printed`) out of ``found``, in place."""
    nets = [n for n in LABEL_DETECTORS[Label.PLATE.value] if n != "text_plate" and len(found.get(n, ()))]
    if not nets:
        return
    seen = [f.panels for f in found.values() if isinstance(f, OccupantFinds) and len(f.panels)]
    panels = seen[0] if seen else find_panels(image)
    if len(panels) < 2:
        return
    for n in nets:
        found[n] = found[n][~printed(image, found[n].xyxy, panels)]
