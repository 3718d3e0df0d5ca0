"""Detection time per frame on each onnxruntime execution provider this machine has.

Times ``DetectorSet.detect`` (the ``--quality`` preset, faces and plates) on a 1080p and a
4K frame, once per provider that the installed onnxruntime offers and that redact uses
(TensorRT where it is installed, CUDA from the ``gpu`` extra, CPU): warm-up calls first (sessions open, cuDNN picks its
algorithms), then the median of ``--repeats`` timed calls. The frame is a picture of
``samples/`` scaled up (no dev data needed). Also checks that every provider finds the same
boxes within a pixel or two, so a GPU run redacts what a CPU run does.

    .venv/bin/python bench/providers.py [--quality balanced] [--repeats 5] [--cuda-option K=V] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from redact.detect import build_detector_set  # noqa: E402
from redact.detect import session as session_mod  # noqa: E402

SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}


def frame(size: tuple[int, int]) -> np.ndarray:
    img = cv2.imread(str(REPO / "samples" / "street" / "parked-car.png"))
    if img is None:
        raise SystemExit("samples/street/parked-car.png is missing")
    return cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)


def time_provider(name: str, wanted: list, quality: str, repeats: int) -> dict[str, object]:
    with mock.patch.object(session_mod, "providers", lambda: wanted):
        ds = build_detector_set(quality=quality)
        out: dict[str, object] = {"provider": name}
        for label, size in SIZES.items():
            img = frame(size)
            for _ in range(2):
                dets = ds.detect(img)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                dets = ds.detect(img)
                times.append(time.perf_counter() - start)
            out[label] = {
                "ms": round(statistics.median(times) * 1000, 1),
                "boxes": dets.xyxy.round(1).tolist(),
                "labels": dets.label.tolist(),
                "scores": dets.score.round(5).tolist(),
            }
        used = {d._runner._session.get_providers()[0] for d in ds.detectors}  # noqa: SLF001
        out["sessions_on"] = sorted(used)
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality", default="balanced")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "providers.json")
    ap.add_argument(
        "--cuda-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CUDA provider option on top of redact's (e.g. use_tf32=1); repeatable",
    )
    args = ap.parse_args()
    cuda_options = dict(session_mod.CUDA_OPTIONS)
    for item in args.cuda_option:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--cuda-option takes KEY=VALUE, got {item!r}")
        cuda_options[key] = value
    import onnxruntime

    available = onnxruntime.get_available_providers()
    runs = []
    if session_mod.CUDA in available:
        if session_mod.TENSORRT in available and session_mod.tensorrt_present():
            trt = {**session_mod.TENSORRT_OPTIONS, "trt_engine_cache_path": str(session_mod.tensorrt_cache())}
            runs.append(("tensorrt", [(session_mod.TENSORRT, trt), (session_mod.CUDA, cuda_options), session_mod.CPU]))
        runs.append(("cuda", [(session_mod.CUDA, cuda_options), session_mod.CPU]))
    runs.append(("cpu", [session_mod.CPU]))
    rows = [time_provider(name, wanted, args.quality, args.repeats) for name, wanted in runs]
    for r in rows:
        print(
            f"{r['provider']:>5} on {r['sessions_on']}: "
            + ", ".join(f"{k} {r[k]['ms']} ms/frame ({len(r[k]['boxes'])} boxes)" for k in SIZES)
        )
    cpu = rows[-1]
    for row in rows[:-1]:
        for k in SIZES:
            a, b = np.array(row[k]["boxes"]).reshape(-1, 4), np.array(cpu[k]["boxes"]).reshape(-1, 4)
            same = len(a) == len(b) and (not len(a) or float(np.abs(np.sort(a, 0) - np.sort(b, 0)).max()) <= 2.0)
            gap = np.abs(np.sort(row[k]["scores"]) - np.sort(cpu[k]["scores"]))
            score = f", scores differ by at most {gap.max():.2g}" if same and len(a) else ""
            print(f"{k}: {'same boxes' if same else 'DIFFERENT boxes'} on {row['provider']} and cpu{score}")
    report = {
        "onnxruntime": onnxruntime.__version__,
        "available": available,
        "quality": args.quality,
        "cuda_options": cuda_options,
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
