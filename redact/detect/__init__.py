"""How the merged :class:`DetectorSet` (:mod:`redact.detect.detector_set`) is built.

``build_detector_set(...).detect(image)`` is what the pipeline calls: every enabled
detector runs its multi-scale, tiled passes, the candidates are filtered by per-label
thresholds and fused per label (see :mod:`redact.detect.merge`). The detectors and their
weights are registered in :mod:`redact.detect.registry`, their passes per quality in
:mod:`redact.detect.presets`; both are re-exported here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redact.config import OCCUPANT_MODES
from redact.detect.base import Detector, ModelFile
from redact.detect.detector_set import MERGE_CONTAIN, MERGE_IOU, DetectorSet, Seen
from redact.detect.heads import PERSON_HEAD
from redact.detect.lanes import Lanes
from redact.detect.occupants import Occupants
from redact.detect.presets import GLANCE, GLANCE_SIDE, PRESETS, READ_TEXT, TILE_PIXELS
from redact.detect.reading import READER_MODEL, TextReader
from redact.detect.registry import (
    DEFAULT_QUALITY,
    DEFAULT_THRESHOLDS,
    DETECTORS,
    FACE_EXPAND,
    LABEL_DETECTORS,
    MODELS,
    QUALITY_PRESETS,
    RETINAFACE_SCORE_OFFSET,
    DetectorFactory,
    get_factory,
)
from redact.detect.tiling import Pass
from redact.errors import ConfigError
from redact.types import LABELS, Label

log = logging.getLogger("redact")


def resolve_thresholds(thresholds: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults overlaid with the caller's per-label thresholds.

    Raises:
        ConfigError: an unknown label or a threshold outside (0, 1].
    """
    out = dict(DEFAULT_THRESHOLDS)
    for label, value in (thresholds or {}).items():
        key = label.value if isinstance(label, Label) else str(label)
        if key not in LABELS:
            raise ConfigError(f"unknown label {key!r} in thresholds; valid labels: {', '.join(LABELS)}")
        if value is None:
            continue
        v = float(value)
        if not 0.0 < v <= 1.0:
            raise ConfigError(f"threshold for {key} must be in (0, 1], got {value}")
        out[key] = v
    return out


def build_detector_set(
    *,
    faces: bool = True,
    plates: bool = True,
    occupants: str = "off",
    person_heads: bool = False,
    thresholds: Mapping[str, float] | None = None,
    quality: str = DEFAULT_QUALITY,
    threads: int | None = None,
    cpu_only: bool = False,
    lanes: int = 1,
) -> DetectorSet:
    """Build the detectors for the chosen labels and quality.

    Model files are hash-checked here; onnxruntime sessions open on first use.

    Args:
        faces: detect faces.
        plates: detect licence plates.
        occupants: vehicle occupants (:mod:`redact.detect.occupants`): ``"windows"`` (window
            zones and people in or on vehicles), ``"people"`` (people only) or ``"off"``
            (here the default; ``redact run``'s option defaults to ``"windows"``).
        person_heads: with ``faces``, redact the head of every person found where no face
            was found (:mod:`redact.detect.heads`); runs the COCO network even when
            ``occupants`` is ``"off"`` (it then adds no occupant regions). Here off by
            default; ``redact run``'s option defaults to on.
        thresholds: per-label score thresholds; a missing label or ``None`` uses the default.
        quality: one of :data:`QUALITY_PRESETS`, or :data:`GLANCE` (internal, for video).
        threads: intra-op threads per model; ``None`` lets onnxruntime decide.
        cpu_only: run on the CPU even where a GPU provider is available.
        lanes: how many detectors run side by side (:mod:`redact.detect.lanes`); 1: one
            after another.

    Raises:
        ConfigError: unknown quality, label, occupant mode or bad threshold.
        ModelError: a model file is missing or its SHA-256 differs.
    """
    if occupants not in OCCUPANT_MODES:
        raise ConfigError(f"unknown occupant mode {occupants!r}; valid modes: {', '.join(OCCUPANT_MODES)}")
    if quality not in PRESETS:
        raise ConfigError(f"unknown quality {quality!r}; valid qualities: {', '.join(QUALITY_PRESETS)}")
    if threads is not None and threads < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}")
    if lanes < 1:
        raise ConfigError(f"lanes must be >= 1, got {lanes}")
    resolved = resolve_thresholds(thresholds)
    heads = faces and person_heads
    wanted = [
        lbl for lbl, on in (("face", faces), ("plate", plates), ("occupant", occupants != "off" or heads)) if on
    ]
    detectors: list[Detector] = []
    models: list[ModelFile] = []
    for label in wanted:
        for name in LABEL_DETECTORS[label]:
            if name not in PRESETS[quality]:
                continue  # this quality does without that detector
            model = MODELS[name]
            detector = get_factory(name)(model, resolved[label], PRESETS[quality][name], threads, cpu_only)
            if isinstance(detector, Occupants):
                detector.mode = occupants
            detectors.append(detector)
            models.append(model)
    log.debug("detectors %s at quality %s, thresholds %s", [d.name for d in detectors], quality, resolved)
    reader = None
    if any(d.name == "text_plate" for d in detectors):
        reader = TextReader(threads=threads, cpu_only=cpu_only)
        models.append(READER_MODEL)
    return DetectorSet(
        detectors=detectors,
        models=models,
        thresholds=resolved,
        quality=quality,
        person_heads=PERSON_HEAD if heads else None,
        reader=reader,
        lanes=Lanes(lanes) if lanes > 1 else None,
    )


__all__ = [
    "DEFAULT_QUALITY",
    "DEFAULT_THRESHOLDS",
    "DETECTORS",
    "FACE_EXPAND",
    "GLANCE",
    "GLANCE_SIDE",
    "LABEL_DETECTORS",
    "MERGE_CONTAIN",
    "MERGE_IOU",
    "MODELS",
    "PRESETS",
    "QUALITY_PRESETS",
    "READ_TEXT",
    "RETINAFACE_SCORE_OFFSET",
    "TILE_PIXELS",
    "DetectorFactory",
    "DetectorSet",
    "Pass",
    "Seen",
    "build_detector_set",
    "get_factory",
]
