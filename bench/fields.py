"""Interlaced frames: what the detectors find in the woven frame against field by field.

Usage::

    python bench/fields.py [SET_DIR ...] [--shifts 0,4,10] [--limit N] [--json PATH]

Each picture of an annotated set (dev-README format; by default the dash-cam and dashboard
plate sets) becomes an interlaced frame whose two fields were taken a field's time apart
while the picture moved ``shift`` px to the right (a pan, or traffic crossing the view):
the top field's rows are the picture moved by ``shift``, the bottom field's the picture as
it is. A player deinterlaces and shows each field whole, so an object counts as covered
only when at least 80 % of its box is redacted at both places. The set's own detectors
(plates for plate sets, faces for face sets, ``balanced``) look at the woven frame, as a
progressive frame is looked at, and field by field, as the tool looks at interlaced video
(:class:`redact.video.fields.BothFields`); regions are built as a run builds them.
Reported per set and shift: objects covered at both places, regions, seconds per picture.
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
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from accuracy import COVER, DEV, covered_fraction, image_regions, load_set  # noqa: E402

from redact.config import RedactConfig  # noqa: E402
from redact.detect import DEFAULT_THRESHOLDS, build_detector_set  # noqa: E402
from redact.video.fields import BothFields  # noqa: E402

DEFAULT_SETS = ("plates-romania-dashcam", "plates-dashboard")


def interlaced(image: NDArray[np.uint8], shift: int) -> NDArray[np.uint8]:
    """``image`` woven with itself moved ``shift`` px right in its even (top field) rows."""
    moved = cv2.warpAffine(
        image, np.float32([[1, 0, shift], [0, 1, 0]]), (image.shape[1], image.shape[0]),
        borderMode=cv2.BORDER_REPLICATE,
    )
    frame = image.copy()
    frame[0::2] = moved[0::2]
    return frame


def run(sets: Sequence[Path], shifts: Sequence[int], limit: int | None, pad: float) -> dict:
    out: dict = {}
    for folder in sets:
        items = load_set(folder)[: limit or None]
        labels = {lbl for it in items for lbl in it.gt_label}
        woven = build_detector_set(
            faces="face" in labels, plates="plate" in labels, person_heads=False, occupants="off",
            thresholds=DEFAULT_THRESHOLDS, quality="balanced",
        )
        looks = {"woven": woven, "fields": BothFields(woven)}
        for shift in shifts:
            row: dict = {}
            for name, detectors in looks.items():
                covered = total = regions = 0
                seconds = 0.0
                for item in items:
                    image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
                    if image is None:
                        raise SystemExit(f"cannot read {item.path}")
                    frame = interlaced(image, shift)
                    t0 = time.perf_counter()
                    dets = detectors.detect(frame)
                    seconds += time.perf_counter() - t0
                    boxes, _ = image_regions(item, dets, pad)
                    regions += len(boxes)
                    for label in labels:
                        gt = item.gt[[lbl == label for lbl in item.gt_label]]
                        here = covered_fraction(gt, boxes) >= COVER
                        there = covered_fraction(gt + np.array([shift, 0, shift, 0]), boxes) >= COVER
                        covered += int((here & there).sum())
                        total += len(gt)
                row[name] = {
                    "covered": covered, "objects": total, "recall": covered / max(total, 1),
                    "regions": regions, "seconds_per_picture": seconds / max(len(items), 1),
                }
                print(
                    f"{folder.name:28} shift {shift:>3} {name:7} covered {covered:>4} / {total:<4}"
                    f" {covered / max(total, 1):.3f}  regions {regions:>5}  {seconds / max(len(items), 1):.2f} s",
                    flush=True,
                )
            out.setdefault(folder.name, {})[str(shift)] = row
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="interlaced frames: woven against field by field")
    ap.add_argument("sets", nargs="*", type=Path,
                    help="annotated set folders (default: the dash-cam and dashboard sets)")
    ap.add_argument("--shifts", default="0,4,10", help="comma-separated motion between the fields, px")
    ap.add_argument("--limit", type=int, default=None, help="first N pictures per set")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "fields.json")
    args = ap.parse_args(argv)
    sets = args.sets or [DEV / s for s in DEFAULT_SETS]
    shifts = [int(s) for s in args.shifts.split(",") if s.strip()]
    res = run(sets, shifts, args.limit, RedactConfig().padding)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
