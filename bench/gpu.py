"""GPU throughput: full detection on every frame of 1080p and 4K clips, against the CPU's boxes.

One run, on a machine with onnxruntime-gpu and a GPU, measures per picture size:

- ``unbatched``: ``DetectorSet.detect`` frame by frame, one model run per tile (batching off);
- ``tiles``: the same with the GPU default, a frame's same-sized tiles as one batch;
- ``frames-N``: ``redact.detect.frames.detect_frames`` on N frames at a time, the tiles of all N
  as batches;
- ``redact run``: the whole video job on a clip of the same frames (where PyAV is installed);
- on a few frames, whether the GPU finds the CPU's boxes (count, labels, within
  :data:`BOX_PX` pixels) and by how much the scores differ;
- TensorRT, where it is installed: the same per-frame time and agreement with the CPU.

The detectors are `redact run`'s defaults (faces, plates, occupants' windows, person heads,
``balanced``). The frames are made here: a pan across ``samples/street/parked-car.png`` scaled
up (no dev data needed). Peak GPU memory is ``nvidia-smi``'s ``memory.used`` sampled every
0.2 s (the whole GPU). The results go to ``OUT/gpu.json``, rewritten after every step, so a run
cut short keeps what it measured; steps that would not end within ``--budget`` seconds are
skipped and say so.

    python bench/gpu.py --out DIR [--frames 1080p=240,4k=96] [--batch 4,8] [--budget 420]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from redact.config import RedactConfig  # noqa: E402
from redact.detect import DetectorSet, build_detector_set  # noqa: E402
from redact.detect import session as session_mod  # noqa: E402
from redact.detect.frames import detect_frames  # noqa: E402
from redact.detect.passes import PassDetector  # noqa: E402
from redact.types import Detections  # noqa: E402

SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160), "360p": (640, 360)}  # 360p: --allow-cpu dry runs
FPS = 25
BOX_PX = 2.0  # boxes found on both providers agree within this many pixels (bench/providers.py)
AGREE_FRAMES = 3  # frames per size compared with the CPU


class GpuMemory:
    """Peak of ``nvidia-smi``'s memory.used (MiB) while inside :meth:`watch`."""

    def __init__(self) -> None:
        self.smi = shutil.which("nvidia-smi")

    def used(self) -> int | None:
        if self.smi is None:
            return None
        out = subprocess.run([self.smi, "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, check=False).stdout.split()
        return int(out[0]) if out and out[0].isdigit() else None

    @contextmanager
    def watch(self, into: dict[str, Any]) -> Iterator[None]:
        peak: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                mib = self.used()
                if mib is not None:
                    peak.append(mib)
                done.wait(0.2)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            into["gpu_peak_mib"] = max(peak) if peak else None


def make_frames(size: tuple[int, int], count: int) -> list[np.ndarray]:
    """``count`` BGR frames of ``size``: a pan across the street sample scaled to 1.25x the frame."""
    img = cv2.imread(str(REPO / "samples" / "street" / "parked-car.png"))
    if img is None:
        raise SystemExit("samples/street/parked-car.png is missing")
    w, h = size
    big = cv2.resize(img, (round(w * 1.25), round(h * 1.25)), interpolation=cv2.INTER_CUBIC)
    span_x, span_y = big.shape[1] - w, big.shape[0] - h
    frames = []
    for i in range(count):
        t = i / max(1, count - 1)
        x, y = round(span_x * t), round(span_y * (0.5 + 0.5 * np.sin(6.28 * t)) / 2)
        frames.append(np.ascontiguousarray(big[y : y + h, x : x + w]))
    return frames


def write_clip(frames: Sequence[np.ndarray], path: Path) -> bool:
    """The frames as an H.264 clip at :data:`FPS` (False where PyAV is missing)."""
    try:
        import av
    except ImportError:
        return False
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": "18", "preset": "ultrafast"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="bgr24")))
        out.mux(stream.encode(None))
    return True


def detector_set(*, cpu_only: bool = False) -> DetectorSet:
    """`redact run`'s default detectors."""
    c = RedactConfig()
    return build_detector_set(faces=c.faces, plates=c.plates, occupants=c.occupants, person_heads=c.person_heads,
                              quality=c.quality, cpu_only=cpu_only)


def set_batch(ds: DetectorSet, batch: bool | None) -> None:
    for d in ds.detectors:
        if isinstance(d, PassDetector):
            d.batch = batch


def detect_all(ds: DetectorSet, frames: Sequence[np.ndarray], n: int) -> list[Detections]:
    """Full detection on every frame: frame by frame (``n`` 1) or ``n`` frames per call."""
    if n == 1:
        return [ds.detect(f) for f in frames]
    return [d for i in range(0, len(frames), n) for d in detect_frames(ds, frames[i : i + n])]


def timed(run: Callable[[], list[Detections]], frames: int) -> dict[str, Any]:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    return {"frames": frames, "seconds": round(seconds, 3), "fps": round(frames / seconds, 2)}


def agreement(cpu: Sequence[Detections], gpu: Sequence[Detections]) -> dict[str, Any]:
    """Whether each frame's boxes are the same (count, labels, corners within :data:`BOX_PX`)
    and the largest score difference, boxes paired in sorted order (bench/providers.py)."""
    same, gap, boxes = True, 0.0, 0
    for a, b in zip(cpu, gpu, strict=True):
        boxes += len(a)
        if len(a) != len(b) or sorted(a.label.tolist()) != sorted(b.label.tolist()):
            same = False
            continue
        if len(a):
            if float(np.abs(np.sort(a.xyxy, 0) - np.sort(b.xyxy, 0)).max()) > BOX_PX:
                same = False
            gap = max(gap, float(np.abs(np.sort(a.score) - np.sort(b.score)).max()))
    return {"same_boxes": same, "max_score_gap": round(gap, 6), "cpu_boxes": boxes}


class Report:
    def __init__(self, out: Path, budget: float) -> None:
        self.path = out / "gpu.json"
        self.deadline = time.monotonic() + budget
        self.data: dict[str, Any] = {"steps": []}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def step(self, row: dict[str, Any]) -> None:
        self.data["steps"].append(row)
        print(json.dumps(row), flush=True)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2) + "\n")


def bench_size(report: Report, name: str, count: int, sizes_batch: Sequence[int], cpu_ref: DetectorSet,
               mem: GpuMemory, work: Path, default: bool | None) -> None:
    """The steps on one picture size; ``default``: the batching switch of the batched steps
    (None: the product's, on where the models run; True in a CPU dry run)."""
    frames = make_frames(SIZES[name], count)
    ds = detector_set()
    report.data["detectors"] = [d.name for d in ds.detectors]
    reference = [cpu_ref.detect(f) for f in frames[:AGREE_FRAMES]]
    per_frame = max(1.0, count / 10.0)  # a pessimistic second per 10 frames at the least
    steps: list[tuple[str, bool | None, int]] = [("tiles", default, 1), ("unbatched", False, 1)]
    steps += [(f"frames-{b}", default, b) for b in sizes_batch]
    for what, batch, n in steps:
        row: dict[str, Any] = {"size": name, "what": what}
        if report.left() < per_frame * 3:
            report.step({**row, "skipped": "time budget"})
            continue
        set_batch(ds, batch)
        use = frames if what != "unbatched" else frames[: max(AGREE_FRAMES, count // 4)]
        detect_all(ds, frames[:n], n)  # every session of this step open (one per input shape on a GPU)
        ds.take_providers()
        with mem.watch(row):
            row.update(timed(functools.partial(detect_all, ds, use, n), len(use)))
        row["providers"] = sorted(ds.take_providers())
        row.update(agreement(reference, detect_all(ds, frames[:AGREE_FRAMES], n)))
        report.step(row)
    ds.detectors.clear()  # its GPU sessions closed before the video job opens its own
    ds.reader = None
    clip = work / f"clip-{name}.mp4"
    row = {"size": name, "what": "redact run"}
    if report.left() < count / 2.0:
        report.step({**row, "skipped": "time budget"})
    elif not write_clip(frames, clip):
        report.step({**row, "skipped": "PyAV is not installed"})
    else:
        cmd = [sys.executable, "-m", "redact", "run", str(clip), "--out", str(work / f"out-{name}"), "--quiet",
               "--overwrite"]
        with mem.watch(row):
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=max(30.0, report.left()))
            seconds = time.perf_counter() - start
        row.update({"frames": count, "seconds": round(seconds, 2), "fps": round(count / seconds, 2),
                    "rc": done.returncode, "stderr_tail": done.stderr[-600:]})
        report.step(row)


def bench_tensorrt(report: Report, cpu_ref: DetectorSet, mem: GpuMemory) -> None:
    import onnxruntime

    row: dict[str, Any] = {"size": "1080p", "what": "tensorrt"}
    if session_mod.TENSORRT not in onnxruntime.get_available_providers() or not session_mod.tensorrt_present():
        report.step({**row, "skipped": "TensorRT is not installed"})
        return
    if report.left() < 120:
        report.step({**row, "skipped": "time budget (engines take minutes to build)"})
        return
    frames = make_frames(SIZES["1080p"], 20)
    with mem.watch(row):
        ds = detector_set()
        start = time.perf_counter()
        ds.detect(frames[0])  # builds the engines (cached on disk for later runs)
        row["first_frame_s"] = round(time.perf_counter() - start, 1)
        row.update(timed(lambda: [ds.detect(f) for f in frames], len(frames)))
    row["providers"] = sorted(ds.take_providers())
    row.update(agreement([cpu_ref.detect(f) for f in frames[:AGREE_FRAMES]],
                         [ds.detect(f) for f in frames[:AGREE_FRAMES]]))
    report.step(row)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for gpu.json")
    ap.add_argument("--frames", default="1080p=240,4k=96", help="frames per size, e.g. 1080p=240,4k=96")
    ap.add_argument("--batch", default="4,8", help="frames per detect_frames call to time (comma-separated)")
    ap.add_argument("--budget", type=float, default=420.0, help="seconds; later steps are skipped past it")
    ap.add_argument("--no-tensorrt", action="store_true", help="leave TensorRT out even where it is installed")
    ap.add_argument("--allow-cpu", action="store_true", help="a dry run of the script without a GPU (batching forced)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = Report(args.out, args.budget)
    import onnxruntime

    if hasattr(onnxruntime, "preload_dlls"):  # CUDA and cuDNN from NVIDIA's pip wheels, where installed
        onnxruntime.preload_dlls()
    mem = GpuMemory()
    report.data.update({
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "onnxruntime": onnxruntime.__version__,
        "available": onnxruntime.get_available_providers(),
        "tensorrt_present": session_mod.tensorrt_present(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "gpu_used_before_mib": mem.used(),
    })
    if mem.smi:
        report.data["gpu"] = subprocess.run([mem.smi, "--query-gpu=name,driver_version,memory.total",
                                             "--format=csv,noheader"], capture_output=True, text=True,
                                            check=False).stdout.strip()
    report.save()
    if session_mod.CUDA not in onnxruntime.get_available_providers() and not args.allow_cpu:
        report.data["error"] = "onnxruntime has no CUDA provider: install onnxruntime-gpu (pip install -e '.[gpu]')"
        report.save()
        print(report.data["error"], file=sys.stderr)
        return 2
    cpu_ref = detector_set(cpu_only=True)
    counts = dict(item.split("=") for item in args.frames.split(",") if item.strip())
    batches = [int(b) for b in args.batch.split(",") if b.strip()]
    # TensorRT, when installed, is taken by default; the batching figures are CUDA's own.
    without_trt = [(session_mod.CUDA, dict(session_mod.CUDA_OPTIONS)), session_mod.CPU]
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(session_mod, "providers", lambda: without_trt):
        for name, count in counts.items():
            bench_size(report, name, int(count), batches, cpu_ref, mem, Path(tmp), True if args.allow_cpu else None)
    if not args.no_tensorrt:
        bench_tensorrt(report, cpu_ref, mem)
    report.data["gpu_peak_mib"] = max((s.get("gpu_peak_mib") or 0 for s in report.data["steps"]), default=None)
    report.save()
    print(f"written {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
