"""Vehicle anchors: how often the COCO detector's vehicle boxes hold the dev sets' plates and windows.

Usage::

    python bench/vehicles.py [--sets DIR ...] [--sweep 0.1,0.2,0.25,0.3] [--limit N]
                             [--threads N] [--json PATH]

By default the plate sets ``plates-romania-dashcam``, ``plates-dashboard``,
``plates-openalpr-us-eu`` and the occupant set ``occupants-dev`` of ``../shared/data/dev``.
:class:`redact.detect.yolox.YoloxCoco` runs once per image at the lowest swept threshold
(its boxes above a higher threshold are exactly what it returns at that threshold: NMS
never lets a weaker box remove a stronger one), in two modes: the whole picture only, and
the whole picture plus tiles (what ``detect`` does). Scored, per threshold and mode:

- plates: a plate is anchored when its box centre lies inside a vehicle box (car,
  motorcycle, bus, truck); per plate, per image (every plate anchored) and by plate
  height (<16, 16-32, >=32 px).
- windows and occupants (labels ``window`` and ``occupant``): anchored when at least 90%
  of the box's area lies inside one vehicle box; also counted by box centre.
- vehicles per image (a rough measure of spurious boxes: the sets label no vehicles).
- seconds per 1280x720 image, each mode (mean over the images of that size).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redact.detect.merge import box_area, intersection_matrix  # noqa: E402
from redact.detect.yolox import DEFAULT_THRESHOLD, YoloxCoco  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"
DEFAULT_SETS = ("plates-romania-dashcam", "plates-dashboard", "plates-openalpr-us-eu", "occupants-dev")
HEIGHTS: tuple[tuple[str, float, float], ...] = (("<16", 0, 16), ("16-32", 16, 32), (">=32", 32, float("inf")))
CONTAIN = 0.9
MODES = ("whole", "tiled")


def _boxes(entry: dict, label: str) -> NDArray[np.float32]:
    rows = [[b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]] for b in entry["boxes"] if b["label"] == label]
    return np.asarray(rows, np.float32).reshape(-1, 4)


def centre_inside(gt: NDArray[np.float32], veh: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Whether each ground-truth box's centre lies inside any vehicle box (xyxy pixels)."""
    if not len(gt) or not len(veh):
        return np.zeros(len(gt), bool)
    cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
    inside = (
        (cx[:, None] >= veh[None, :, 0])
        & (cx[:, None] < veh[None, :, 2])
        & (cy[:, None] >= veh[None, :, 1])
        & (cy[:, None] < veh[None, :, 3])
    )
    return np.asarray(inside.any(axis=1))


def contained(gt: NDArray[np.float32], veh: NDArray[np.float32], frac: float = CONTAIN) -> NDArray[np.bool_]:
    """Whether each ground-truth box has at least ``frac`` of its area inside one vehicle box."""
    if not len(gt) or not len(veh):
        return np.zeros(len(gt), bool)
    share = intersection_matrix(gt, veh) / np.maximum(box_area(gt)[:, None], 1e-9)
    return np.asarray(share.max(axis=1) >= frac)


def _ratio(k: int, n: int) -> float | None:
    return k / n if n else None


def run(
    sets: Sequence[Path], *, sweep: Sequence[float], limit: int | None, threads: int | None, progress: bool = True
) -> dict:
    """Run the benchmark; returns the JSON-able results."""
    lowest = min(sweep)
    det = YoloxCoco(threshold=lowest, threads=threads)
    # Per set, mode and threshold: counters.
    out: dict = {"thresholds": list(sweep), "default_threshold": DEFAULT_THRESHOLD, "sets": {}}
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for folder in sets:
        ann = json.loads((folder / "annotations.json").read_text())
        images = ann["images"][:limit] if limit else ann["images"]
        tallies = {m: {t: _empty_tally() for t in sweep} for m in MODES}
        for i, entry in enumerate(images):
            image = cv2.imread(str(folder / entry["file"]), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"cannot read {folder / entry['file']}")
            start = time.perf_counter()
            found = {"whole": det.infer(image)}
            t_whole = time.perf_counter() - start
            start = time.perf_counter()
            found["tiled"] = det.detect(image)
            t_tiled = time.perf_counter() - start
            if image.shape[:2] == (720, 1280):
                times["whole"].append(t_whole)
                times["tiled"].append(t_tiled)
            for mode in MODES:
                veh_all = found[mode].vehicles()
                for t in sweep:
                    veh = veh_all[veh_all.score >= t].xyxy
                    _score_image(tallies[mode][t], entry, veh)
            if progress and (i + 1) % 20 == 0:
                print(f"  {folder.name}: {i + 1}/{len(images)}", file=sys.stderr)
        out["sets"][folder.name] = {
            "images": len(images),
            "results": {m: {str(t): _summary(tallies[m][t]) for t in sweep} for m in MODES},
        }
    out["seconds_per_1280x720"] = {m: (float(np.mean(v)) if v else None) for m, v in times.items()}
    out["n_1280x720"] = len(times["tiled"])
    out["provider"] = sorted(det.take_providers())
    return out


def _empty_tally() -> dict:
    return {
        "plates": 0, "plates_hit": 0, "images_with_plates": 0, "images_all_hit": 0, "images_any_hit": 0,
        "by_height": {b[0]: [0, 0] for b in HEIGHTS},
        "windows": 0, "windows_in": 0, "windows_centre": 0,
        "occupants": 0, "occupants_in": 0,
        "vehicles": 0, "images": 0,
    }  # fmt: skip


def _score_image(tally: dict, entry: dict, veh: NDArray[np.float32]) -> None:
    tally["images"] += 1
    tally["vehicles"] += len(veh)
    plates = _boxes(entry, "plate")
    if len(plates):
        hit = centre_inside(plates, veh)
        tally["plates"] += len(plates)
        tally["plates_hit"] += int(hit.sum())
        tally["images_with_plates"] += 1
        tally["images_all_hit"] += int(hit.all())
        tally["images_any_hit"] += int(hit.any())
        heights = plates[:, 3] - plates[:, 1]
        for name, lo, hi in HEIGHTS:
            sel = (heights >= lo) & (heights < hi)
            tally["by_height"][name][0] += int(sel.sum())
            tally["by_height"][name][1] += int(hit[sel].sum())
    windows = _boxes(entry, "window")
    if len(windows):
        tally["windows"] += len(windows)
        tally["windows_in"] += int(contained(windows, veh).sum())
        tally["windows_centre"] += int(centre_inside(windows, veh).sum())
    occupants = _boxes(entry, "occupant")
    if len(occupants):
        tally["occupants"] += len(occupants)
        tally["occupants_in"] += int(contained(occupants, veh).sum())


def _summary(t: dict) -> dict:
    return {
        **{k: v for k, v in t.items() if k != "by_height"},
        "plate_recall": _ratio(t["plates_hit"], t["plates"]),
        "by_height": {k: {"n": n, "hit": h, "recall": _ratio(h, n)} for k, (n, h) in t["by_height"].items()},
        "window_recall": _ratio(t["windows_in"], t["windows"]),
        "vehicles_per_image": _ratio(t["vehicles"], t["images"]),
    }


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_table(res: dict) -> None:
    print(f"vehicle boxes (car, motorcycle, bus, truck); default threshold {res['default_threshold']}")
    print(
        f"{'set':24} {'mode':5} {'thr':>4} {'plates':>11} {'imgs all':>9} {'<16':>7} {'16-32':>7} {'>=32':>7}"
        f" {'windows':>9} {'win ctr':>7} {'occup':>6} {'veh/img':>7}"
    )
    for name, s in res["sets"].items():
        for mode, per in s["results"].items():
            for thr, r in per.items():
                bh = r["by_height"]
                plates = f"{r['plates_hit']}/{r['plates']}" if r["plates"] else "-"
                imgs = f"{r['images_all_hit']}/{r['images_with_plates']}" if r["plates"] else "-"
                heights = " ".join(f"{v['hit']}/{v['n']}".rjust(7) for v in bh.values())
                wins = f"{r['windows_in']}/{r['windows']}" if r["windows"] else "-"
                ctr = f"{r['windows_centre']}/{r['windows']}" if r["windows"] else "-"
                occ = f"{r['occupants_in']}/{r['occupants']}" if r["occupants"] else "-"
                print(
                    f"{name:24} {mode:5} {float(thr):>4.2f} {plates:>11} {imgs:>9} {heights}"
                    f" {wins:>9} {ctr:>7} {occ:>6} {_fmt(r['vehicles_per_image']):>7}"
                )
    for mode, sec in res["seconds_per_1280x720"].items():
        print(f"s per 1280x720 image, {mode} ({res['n_1280x720']} images): {_fmt(sec)}")
    print(f"providers: {', '.join(res['provider'])}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="redact vehicle-anchor benchmark (COCO detector)")
    ap.add_argument("--sets", nargs="*", type=Path, help="annotated set folders (default: dev plate and occupant sets)")
    ap.add_argument("--sweep", default=f"0.1,0.2,{DEFAULT_THRESHOLD},0.3", help="comma-separated thresholds")
    ap.add_argument("--limit", type=int, default=None, help="first N images per set")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "vehicles.json")
    args = ap.parse_args(argv)
    sets = args.sets or [DEV / s for s in DEFAULT_SETS]
    missing = [s for s in sets if not (s / "annotations.json").is_file()]
    if missing:
        raise SystemExit(f"no annotations.json in {', '.join(map(str, missing))}")
    sweep = sorted({float(x) for x in args.sweep.split(",") if x.strip()})
    if not sweep:
        raise SystemExit("--sweep needs at least one threshold")
    res = run(sets, sweep=sweep, limit=args.limit, threads=args.threads)
    print_table(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
