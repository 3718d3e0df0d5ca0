"""Edited video: does the default schedule redact what full detection finds, and nothing else?

Composes an edited montage (640x360, 25 fps) from the dev clips and dev stills: shots of the
two dev clips, a pan across a street photo with faces, a zoom into a dash-cam frame with
plates and a short static shot of a group photo, joined by hard cuts. Where a shot is made
from a still, its ground truth (the still's annotations moved with the pan or zoom) is
written alongside; the clips have none, so there full per-frame detection stands in.

Redacts the montage twice: the reference (the ``--quality`` detectors in full on every frame,
``--keyframe-seconds 0``, cached in ``bench/results/``) and the default settings (or ``--set``).
Reports per shot and for the whole montage:

- ``exposed``: reference detections (source ``detector``, less their padding) not wholly
  covered by the run's regions on the same frame (in all and per label), and ground-truth
  boxes not covered;
- ``away``: the share of each frame the run redacted outside every object (ground-truth
  boxes and reference detections, both padded as redact pads), mean and worst frame, and
  the frames where it exceeds a quarter of the frame (``>25%``); and
  ``ref.away``, the same for the reference's own tracker boxes (what tracking adds even with
  full detection on every frame);
- ``largest``: the largest single region, as a share of the frame;
- ``cuts``: the cuts the run found against the ones composed;
- ``per_frame``: the detectors' work per frame (see ``bench/schedule.py``).

    .venv/bin/python bench/montage.py                       # ~250 frames; reference ~2-4 min on 2 cores
    .venv/bin/python bench/montage.py --set keyframe_seconds=0.5
    .venv/bin/python bench/montage.py --drive               # 1280x720 plate footage; reference ~5-8 min

``--drive`` composes the material the tool exists for at its own size instead: 1280x720
shots that close in on dash-cam frames by day and night (the camera moving: the whole
picture changes on every frame, as when driving) and a pan across a plate-reading
dashboard's screenshot, every plate labelled on every frame.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from schedule import AWAY_OVER, PADDING, _setting, box_mask, coverage, detectors_digest, inner, run  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "data" / "dev"
RESULTS = REPO / "bench" / "results"
W, H, FPS = 640, 360, 25
DRIVE_SIZE = (1280, 720)  # --drive: the frame size of the dash-cam footage (rebinds W, H)

Box = list[int]  # x, y, w, h


@dataclass
class Shot:
    name: str
    frames: list[np.ndarray] = field(default_factory=list)  # BGR (H, W, 3)
    truth: list[list[tuple[str, Box]]] | None = None  # per frame (label, box), or None: no ground truth


def clip_shot(name: str, start_s: float, frames: int) -> Shot:
    """``frames`` frames of a dev clip from ``start_s``, resized to W x H."""
    shot = Shot(f"{name}@{start_s:g}s")
    with av.open(str(DEV / "videos" / name)) as c:
        v = c.streams.video[0]
        for f in c.decode(v):
            if f.pts is None or float(f.pts * v.time_base) < start_s:
                continue
            shot.frames.append(cv2.resize(f.to_ndarray(format="bgr24"), (W, H), interpolation=cv2.INTER_AREA))
            if len(shot.frames) == frames:
                break
    return shot


def _annotated(folder: str, pick: int, match: str = "") -> tuple[np.ndarray, list[tuple[str, Box]]]:
    """The ``pick``-th image of a dev set with the most boxes (of those whose file name holds
    ``match``), and its boxes."""
    ann = json.loads((DEV / folder / "annotations.json").read_text())
    images = sorted((im for im in ann["images"] if match in im["file"]), key=lambda im: (-len(im["boxes"]), im["file"]))
    im = images[pick]
    img = cv2.imread(str(DEV / folder / im["file"]))
    return img, [(b["label"], [b["x"], b["y"], b["w"], b["h"]]) for b in im["boxes"]]


def _view(img: np.ndarray, boxes: list[tuple[str, Box]], x: float, y: float, w: float, h: float) -> tuple[
        np.ndarray, list[tuple[str, Box]]]:
    """The window (x, y, w, h) of ``img`` scaled to W x H, and the boxes seen in it (clipped)."""
    m = np.array([[W / w, 0, -x * W / w], [0, H / h, -y * H / h]], np.float64)
    pic = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    seen = []
    for label, (bx, by, bw, bh) in boxes:
        x0, y0 = max(0.0, (bx - x) * W / w), max(0.0, (by - y) * H / h)
        x1, y1 = min(W, (bx + bw - x) * W / w), min(H, (by + bh - y) * H / h)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            seen.append((label, [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]))
    return pic, seen


def pan_shot(folder: str, pick: int, frames: int) -> Shot:
    """A pan left to right across a still, the window 60 % of its width at the frame's aspect."""
    img, boxes = _annotated(folder, pick)
    ih, iw = img.shape[:2]
    w = 0.6 * iw
    h = min(ih, w * H / W)
    shot = Shot(f"pan {folder}", truth=[])
    for i in range(frames):
        x = (iw - w) * i / max(1, frames - 1)
        pic, seen = _view(img, boxes, x, (ih - h) / 2, w, h)
        shot.frames.append(pic)
        assert shot.truth is not None
        shot.truth.append(seen)
    return shot


def zoom_shot(folder: str, pick: int, frames: int, to: float = 0.45, match: str = "") -> Shot:
    """A zoom from the whole still to ``to`` of it, centred on its largest box."""
    img, boxes = _annotated(folder, pick, match)
    ih, iw = img.shape[:2]
    _, (bx, by, bw, bh) = max(boxes, key=lambda b: b[1][2] * b[1][3])
    cx, cy = bx + bw / 2, by + bh / 2
    shot = Shot(f"zoom {folder} {pick}{' ' + match if match else ''}", truth=[])
    w0 = min(iw, ih * W / H)
    for i in range(frames):
        s = 1.0 + (to - 1.0) * i / max(1, frames - 1)
        w, h = w0 * s, w0 * s * H / W
        x = min(max(0.0, cx - w / 2), iw - w)
        y = min(max(0.0, cy - h / 2), ih - h)
        pic, seen = _view(img, boxes, x, y, w, h)
        shot.frames.append(pic)
        assert shot.truth is not None
        shot.truth.append(seen)
    return shot


def still_shot(folder: str, pick: int, frames: int) -> Shot:
    img, boxes = _annotated(folder, pick)
    ih, iw = img.shape[:2]
    w = min(iw, ih * W / H)
    h = w * H / W
    pic, seen = _view(img, boxes, (iw - w) / 2, (ih - h) / 2, w, h)
    return Shot(f"still {folder}", [pic] * frames, [seen] * frames)


def compose(drive: bool = False) -> list[Shot]:
    if drive:  # the frames with the most plates, by day and by night, then a dashboard
        return [
            *(zoom_shot("plates-romania-dashcam", i, 32, to=0.75, match="dayride") for i in range(3)),
            *(zoom_shot("plates-romania-dashcam", i, 32, to=0.75, match="nightride") for i in range(2)),
            pan_shot("plates-dashboard", 0, 32),
        ]
    return [
        clip_shot("car-detection.mp4", 2.0, 40),
        pan_shot("faces-mask-street", 0, 50),
        clip_shot("one-by-one-person-detection.mp4", 40.0, 40),
        zoom_shot("plates-romania-dashcam", 0, 40),
        still_shot("faces-dlib-voc", 0, 12),
        clip_shot("car-detection.mp4", 14.0, 30),
        pan_shot("plates-dashboard", 0, 40),
    ]


def write(shots: list[Shot], path: Path) -> None:
    tb = Fraction(1, FPS)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"crf": "14", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        n = 0
        for shot in shots:
            for pic in shot.frames:
                vf = av.VideoFrame.from_ndarray(pic, format="bgr24")
                vf.pts, vf.time_base = n, tb
                out.mux(vs.encode(vf))
                n += 1
        out.mux(vs.encode(None))


def _padded(box: Box) -> Box:
    x, y, w, h = box
    px, py = round(w * PADDING), round(h * PADDING)
    return [x - px, y - py, w + 2 * px, h + 2 * py]


def measure(shots: list[Shot], ref: dict[int, list[dict]], got: dict[int, list[dict]]) -> list[dict]:
    rows = []
    start = 0
    for shot in [*shots, None]:
        frames = range(start, start + len(shot.frames)) if shot else range(sum(len(s.frames) for s in shots))
        exposed = exposed_truth = ref_count = truth_count = 0
        by_label: dict[str, int] = {}  # exposed reference detections per label
        away: list[float] = []
        ref_away: list[float] = []  # full detection's own tracker boxes beyond its detections, likewise
        largest = 0.0
        for f in frames:
            regions = got.get(f, [])
            boxes = [r["box"] for r in regions]
            refs = [r for r in ref.get(f, []) if r["source"] == "detector"]
            ref_count += len(refs)
            for r in refs:
                if coverage(inner(r["box"]), boxes, (W, H)) < 0.99:
                    exposed += 1
                    by_label[r["label"]] = by_label.get(r["label"], 0) + 1
            truth = _truth(shots, f)
            truth_count += len(truth)
            exposed_truth += sum(coverage(b, boxes, (W, H)) < 0.99 for _, b in truth)
            objects = box_mask([r["box"] for r in refs] + [_padded(b) for _, b in truth], (W, H))
            away.append(float((box_mask(boxes, (W, H)) & ~objects).mean()))
            ref_away.append(float((box_mask([r["box"] for r in ref.get(f, [])], (W, H)) & ~objects).mean()))
            largest = max([largest, *(r["box"][2] * r["box"][3] / (W * H) for r in regions)])
        rows.append({
            "shot": shot.name if shot else "montage", "frames": len(frames),
            "reference_detections": ref_count, "exposed": exposed, "exposed_by_label": dict(sorted(by_label.items())),
            "truth_boxes": truth_count, "truth_exposed": exposed_truth,
            "away_mean": round(float(np.mean(away)), 4) if away else 0.0,
            "away_worst": round(max(away), 4) if away else 0.0,
            "away_over": sum(a > AWAY_OVER for a in away),
            "reference_away_mean": round(float(np.mean(ref_away)), 4) if ref_away else 0.0,
            "largest": round(largest, 4),
        })
        if shot:
            start += len(shot.frames)
    return rows


def _truth(shots: list[Shot], frame: int) -> list[tuple[str, Box]]:
    for shot in shots:
        if frame < len(shot.frames):
            return shot.truth[frame] if shot.truth is not None else []
        frame -= len(shot.frames)
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality", default="balanced")
    ap.add_argument("--json", type=Path, default=RESULTS / "montage.json")
    ap.add_argument("--reference", type=Path, help="a cached reference run (bench/results/montage-ref-*.json) "
                    "to compare against instead of the one for these detectors")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a RedactConfig setting for the run (not the reference); repeatable")
    ap.add_argument("--drive", action="store_true", help="1280x720 dash-cam and dashboard shots instead")
    args = ap.parse_args()
    if args.drive:
        global W, H
        W, H = DRIVE_SIZE
        if args.json == RESULTS / "montage.json":
            args.json = RESULTS / "montage-drive.json"
    extra = dict(_setting(s) for s in args.set)
    if not DEV.is_dir():
        print(f"dev data not found at {DEV}", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    shots = compose(args.drive)
    composed_cuts = list(np.cumsum([len(s.frames) for s in shots])[:-1].tolist())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = work / "in" / "montage.mp4"
        clip.parent.mkdir(parents=True)
        write(shots, clip)
        key = hashlib.sha256(clip.read_bytes() + args.quality.encode() + detectors_digest().encode()).hexdigest()[:16]
        cache = args.reference or RESULTS / f"montage-ref-{key}.json"
        if cache.is_file():
            ref = {int(k): v for k, v in json.loads(cache.read_text())["frames"].items()}
        else:
            ref, ref_s, _ = run(clip, work, quality=args.quality, keyframe_seconds=0.0)
            cache.write_text(json.dumps({"seconds": ref_s, "frames": ref}))
        start = time.perf_counter()
        cost: dict[str, float] = {}
        got, seconds, entry = run(clip, work, cost, quality=args.quality, **extra)
        seconds = time.perf_counter() - start
    rows = measure(shots, ref, got)
    found = [c["frame"] for c in entry.get("cuts", [])]
    summary = {"settings": extra, "frames": len(got), "s_per_frame": round(seconds / max(1, len(got)), 3),
               "cuts_composed": composed_cuts, "cuts_found": found, "looks": entry.get("looks"),
               "per_frame": {k: round(v / max(1, len(got)), 3) for k, v in sorted(cost.items())}}
    print(json.dumps(summary))
    head = f"{'shot':34} {'frames':>6} {'ref':>5} {'exposed':>7} {'truth':>5} {'t.exp':>5} " \
           f"{'away':>6} {'worst':>6} {'>25%':>5} {'largest':>7} {'ref.away':>8}  exposed by label"
    print(head)
    for r in rows:
        print(f"{r['shot'][:34]:34} {r['frames']:6d} {r['reference_detections']:5d} {r['exposed']:7d} "
              f"{r['truth_boxes']:5d} {r['truth_exposed']:5d} {r['away_mean']:6.1%} {r['away_worst']:6.1%} "
              f"{r['away_over']:5d} {r['largest']:7.1%} {r['reference_away_mean']:8.1%}  "
              + ", ".join(f"{k} {v}" for k, v in r["exposed_by_label"].items()))
    args.json.write_text(json.dumps({"command": " ".join(sys.argv), **summary, "rows": rows}, indent=2) + "\n")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
