"""Occupant coverage: how much of the labelled heads and windows the redacted regions cover.

Usage::

    python bench/occupants.py [--sets ANNOTATIONS.json ...] [--quality balanced] [--padding 0.15]
                              [--limit N] [--threads N] [--json PATH]

By default ``../shared/data/dev/occupants-dev/annotations.json`` and, when present,
``bench/data/occupants/annotations.json`` (its ``file`` entries are relative to
``../shared/data/dev`` when its ``source`` says ``"images_root": "dev"``, else to the
annotations' folder). Each picture goes through the run's detectors (faces, plates and
occupants at ``--quality``) once; their candidates are then decided three times, as
``--occupants off``, ``people`` and ``windows`` would (the occupant detector run again in
``people`` mode, cheap: one COCO network), and the regions built as a run builds them
(``--padding``). Scored per mode:

- heads: a labelled ``occupant`` box counts as covered when at least 80 % of it lies
  inside redacted regions of any label; ``difficult`` heads (barely visible) are
  don't-care, reported apart.
- windows: the share of the labelled ``window`` area that is redacted.
- vehicle recall: labelled windows with at least 90 % of their area inside a vehicle box
  the occupant detector found (the sets label windows, not vehicles).
- extra area: the share of each picture redacted outside every labelled window and head
  (by any label), averaged over pictures; and the share redacted by occupant regions.

Prints a table and writes ``bench/results/occupants.json``.
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

from redact.detect import MODELS, DetectorSet, build_detector_set  # noqa: E402
from redact.detect.merge import box_area, intersection_matrix  # noqa: E402
from redact.detect.occupants import OccupantFinds, Occupants  # noqa: E402
from redact.render import regions as region_mod  # noqa: E402
from redact.types import Detections  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"
DEFAULT_SETS = (DEV / "occupants-dev" / "annotations.json", ROOT / "bench" / "data" / "occupants" / "annotations.json")
HEAD_COVERED = 0.8
WINDOW_IN_VEHICLE = 0.9
MODES = ("off", "people", "windows")


def load_set(path: Path) -> tuple[str, Path, list[dict]]:
    """(name, images root, image entries) of an annotations file."""
    ann = json.loads(path.read_text())
    source = ann.get("source") or {}
    root = DEV if source.get("images_root") == "dev" else path.parent
    name = path.parent.name if path.parent != DEV else path.stem
    return name, root, list(ann["images"])


def _boxes(entry: dict, label: str, difficult: bool | None = None) -> NDArray[np.float32]:
    rows = [
        [b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]]
        for b in entry["boxes"]
        if b["label"] == label and (difficult is None or bool(b.get("difficult", False)) == difficult)
    ]
    return np.asarray(rows, np.float32).reshape(-1, 4)


def _inside(mask: NDArray[np.bool_], boxes: NDArray[np.float32]) -> NDArray[np.float64]:
    """Share of each box's pixels that ``mask`` covers."""
    out = []
    for x1, y1, x2, y2 in boxes.astype(int):
        patch = mask[max(0, y1) : y2, max(0, x1) : x2]
        out.append(float(patch.mean()) if patch.size else 0.0)
    return np.asarray(out)


def _mask(dets: Detections, width: int, height: int, padding: float, label: str | None = None) -> NDArray[np.bool_]:
    if label is not None:
        dets = dets.with_label(label)
    regs = region_mod.build(dets, width, height, padding=padding)
    return region_mod.frame_mask(regs, width, height)


def _decided(ds: DetectorSet, found: dict[str, Detections], people: OccupantFinds, w: int, h: int) -> dict:
    """The decided detections of each mode from one picture's candidates."""
    off = {k: v for k, v in found.items() if not isinstance(v, OccupantFinds)}
    return {
        "off": ds.decide(off, w, h),
        "people": ds.decide({**off, "occupants": people}, w, h),
        "windows": ds.decide(found, w, h),
    }


def _empty() -> dict:
    return {
        "images": 0, "heads": 0, "heads_covered": 0, "heads_by_occupant": 0, "difficult": 0, "difficult_covered": 0,
        "window_area": 0.0, "window_covered": 0.0, "windows": 0, "windows_in_vehicle": 0,
        "extra": 0.0, "occupant_area": 0.0, "missed": [],
    }  # fmt: skip


def run(
    sets: Sequence[Path], *, quality: str, padding: float, limit: int | None, threads: int | None, progress: bool = True
) -> dict:
    """Run the benchmark; returns the JSON-able results."""
    ds = build_detector_set(occupants="windows", quality=quality, threads=threads)
    people = Occupants(MODELS["occupants"], threshold=ds.thresholds["occupant"], threads=threads, mode="people")
    out: dict = {"quality": quality, "padding": padding, "thresholds": ds.thresholds, "sets": {}}
    times: list[float] = []
    for path in sets:
        if not path.is_file():
            continue
        name, root, images = load_set(path)
        images = images[:limit] if limit else images
        tallies = {m: _empty() for m in MODES}
        for i, entry in enumerate(images):
            image = cv2.imread(str(root / entry["file"]), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"cannot read {root / entry['file']}")
            h, w = image.shape[:2]
            start = time.perf_counter()
            found = ds.per_detector(image)
            times.append(time.perf_counter() - start)
            decided = _decided(ds, found, people.detect(image), w, h)
            occ = found["occupants"]
            vehicles = occ.vehicles[occ.vehicle_score >= ds.thresholds["occupant"]] if isinstance(
                occ, OccupantFinds) else np.zeros((0, 4), np.float32)
            for mode, dets in decided.items():
                _score(tallies[mode], entry, dets, vehicles, w, h, padding)
            if progress and (i + 1) % 10 == 0:
                print(f"  {name}: {i + 1}/{len(images)}", file=sys.stderr)
        out["sets"][name] = {"images": len(images), "results": {m: _summary(t) for m, t in tallies.items()}}
    out["seconds_per_image"] = float(np.mean(times)) if times else None
    out["providers"] = sorted(ds.take_providers())
    return out


def _score(tally: dict, entry: dict, dets: Detections, vehicles: NDArray[np.float32], w: int, h: int,
           padding: float) -> None:
    tally["images"] += 1
    redacted = _mask(dets, w, h, padding)
    by_occupant = _mask(dets, w, h, padding, "occupant")
    heads = _boxes(entry, "occupant", difficult=False)
    share = _inside(redacted, heads)
    tally["heads"] += len(heads)
    tally["heads_covered"] += int((share >= HEAD_COVERED).sum())
    tally["heads_by_occupant"] += int((_inside(by_occupant, heads) >= HEAD_COVERED).sum())
    tally["missed"] += [f"{entry['file']} head {b.astype(int).tolist()} {s:.0%}"
                        for b, s in zip(heads, share, strict=True) if s < HEAD_COVERED]
    hard = _boxes(entry, "occupant", difficult=True)
    tally["difficult"] += len(hard)
    tally["difficult_covered"] += int((_inside(redacted, hard) >= HEAD_COVERED).sum())
    windows = _boxes(entry, "window")
    area = box_area(windows)
    tally["windows"] += len(windows)
    tally["window_area"] += float(area.sum())
    tally["window_covered"] += float((_inside(redacted, windows) * area).sum())
    if len(windows) and len(vehicles):
        inside = intersection_matrix(windows, vehicles) / np.maximum(area[:, None], 1e-9)
        tally["windows_in_vehicle"] += int((inside.max(axis=1) >= WINDOW_IN_VEHICLE).sum())
    labelled = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in np.concatenate([windows, heads, hard]).astype(int):
        labelled[max(0, y1) : y2, max(0, x1) : x2] = True
    tally["extra"] += float((redacted & ~labelled).mean())
    tally["occupant_area"] += float(by_occupant.mean())


def _ratio(k: float, n: float) -> float | None:
    return k / n if n else None


def _summary(t: dict) -> dict:
    return {
        **t,
        "head_recall": _ratio(t["heads_covered"], t["heads"]),
        "head_recall_by_occupant": _ratio(t["heads_by_occupant"], t["heads"]),
        "difficult_recall": _ratio(t["difficult_covered"], t["difficult"]),
        "window_coverage": _ratio(t["window_covered"], t["window_area"]),
        "vehicle_recall": _ratio(t["windows_in_vehicle"], t["windows"]),
        "extra_area_per_image": _ratio(t["extra"], t["images"]),
        "occupant_area_per_image": _ratio(t["occupant_area"], t["images"]),
    }


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_table(res: dict) -> None:
    print(f"occupant coverage; quality {res['quality']}, padding {res['padding']}, "
          f"thresholds {json.dumps(res['thresholds'])}")
    print(f"{'set':22} {'mode':8} {'heads':>7} {'recall':>6} {'by occ':>6} {'difficult':>9} {'window':>6}"
          f" {'veh rec':>7} {'extra':>6} {'occ area':>8}")
    for name, s in res["sets"].items():
        for mode, r in s["results"].items():
            print(
                f"{name:22} {mode:8} {r['heads_covered']:>3}/{r['heads']:<3} {_fmt(r['head_recall']):>6}"
                f" {_fmt(r['head_recall_by_occupant']):>6} {r['difficult_covered']:>4}/{r['difficult']:<4}"
                f" {_fmt(r['window_coverage']):>6} {_fmt(r['vehicle_recall']):>7}"
                f" {_fmt(r['extra_area_per_image']):>6} {_fmt(r['occupant_area_per_image']):>8}"
            )
    for name, s in res["sets"].items():
        for head in s["results"]["windows"]["missed"]:
            print(f"missed ({name}, windows): {head}")
    print(f"s per image (all detectors): {_fmt(res['seconds_per_image'])}; providers: {', '.join(res['providers'])}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="*", type=Path, default=list(DEFAULT_SETS), help="annotations.json files")
    ap.add_argument("--quality", default="balanced", choices=("fast", "balanced", "thorough"))
    ap.add_argument("--padding", type=float, default=0.15, help="region padding, as the run's --padding")
    ap.add_argument("--limit", type=int, default=None, help="first N pictures of each set")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "occupants.json")
    args = ap.parse_args(argv)
    res = run(args.sets, quality=args.quality, padding=args.padding, limit=args.limit, threads=args.threads)
    print_table(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
