"""Detection accuracy on annotated image sets: coverage recall, stray rate, seconds per image.

Usage::

    python bench/accuracy.py [SET_DIR ...] [--quality balanced] [--pad 0.15] [--json PATH]
                             [--sweep 0.1,0.2,0.3] [--limit N] [--threads N] [--person-heads]
                             [--occupants off|people|windows]
                             [--degrade night,jpeg,blur,motion,cast,small,large,framed,...|all] [--draw K]
                             [--orientations upright|askew|all]

Each SET_DIR holds an ``annotations.json`` in the dev-data format (see
``../shared/data/dev/README.md``); by default the three dev image sets. For every image the
detector set runs once; its boxes become regions as the tool makes them (faces grown to
whole heads, ``--pad`` of the box's width/height per side, at least 2 px, rounded outwards,
clipped to the picture) and are scored:

- coverage recall: a ground-truth box counts as redacted when at least 80% of its area lies
  inside the union of all redacted boxes; reported per label and per bucket of the box's
  shorter side (<16, 16-32, 32-64, >=64 px).
- stray rate: redacted regions of a label that overlap no ground-truth box of that label,
  over all regions of that label, counted only on sets that annotate that label. The sets
  label only some of what is there; ``stray*`` does not count a region on a known object the
  set leaves unlabelled (``bench/data/unlabelled-plates/``: real plates of other cars on the
  dash-cam frames) as stray. Those boxes never enter recall.
- away from objects: the share of each picture's area that is redacted outside every
  ground-truth box (of any label), averaged per set, and the count of regions larger than a
  tenth of their picture (a blacked-out half frame hides the story). With ``--occupants``
  (off by default here; ``redact run`` redacts window zones by default) the occupant
  regions count too, and the figures without them are given beside, and the mean away
  share with only the occupant regions at least 100, 200 and 300 px wide (what the small,
  far vehicles' window zones add).
- seconds per image: wall time of ``DetectorSet.detect`` (candidates, confirmation, merge;
  the detectors side by side where `redact run` runs them so on one picture),
  per set and over the 1280x720 images.

Every figure is reported per set and, for recall and stray, over all sets per label. The
dash-cam and dashboard sets are the primary plate sets: they look like the footage the tool
exists for (small plates at night, zoomed plate crops); openalpr's daytime close-ups follow.

``--sweep`` scores several thresholds from one detection run (candidates are kept at the
lowest threshold and re-merged per threshold): the P-R curves used to pick the defaults.

``--degrade`` scores every set again on copies of its pictures made darker and noisier,
compressed harder, softer, under a colour cast, smaller or twice as large, placed in a
1080p, 1440p or 4K frame or a 24-Mpx still, turned askew, on its side or upside down
(``bench/degrade.py``), reported as ``<set>~<degradation>``: how
far the figures hold on footage captured or passed on differently from the dev sets. Their
random parts (noise, a streak's angle) are drawn per picture from a fixed seed; ``--draw K``
takes the K-th other draw, to tell a rule that holds for the degradation from one that holds
for the copies it was measured on.

``--orientations all`` (``askew``) looks at every picture as ``redact run`` with that option
does: as stored and turned a quarter, a half and three quarters (12 degrees either way;
``redact.detect.turns``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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

from redact.config import ORIENTATIONS, RedactConfig  # noqa: E402
from redact.detect import DEFAULT_THRESHOLDS, build_detector_set  # noqa: E402
from redact.detect.evidence import WITNESS_RATIO  # noqa: E402
from redact.detect.lanes import BySize, side_by_side  # noqa: E402
from redact.detect.turns import looking  # noqa: E402
from redact.geometry import intersection_matrix  # noqa: E402
from redact.render.regions import build as build_regions  # noqa: E402
from redact.types import Detections  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"
DEFAULT_SETS = (
    "plates-romania-dashcam",
    "plates-dashboard",
    "plates-openalpr-us-eu",
    "faces-mask-street",
    "faces-dlib-voc",
)
BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<16", 0, 16),
    ("16-32", 16, 32),
    ("32-64", 32, 64),
    (">=64", 64, float("inf")),
)
COVER = 0.8
# Real objects the dev sets leave unlabelled, by label (dev-README format, files relative to
# the dev folder): regions on them are not stray in the ``stray*`` column.
KNOWN = (ROOT / "bench" / "data" / "unlabelled-plates" / "annotations.json",)
BIG = 0.1  # a region over this share of its picture's area is counted as large
# With --occupants: the away share again with only the occupant regions at least this many
# pixels wide (a far vehicle's windows show heads a few pixels tall).
OCCUPANT_WIDTHS = np.array([100, 200, 300], np.float64)


@dataclass
class Item:
    """One annotated image: path and ground-truth boxes (xyxy int pixels) with labels."""

    set_name: str
    path: Path
    width: int
    height: int
    gt: NDArray[np.int64]
    gt_label: list[str]
    known: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 4), np.int64))
    known_label: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """Counts for one label at one threshold."""

    covered: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BUCKETS})
    total: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BUCKETS})
    regions: int = 0
    stray: int = 0
    stray_known: int = 0  # stray, less the regions on known unlabelled objects

    def recall(self, buckets: Sequence[str] | None = None) -> float | None:
        keys = list(buckets) if buckets else list(self.total)
        n = sum(self.total[k] for k in keys)
        return None if n == 0 else sum(self.covered[k] for k in keys) / n

    def stray_rate(self) -> float | None:
        return None if self.regions == 0 else self.stray / self.regions

    def stray_known_rate(self) -> float | None:
        return None if self.regions == 0 else self.stray_known / self.regions


def _xyxy(boxes: list[dict]) -> NDArray[np.int64]:
    return np.asarray([(b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]) for b in boxes], np.int64).reshape(-1, 4)


def known_boxes(files: Sequence[Path] = KNOWN) -> dict[Path, list[dict]]:
    """The known unlabelled objects' boxes, by resolved image path."""
    out: dict[Path, list[dict]] = {}
    for f in files:
        if f.is_file():
            for im in json.loads(f.read_text())["images"]:
                out.setdefault((DEV / im["file"]).resolve(), []).extend(im["boxes"])
    return out


def load_set(folder: Path) -> list[Item]:
    """Items of one annotated set (dev-README format)."""
    data = json.loads((folder / "annotations.json").read_text())
    known = known_boxes()
    items = []
    for im in data["images"]:
        extra = known.get((folder / im["file"]).resolve(), [])
        items.append(
            Item(
                set_name=folder.name,
                path=folder / im["file"],
                width=int(im["width"]),
                height=int(im["height"]),
                gt=_xyxy(im["boxes"]),
                gt_label=[b["label"] for b in im["boxes"]],
                known=_xyxy(extra),
                known_label=[b["label"] for b in extra],
            )
        )
    return items


def degraded(image: NDArray[np.uint8], item: Item, name: str, *, seed: int) -> tuple[NDArray[np.uint8], Item]:
    """The picture degraded by ``name`` (``bench/degrade.py``, seeded per picture) and its
    item with boxes and size to match."""
    out, moved = DEGRADATIONS[name](image, np.random.default_rng(seed))
    def scaled(boxes: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.round(moved.xyxy(boxes)).astype(np.int64).reshape(-1, 4)
    height, width = out.shape[:2]
    return out, replace(item, width=width, height=height, gt=scaled(item.gt), known=scaled(item.known))


def covered_fraction(gt: NDArray[np.int64], regions: NDArray[np.int64]) -> NDArray[np.float64]:
    """Fraction of each ground-truth box's area inside the union of the regions."""
    out = np.zeros(len(gt))
    for i, (x1, y1, x2, y2) in enumerate(gt):
        area = (x2 - x1) * (y2 - y1)
        if area <= 0:
            out[i] = 1.0
            continue
        mask = np.zeros((y2 - y1, x2 - x1), bool)
        for rx1, ry1, rx2, ry2 in regions:
            ax1, ay1, ax2, ay2 = max(rx1, x1), max(ry1, y1), min(rx2, x2), min(ry2, y2)
            if ax2 > ax1 and ay2 > ay1:
                mask[ay1 - y1 : ay2 - y1, ax1 - x1 : ax2 - x1] = True
        out[i] = mask.sum() / area
    return out


def away_from_objects(item: Item, regions: NDArray[np.int64]) -> tuple[float, int]:
    """Share of the picture redacted outside every ground-truth box, and the number of
    regions larger than :data:`BIG` of the picture."""
    area = item.width * item.height
    mask = np.zeros((item.height, item.width), bool)
    for x1, y1, x2, y2 in regions:
        mask[y1:y2, x1:x2] = True
    for x1, y1, x2, y2 in item.gt:
        mask[y1:y2, x1:x2] = False
    sizes = (regions[:, 2] - regions[:, 0]) * (regions[:, 3] - regions[:, 1]) if len(regions) else np.zeros(0)
    return float(mask.sum()) / max(area, 1), int((sizes > BIG * area).sum())


def bucket_of(side: float) -> str:
    for name, lo, hi in BUCKETS:
        if lo <= side < hi:
            return name
    return BUCKETS[-1][0]


def image_regions(item: Item, dets: Detections, pad: float) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Exactly the regions `redact run` would redact (padding, rounding, clipping) and their labels."""
    built = build_regions(dets, item.width, item.height, padding=pad)
    return built.boxes.astype(np.int64).reshape(-1, 4), built.label


def score_image(item: Item, dets: Detections, pad: float, tallies: dict[str, Tally], set_labels: set[str]) -> None:
    """Add one image's coverage and stray counts to ``tallies`` (per label)."""
    regions, labels = image_regions(item, dets, pad)
    frac = covered_fraction(item.gt, regions)
    for (x1, y1, x2, y2), lbl, f in zip(item.gt, item.gt_label, frac, strict=True):
        t = tallies.setdefault(lbl, Tally())
        b = bucket_of(min(x2 - x1, y2 - y1))
        t.total[b] += 1
        t.covered[b] += int(f >= COVER)
    for lbl in set_labels:
        mine = regions[labels == lbl]
        if not len(mine):
            continue
        t = tallies.setdefault(lbl, Tally())
        gt = item.gt[np.asarray(item.gt_label, object) == lbl] if len(item.gt) else item.gt
        known = item.known[np.asarray(item.known_label, object) == lbl] if len(item.known) else item.known
        t.regions += len(mine)
        on_gt = _touches(mine, gt)
        t.stray += int((~on_gt).sum())
        t.stray_known += int((~(on_gt | _touches(mine, known))).sum())


def _touches(regions: NDArray[np.int64], boxes: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which regions overlap any of ``boxes``."""
    return np.asarray((intersection_matrix(regions, boxes, np.int64) > 0).any(axis=1), bool)


def run(
    sets: Sequence[Path],
    *,
    quality: str,
    pad: float,
    thresholds: dict[str, float],
    sweep: Sequence[float],
    limit: int | None,
    threads: int | None,
    own_labels: bool,
    person_heads: bool = False,
    occupants: str = "off",
    degrade: Sequence[str] = (),
    draw: int = 0,
    progress: bool = True,
    orientations: str = "upright",
) -> dict:
    """Run the benchmark; returns the JSON-able results. ``degrade``: names from
    ``bench/degrade.py``; each set is scored again on copies of its pictures degraded so,
    reported per set as ``<set>~<name>`` (the overall figures, sweep and timing are the
    pictures' own). ``orientations``: ``"all"`` or ``"askew"`` looks at each picture turned
    too, as ``redact run`` with that option does (no ``sweep`` then)."""
    if orientations != "upright" and sweep:
        raise ValueError(f"--sweep needs every candidate of one look; it is not run with --orientations {orientations}")
    floor = {lbl: min([thresholds[lbl], *sweep]) for lbl in thresholds}
    loaded = [(folder, load_set(folder)[: limit or None]) for folder in sets]
    all_labels = {lbl for _, items in loaded for it in items for lbl in it.gt_label}
    sets_for: dict[frozenset[str], object] = {}

    def detector_set(labels: set[str]):  # type: ignore[no-untyped-def]
        """The sets `redact run` uses on one picture: small ones' detectors side by side
        (redact.detect.lanes.side_by_side), larger ones' one after another."""
        want = frozenset(labels if own_labels else all_labels | {"face", "plate"})

        def make(per_model: int | None, lanes: int):  # type: ignore[no-untyped-def]
            return build_detector_set(
                faces="face" in want,
                plates="plate" in want,
                person_heads=person_heads,
                occupants=occupants,
                thresholds=floor,
                quality=quality,
                threads=per_model,
                lanes=lanes,
            )

        if want not in sets_for:
            sets_for[want] = side_by_side(make(threads, 1), make, threads, cpu_only=False)
        return sets_for[want]

    levels = sorted(set(sweep)) if sweep else []
    tallies: dict[str, dict[str, Tally]] = {"default": {}}
    for t in levels:
        tallies[f"{t:g}"] = {}
    per_set: dict[str, dict[str, Tally]] = {}
    clutter: dict[str, list[tuple[float, int]]] = {}
    clutter_less: dict[str, list[tuple[float, int]]] = {}  # without occupant regions
    clutter_wide: dict[str, list[list[float]]] = {}  # with only the occupant regions OCCUPANT_WIDTHS wide or more
    times: dict[str, list[float]] = {}
    times_720p: list[float] = []
    for (folder, items), variant in itertools.product(loaded, [None, *degrade]):
        set_labels = {lbl for it in items for lbl in it.gt_label}
        chosen = detector_set(set_labels)
        pick = chosen.for_picture if isinstance(chosen, BySize) else (lambda image, whole=chosen: whole)
        for size in (64, 2048):  # open both sets' sessions before timing
            pick(np.zeros((size, size, 3), np.uint8)).candidates(np.zeros((64, 64, 3), np.uint8))
        name = folder.name if variant is None else f"{folder.name}~{variant}"
        mine = per_set.setdefault(name, {})
        for n, item in enumerate(items):
            image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"cannot read {item.path}")
            if variant is not None:
                image, item = degraded(image, item, variant, seed=n + DRAW_STRIDE * draw)
            ds = pick(image)
            t0 = time.perf_counter()
            if orientations != "upright":
                dets = looking(ds, orientations).detect(image)  # the set's thresholds are these (no sweep)
            else:
                found = ds.per_detector(image, ratio=WITNESS_RATIO)
                dets = ds.decide(found, item.width, item.height, thresholds=thresholds)
            dt = time.perf_counter() - t0
            score_image(item, dets, pad, mine, set_labels)
            regions, region_labels = image_regions(item, dets, pad)
            clutter.setdefault(name, []).append(away_from_objects(item, regions))
            occupant = region_labels == "occupant"
            less = regions[~occupant]
            clutter_less.setdefault(name, []).append(away_from_objects(item, less))
            if occupants != "off":  # how much of the away the small vehicles' zones make
                narrow = occupant[:, None] & ((regions[:, 2] - regions[:, 0])[:, None] < OCCUPANT_WIDTHS[None, :])
                wide = clutter_wide.setdefault(name, [])
                wide.append([away_from_objects(item, regions[~narrow[:, k]])[0] for k in range(len(OCCUPANT_WIDTHS))])
            times.setdefault(name, []).append(dt)
            if variant is None:
                if image.shape[:2] == (720, 1280):
                    times_720p.append(dt)
                score_image(item, dets, pad, tallies["default"], set_labels)
                for t in levels:
                    level = {lbl: t for lbl in thresholds}
                    swept = ds.decide(found, item.width, item.height, thresholds=level)
                    score_image(item, swept, pad, tallies[f"{t:g}"], set_labels)
            if progress and (n + 1) % 50 == 0:
                print(f"  {name}: {n + 1}/{len(items)}", file=sys.stderr)

    def summary(tal: dict[str, Tally]) -> dict:
        out = {}
        for lbl, t in sorted(tal.items()):
            out[lbl] = {
                "recall": t.recall(),
                "recall_ge16": t.recall(["16-32", "32-64", ">=64"]),
                "buckets": {
                    b: {"recall": (t.covered[b] / t.total[b]) if t.total[b] else None, "n": t.total[b]} for b in t.total
                },
                "n": sum(t.total.values()),
                "regions": t.regions,
                "stray": t.stray,
                "stray_rate": t.stray_rate(),
                "stray_known": t.stray_known,
                "stray_known_rate": t.stray_known_rate(),
            }
        return out

    def away_by_width(rows: list[list[float]] | None) -> dict | None:
        if not rows:
            return None
        return {f"{w:g}": float(m) for w, m in zip(OCCUPANT_WIDTHS, np.mean(rows, axis=0), strict=True)}

    def away(rows: list[tuple[float, int]]) -> dict:
        shares = np.array([r[0] for r in rows])
        return {
            "mean_share": float(shares.mean()),
            "max_share": float(shares.max()),
            "large_regions": int(sum(r[1] for r in rows)),
        }

    return {
        "quality": quality,
        "pad": pad,
        "thresholds": thresholds,
        "own_labels_only": own_labels,
        "person_heads": person_heads,
        "occupants": occupants,
        "degrade": list(degrade),
        "draw": draw,
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "sets": [str(s) for s in sets],
        "images": sum(len(i) for _, i in loaded),
        "results": summary(tallies["default"]),
        "per_set": {
            name: {
                "images": len(clutter[name]),
                "labels": summary(t),
                "away": away(clutter[name]),
                "away_without_occupants": away(clutter_less[name]),
                "away_occupants_from_width": away_by_width(clutter_wide.get(name)),
            }
            for name, t in per_set.items()
        },
        "sweep": {k: summary(v) for k, v in tallies.items() if k != "default"},
        "seconds_per_image": {k: float(np.mean(v)) for k, v in times.items()},
        "seconds_per_1280x720": float(np.mean(times_720p)) if times_720p else None,
        "n_1280x720": len(times_720p),
    }


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _rows(results: dict, name: str) -> None:
    for lbl, r in results.items():
        cells = " ".join(f"{_fmt(r['buckets'][b[0]]['recall']):>6}" for b in BUCKETS)
        print(
            f"{name:30} {lbl:6} {r['n']:>5} {_fmt(r['recall']):>6} {_fmt(r['recall_ge16']):>6} {cells}"
            f" {_fmt(r['stray_rate']):>6} {_fmt(r['stray_known_rate']):>6} {r['regions']:>7}"
        )


def print_table(res: dict) -> None:
    drawn = f" draw={res['draw']}" if res.get("draw") else ""
    print(f"quality={res['quality']} pad={res['pad']} thresholds={res['thresholds']} images={res['images']}{drawn}")
    head = f"{'set':30} {'label':6} {'n':>5} {'all':>6} {'>=16':>6} " + " ".join(f"{b[0]:>6}" for b in BUCKETS)
    print(head + f" {'stray':>6} {'stray*':>6} {'regions':>7}")
    for name, r in res["per_set"].items():
        _rows(r["labels"], name)
    _rows(res["results"], "all sets")
    less = res.get("occupants", "off") != "off"
    print(
        f"{'set':30} {'away mean':>9} {'away max':>9} {'>10% regions':>12}"
        + (f" {'(without occupant regions: mean, max, >10%)':>44}" if less else "")
    )
    for name, r in res["per_set"].items():
        a, b = r["away"], r["away_without_occupants"]
        tail = f" {b['mean_share']:>30.3f} {b['max_share']:>6.3f} {b['large_regions']:>6}" if less else ""
        print(f"{name:30} {a['mean_share']:>9.3f} {a['max_share']:>9.3f} {a['large_regions']:>12}{tail}")
    for name, r in res["per_set"].items():
        if r.get("away_occupants_from_width"):
            cells = ", ".join(f">= {w} px {v:.3f}" for w, v in r["away_occupants_from_width"].items())
            print(f"{name:30} away with only the occupant regions as wide as: {cells}")
    print(
        "bucket n: "
        + "; ".join(
            f"{lbl}: " + ",".join(f"{b}={v['n']}" for b, v in r["buckets"].items()) for lbl, r in res["results"].items()
        )
    )
    for k, v in res["seconds_per_image"].items():
        print(f"s/img {k}: {v:.3f}")
    if res["seconds_per_1280x720"] is not None:
        print(f"s/img 1280x720 ({res['n_1280x720']} images): {res['seconds_per_1280x720']:.3f}")
    if res["sweep"]:
        print("sweep (threshold: label all / >=16 / stray)")
        for t, s in res["sweep"].items():
            cells = "  ".join(
                f"{lbl} {_fmt(r['recall'])}/{_fmt(r['recall_ge16'])}/{_fmt(r['stray_rate'])}" for lbl, r in s.items()
            )
            print(f"  {t:>5}: {cells}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="redact detection accuracy benchmark")
    ap.add_argument("sets", nargs="*", type=Path, help="annotated set folders (default: the dev image sets)")
    ap.add_argument("--quality", default="balanced")
    ap.add_argument(
        "--pad", type=float, default=RedactConfig().padding,
        help=f"padding per side, fraction of box size (default: the tool's, {RedactConfig().padding})",
    )
    ap.add_argument("--face-threshold", type=float, default=None)
    ap.add_argument("--plate-threshold", type=float, default=None)
    ap.add_argument("--sweep", default="", help="comma-separated thresholds to score as well")
    ap.add_argument("--limit", type=int, default=None, help="first N images per set")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--own-labels",
        action="store_true",
        help="run only the detectors for each set's labels (faster; timing then understates the tool's)",
    )
    ap.add_argument(
        "--person-heads",
        action="store_true",
        help="also redact the heads of people with no face found, as `redact run` does by default "
        "(runs the COCO network)",
    )
    ap.add_argument(
        "--occupants",
        choices=("off", "people", "windows"),
        default="off",
        help="also run the occupant detector as `redact run --occupants MODE` does (its default is "
        "windows); the away figures then count its regions, and are also given without them",
    )
    ap.add_argument(
        "--degrade",
        default="",
        help="comma-separated degradations (night, jpeg, blur, motion, cast, small, large, anamorphic, framed, "
        "framed1440, framed4k, framed24mp, turned, sideways, upside-down, mirrored, or all; bench/degrade.py): "
        "each set is scored again on degraded copies of its pictures",
    )
    ap.add_argument(
        "--orientations",
        choices=ORIENTATIONS,
        default=RedactConfig().orientations,
        help="'all': look at each picture turned a quarter, a half and three quarters too; 'askew': turned 12 "
        "degrees either way too; as redact run does",
    )
    ap.add_argument(
        "--draw",
        type=int,
        default=0,
        help="which draw of the degradations' random parts (noise, a streak's angle) to score; 0: the usual one",
    )
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "accuracy.json")
    args = ap.parse_args(argv)

    sets = args.sets or [DEV / s for s in DEFAULT_SETS]
    missing = [s for s in sets if not (s / "annotations.json").is_file()]
    if missing:
        raise SystemExit(f"no annotations.json in {', '.join(map(str, missing))}")
    thresholds = dict(DEFAULT_THRESHOLDS)
    if args.face_threshold is not None:
        thresholds["face"] = args.face_threshold
    if args.plate_threshold is not None:
        thresholds["plate"] = args.plate_threshold
    sweep = [float(x) for x in args.sweep.split(",") if x.strip()]
    if args.orientations == "all" and sweep:
        raise SystemExit("--sweep is not run with --orientations all")
    try:
        degrade = parse_degradations(args.degrade)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    res = run(
        sets,
        quality=args.quality,
        pad=args.pad,
        thresholds=thresholds,
        sweep=sweep,
        limit=args.limit,
        threads=args.threads,
        own_labels=args.own_labels,
        person_heads=args.person_heads,
        occupants=args.occupants,
        degrade=degrade,
        draw=args.draw,
        orientations=args.orientations,
    )
    print_table(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
