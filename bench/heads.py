"""Whole heads and people without a face: what face growth and person heads cover and cost.

Usage::

    python bench/heads.py [--sets NAME ...] [--limit N] [--refresh] [--threads N] [--json PATH]

Runs every detector (faces, plates and the COCO network, ``balanced``) once per picture of
the dev sets and keeps the candidates in ``bench/results/heads-cache/`` (``--refresh`` runs
them again); then replays the tool's decisions (:meth:`redact.detect.DetectorSet.decide`)
and region building (padding 0.15) under several settings:

- ``growth``: how face boxes grow to whole heads (:class:`redact.render.regions.HeadGrowth`),
  ``none`` being the boxes as found;
- ``persons``: whether the heads of people with no face found there are redacted
  (:mod:`redact.detect.heads`), with the zone's shape and the person score they need.

Scored per set as ``bench/accuracy.py`` scores (occupant regions left out, as there):
face coverage recall (a labelled face counts when >= 80 % of it is redacted), the mean
share of each labelled face that is redacted, the share redacted whole (>= 99 %), face
regions and strays (regions touching no labelled face, on the face sets), the share of
each picture redacted outside every labelled box (mean), and regions over a tenth of
their picture. Plate sets are subsampled (``--limit``) to keep the run short.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import BIG, COVER, DEV, Item, away_from_objects, covered_fraction, load_set  # noqa: E402

from redact.detect import DetectorSet, build_detector_set  # noqa: E402
from redact.detect import heads as heads_mod  # noqa: E402
from redact.detect.evidence import WITNESS_RATIO  # noqa: E402
from redact.render import regions as region_mod  # noqa: E402
from redact.types import Detections, Label  # noqa: E402

CACHE = ROOT / "bench" / "results" / "heads-cache"
# Face sets whole; plate sets every n-th picture, up to the given count.
SETS = {
    "faces-mask-street": None,
    "faces-dlib-voc": None,
    "plates-romania-dashcam": 60,
    "plates-dashboard": 24,
    "plates-openalpr-us-eu": 100,
}
GROWTHS: dict[str, region_mod.HeadGrowth | None] = {
    "none": None,
    "default": region_mod.HEAD,
    "t.5 b.15 s.1": region_mod.HeadGrowth(top=0.5, bottom=0.15, side=0.1),
}
PERSONS: dict[str, heads_mod.HeadZone | None] = {
    "off": None,
    "default": heads_mod.PERSON_HEAD,
}


def cached(name: str, limit: int | None, ds: DetectorSet, refresh: bool) -> list[tuple[Item, dict[str, Detections]]]:
    """Each picture of a set with its per-detector candidates (run once, then read back)."""
    path = CACHE / f"{name}.pkl"
    if path.is_file() and not refresh:
        rows: list[tuple[Item, dict[str, Detections]]] = pickle.loads(path.read_bytes())
        return rows
    items = load_set(DEV / name)
    if limit:
        items = items[:: max(1, len(items) // limit)][:limit]
    rows = []
    start = time.perf_counter()
    for item in items:
        image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {item.path}")
        rows.append((item, ds.per_detector(image, ratio=WITNESS_RATIO)))
    print(f"  {name}: {len(rows)} pictures in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(rows))
    return rows


def decided(
    ds: DetectorSet, found: dict[str, Detections], item: Item, persons: heads_mod.HeadZone | None
) -> Detections:
    """The tool's detections for one picture with person heads as given, occupant regions left out."""
    dets = replace(ds, person_heads=persons).decide(found, item.width, item.height)
    return dets[dets.label != Label.OCCUPANT.value]


def score(
    rows: list, ds: DetectorSet, growth: region_mod.HeadGrowth | None, persons: heads_mod.HeadZone | None
) -> dict:
    """Face coverage, strays and area away from labelled boxes over one set's pictures."""
    cover: list[float] = []
    regions_n = stray = large = 0
    away: list[float] = []
    face_set = any("face" in it.gt_label for it, _ in rows)
    for item, found in rows:
        dets = decided(ds, found, item, persons)
        built = region_mod.build(dets, item.width, item.height, padding=0.15, head=growth)
        boxes = built.boxes.astype(np.int64).reshape(-1, 4)
        faces_gt = item.gt[np.asarray(item.gt_label, object) == "face"] if len(item.gt) else item.gt
        cover += covered_fraction(faces_gt, boxes).tolist()
        share, big = away_from_objects(item, boxes)
        away.append(share)
        large += big
        mine = boxes[built.label == Label.FACE.value]
        regions_n += len(mine)
        if face_set and len(mine):
            if not len(faces_gt):
                stray += len(mine)
                continue
            ix = np.minimum(mine[:, None, 2], faces_gt[None, :, 2]) - np.maximum(mine[:, None, 0], faces_gt[None, :, 0])
            iy = np.minimum(mine[:, None, 3], faces_gt[None, :, 3]) - np.maximum(mine[:, None, 1], faces_gt[None, :, 1])
            stray += int((~((ix > 0) & (iy > 0)).any(axis=1)).sum())
    c = np.asarray(cover)
    return {
        "faces": len(c),
        "recall": float((c >= COVER).mean()) if len(c) else None,
        "mean_cover": float(c.mean()) if len(c) else None,
        "whole": float((c >= 0.99).mean()) if len(c) else None,
        "face_regions": regions_n,
        "stray": stray if face_set else None,
        "stray_rate": stray / regions_n if face_set and regions_n else None,
        "away_mean": float(np.mean(away)),
        "away_max": float(np.max(away)),
        "large_regions": large,
    }


def _f(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="*", default=list(SETS), help="dev set names")
    ap.add_argument("--limit", type=int, default=None, help="pictures per plate set (default: 60, 24, 100)")
    ap.add_argument("--refresh", action="store_true", help="run the detectors again instead of the cache")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "heads.json")
    args = ap.parse_args(argv)
    ds = build_detector_set(occupants="windows", quality="balanced", threads=args.threads)
    res: dict = {}
    print(f"{'set':24} {'growth':14} {'persons':8} {'faces':>5} {'recall':>6} {'cover':>6} {'whole':>6}"
          f" {'regions':>7} {'stray':>6} {'away':>6} {'>10%':>4}")
    for name in args.sets:
        rows = cached(name, args.limit or SETS.get(name), ds, args.refresh)
        for g_name, growth in GROWTHS.items():
            for p_name, persons in PERSONS.items():
                if p_name != "off" and g_name != "default":
                    continue
                r = score(rows, ds, growth, persons)
                res.setdefault(name, {})[f"{g_name} / {p_name}"] = r
                print(f"{name:24} {g_name:14} {p_name:8} {r['faces']:>5} {_f(r['recall']):>6} {_f(r['mean_cover']):>6}"
                      f" {_f(r['whole']):>6} {r['face_regions']:>7} {_f(r['stray_rate']):>6}"
                      f" {_f(r['away_mean'], '.2%'):>6} {r['large_regions']:>4}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.json} (regions over {BIG:.0%} of a picture counted in >10%)")


if __name__ == "__main__":
    main()
