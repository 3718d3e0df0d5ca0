"""Two-line plates made from the dev sets' one-line plates.

Usage::

    python bench/stacked.py SET_DIR [--min-width 40] [--min-aspect 3.5] [--only-restacked] [--out DIR]
    python bench/accuracy.py DIR --own-labels

Square European plates, motorcycle plates everywhere and many Asian plates carry their
characters in two lines ("BIM" over "MIAN", "京A" over "12345"); the dev sets hold none.
This bench copies a set's pictures with every labelled plate at least ``--min-width`` px
wide and ``--min-aspect`` times as wide as high (a European plate's line, 4.7:1, which
makes a plate of about 1.2:1, as square plates are; a US plate, 2:1, would make one taller
than wide, as no plate is) restacked: cut between two characters near its middle (the
column of least contrast in its middle fifth), its left half set over its right half,
centred where the plate was, the plate's old place filled with its ground (its median
colour). Each restacked plate is labelled where it now lies; other plates stay as they are
and keep their labels (with ``--only-restacked`` they lose them: the recall
``bench/accuracy.py`` gives is then the restacked plates' alone, and its stray figure means
nothing). The copies and an ``annotations.json`` in the dev sets' format go to ``DIR``
(default ``bench/results/stacked-<set>/``) for ``bench/accuracy.py --own-labels``. The
characters are the dev sets' own, so this measures how the tool takes plates in two lines,
not new plates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import ROOT, Item, load_set  # noqa: E402

MIDDLE = (0.4, 0.6)  # where along a plate's width it is cut: the column of least contrast here


def cut_column(plate: NDArray[np.uint8]) -> int:
    """Where to cut a plate crop (BGR) in two: the column in its :data:`MIDDLE` whose grey
    values vary least (a gap between characters)."""
    grey = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY).astype(np.float32)
    w = grey.shape[1]
    lo, hi = int(w * MIDDLE[0]), max(int(w * MIDDLE[0]) + 1, int(np.ceil(w * MIDDLE[1])))
    return lo + int(np.argmin(grey[:, lo:hi].std(axis=0)))


def restacked(plate: NDArray[np.uint8], ground: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A one-line plate crop (BGR) as a two-line plate: its left half over its right half,
    the narrower half widened with the plate's ``ground`` (BGR) at its right."""
    cut = cut_column(plate)
    left, right = plate[:, :cut], plate[:, cut:]
    wide = max(left.shape[1], right.shape[1])

    def widened(half: NDArray[np.uint8]) -> NDArray[np.uint8]:
        out = np.empty((half.shape[0], wide, 3), np.uint8)
        out[:] = ground
        out[:, : half.shape[1]] = half
        return out

    return np.vstack([widened(left), widened(right)])


def restack(
    image: NDArray[np.uint8], item: Item, min_width: int, min_aspect: float, only_restacked: bool = False
) -> tuple[NDArray[np.uint8], list[dict]]:
    """``image`` with ``item``'s plates at least ``min_width`` px wide and ``min_aspect``
    times as wide as high restacked, and every labelled box where it now lies (dev-README
    format; with ``only_restacked``, the restacked plates' alone)."""
    out = image.copy()
    h, w = image.shape[:2]
    boxes = []
    for (x0, y0, x1, y1), label in zip(item.gt.tolist(), item.gt_label, strict=True):
        if label != "plate" or x1 - x0 < min_width or x1 - x0 < min_aspect * (y1 - y0) or y1 <= y0:
            if not only_restacked:
                boxes.append({"label": label, "x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0})
            continue
        plate = image[y0:y1, x0:x1]
        ground = np.median(plate.reshape(-1, 3), axis=0).astype(np.uint8)
        out[y0:y1, x0:x1] = ground
        two = restacked(plate, ground)
        ph, pw = two.shape[:2]
        nx0, ny0 = (x0 + x1 - pw) // 2, (y0 + y1 - ph) // 2
        ax0, ay0, ax1, ay1 = max(nx0, 0), max(ny0, 0), min(nx0 + pw, w), min(ny0 + ph, h)
        out[ay0:ay1, ax0:ax1] = two[ay0 - ny0 : ay1 - ny0, ax0 - nx0 : ax1 - nx0]
        boxes.append({"label": "plate", "x": ax0, "y": ay0, "w": ax1 - ax0, "h": ay1 - ay0, "orig_label": "restacked"})
    return out, boxes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", type=Path, help="an annotated set folder (dev-README format)")
    ap.add_argument("--min-width", type=int, default=40, help="restack plates at least this wide, px (default 40)")
    ap.add_argument("--min-aspect", type=float, default=3.5,
                    help="restack plates at least this many times as wide as high (default 3.5)")
    ap.add_argument("--only-restacked", action="store_true", help="label the restacked plates alone")
    ap.add_argument("--out", type=Path, default=None, help="default: bench/results/stacked-<set>/")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "bench" / "results" / f"stacked-{args.set.name}"
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, restacked_count = [], 0
    for n, item in enumerate(load_set(args.set)):
        image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {item.path}")
        copy, boxes = restack(image, item, args.min_width, args.min_aspect, args.only_restacked)
        restacked_count += sum(b.get("orig_label") == "restacked" for b in boxes)
        name = f"images/{n:04d}_{item.path.stem}.png"
        cv2.imwrite(str(out / name), copy)
        images.append({"file": name, "width": item.width, "height": item.height, "boxes": boxes,
                       "from": str(item.path)})
    data = {"source": {"repo": f"restacked by bench/stacked.py from {args.set.name}", "min_width": args.min_width,
                          "min_aspect": args.min_aspect, "only_restacked": args.only_restacked},
            "images": images}
    (out / "annotations.json").write_text(json.dumps(data, indent=1))
    print(f"{len(images)} pictures, {restacked_count} plates restacked -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
