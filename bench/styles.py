"""Can a redacted plate still be read? The `blur` and `pixelate` styles against a text reader.

Usage::

    python bench/styles.py [SET ...] [--styles blur,pixelate] [--json PATH]

For every labelled plate of the plate dev sets (default: dash-cam, dashboard and openalpr), the
plate's box is redacted as a run would (its region padded and clipped as ``redact run`` pads
it) in each style, and PP-OCRv4's recogniser (the one the tool vendors) reads the box before
and after. Only plates it reads clearly before count (at least :data:`LEAST_CHARACTERS`
characters at a confidence of :data:`CLEAR` or more). After redaction, per plate, the
characters read that match the plate's earlier reading in order (longest common
subsequence) are counted. Reported per style: the plates read clearly before, how many still
give 3 or more matching characters after, how many half their characters or more, and the
worst cases.

A reader that reads nothing of a redacted plate is no proof that no person can (people read
blurred text by its shape and a known plate format), so fill, the default, stays the style
for publication; this measures how far the others are from a machine's reach.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from accuracy import DEV, load_set  # noqa: E402

from redact.config import RedactConfig  # noqa: E402
from redact.detect.reading import TextReader  # noqa: E402
from redact.render.regions import build as build_regions  # noqa: E402
from redact.render.styles import BlurStyle, PixelateStyle, Style  # noqa: E402
from redact.types import Detections  # noqa: E402

SETS = ("plates-romania-dashcam", "plates-dashboard", "plates-openalpr-us-eu")
STYLES: dict[str, Style] = {"blur": BlurStyle(), "pixelate": PixelateStyle()}
LEAST_CHARACTERS = 4
CLEAR = 0.8


def matched(before: str, after: str) -> int:
    """Characters of ``after`` that match ``before`` in order (longest common subsequence)."""
    row = [0] * (len(after) + 1)
    for a in before:
        prev = 0
        for j, b in enumerate(after, 1):
            prev, row[j] = row[j], prev + 1 if a == b else max(row[j], row[j - 1])
    return row[-1]


def run(sets: Sequence[Path], styles: Sequence[str], padding: float) -> dict:
    reader = TextReader()
    found: dict[str, list[dict]] = {name: [] for name in styles}
    for folder in sets:
        for item in load_set(folder):
            plates = item.gt[np.asarray(item.gt_label, object) == "plate"].astype(np.float32)
            if not len(plates):
                continue
            image = cv2.imread(str(item.path))
            before = reader.read(image, plates)
            clear = [i for i, r in enumerate(before) if len(r.text) >= LEAST_CHARACTERS and r.confidence >= CLEAR]
            if not clear:
                continue
            dets = Detections.from_arrays(plates, np.ones(len(plates), np.float32), "plate", "detector")
            regions = build_regions(dets, item.width, item.height, padding=padding)
            for name in styles:
                after = reader.read(STYLES[name].apply(image, regions), plates)
                for i in clear:
                    found[name].append({
                        "file": f"{folder.name}/{item.path.name}", "height": int(plates[i, 3] - plates[i, 1]),
                        "before": before[i].text, "after": after[i].text,
                        "matched": matched(before[i].text, after[i].text), "of": len(before[i].text),
                    })
    out: dict = {"padding": padding, "least_characters": LEAST_CHARACTERS, "clear": CLEAR, "styles": {}}
    for name, rows in found.items():
        rows.sort(key=lambda r: (-r["matched"], r["file"]))
        out["styles"][name] = {
            "plates": len(rows),
            "three_or_more": sum(r["matched"] >= 3 for r in rows),
            "half_or_more": sum(2 * r["matched"] >= r["of"] for r in rows),
            "worst": rows[:5],
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", type=Path, help="plate set folders (default: the dev plate sets)")
    ap.add_argument("--styles", default=",".join(STYLES), help="comma-separated: blur, pixelate")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "styles.json")
    args = ap.parse_args(argv)
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    unknown = [s for s in styles if s not in STYLES]
    if unknown:
        raise SystemExit(f"unknown style(s) {', '.join(unknown)}; choose from {', '.join(STYLES)}")
    sets = args.sets or [DEV / s for s in SETS]
    res = run(sets, styles, RedactConfig().padding)
    for name, r in res["styles"].items():
        print(f"{name:9} plates read clearly before {r['plates']:4}; after: 3+ characters matched "
              f"{r['three_or_more']}, half or more {r['half_or_more']}")
        for w in r["worst"][:3]:
            print(f"  {w['file']} ({w['height']} px): {w['before']!r} -> {w['after']!r}, {w['matched']}/{w['of']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
