"""Batched inference (the GPU path) against one picture per run, on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from redact.detect import MODELS, build_detector_set, tiling
from redact.detect import passes as passes_module
from redact.detect.binding import chain
from redact.detect.centerface import CenterFace
from redact.detect.frames import _Found, detect_frames, look_frames
from redact.detect.passes import BATCH_PIXELS, InferManyFn, PassDetector, batches, run_passes_many
from redact.detect.retinaface import RetinaFace
from redact.detect.session import CPU, OnnxRunner
from redact.detect.text import TextPlate
from redact.detect.tiles import Tile
from redact.detect.tiling import Pass, run_passes
from redact.detect.yolo_plate import YoloPlate

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "street" / "parked-car.png"
# Passes that cut a small picture into several same-sized tiles, plus a resized one.
TILED = (Pass(tile=192, overlap=32), Pass(fit=160))


def _pictures() -> list[NDArray[np.uint8]]:
    """Two small BGR crops of the street sample (320 x 320: a face and a plate), the second mirrored."""
    img = cv2.imread(str(SAMPLE))
    assert img is not None
    crop = np.ascontiguousarray(img[300:620, 480:800])
    return [crop, np.ascontiguousarray(crop[:, ::-1])]


@pytest.mark.parametrize(
    ("count", "pixels", "limit", "sizes"),
    [
        (0, 100, 1000, []),
        (1, 100, 1000, [1]),
        (10, 100, 1000, [10]),
        (11, 100, 1000, [6, 5]),
        (3, 2000, 1000, [1, 1, 1]),  # a picture larger than the limit still runs, alone
        (7, 300, 1000, [2, 3, 2]),
    ],
)
def test_batches_cover_every_picture_evenly(count: int, pixels: int, limit: int, sizes: list[int]) -> None:
    parts = batches(count, pixels, limit)
    assert [len(p) for p in parts] == sizes
    assert [i for p in parts for i in p] == list(range(count))
    assert all(len(p) * pixels <= limit or len(p) == 1 for p in parts)


def _marker_infer(image: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """A box around the brightest pixel of the picture, scored by its value."""
    y, x = np.unravel_index(int(np.argmax(image[:, :, 0])), image.shape[:2])
    return np.array([[x - 4, y - 4, x + 4, y + 4]], np.float32), np.array([image[y, x, 0] / 255.0], np.float32)


def _counted(calls: list[int]) -> InferManyFn:
    """:func:`_marker_infer` on many pictures, the number of pictures of each call kept in ``calls``."""

    def infer_many(crops: Sequence[NDArray[np.uint8]]) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
        calls.append(len(crops))
        return [_marker_infer(c) for c in crops]

    return infer_many


def test_run_passes_many_is_run_passes_per_picture() -> None:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (200, 300, 3), dtype=np.uint8) for _ in range(3)]
    calls: list[int] = []
    infer_many = _counted(calls)
    passes = (Pass(tile=128, overlap=32), Pass(scale=0.5), Pass(max_side=100))
    for rois in (None, [Tile(10, 20, 150, 120)]):
        many = run_passes_many(infer_many, images, passes, 0.2, rois)
        for image, (xyxy, score) in zip(images, many, strict=True):
            one = run_passes(_marker_infer, image, passes, 0.2, rois)
            assert np.array_equal(xyxy, one[0]) and np.array_equal(score, one[1])
    assert len(calls) == 2  # one call per run_passes_many, every tile of every picture in it


def test_tiles_enlarged_one_by_one_run_a_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # A large enlargement's tiles are made as they are run, a batch's worth per call, with
    # the boxes run_passes finds.
    monkeypatch.setattr(tiling, "WHOLE_RESIZE_PIXELS", 20_000)
    monkeypatch.setattr(passes_module, "BATCH_PIXELS", 3 * 100 * 100)
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, (200, 300, 3), dtype=np.uint8) for _ in range(2)]
    calls: list[int] = []
    infer_many = _counted(calls)
    spec = (Pass(scale=2.0, tile=100, overlap=20), Pass(max_side=100))
    many = run_passes_many(infer_many, images, spec, 0.2)
    for image, (xyxy, score) in zip(images, many, strict=True):
        one = run_passes(_marker_infer, image, spec, 0.2)
        assert np.array_equal(xyxy, one[0]) and np.array_equal(score, one[1])
    plan = tiling.plan_pass(images[0], spec[0])
    assert plan is not None and plan.scaled is None
    assert len(plan.tiles) > 3 and max(calls) <= 3 and sum(calls) == 2 * len(plan.tiles)


class _CountingRunner:
    """Stands in for OnnxRunner: records the batch sizes it was run on."""

    provider = CPU
    dynamic_batch = True

    def __init__(self) -> None:
        self.batches: list[tuple[int, ...]] = []

    def run(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        self.batches.append(tuple(blob.shape))
        return [blob[:, :1].copy()]


class _Brightest(PassDetector):
    name = "brightest"
    label = "face"

    def blob(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        return image[None, :, :, 0:1].transpose(0, 3, 1, 2).astype(np.float32)

    def boxes(self, outputs: Sequence[NDArray[np.float32]], size: tuple[int, int]) -> tuple:  # type: ignore[type-arg]
        return _marker_infer(outputs[0][0].transpose(1, 2, 0).repeat(3, axis=2).astype(np.uint8))


def test_same_sized_tiles_run_as_one_batch_only_when_batching() -> None:
    det = _Brightest(MODELS["centerface"], threshold=0.1, passes=(Pass(tile=128, overlap=32), Pass(fit=64)),
                     threads=1, nms_iou=0.5)
    runner = _CountingRunner()
    det._runner = runner  # type: ignore[assignment]
    image = np.random.default_rng(2).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    assert det.batch is None and not det.batching  # on the CPU: one run per tile
    one = det.detect(image)
    per_tile = list(runner.batches)
    assert all(shape[0] == 1 for shape in per_tile) and len(per_tile) > 2
    runner.batches.clear()
    det.batch = True
    both = det.detect(image)
    assert np.array_equal(one.xyxy, both.xyxy) and np.array_equal(one.score, both.score)
    assert len(runner.batches) == 2  # the tiles of the tiled pass together, then the resized picture
    assert sum(shape[0] for shape in runner.batches) == len(per_tile)
    runner.batches.clear()
    frames = det.detect_many([image, image, image])
    assert len(runner.batches) == 2 and runner.batches[0][0] == 3 * (len(per_tile) - 1)
    assert all(np.array_equal(f.xyxy, one.xyxy) for f in frames)


def test_batch_limit_splits_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    det = _Brightest(MODELS["centerface"], threshold=0.1, passes=(Pass(tile=128, overlap=32),), threads=1,
                     nms_iou=0.5)
    runner = _CountingRunner()
    det._runner = runner  # type: ignore[assignment]
    det.batch = True
    image = np.random.default_rng(3).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    monkeypatch.setattr("redact.detect.passes.BATCH_PIXELS", 2 * 128 * 128)
    det.detect_many([image, image])
    assert all(shape[0] * shape[2] * shape[3] <= 2 * 128 * 128 for shape in runner.batches)
    assert BATCH_PIXELS > 0


def test_found_boxes_answer_only_the_same_question() -> None:
    det = _Brightest(MODELS["centerface"], threshold=0.1, passes=(Pass(tile=128, overlap=32),), threads=1,
                     nms_iou=0.5)
    runner = _CountingRunner()
    det._runner = runner  # type: ignore[assignment]
    image = np.random.default_rng(6).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    known = det.detect(image, floor=0.05)
    found = _Found(det, image, 0.05, known)
    runner.batches.clear()
    assert found.detect(image, floor=0.05) is known and not runner.batches
    assert found.name == det.name and found.passes == det.passes
    for other in ({"floor": 0.2}, {"rois": [Tile(0, 0, 100, 100)]}):
        found.detect(image, **other)  # type: ignore[arg-type]
        assert runner.batches  # asked the detector
        runner.batches.clear()
    found.detect(image.copy(), floor=0.05)
    assert runner.batches


@pytest.mark.slow
@pytest.mark.parametrize("cls", [CenterFace, RetinaFace, TextPlate])
def test_batched_boxes_are_the_one_by_one_boxes_on_cpu(cls: type[PassDetector]) -> None:
    det = cls(MODELS[cls.name], threshold=0.3, passes=TILED, threads=1)  # type: ignore[call-arg]
    images = _pictures()
    assert det.batch is None and not det.batching  # off on the CPU unless forced
    det.batch = False
    one = [det.detect(image, floor=0.05) for image in images]
    det.batch = True
    assert det.batching
    many = det.detect_many(images, floor=0.05)
    alone = det.detect(images[0], floor=0.05)
    assert sum(len(d) for d in one) > 0
    for a, b in zip([*one, one[0]], [*many, alone], strict=True):
        assert np.array_equal(a.xyxy, b.xyxy) and np.array_equal(a.score, b.score)


@pytest.mark.slow
def test_plate_file_of_batch_one_runs_one_by_one() -> None:
    det = YoloPlate(MODELS["yolo_plate"], passes=TILED, threads=1)
    det.batch = True
    assert not det._runner.dynamic_batch and not det.batching


@pytest.mark.slow
def test_detect_frames_is_detect_per_frame() -> None:
    ds = build_detector_set(plates=False, quality="fast", threads=1)
    images = _pictures()
    alone = [ds.detect(image) for image in images]
    looked = [ds.look(image, ratio=0.5) for image in images]
    assert all(len(d) for d in alone)
    assert detect_frames(ds, images)[0].xyxy.shape == alone[0].xyxy.shape  # nothing batches on the CPU
    for d in ds.detectors:
        d.batch = True  # type: ignore[attr-defined]
    for a, b in zip(alone, detect_frames(ds, images), strict=True):
        assert np.array_equal(a.xyxy, b.xyxy) and np.array_equal(a.score, b.score)
    for (a, wa), (b, wb) in zip(looked, look_frames(ds, images, ratio=0.5), strict=True):
        assert np.array_equal(a.xyxy, b.xyxy) and np.array_equal(wa.xyxy, wb.xyxy)


@pytest.mark.slow
def test_chain_on_cpu_is_head_then_tail() -> None:
    head = OnnxRunner(MODELS["centerface"], threads=1, cpu_only=True)
    tail = OnnxRunner(MODELS["centerface"].tail, threads=1, cpu_only=True)  # type: ignore[arg-type]
    blob = np.random.default_rng(4).random((2, 3, 64, 96), dtype=np.float32) * 255
    plain = tail.run(*head.run(blob))
    chained = chain(head, tail, blob, keep=3)
    assert len(chained) == 3
    assert all(np.array_equal(a, b) for a, b in zip(plain, chained, strict=False))


def _cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


@pytest.mark.slow
@pytest.mark.skipif(not _cuda(), reason="needs onnxruntime-gpu and a GPU (I/O binding runs on CUDA only)")
def test_chain_on_gpu_keeps_features_there_and_matches_cpu() -> None:
    head, tail = OnnxRunner(MODELS["centerface"]), OnnxRunner(MODELS["centerface"].tail)  # type: ignore[arg-type]
    if head.provider == CPU:
        pytest.skip("onnxruntime-gpu found no GPU")
    cpu_head = OnnxRunner(MODELS["centerface"], cpu_only=True)
    cpu_tail = OnnxRunner(MODELS["centerface"].tail, cpu_only=True)  # type: ignore[arg-type]
    blob = np.random.default_rng(5).random((2, 3, 128, 160), dtype=np.float32) * 255
    on_gpu = chain(head, tail, blob, keep=3)
    on_cpu = cpu_tail.run(*cpu_head.run(blob))[:3]
    assert head.take_providers() == {head.provider}
    for a, b in zip(on_gpu, on_cpu, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3)


class _Value:
    """Stands in for an onnxruntime OrtValue."""

    def __init__(self, array: NDArray[np.float32], device: str) -> None:
        self.array, self.device, self.copied = array, device, False

    def shape(self) -> list[int]:
        return list(self.array.shape)

    def numpy(self) -> NDArray[np.float32]:
        self.copied = self.device != "cpu"
        return self.array


class _Binding:
    def __init__(self) -> None:
        self.inputs: list[_Value] = []
        self.devices: list[str] = []
        self.outputs: list[_Value] = []

    def bind_cpu_input(self, name: str, array: NDArray[np.float32]) -> None:
        self.inputs.append(_Value(array, "cpu"))

    def bind_ortvalue_input(self, name: str, value: _Value) -> None:
        assert value.device == "cuda"  # the head's features were left on the GPU
        self.inputs.append(value)

    def bind_output(self, name: str, device: str, device_id: int) -> None:
        self.devices.append(device)

    def get_outputs(self) -> list[_Value]:
        return self.outputs


class _GpuSession:
    """A CUDA session of a network that adds ``add[i]`` to its one input for output ``i``."""

    def __init__(self, add: Sequence[float], fail: bool = False) -> None:
        self.add, self.fail = add, fail
        self.binding = _Binding()

    def get_providers(self) -> list[str]:
        return ["CUDAExecutionProvider", CPU]

    def get_provider_options(self) -> dict[str, dict[str, str]]:
        return {"CUDAExecutionProvider": {"device_id": "0"}}

    def get_inputs(self) -> list[object]:
        return [type("Arg", (), {"name": "x"})()]

    def get_outputs(self) -> list[object]:
        return [type("Arg", (), {"name": f"y{i}"})() for i in range(len(self.add))]

    def io_binding(self) -> _Binding:
        if self.fail:
            raise RuntimeError("no I/O binding in this build")
        self.binding = _Binding()
        return self.binding

    def run_with_iobinding(self, binding: _Binding) -> None:
        x = binding.inputs[0].array
        binding.outputs = [_Value(x + a, d) for a, d in zip(self.add, binding.devices, strict=True)]


class _GpuRunner:
    def __init__(self, session: _GpuSession, file: str) -> None:
        self.session = session
        self.model = type("Model", (), {"name": file, "file": file})()
        self.ran_on: set[str] = set()
        self.plain = 0

    def session_for(self, shapes: object) -> _GpuSession:
        return self.session

    def run(self, *blobs: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        self.plain += 1
        return [blobs[0] + a for a in self.session.add]


def test_chain_binds_features_on_the_gpu_and_copies_back_only_what_is_kept() -> None:
    head_session, tail_session = _GpuSession([1.0]), _GpuSession([10.0, 20.0])
    head, tail = _GpuRunner(head_session, "head-a.onnx"), _GpuRunner(tail_session, "tail-a.onnx")
    blob = np.zeros((2, 3, 4, 4), np.float32)
    out = chain(head, tail, blob, keep=1)  # type: ignore[arg-type]
    assert len(out) == 1 and np.all(out[0] == 11.0)
    assert head_session.binding.devices == ["cuda"] and tail_session.binding.devices == ["cpu", "cuda"]
    assert not tail_session.binding.outputs[1].copied  # what nothing reads stays on the GPU
    assert head.plain == tail.plain == 0 and head.ran_on == tail.ran_on == {"CUDAExecutionProvider"}


def test_chain_runs_plainly_once_binding_failed(caplog: pytest.LogCaptureFixture) -> None:
    head, tail = _GpuRunner(_GpuSession([1.0], fail=True), "head-b.onnx"), _GpuRunner(_GpuSession([10.0]), "tail-b")
    blob = np.zeros((1, 3, 4, 4), np.float32)
    for _ in range(2):
        out = chain(head, tail, blob, keep=1)  # type: ignore[arg-type]
        assert np.all(out[0] == 11.0)
    assert head.plain == tail.plain == 2
    assert sum("without I/O binding" in r.getMessage() for r in caplog.records) == 1
