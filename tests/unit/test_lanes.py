"""Detectors side by side (redact.detect.lanes): the same finds as one after another, the
vehicle zoom after the occupant detector, every run ended before the call returns."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from redact.config import RedactConfig
from redact.detect.lanes import Lanes, first_looks, split_threads
from redact.detect.occupants import OccupantFinds, Occupants
from redact.detect.vehicle_zoom import VehicleZoom
from redact.types import Detections
from redact.worker import Worker

IMAGE = np.zeros((32, 48, 3), np.uint8)


def _box(x: float, score: float = 0.9) -> Detections:
    return Detections(
        xyxy=np.array([[x, 1, x + 5, 6]], np.float32), score=np.array([score], np.float32),
        label=np.array(["plate"], dtype=object), source=np.array(["detector"], dtype=object),
    )


class Fake:
    """A detector that records the thread it ran in and, given a barrier, waits at it."""

    def __init__(self, name: str, x: float, barrier: threading.Barrier | None = None, fail: bool = False) -> None:
        self.name, self.x, self.barrier, self.fail = name, x, barrier, fail
        self.threshold = 0.3
        self.threads: list[str] = []
        self.ended = False

    def detect(self, image: Any, *, rois: Any = None, floor: Any = None) -> Detections:
        self.threads.append(threading.current_thread().name)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)  # breaks (raises) unless the other side runs at once
        time.sleep(0.02)
        self.ended = True
        if self.fail:
            raise RuntimeError(f"{self.name} failed")
        return _box(self.x)


class FakeOccupants(Occupants):
    def __init__(self, vehicles: list[list[float]]) -> None:  # no network
        self.name, self.threshold, self.vehicles_found = "occupants", 0.3, vehicles

    def detect(self, image: Any, *, rois: Any = None, floor: Any = None) -> Detections:
        time.sleep(0.05)  # the zoom must wait for these
        return OccupantFinds(
            xyxy=np.zeros((0, 4), np.float32), score=np.zeros(0, np.float32),
            label=np.zeros(0, dtype=object), source=np.zeros(0, dtype=object),
            vehicles=np.array(self.vehicles_found, np.float32).reshape(-1, 4),
            vehicle_score=np.array([0.9, 0.1][: len(self.vehicles_found)], np.float32), windows=True,
        )


class FakeZoom(VehicleZoom):
    def __init__(self) -> None:  # no network
        self.name, self.threshold = "vehicle_plate", 0.3
        self.vehicles = SimpleNamespace(threshold=0.25)
        self.seen: Any = "not run"

    def detect(self, image: Any, *, rois: Any = None, floor: Any = None, vehicles: Any = None) -> Detections:
        self.seen = vehicles
        return _box(40.0)


def _floor(d: Any) -> None:
    return None


def test_side_by_side_gives_the_same_finds_in_the_same_order() -> None:
    def make() -> list[Any]:
        return [Fake("centerface", 1.0), Fake("yolo_plate", 10.0), FakeZoom(), Fake("text_plate", 20.0),
                FakeOccupants([[0, 0, 20, 20], [5, 5, 9, 9]])]

    alone, side = make(), make()
    one = first_looks(alone, IMAGE, None, _floor, None)
    two = first_looks(side, IMAGE, None, _floor, Lanes(2))
    assert list(one) == list(two) == ["centerface", "yolo_plate", "text_plate", "occupants", "vehicle_plate"]
    for name in one:
        np.testing.assert_array_equal(one[name].xyxy, two[name].xyxy)
    # The zoom took the vehicles scoring its own threshold, after the occupant detector ran.
    for dets in (alone, side):
        np.testing.assert_array_equal(dets[2].seen, np.array([[0, 0, 20, 20]], np.float32))


def test_detectors_run_at_the_same_time_in_lanes() -> None:
    barrier = threading.Barrier(2)
    a, b = Fake("a", 1.0, barrier), Fake("b", 2.0, barrier)
    first_looks([a, b], IMAGE, None, _floor, Lanes(2))  # one after another, the barrier would break
    assert a.threads[0] != b.threads[0]
    assert all(t.startswith("redact-lane") for t in a.threads + b.threads)


def test_a_failed_detector_fails_the_call_after_every_run_ended() -> None:
    bad, slow = Fake("bad", 1.0, fail=True), Fake("slow", 2.0)
    slow_detect = slow.detect

    def slower(*args: Any, **kwargs: Any) -> Detections:
        time.sleep(0.2)
        return slow_detect(*args, **kwargs)

    slow.detect = slower  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="bad failed"):
        first_looks([bad, slow], IMAGE, None, _floor, Lanes(2))
    assert slow.ended  # no run left going on a picture the caller may reuse


def test_threads_are_shared_out_among_lanes() -> None:
    assert split_threads(2, on_gpu=False) == (1, 2)
    assert split_threads(8, on_gpu=False) == (4, 2)
    assert split_threads(3, on_gpu=False) == (1, 2)
    assert split_threads(1, on_gpu=False) == (1, 1)
    assert split_threads(4, on_gpu=True) == (4, 1)
    assert split_threads(None, on_gpu=True) == (None, 1)
    threads, lanes = split_threads(None, on_gpu=False)  # the machine's cores
    assert lanes in (1, 2) and (threads is None) == (lanes == 1)
    with pytest.raises(ValueError):
        Lanes(1)


def test_small_stills_get_lanes_and_video_and_large_stills_one_after_another() -> None:
    from redact.detect.lanes import BySize

    config = RedactConfig(device="cpu")
    worker = Worker(config, threads=2)
    assert worker.detectors.lanes is None  # type: ignore[attr-defined]
    stills = worker.still_detectors
    assert isinstance(stills, BySize) and worker.still_detectors is stills
    small = stills.for_picture(np.zeros((720, 1280, 3), np.uint8))
    assert small is not worker.detectors and small.lanes is not None and small.lanes.count == 2
    assert stills.for_picture(np.zeros((720, 1280, 3), np.uint8)) is small
    assert stills.for_picture(np.zeros((4000, 6000, 3), np.uint8)) is worker.detectors
    assert Worker(config, threads=1).still_detectors.lanes is None  # type: ignore[attr-defined]
    given = object()
    assert Worker(config, threads=2, detectors=given, stills=given).still_detectors is given  # type: ignore[arg-type]


def test_the_networks_find_the_same_side_by_side() -> None:
    import cv2

    from redact.detect import build_detector_set

    picture = cv2.imread(str(Path(__file__).resolve().parents[2] / "samples" / "street" / "parked-car.png"))
    kinds = dict(faces=True, plates=True, occupants="windows", person_heads=True, cpu_only=True)
    alone = build_detector_set(**kinds, threads=2).detect(picture)  # type: ignore[arg-type]
    side = build_detector_set(**kinds, threads=1, lanes=2).detect(picture)  # type: ignore[arg-type]
    assert len(alone) > 0
    np.testing.assert_allclose(side.xyxy, alone.xyxy, atol=1e-3)
    assert list(side.label) == list(alone.label)


def test_redact_run_on_one_picture_runs_its_detectors_side_by_side(tmp_path: Path, monkeypatch: Any) -> None:
    import redact.detect.detector_set as detect
    from redact import redact_path

    seen: list[Any] = []
    real = detect.first_looks

    def recording(*args: Any) -> Any:
        seen.append(args[-1])
        return real(*args)

    monkeypatch.setattr(detect, "first_looks", recording)
    picture = Path(__file__).resolve().parents[2] / "samples" / "street" / "parked-car.png"
    result = redact_path(picture, tmp_path / "out", RedactConfig(threads=2, device="cpu"))
    assert result.files[0]["status"] == "ok"
    assert result.files[0]["providers"] == ["CPUExecutionProvider"]  # the side-by-side set reports where it ran
    assert seen and all(lanes is not None and lanes.count == 2 for lanes in seen)


def test_pictures_go_by_size_to_the_set_side_by_side_or_the_whole_one() -> None:
    from redact.detect.lanes import LANES_MAX_PIXELS, BySize

    class Named:
        def __init__(self, name: str) -> None:
            self.name, self.seen = name, 0

        def detect(self, image: Any, *, rois: Any = None) -> Detections:
            self.seen += 1
            return _box(0.0)

    whole, small = Named("whole"), Named("small")
    made: list[int] = []

    def make() -> Named:
        made.append(1)
        return small

    by_size = BySize(whole, make)
    by_size.detect(np.zeros((4000, 6000, 3), np.uint8))
    assert (whole.seen, small.seen, len(made)) == (1, 0, 0)  # the small set not built for a large picture
    for _ in range(2):
        by_size.detect(np.zeros((720, 1280, 3), np.uint8))
    assert (whole.seen, small.seen, len(made)) == (1, 2, 1)
    assert 1280 * 720 <= LANES_MAX_PIXELS < 1920 * 1080


def test_verify_checks_small_stills_for_leaks_side_by_side() -> None:
    from redact.detect.lanes import BySize, split_threads
    from redact.review.verify import _leak_detectors

    settings = {"settings": {"faces": True, "plates": True, "occupants": "windows", "quality": "balanced"}}
    found = _leak_detectors(settings)
    if split_threads(None, on_gpu=False)[1] == 1:
        pytest.skip("one core: nothing to run side by side")
    assert isinstance(found, BySize) and found.whole.lanes is None
    assert found.for_picture(np.zeros((720, 1280, 3), np.uint8)).lanes.count == 2
