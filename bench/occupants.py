"""Occupant coverage: how much of the labelled heads and windows the redacted regions cover.

Usage::

    python bench/occupants.py [--sets ANNOTATIONS.json ...] [--quality balanced] [--padding 0.15]
                              [--limit N] [--threads N] [--crops [--crop-width 1.3]] [--degrade NAMES [--draw K]]
                              [--json PATH]

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

``--crops`` scores enforcement-camera views made from the same pictures instead: around each
labelled window at least :data:`CROP_MIN_WINDOW` px wide, a crop 1.3 windows wide (`--crop-width`) and
320:288 in shape, from half a window's height above it, resized to 320x288 and made grey,
as a roadside camera's crop of one car front or rear (the vehicle fills the picture and is
often not found as a vehicle; its plate is). A crop is made only where a plate that the
plate dev sets label lies in it below the window (the occupant sets' pictures come from
those sets): side windows and views from above make none. Windows whose crop would reach
outside the picture, or whose centre an earlier crop of the same picture holds, are
skipped; labels are moved into the crop and clipped to it.

``--degrade`` scores every set again on copies of its pictures (or crops) degraded as
``bench/accuracy.py --degrade`` degrades them (``bench/degrade.py``: darker and noisier,
harder compression, softer focus, a colour cast, smaller), reported as
``<set>~<degradation>``: how far occupant coverage holds on footage passed on differently.
``--draw K`` takes the K-th other draw of the copies' random parts (noise, a streak's angle),
as ``bench/accuracy.py --draw`` does.

Prints a table and writes ``bench/results/occupants.json`` (``occupants-crops.json`` with
``--crops``).
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
for _path in (ROOT, ROOT / "bench"):  # the package, and degrade.py beside this file
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from degrade import DEGRADATIONS, DRAW_STRIDE  # noqa: E402
from degrade import parse as parse_degradations  # noqa: E402

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
CROP_SIZE = (320, 288)  # width, height of an enforcement camera's crop
CROP_WIDTH = 1.3  # crop width, in window widths
CROP_MIN_WINDOW = 80  # px: narrower windows make no crop
PLATE_SETS = ("plates-openalpr-us-eu", "plates-romania-dashcam")  # where the occupant sets' pictures come from


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


def labelled_plates(sets: Sequence[str] = PLATE_SETS) -> dict[str, NDArray[np.float32]]:
    """The plate dev sets' labelled plates (xyxy), by picture file name."""
    out: dict[str, NDArray[np.float32]] = {}
    for name in sets:
        path = DEV / name / "annotations.json"
        if path.is_file():
            for entry in json.loads(path.read_text())["images"]:
                out[Path(entry["file"]).name] = _boxes(entry, "plate")
    return out


def plates_of(entry: dict, plates: dict[str, NDArray[np.float32]]) -> NDArray[np.float32]:
    """The labelled plates of an occupant set's picture (``occupants-dev`` prefixes the
    dash-cam set's names with ``romania_``)."""
    name = Path(entry["file"]).name
    found = plates.get(name, plates.get(name.removeprefix("romania_")))
    return np.zeros((0, 4), np.float32) if found is None else found


def enforcement_crops(
    image: NDArray[np.uint8], entry: dict, plates: NDArray[np.float32], *, wide: float = CROP_WIDTH
) -> list[tuple[NDArray[np.uint8], dict]]:
    """Grey 320x288 crops of one car front or rear each (see ``--crops``), with their labels
    moved; ``plates``: the picture's labelled plates (xyxy); ``wide``: crop width, in window
    widths."""
    h, w = image.shape[:2]
    pcx, pcy = (plates[:, 0] + plates[:, 2]) / 2, (plates[:, 1] + plates[:, 3]) / 2
    out: list[tuple[NDArray[np.uint8], dict]] = []
    taken: list[tuple[float, float, float, float]] = []
    cw_, ch_ = CROP_SIZE
    for b in entry["boxes"]:
        if b["label"] != "window" or b["w"] < CROP_MIN_WINDOW:
            continue
        cx, cy = b["x"] + b["w"] / 2, b["y"] + b["h"] / 2
        if any(x1 <= cx <= x2 and y1 <= cy <= y2 for x1, y1, x2, y2 in taken):
            continue
        width = wide * b["w"]
        height = width * ch_ / cw_
        x1, y1 = cx - width / 2, b["y"] - 0.5 * b["h"]
        if x1 < 0 or y1 < 0 or x1 + width > w or y1 + height > h:
            continue
        if not np.any((pcx >= x1) & (pcx <= x1 + width) & (pcy >= b["y"] + b["h"]) & (pcy <= y1 + height)):
            continue
        taken.append((x1, y1, x1 + width, y1 + height))
        sx, sy = cw_ / width, ch_ / height
        crop = image[int(y1) : int(y1 + height), int(x1) : int(x1 + width)]
        grey = cv2.cvtColor(cv2.resize(crop, CROP_SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        boxes = []
        for o in entry["boxes"]:
            a = max(0.0, (o["x"] - x1) * sx), max(0.0, (o["y"] - y1) * sy)
            z = min(cw_, (o["x"] + o["w"] - x1) * sx), min(ch_, (o["y"] + o["h"] - y1) * sy)
            if z[0] - a[0] >= 2 and z[1] - a[1] >= 2:
                boxes.append({**o, "x": a[0], "y": a[1], "w": z[0] - a[0], "h": z[1] - a[1]})
        name = f"{entry['file']}@{int(x1)},{int(y1)}"
        out.append((cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), {"file": name, "boxes": boxes}))
    return out


def degraded(image: NDArray[np.uint8], entry: dict, name: str, *, seed: int) -> tuple[NDArray[np.uint8], dict]:
    """The picture degraded by ``name`` (``bench/degrade.py``, seeded per picture) and its
    entry with every box moved to match."""
    out, moved = DEGRADATIONS[name](image, np.random.default_rng(seed))
    boxes = []
    for b in entry["boxes"]:
        x1, y1, x2, y2 = moved.xyxy([b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]])
        boxes.append({**b, "x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1})
    return out, {**entry, "boxes": boxes}


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
    sets: Sequence[Path],
    *,
    quality: str,
    padding: float,
    limit: int | None,
    threads: int | None,
    crops: bool = False,
    crop_width: float = CROP_WIDTH,
    degrade: Sequence[str] = (),
    draw: int = 0,
    progress: bool = True,
) -> dict:
    """Run the benchmark (on enforcement-camera crops with ``crops``; again on copies degraded
    by each of ``degrade``, names from ``bench/degrade.py``, their ``draw``-th draw); returns
    the JSON-able results."""
    ds = build_detector_set(occupants="windows", quality=quality, threads=threads)
    people = Occupants(MODELS["occupants"], threshold=ds.thresholds["occupant"], threads=threads, mode="people")
    out: dict = {"quality": quality, "padding": padding, "thresholds": ds.thresholds, "crops": crops,
                 "crop_width": crop_width if crops else None,
                 "degrade": list(degrade), "draw": draw, "sets": {}}
    plates = labelled_plates() if crops else {}
    times: list[float] = []
    for path in sets:
        if not path.is_file():
            continue
        set_name, root, images = load_set(path)
        images = images[:limit] if limit else images
        for variant in [None, *degrade]:
            name = set_name if variant is None else f"{set_name}~{variant}"
            out["sets"][name] = _run_set(ds, people, root, images, plates, crops=crop_width if crops else None,
                                         variant=variant, draw=draw,
                                         padding=padding, times=times, label=name if progress else None)
    out["seconds_per_image"] = float(np.mean(times)) if times else None
    out["providers"] = sorted(ds.take_providers())
    return out


def _run_set(ds: DetectorSet, people: Occupants, root: Path, images: Sequence[dict],
             plates: dict[str, NDArray[np.float32]], *, crops: float | None, variant: str | None, padding: float,
             times: list[float], label: str | None, draw: int = 0) -> dict:
    """One set's results, its pictures degraded by ``variant`` when given; ``label``: print
    progress under this name; ``crops``: score enforcement crops this many windows wide."""
    tallies = {m: _empty() for m in MODES}
    pictures = 0
    for i, source in enumerate(images):
        image = cv2.imread(str(root / source["file"]), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {root / source['file']}")
        views = (enforcement_crops(image, source, plates_of(source, plates), wide=crops) if crops is not None
                 else [(image, source)])
        for k, (picture, entry) in enumerate(views):
            if variant is not None:
                picture, entry = degraded(picture, entry, variant, seed=1000 * i + k + DRAW_STRIDE * draw)
            pictures += 1
            h, w = picture.shape[:2]
            start = time.perf_counter()
            found = ds.per_detector(picture)
            times.append(time.perf_counter() - start)
            decided = _decided(ds, found, people.detect(picture), w, h)
            occ = found["occupants"]
            vehicles = occ.vehicles[occ.vehicle_score >= ds.thresholds["occupant"]] if isinstance(
                occ, OccupantFinds) else np.zeros((0, 4), np.float32)
            for mode, dets in decided.items():
                _score(tallies[mode], entry, dets, vehicles, w, h, padding)
        if label is not None and (i + 1) % 10 == 0:
            print(f"  {label}: {i + 1}/{len(images)}", file=sys.stderr)
    return {"images": pictures, "results": {m: _summary(t) for m, t in tallies.items()}}


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
    print(f"occupant coverage{' (enforcement crops)' if res.get('crops') else ''}; quality {res['quality']}, "
          f"padding {res['padding']}, "
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
    ap.add_argument("--crops", action="store_true", help="score grey 320x288 enforcement-camera crops of car fronts")
    ap.add_argument("--crop-width", type=float, default=CROP_WIDTH,
                    help=f"with --crops: crop width in window widths (default {CROP_WIDTH}: a car front with a little"
                    " around it; 1.6 and up show the whole car)")
    ap.add_argument("--degrade", default="", help="comma-separated degradations (night, jpeg, blur, cast, small, "
                    "anamorphic, or all; bench/degrade.py): each set is scored again on degraded copies of its "
                    "pictures or crops")
    ap.add_argument("--draw", type=int, default=0,
                    help="which draw of the degradations' random parts to score; 0: the usual one")
    ap.add_argument("--json", type=Path, default=None, help="default: bench/results/occupants[-crops].json")
    args = ap.parse_args(argv)
    try:
        degrade = parse_degradations(args.degrade) if args.degrade else []
    except ValueError as exc:
        ap.error(str(exc))
    res = run(args.sets, quality=args.quality, padding=args.padding, limit=args.limit, threads=args.threads,
              crops=args.crops, crop_width=args.crop_width, degrade=degrade, draw=args.draw)
    if args.json is None:
        args.json = ROOT / "bench" / "results" / ("occupants-crops.json" if args.crops else "occupants.json")
    print_table(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
