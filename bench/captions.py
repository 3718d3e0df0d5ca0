"""Plates printed in a dashboard's captions: are the strings redacted, and nothing else?

A plate-reading system's dashboard prints the plate it read next to the pictures ("Plate:
B 320 WTW"), and that string identifies the car as the plate itself does. This bench draws
such captions onto the dev dashboard screenshots (``../shared/data/dev/plates-dashboard``,
relative to the repository root), where their flat UI ground is, and scores what `redact
run`'s plate detectors redact there:

- *strings covered*: captions whose plate string lies at least 80 % inside redacted regions
  (``bench/accuracy.py``'s coverage), per caption style and text size;
- *caption away*: the share of each caption's other text (its line less the plate string)
  that is redacted, a caption's words blacked out for nothing.

Captions are drawn with Pillow's own sans-serif font and OpenCV's Hershey fonts, light on
dark and dark on light, 12-30 px high, in the styles of :data:`STYLES`; plate strings are
made up in the formats of :data:`FORMATS`, seeded per picture. With ``--lists``, each
dashboard gets instead a list of its latest reads: :data:`LIST_ROWS` rows stacked close
(plate, date and time, camera), 12-20 px high. Nothing is written into the repository
except the JSON report (``bench/results/``, gitignored).

    .venv/bin/python bench/captions.py
    .venv/bin/python bench/captions.py --lists
    .venv/bin/python bench/captions.py --limit 10 --json bench/results/captions.json
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from accuracy import COVER, WITNESS_RATIO, Item, covered_fraction, image_regions  # noqa: E402

from redact.detect import build_detector_set  # noqa: E402

DASHBOARDS = REPO.parent / "shared" / "data" / "dev" / "plates-dashboard"

# Made-up plates: L a capital, D a digit; spaces and hyphens as printed.
FORMATS = ("L DDD LLL", "LL DD LLL", "LL-DDD-LL", "DLLLDDD", "LLDD LLL", "L LL DDDD", "LLL DDDD", "LDDDLLL")
# A caption around the plate string {p}.
STYLES = {
    "label": "Plate: {p}",
    "read": "Plate read: {p}   confidence 97%",
    "header": "violation 2025-210729 | plate {p} | camera 52",
    "alone": "{p}",
    "time": "{p}  2025-12-01 08:14:03",
}
# ``--lists``: a dashboard's list of its latest reads, LIST_ROWS rows stacked close.
LIST_ROWS = 8
LIST_ROW = "{n:2d}  {p}   2025-12-01 08:{m:02d}:03   cam {c}"


@dataclass(frozen=True)
class Caption:
    """One caption drawn: its style, text height (px), the plate string's box and the
    caption line's box (xyxy source pixels)."""

    style: str
    height: int
    plate: tuple[int, int, int, int]
    line: tuple[int, int, int, int]


def made_up_plate(rng: np.random.Generator) -> str:
    fmt = FORMATS[rng.integers(len(FORMATS))]
    return "".join(
        string.ascii_uppercase[rng.integers(26)] if c == "L" else str(rng.integers(10)) if c == "D" else c for c in fmt
    )


def _pil_text(image: NDArray[np.uint8], text: str, xy: tuple[int, int], size: int, colour: int) -> Callable[[str], int]:
    """Draw with Pillow's font; returns how far a prefix of ``text`` reaches (x, pixels)."""
    font = ImageFont.load_default(size=size)
    pil = Image.fromarray(image[:, :, ::-1])
    ImageDraw.Draw(pil).text(xy, text, font=font, fill=(colour, colour, colour))
    image[:] = np.asarray(pil)[:, :, ::-1]
    return lambda prefix: xy[0] + int(round(font.getlength(prefix)))


def _cv_text(image: NDArray[np.uint8], text: str, xy: tuple[int, int], size: int, colour: int,
             font: int) -> Callable[[str], int]:
    """Draw with a Hershey font whose capitals are ``size`` px high; ``xy`` the top-left."""
    scale = size / cv2.getTextSize("B", font, 1.0, 1)[0][1]
    thick = max(1, round(scale * 1.6))
    cv2.putText(image, text, (xy[0], xy[1] + size), font, scale, (colour,) * 3, thick, cv2.LINE_AA)
    return lambda prefix: xy[0] + cv2.getTextSize(prefix, font, scale, thick)[0][0] if prefix else xy[0]


def flat_rows(image: NDArray[np.uint8], height: int) -> list[int]:
    """Tops of horizontal bands ``height`` px high where the picture is flat from x = 20 to
    x = 900 (the dashboard's ground, its header): where a caption can go."""
    grey = cv2.cvtColor(image[:, 20:900], cv2.COLOR_BGR2GRAY).astype(np.float32)
    flat = grey.std(axis=1) < 6
    tops = []
    y = 0
    while y + height <= len(flat):
        if flat[y : y + height].all():
            tops.append(y)
            y += height
        else:
            y += 1
    return tops


def draw_captions(image: NDArray[np.uint8], rng: np.random.Generator, count: int) -> list[Caption]:
    """Draw up to ``count`` captions on the flat parts of ``image`` (in place)."""
    out: list[Caption] = []
    for _ in range(count):
        size = int(rng.integers(12, 31))
        taken = [(c.line[1] - 4, c.line[3] + 4) for c in out]
        tops = [t for t in flat_rows(image, 2 * size + 4) if not any(a <= t + size <= b for a, b in taken)]
        if not tops:
            break
        top = tops[rng.integers(len(tops))] + 2
        style = list(STYLES)[rng.integers(len(STYLES))]
        plate = made_up_plate(rng)
        kind = int(rng.integers(4))
        xy = (int(rng.integers(20, 200)), top)
        out.append(_draw_line(image, style, STYLES[style].format(p=plate), plate, xy, size, kind))
    return out


def draw_list(image: NDArray[np.uint8], rng: np.random.Generator) -> list[Caption]:
    """Draw a list of the dashboard's latest reads (:data:`LIST_ROWS` rows of
    :data:`LIST_ROW`, 12-20 px high, a quarter of a row apart) on a flat part of ``image``
    (in place); nothing where no part is flat enough."""
    size = int(rng.integers(12, 21))
    step = size + max(3, size // 4)
    tops = flat_rows(image, LIST_ROWS * step + 4)
    if not tops:
        return []
    top, x, kind = tops[rng.integers(len(tops))] + 2, int(rng.integers(20, 200)), int(rng.integers(4))
    out = []
    for row in range(LIST_ROWS):
        plate = made_up_plate(rng)
        text = LIST_ROW.format(n=row + 1, p=plate, m=14 + row, c=int(rng.integers(10, 100)))
        out.append(_draw_line(image, "list", text, plate, (x, top + row * step), size, kind))
    return out


def _draw_line(image: NDArray[np.uint8], style: str, text: str, plate: str, xy: tuple[int, int], size: int,
               kind: int) -> Caption:
    """Draw one line of ``text`` holding ``plate`` at ``xy`` (top-left), capitals ``size`` px
    high, light on a dark ground or dark on a light one; ``kind`` 0 Pillow's font, 1-3 a
    Hershey font."""
    top = xy[1]
    colour = 30 if float(image[top : top + size, 20:900].mean()) > 128 else 235
    if kind == 0:
        reach = _pil_text(image, text, xy, size, colour)
        y0, y1 = top + size // 5, top + size + size // 4  # Pillow's em box: capitals sit lower
    else:
        font = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX)[kind - 1]
        reach = _cv_text(image, text, xy, size, colour, font)
        y0, y1 = top, top + size + 1
    start = text.index(plate)
    plate_box = (reach(text[:start]), y0, reach(text[: start + len(plate)]), y1)
    return Caption(style, size, plate_box, (xy[0], y0, reach(text), y1))


def caption_away(caption: Caption, regions: NDArray[np.int64]) -> float:
    """Share of the caption line outside its plate string that the regions cover."""
    (x0, y0, x1, y1), (px0, _, px1, _) = caption.line, caption.plate
    plate = (max(px0, x0), y0, min(px1, x1), y1)  # the string's part of the line
    area = [(b[2] - b[0]) * (b[3] - b[1]) for b in (caption.line, plate)]
    rest = area[0] - max(0, area[1])
    if rest <= 0:
        return 0.0
    line_cover, plate_cover = covered_fraction(np.asarray([caption.line, plate], np.int64), regions)
    return float(line_cover * area[0] - plate_cover * max(0, area[1])) / rest


def run(
    folder: Path, *, limit: int | None, per_picture: int, seed: int, pad: float = 0.15, lists: bool = False
) -> dict:
    files = sorted((folder / "images").glob("*.jpg"))[: limit or None]
    ds = build_detector_set(faces=False, plates=True)
    rows: list[dict] = []
    for n, path in enumerate(files):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {path}")
        rng = np.random.default_rng(seed + n)
        captions = draw_list(image, rng) if lists else draw_captions(image, rng, per_picture)
        height, width = image.shape[:2]
        found = ds.per_detector(image, ratio=WITNESS_RATIO)
        dets = ds.decide(found, width, height)
        item = Item(set_name="captions", path=path, width=width, height=height, gt=np.zeros((0, 4), np.int64),
                    gt_label=[], known=np.zeros((0, 4), np.int64), known_label=[])
        regions, _ = image_regions(item, dets, pad)
        covered = covered_fraction(np.asarray([c.plate for c in captions], np.int64).reshape(-1, 4), regions)
        for caption, frac in zip(captions, covered, strict=True):
            rows.append({"file": path.name, "style": caption.style, "height": caption.height,
                         "covered": bool(frac >= COVER), "cover": round(float(frac), 3),
                         "away": round(caption_away(caption, regions), 3)})
    return summarise(rows)


def summarise(rows: Sequence[dict]) -> dict:
    def part(sel: Sequence[dict]) -> dict:
        return {"captions": len(sel), "covered": sum(r["covered"] for r in sel),
                "away": round(float(np.mean([r["away"] for r in sel])), 3) if sel else None}

    sizes = {"12-17 px": (12, 18), "18-23 px": (18, 24), "24-30 px": (24, 31)}
    return {
        "all": part(rows),
        "by_style": {s: part([r for r in rows if r["style"] == s]) for s in [*STYLES, "list"]
                     if s != "list" or any(r["style"] == s for r in rows)},
        "by_height": {k: part([r for r in rows if lo <= r["height"] < hi]) for k, (lo, hi) in sizes.items()},
        "missed": [r for r in rows if not r["covered"]],
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N dashboards")
    ap.add_argument("--per-picture", type=int, default=4, help="captions drawn on each dashboard")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lists", action="store_true",
                    help="draw a list of the latest reads (8 stacked rows: plate, date and time, camera) instead")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run(DASHBOARDS, limit=args.limit, per_picture=args.per_picture, seed=args.seed, lists=args.lists)
    print(f"{'captions':18} {'strings covered':>16} {'caption away':>13}")
    for name, r in [("all", res["all"]), *res["by_style"].items(), *res["by_height"].items()]:
        print(f"{name:18} {r['covered']:>7} / {r['captions']:<6} {r['away'] if r['away'] is not None else '-':>13}")
    for r in res["missed"]:
        print(f"  missed: {r['file']} {r['style']} {r['height']} px, {r['cover']:.0%} covered")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
