"""DetectorSet building, validation and a real-model smoke test."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from redact.detect import (
    DEFAULT_THRESHOLDS,
    DETECTORS,
    MODELS,
    QUALITY_PRESETS,
    build_detector_set,
    get_factory,
)
from redact.detect.base import sha256_file
from redact.detect.centerface import CenterFace
from redact.detect.reading import READER_MODEL
from redact.detect.yolo_plate import YoloPlate
from redact.detect.yolox import YOLOX_MODEL
from redact.errors import ConfigError, ModelError
from redact.types import Detections
from tests.helpers import SAMPLES, require_dev


def test_presets_and_defaults_shape() -> None:
    assert QUALITY_PRESETS == ("fast", "balanced", "thorough")
    assert set(DEFAULT_THRESHOLDS) == {"face", "plate", "occupant"}
    assert all(0 < v < 1 for v in DEFAULT_THRESHOLDS.values())


def test_model_hashes_match_files_and_the_notice() -> None:
    notice = (MODELS["centerface"].path().parent / "NOTICE.md").read_text()
    # The COCO network finds vehicles for the plate and window searches (MODELS["occupants"]
    # is the same file under the occupant label); the recogniser reads text boxes.
    files = [f for model in (*MODELS.values(), YOLOX_MODEL, READER_MODEL) for f in model.files()]
    assert [f.file for f in MODELS["centerface"].files()] == ["centerface_head.onnx", "centerface_tail.onnx"]
    for f in files:
        assert sha256_file(f.path()) == f.sha256, f.file
        assert f"| `{f.file}` |" in notice and f"`{f.sha256}`" in notice, f.file
    shipped = {p.name for p in MODELS["centerface"].path().parent.glob("*.onnx")}
    assert shipped == {f.file for f in files}  # nothing shipped that no model uses


def test_unknown_quality_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="fast, balanced, thorough"):
        build_detector_set(quality="best")


def test_unknown_detector_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="centerface"):
        get_factory("nope")


@pytest.mark.parametrize("bad", [{"face": 0.0}, {"plate": 1.5}, {"person": 0.5}])
def test_bad_thresholds(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        build_detector_set(thresholds=bad)


def test_thresholds_resolve_with_defaults() -> None:
    ds = build_detector_set(thresholds={"face": 0.5}, plates=False)
    assert ds.thresholds == {**DEFAULT_THRESHOLDS, "face": 0.5}
    assert [m.name for m in ds.models] == ["centerface", "retinaface"]
    assert ds.quality == "balanced"


def test_hash_mismatch_is_model_error() -> None:
    bad = dataclasses.replace(MODELS["centerface"], sha256="0" * 64)
    with pytest.raises(ModelError, match="SHA-256"):
        DETECTORS["centerface"](bad, 0.5, (), None, False)


def test_missing_file_is_model_error() -> None:
    bad = dataclasses.replace(MODELS["centerface"], file="nope.onnx")
    with pytest.raises(ModelError, match="missing"):
        CenterFace(bad)


def test_detect_rejects_non_images() -> None:
    ds = build_detector_set(quality="fast")
    with pytest.raises(ValueError, match="BGR uint8"):
        ds.detect(np.zeros((10, 10), np.uint8))


@pytest.mark.slow
@pytest.mark.parametrize("quality", QUALITY_PRESETS)
@pytest.mark.parametrize("shape", [(1, 1, 3), (37, 53, 3), (720, 1280, 3)])
def test_real_models_run_on_blank_and_odd_sizes(quality: str, shape: tuple[int, int, int]) -> None:
    ds = build_detector_set(quality=quality, threads=1)
    dets = ds.detect(np.full(shape, 127, np.uint8))
    assert isinstance(dets, Detections)
    assert len(dets) == 0  # a flat grey picture has no faces or plates
    names = {m.name for m in ds.models}
    plates = {"yolo_plate"} if quality == "fast" else {"yolo_plate", "text_plate", "vehicle_plate", "panel_plate"}
    plates |= {"text_reader"} if "text_plate" in plates else set()  # every quality that finds text reads lines
    assert names == ({"centerface"} if quality == "fast" else {"centerface", "retinaface"}) | plates


def _first_dev_image(set_name: str) -> tuple[np.ndarray, list[dict]]:
    ann = require_dev(set_name, "annotations.json")
    im = json.loads(ann.read_text())["images"][0]
    image = cv2.imread(str(ann.parent / im["file"]))
    return image, im["boxes"]


@pytest.mark.slow
@pytest.mark.parametrize(("set_name", "cls"), [("faces-mask-street", CenterFace), ("plates-openalpr-us-eu", YoloPlate)])
def test_single_detector_finds_annotated_object(set_name: str, cls: type) -> None:
    image, boxes = _first_dev_image(set_name)
    name = "centerface" if cls is CenterFace else "yolo_plate"
    det = cls(MODELS[name])
    dets = det.detect(image)
    assert (dets.label == det.label).all() and (dets.source == "detector").all()
    b = boxes[0]
    cx, cy = b["x"] + b["w"] / 2, b["y"] + b["h"] / 2
    hits = (dets.xyxy[:, 0] <= cx) & (cx <= dets.xyxy[:, 2]) & (dets.xyxy[:, 1] <= cy) & (cy <= dets.xyxy[:, 3])
    assert hits.any(), f"no {det.label} box over the first annotated one in {set_name}"


@pytest.mark.slow
def test_look_adds_suspects_under_the_threshold_and_windows_see_the_same() -> None:
    """``look`` returns what ``detect`` returns plus near-threshold candidates that overlap no
    detection; ``detect`` restricted to a window around a detection finds it again."""
    from redact.detect.tiles import Tile

    image = cv2.imread(str(SAMPLES / "astronaut.jpg"))
    ds = build_detector_set(quality="fast", threads=1, thresholds={"face": 0.6, "plate": 0.6})
    dets = ds.detect(image)
    looked, suspects = ds.look(image, ratio=0.05)
    np.testing.assert_allclose(looked.xyxy, dets.xyxy, atol=1e-3)
    assert len(dets) >= 1 and len(suspects) >= 1  # a low floor always finds something
    assert (suspects.score < 0.6).all() and (suspects.score >= 0.6 * 0.05).all()
    x0, y0, x1, y1 = (int(v) for v in dets.xyxy[0])
    window = Tile(max(0, x0 - 64), max(0, y0 - 64), x1 + 64, y1 + 64)
    again = ds.detect(image, rois=[window])
    assert len(again) >= 1
    from redact.detect.merge import iou_matrix

    assert iou_matrix(again.xyxy, dets.xyxy[:1]).max() >= 0.85  # the same face, give or take the context
    assert len(ds.detect(image, rois=[])) == 0


def test_faces_a_few_pixels_high_in_a_small_picture_are_found() -> None:
    """In a picture of up to 800 px, faces too small for CenterFace at 2x are looked for at 3x:
    the sample portrait shrunk to 28 px, its face a few pixels high, side by side."""
    small = cv2.resize(cv2.imread(str(SAMPLES / "astronaut.jpg")), (28, 28), interpolation=cv2.INTER_AREA)
    image = np.full((240, 400, 3), 120, np.uint8)
    tiles = [(x, y) for y in range(10, 240 - 28, 48) for x in range(10, 400 - 28, 48)]
    for x, y in tiles:
        image[y : y + 28, x : x + 28] = small
    ds = build_detector_set(faces=True, plates=False, occupants="off", person_heads=False, threads=2)
    dets = ds.detect(image)
    cx, cy = (dets.xyxy[:, 0] + dets.xyxy[:, 2]) / 2, (dets.xyxy[:, 1] + dets.xyxy[:, 3]) / 2
    found = [((cx >= x) & (cx < x + 28) & (cy >= y) & (cy < y + 28)).any() for x, y in tiles]
    assert all(found), f"{sum(found)} of {len(tiles)} faces found"


@pytest.mark.slow
def test_providers_used_are_taken_once() -> None:
    ds = build_detector_set(quality="fast", threads=1)
    assert ds.take_providers() == set()  # nothing ran yet
    ds.detect(np.zeros((64, 96, 3), np.uint8))
    used = ds.take_providers()
    assert used and used <= {"CPUExecutionProvider", "CUDAExecutionProvider"}
    assert ds.take_providers() == set()  # forgotten once taken: the next file starts afresh


def test_only_keeps_the_named_detectors_with_the_same_thresholds() -> None:
    from redact.video.windowed import occupant_only as _occupant_only

    ds = build_detector_set(occupants="windows", threads=1)
    occ = ds.only(("occupants",))
    assert [d.name for d in occ.detectors] == ["occupants"] and occ.models == [MODELS["occupants"]]
    assert occ.thresholds == ds.thresholds and occ.detectors[0] is ds.detectors[-1]
    assert [d.name for d in _occupant_only(ds).detectors] == ["occupants"]
    assert _occupant_only(build_detector_set(occupants="off", threads=1)) is None
    assert _occupant_only(object()) is None  # a test double that cannot be split
    # Person heads: not without a face detector, unless asked for (every person then gets one);
    # the video schedule's occupant detector alone keeps them where the set has them.
    heads = build_detector_set(occupants="windows", person_heads=True, threads=1)
    assert heads.only(("occupants",)).person_heads is None
    assert heads.only(("occupants",), heads=True).person_heads == heads.person_heads is not None
    assert _occupant_only(heads).person_heads is not None and _occupant_only(ds).person_heads is None
