"""Does a keyframe schedule redact what full detection on every frame redacts?

Runs ``redact_path`` on real dev clips (``../shared/data/dev/videos/``, relative to the
repository root) twice or more: once with the reference, the ``--quality`` detectors in
full on every frame (``--keyframe-seconds 0``), then with each keyframe interval asked
for. For every region the reference redacts on a frame, it measures how much of it the
schedule's regions cover on the same frame (from the frames sidecars; boxes as rectangles)
and counts the regions left less than 90 % covered ("missed") and those whose detection
itself (the region less its padding) is not wholly covered ("exposed"), per label and per
clip. Only the reference's detections count (source ``detector``), not its tracker's guesses.
It also reports the mean share of the frame redacted (``area``) and the share redacted
outside every region the reference's detections make (``away``: the dev clips have no
labels, so full detection stands for the objects; ``away_worst``, the worst frame's;
``away_over``, the frames where it exceeds a quarter of the frame;
``ref_away``, the reference's own tracker boxes beyond its detections), seconds per frame (wall clock: as
busy as the machine is) and the detectors' work per frame, which is not (``per_frame``:
``full``, how many whole frames' worth of pixels the ``--quality`` set ran on; ``calls``,
its runs; ``vehicle`` and ``glance``, likewise for the occupant detector alone and the
640-px glance).

The reference run is cached in ``bench/results/`` (gitignored) per clip, length and
settings, since it is the slow one; the cache follows the detectors' code, not the
tracker's, so the reference's own ``area`` and ``ref_away`` are those of the tracker it ran
with (its detections, which are what count, do not depend on it).

    .venv/bin/python bench/schedule.py                          # 0.5 s and 1 s keyframes, whole clips
    .venv/bin/python bench/schedule.py --keyframes 0.5 --seconds 20 --clips car-detection.mp4
    .venv/bin/python bench/schedule.py --keyframes 2 --set glance=false      # any RedactConfig setting
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parent.parent
VIDEOS = REPO.parent / "shared" / "data" / "dev" / "videos"
RESULTS = REPO / "bench" / "results"
CLIPS = ("car-detection.mp4", "one-by-one-person-detection.mp4")
COVERED = 0.9
PADDING = 0.15  # the default --padding: a region is its detection grown by this much per side
AWAY_OVER = 0.25  # a frame redacted over this share away from any object hides the story


def cut(src: Path, dst: Path, seconds: float) -> int:
    """Copy the first ``seconds`` of a clip's video stream (re-encoded, near-lossless); returns frames."""
    n = 0
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vs = out.add_stream("libx264", rate=vin.average_rate, options={"crf": "12", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        vs.time_base = vin.time_base
        vs.codec_context.time_base = vin.time_base
        for frame in inp.decode(vin):
            if frame.pts is None or float(frame.pts * vin.time_base) >= seconds:
                continue
            frame.pict_type = 0
            out.mux(vs.encode(frame))
            n += 1
        out.mux(vs.encode(None))
    return n


@contextlib.contextmanager
def counting(cost: dict[str, float]) -> Iterator[None]:
    """Adds up the detectors' work while it is open, in whole frames: ``full`` (the
    ``--quality`` set, the share of each picture it ran on), ``vehicle`` (the occupant
    detector alone, between keyframes), ``glance`` (640-px passes, likewise) and ``calls``
    (runs of the full set). A measure of cost that does not depend on how busy the machine is."""
    from redact.detect import GLANCE, DetectorSet

    plain = DetectorSet.per_detector

    def per_detector(self: DetectorSet, image: np.ndarray, *, rois=None, ratio: float = 1.0, plates=None):  # type: ignore[no-untyped-def]
        h, w = image.shape[:2]
        share = 1.0 if rois is None else min(1.0, sum(t.width * t.height for t in rois) / (w * h))
        names = [d.name for d in self.detectors]
        kind = "glance" if self.quality == GLANCE else "vehicle" if names == ["occupants"] else "full"
        cost[kind] = cost.get(kind, 0.0) + share
        if kind == "full" and share > 0:
            cost["calls"] = cost.get("calls", 0.0) + 1
        return plain(self, image, rois=rois, ratio=ratio, plates=plates)

    DetectorSet.per_detector = per_detector  # type: ignore[method-assign]
    try:
        yield
    finally:
        DetectorSet.per_detector = plain  # type: ignore[method-assign]


def run(
    clip: Path, work: Path, cost: dict[str, float] | None = None, **settings: object
) -> tuple[dict[int, list[dict]], float, dict]:
    """Redact one clip; returns (regions per frame, seconds, file entry). ``cost``: filled
    with the detectors' work (see :func:`counting`)."""
    from redact import RedactConfig, redact_path

    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    with counting(cost if cost is not None else {}):
        result = redact_path(clip, out, RedactConfig(**settings))  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    entry = result.files[0]
    if entry["status"] != "ok":
        raise SystemExit(f"{clip.name}: {entry['error']}")
    side = result.manifest_path.parent / entry["frames"]["file"]
    frames = {}
    for line in side.read_text().splitlines():
        rec = json.loads(line)
        frames[rec["frame"]] = rec["regions"]
    return frames, seconds, entry


def coverage(box: list[int], others: list[list[int]], shape: tuple[int, int]) -> float:
    """Share of ``box`` (x, y, w, h) inside the union of ``others``."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return 1.0
    mask = np.zeros((h, w), bool)
    for ox, oy, ow, oh in others:
        x0, y0 = max(ox, x) - x, max(oy, y) - y
        x1, y1 = min(ox + ow, x + w) - x, min(oy + oh, y + h) - y
        if x1 > x0 and y1 > y0:
            mask[y0:y1, x0:x1] = True
    return float(mask.mean())


def inner(box: list[int]) -> list[int]:
    """The detection a padded region was grown from (about: minimum padding and clipping aside)."""
    x, y, w, h = box
    f = PADDING / (1 + 2 * PADDING)
    return [round(x + w * f), round(y + h * f), max(1, round(w * (1 - 2 * f))), max(1, round(h * (1 - 2 * f)))]


def compare(ref: dict[int, list[dict]], got: dict[int, list[dict]], size: tuple[int, int]) -> dict[str, object]:
    exposed: dict[str, int] = {}
    missed: dict[str, int] = {}
    total: dict[str, int] = {}
    worst: list[tuple[float, int, str, list[int]]] = []
    for frame, regions in ref.items():
        boxes = [r["box"] for r in got.get(frame, [])]
        for r in regions:
            if r["source"] != "detector":
                continue  # the reference's own tracker guesses are not ground truth
            label = r["label"]
            total[label] = total.get(label, 0) + 1
            if coverage(inner(r["box"]), boxes, size) < 0.99:
                exposed[label] = exposed.get(label, 0) + 1
            c = coverage(r["box"], boxes, size)
            if c < COVERED:
                missed[label] = missed.get(label, 0) + 1
                worst.append((c, frame, label, r["box"]))
    worst.sort()
    return {
        "regions": total,
        "missed": missed,
        "exposed": exposed,
        "missed_frames": sorted({w[1] for w in worst}),
        "worst": [{"covered": round(c, 3), "frame": f, "label": lbl, "box": b} for c, f, lbl, b in worst[:10]],
    }


def box_mask(boxes: Iterable[list[int]], size: tuple[int, int]) -> np.ndarray:
    """The pixels of a ``size`` (w, h) frame inside any of ``boxes`` (x, y, w, h)."""
    w, h = size
    mask = np.zeros((h, w), bool)
    for x, y, bw, bh in boxes:
        mask[max(0, y) : max(0, y + bh), max(0, x) : max(0, x + bw)] = True
    return mask


def area_share(frames: dict[int, list[dict]], size: tuple[int, int]) -> float:
    shares = [box_mask((r["box"] for r in regions), size).mean() for regions in frames.values()]
    return float(np.mean(shares)) if shares else 0.0


def away_share(
    ref: dict[int, list[dict]], got: dict[int, list[dict]], size: tuple[int, int]
) -> tuple[float, float, int]:
    """Mean and worst share of a frame that ``got`` redacts outside every region of the
    reference's detections on that frame, and how many frames that share exceeds
    :data:`AWAY_OVER` on."""
    shares = []
    for frame in sorted(set(ref) | set(got)):
        objects = box_mask((r["box"] for r in ref.get(frame, []) if r["source"] == "detector"), size)
        shares.append(float((box_mask((r["box"] for r in got.get(frame, [])), size) & ~objects).mean()))
    if not shares:
        return 0.0, 0.0, 0
    return float(np.mean(shares)), max(shares), sum(x > AWAY_OVER for x in shares)


def detectors_digest() -> str:
    """A digest of the code that decides a reference run's regions (the detectors, how
    detections become regions, the defaults): a cached reference is stale when it changes."""
    h = hashlib.sha256()
    code = REPO / "redact"
    for path in [*sorted((code / "detect").glob("*.py")), code / "render" / "regions.py", code / "config.py"]:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SystemExit(f"--set takes KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default=",".join(CLIPS), help="comma-separated clip names in the dev videos folder")
    ap.add_argument("--seconds", type=float, default=200.0,
                    help="first seconds of each clip (default 200: the whole of both dev clips)")
    ap.add_argument("--keyframes", default="0.5,1", help="comma-separated keyframe intervals in seconds")
    ap.add_argument("--quality", default="balanced")
    ap.add_argument("--json", type=Path, default=RESULTS / "schedule.json")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a RedactConfig setting for the schedule runs (not the reference), e.g. glance=false; "
                         "VALUE is read as JSON when it parses, else as text; repeatable")
    args = ap.parse_args()
    extra = dict(_setting(s) for s in args.set)
    if not VIDEOS.is_dir():
        print(f"dev videos not found at {VIDEOS}; check out ../shared next to the repository", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in [c.strip() for c in args.clips.split(",") if c.strip()]:
            src = VIDEOS / name
            clip = work / "in" / name
            clip.parent.mkdir(parents=True, exist_ok=True)
            frames = cut(src, clip, args.seconds)
            key = hashlib.sha256(
                f"{name}|{args.seconds}|{args.quality}|{detectors_digest()}".encode()
            ).hexdigest()[:16]
            cache = RESULTS / f"schedule-ref-{key}.json"
            if cache.is_file():
                cached = json.loads(cache.read_text())
                ref = {int(k): v for k, v in cached["frames"].items()}
                ref_s, size = cached["seconds"], tuple(cached["size"])
            else:
                ref, ref_s, entry = run(clip, work, quality=args.quality, keyframe_seconds=0.0)
                size = (entry["width"], entry["height"])
                cache.write_text(json.dumps({"seconds": ref_s, "size": size, "frames": ref}))
            rows.append({"clip": name, "frames": frames, "keyframe_seconds": 0.0,
                         "s_per_frame": round(ref_s / frames, 3), "area": round(area_share(ref, size), 4),
                         "ref_away": round(away_share(ref, ref, size)[0], 4)})
            print(json.dumps(rows[-1]), flush=True)
            for k in [float(x) for x in args.keyframes.split(",") if x.strip()]:
                cost: dict[str, float] = {}
                got, s, entry = run(clip, work, cost, quality=args.quality, keyframe_seconds=k, **extra)
                away, away_worst, away_over = away_share(ref, got, size)
                rows.append({"clip": name, "frames": frames, "keyframe_seconds": k, **extra,
                             "s_per_frame": round(s / frames, 3), "looks": entry.get("looks"),
                             "per_frame": {k2: round(v / frames, 3) for k2, v in sorted(cost.items())},
                             "area": round(area_share(got, size), 4),
                             "away": round(away, 4), "away_worst": round(away_worst, 4), "away_over": away_over,
                             **compare(ref, got, size)})
                print(json.dumps(rows[-1]), flush=True)
    args.json.write_text(json.dumps({"command": " ".join(sys.argv), "covered": COVERED, "rows": rows}, indent=2) + "\n")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
