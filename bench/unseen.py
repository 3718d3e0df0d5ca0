"""Plates a set does not label that the tool may leave visible: contact sheets to look at.

Usage::

    python bench/unseen.py SET_DIR [--out DIR] [--floor 0.09] [--vehicle-width 150] [--limit N]
                               [--degrade night|jpeg|blur|motion|...]

Recall on a set counts only the plates it labels, and the dev sets label some plates per
picture. A plate the set leaves unlabelled that the tool also misses is a leak no figure
shows. This bench runs every default detector (``--person-heads --occupants windows``) on
each picture and lists what a person should look at:

- every plate candidate from ``--floor`` up (the plate network, the text detector, the zoom
  inside vehicles), under the threshold or not kept;
- every vehicle the COCO network finds (0.3 up, at least ``--vehicle-width`` px wide: a
  smaller car's plate is too small to read) whose lower half holds no plate region: its
  plate band, where a plate would be;

when no plate region covers 80 % of it and no labelled or listed
(``bench/data/unlabelled-plates/``) plate touches it. Each is cropped with its context,
enlarged and numbered on contact sheets (``DIR/sheet-N.png``, 24 crops each) with
``DIR/candidates.json`` (file, box, score, kind, by number). Readable plates found so are
added to the list (with the region's box once a change covers them) or drive a change;
``docs/performance.md`` ("Plates the picture's edge cuts") tells what a look at the dev sets
found. With ``--degrade NAME`` the pictures are first degraded as ``bench/accuracy.py
--degrade`` degrades them (``bench/degrade.py``, the same seed per picture), and the copies
the crops come from are written beside the sheets (``DIR/pictures/``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accuracy import covered_fraction, degraded, image_regions, load_set  # noqa: E402
from degrade import parse as parse_degradations  # noqa: E402

from redact.config import RedactConfig  # noqa: E402
from redact.detect import DEFAULT_THRESHOLDS, build_detector_set  # noqa: E402
from redact.detect.evidence import WITNESS_RATIO  # noqa: E402
from redact.geometry import centres_inside, inside_share  # noqa: E402

PLATE_OPINIONS = ("yolo_plate", "text_plate", "vehicle_plate")
VEHICLE_SCORE = 0.3
COVERED = 0.8  # a candidate this much inside plate regions is covered
TILE = (320, 160)  # one crop on a sheet, px
PER_SHEET = 24


def plate_band(vehicle: NDArray[np.floating]) -> NDArray[np.float64]:
    """Where a vehicle's plate would be: its lower half, less a sixth of its width each side."""
    x0, y0, x1, y1 = (float(v) for v in vehicle)
    w, h = x1 - x0, y1 - y0
    return np.array([x0 + 0.15 * w, y0 + 0.45 * h, x1 - 0.15 * w, y1], np.float64)


def candidates(image: NDArray[np.uint8], ds, floor: float, vehicle_width: float,  # type: ignore[no-untyped-def]
               item) -> list[dict]:  # type: ignore[no-untyped-def]
    """What to look at in one picture (see the module docstring)."""
    # The regions as `redact run` makes them; the candidates from a second look down to the floor.
    dets = ds.decide(ds.per_detector(image, ratio=WITNESS_RATIO), item.width, item.height,
                     thresholds=DEFAULT_THRESHOLDS)
    found = ds.per_detector(image, ratio=min(WITNESS_RATIO, floor / DEFAULT_THRESHOLDS["plate"]))
    regions, labels = image_regions(item, dets, RedactConfig().padding)
    plates = regions[labels == "plate"]
    known = np.concatenate([item.gt.reshape(-1, 4), item.known.reshape(-1, 4)]).astype(np.float64)
    out: list[tuple[NDArray[np.float64], float, str]] = []
    for name in PLATE_OPINIONS:
        d = found.get(name)
        if d is not None and len(d):
            keep = (d.label == "plate") & (d.score >= floor)
            out += [(b.astype(np.float64), float(s), name) for b, s in zip(d.xyxy[keep], d.score[keep], strict=True)]
    occupants = found.get("occupants")
    for v, s in zip(getattr(occupants, "vehicles", ()), getattr(occupants, "vehicle_score", ()), strict=True):
        if s >= VEHICLE_SCORE and v[2] - v[0] >= vehicle_width:
            band = plate_band(v)
            if not len(plates) or not centres_inside(plates, band[None])[0].any():
                out.append((band, float(s), "vehicle"))
    picked: list[dict] = []
    for box, score, kind in sorted(out, key=lambda c: -c[1]):
        one = box[None]
        if len(plates) and covered_fraction(np.round(one).astype(np.int64), plates)[0] >= COVERED:
            continue
        if len(known) and (inside_share(one, known) > 0).any():
            continue
        if any(inside_share(one, np.array([p["box"]], np.float64))[0, 0] > 0.5 for p in picked):
            continue
        picked.append({"file": str(item.path), "box": [round(float(v)) for v in box], "score": round(score, 2),
                       "kind": kind})
    return picked


def crop(entry: dict) -> NDArray[np.uint8]:
    """One numbered tile: the box (yellow) in twice its width of context, enlarged."""
    image = cv2.imread(entry["file"], cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = entry["box"]
    side = max(x1 - x0, 2 * (y1 - y0), 40) * 1.6
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a, b = int(max(cx - side / 2, 0)), int(max(cy - side / 4, 0))
    c, d = int(min(cx + side / 2, w)), int(min(cy + side / 4, h))
    tile = image[b:d, a:c].copy()
    cv2.rectangle(tile, (x0 - a, y0 - b), (x1 - a, y1 - b), (0, 255, 255), 1)
    tile = cv2.resize(tile, TILE, interpolation=cv2.INTER_CUBIC)
    label = f"{entry['n']} {entry['kind'][:4]} {entry['score']}"
    cv2.putText(tile, label, (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 0), 1)
    return tile


def sheets(entries: list[dict], out: Path) -> int:
    """Write the contact sheets; returns how many."""
    blank = np.zeros((TILE[1], TILE[0], 3), np.uint8)
    count = 0
    for start in range(0, len(entries), PER_SHEET):
        tiles = [crop(e) for e in entries[start : start + PER_SHEET]]
        tiles += [blank] * (PER_SHEET - len(tiles))
        rows = [np.hstack(tiles[r : r + 4]) for r in range(0, PER_SHEET, 4)]
        cv2.imwrite(str(out / f"sheet-{count}.png"), np.vstack(rows))
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", type=Path, help="an annotated set folder (dev-README format)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "unseen")
    ap.add_argument("--floor", type=float, default=0.09, help="least plate candidate score to look at")
    ap.add_argument("--vehicle-width", type=float, default=150.0, help="least vehicle width to look at, px")
    ap.add_argument("--limit", type=int, default=None, help="first N pictures")
    ap.add_argument("--degrade", default=None, help="look at copies degraded so (one name of bench/degrade.py)")
    args = ap.parse_args(argv)
    if args.degrade is not None:
        try:
            one = len(parse_degradations(args.degrade)) == 1
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        if not one:
            print("--degrade takes one degradation", file=sys.stderr)
            return 2
    if not (args.set / "annotations.json").is_file():
        print(f"no annotations.json in {args.set}", file=sys.stderr)
        return 2
    ds = build_detector_set(faces=True, plates=True, person_heads=True, occupants="windows",
                            thresholds=DEFAULT_THRESHOLDS, quality="balanced")
    entries: list[dict] = []
    items = load_set(args.set)[: args.limit or None]
    for n, item in enumerate(items):
        image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        if image is None:
            print(f"cannot read {item.path}", file=sys.stderr)
            return 2
        if args.degrade is not None:
            image, item = degraded(image, item, args.degrade, seed=n)
            copy = args.out / "pictures" / f"{item.path.stem}.png"
            copy.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(copy), image)
            item = replace(item, path=copy)
        entries += candidates(image, ds, args.floor, args.vehicle_width, item)
        if (n + 1) % 50 == 0:
            print(f"  {n + 1}/{len(items)}", file=sys.stderr)
    for n, e in enumerate(entries):
        e["n"] = n
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "candidates.json").write_text(json.dumps(entries, indent=1) + "\n")
    count = sheets(entries, args.out)
    kinds = {k: sum(e["kind"] == k for e in entries) for k in (*PLATE_OPINIONS, "vehicle")}
    summary = ", ".join(f"{k} {v}" for k, v in kinds.items())
    print(f"{len(entries)} to look at ({summary}) on {count} sheets in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
