"""Temporal coverage check with the real detectors on a synthetic road clip.

Builds a 90-frame 1280x720 25 fps clip from dev data (relative to the repository root):
the background is ``car-detection.mp4`` upscaled, a real face (dlib/VOC dev set) and a
real plate (openalpr dev set) move across it; frames 30-37 get heavy horizontal motion
blur and frames 60-69 are dimmed to 30 %. Runs ``redact_path`` with ``--style fill`` and
checks from the frames sidecar that every one of the 180 object-frames is inside the
redacted regions, and how much of each frame is redacted on average.

    .venv/bin/python bench/coverage.py [--json bench/results/coverage.json] [--detect-every K]
        [--keyframe-seconds S] [--no-glance]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "data" / "dev"
W, H, N, FPS = 1280, 720, 90, 25
BLUR = range(30, 38)
DIM = range(60, 70)


def _crop(folder: str, file: str, box: tuple[int, int, int, int], margin: float) -> tuple[np.ndarray, tuple]:
    img = cv2.imread(str(DEV / folder / file))
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(img.shape[1], x + w + mx), min(img.shape[0], y + h + my)
    return img[y0:y1, x0:x1].copy(), (x - x0, y - y0, w, h)


def make_clip(path: Path) -> list[dict[str, tuple[int, int, int, int]]]:
    """Write the clip; returns per frame the ground-truth xywh box of the face and the plate."""
    face, fbox = _crop("faces-dlib-voc", "images/2008_001009.jpg", (145, 79, 76, 76), 0.8)
    plate, pbox = _crop("plates-openalpr-us-eu", "images/us_1e241dc8-8f18-4955-8988-03a0ab49f813.jpg",
                        (569, 318, 63, 31), 1.5)
    truth = []
    with av.open(str(DEV / "videos" / "car-detection.mp4")) as src, av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"crf": "16", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        frames = src.decode(video=0)
        for i in range(N):
            bg = cv2.resize(next(frames).to_ndarray(format="bgr24"), (W, H), interpolation=cv2.INTER_CUBIC)
            fx, fy = 60 + i * 11, 120 + int(20 * np.sin(i / 9))
            px, py = W - 300 - i * 9, 420
            bg[fy : fy + face.shape[0], fx : fx + face.shape[1]] = face
            bg[py : py + plate.shape[0], px : px + plate.shape[1]] = plate
            if i in BLUR:
                k = np.zeros((1, 25), np.float32) + 1 / 25
                bg = cv2.filter2D(bg, -1, k)
            if i in DIM:
                bg = (bg.astype(np.float32) * 0.3).astype(np.uint8)
            truth.append({"face": (fx + fbox[0], fy + fbox[1], fbox[2], fbox[3]),
                          "plate": (px + pbox[0], py + pbox[1], pbox[2], pbox[3])})
            vf = av.VideoFrame.from_ndarray(bg, format="bgr24")
            vf.pts = i
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
    return truth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "coverage.json")
    ap.add_argument("--detect-every", type=int, default=1)
    ap.add_argument("--keyframe-seconds", type=float, default=None, help="default: the config default")
    ap.add_argument("--no-glance", action="store_true", help="only keyframes and the tracker")
    args = ap.parse_args()
    from redact import RedactConfig, redact_path

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        truth = make_clip(work / "in" / "road.mp4")
        start = time.perf_counter()
        schedule = {} if args.keyframe_seconds is None else {"keyframe_seconds": args.keyframe_seconds}
        cfg = RedactConfig(style="fill", detect_every=args.detect_every, glance=not args.no_glance, **schedule)
        result = redact_path(work / "in", work / "out", cfg)
        wall = time.perf_counter() - start
        entry = result.files[0]
        if entry["status"] != "ok":
            print(f"failed: {entry['error']}", file=sys.stderr)
            return 1
        lines = [json.loads(s) for s in (work / "out" / entry["frames"]["file"]).read_text().splitlines()]
    missed, fractions = [], []
    by_label: dict[str, list[float]] = {}  # share of each frame under regions of one label
    for i, line in enumerate(lines):
        mask = np.zeros((H, W), bool)
        masks: dict[str, np.ndarray] = {}
        for r in line["regions"]:
            x, y, w, h = r["box"]
            mask[y : y + h, x : x + w] = True
            masks.setdefault(r["label"], np.zeros((H, W), bool))[y : y + h, x : x + w] = True
        fractions.append(mask.mean())
        for label in set(by_label) | set(masks):
            by_label.setdefault(label, [0.0] * i).append(float(masks[label].mean()) if label in masks else 0.0)
        for label, (x, y, w, h) in truth[i].items():
            x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
            if x1 > x0 and y1 > y0 and not mask[y0:y1, x0:x1].all():
                missed.append((i, label))
    report = {
        "object_frames": 2 * N, "covered": 2 * N - len(missed), "missed": missed,
        "mean_redacted_fraction": round(float(np.mean(fractions)), 4),
        "max_redacted_fraction": round(float(np.max(fractions)), 4),
        "mean_redacted_fraction_by_label": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_label.items())},
        "tracks": entry["tracks"], "seconds": round(wall, 1), "detect_every": args.detect_every,
        "keyframe_seconds": cfg.keyframe_seconds, "glance": cfg.glance,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"covered {report['covered']}/{2 * N} object-frames; missed {missed}")
    print(f"redacted area per frame: mean {report['mean_redacted_fraction']:.2%}, "
          f"max {report['max_redacted_fraction']:.2%}; {wall:.1f} s")
    print("by label (overlaps counted in each): " + ", ".join(
        f"{k} {v:.2%}" for k, v in report["mean_redacted_fraction_by_label"].items()))
    return 0 if not missed else 1


if __name__ == "__main__":
    raise SystemExit(main())
