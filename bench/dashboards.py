"""Plate-reading dashboards composed afresh: the dashboard set's kind, many times over.

Usage::

    python bench/dashboards.py [--count 120] [--seed 1] [--frames DEGRADATION] [--theme dark|light|white|black]
                               [--zoom-plate 390] [--layout dev|mirrored|grid|strip] [--out DIR]
    python bench/accuracy.py DIR --own-labels

The dev dashboard set is 30 screenshots, each a wide frame, a zoomed crop of that frame's
largest plate and a second vehicle frame on a flat interface under a header line; 30
zoomed crops are few for a target of every one covered. Footage of this kind from other
hands is composed the same way from other pictures. This bench composes ``--count`` such
1920x1080 screenshots from the dev dash-cam and openalpr pictures in the dev set's layout
(read off its screenshots: the wide frame fitted to 1180x980 at (24, 80); the zoomed crop
660 px wide at (1230, 90), the plate 390 px wide with 0.35 of its width and 0.6 of its
height around it, at most 430 px high; the second frame fitted to 660x412 at (1230, 560);
a 57-px header with a violation number and a camera number), every plate of the pictures
labelled where it lands, and writes them with an ``annotations.json`` in the dev sets'
format to ``DIR`` (default ``bench/results/dashboards/``), for ``bench/accuracy.py``.
Wide frames alternate between the two sets; the pairs are drawn from ``--seed``. The
pictures are the dev sets' own, so this measures how the tool takes new compositions and
zoomed crops of plates the dashboard set does not zoom, not new pictures.

``--theme`` draws the interface in other colours: ``dark`` (the dev set's, the default),
``light`` (a light grey ground), ``white`` (a web page's) or ``black``; other systems'
dashboards are drawn so, and a ground near black or white is one the tool must not take for
a night sky's or a burnt-out one's flat band (``redact/detect/panels.py``). ``--zoom-plate``
sets how wide the zoomed plate is in its crop (the dev set's 390 px by default): systems
zoom less or more. ``--layout`` moves the panels: ``mirrored`` (the zoomed crop and the
second frame on the left), ``grid`` (four panels: both frames above, a zoomed crop of each
one's largest plate below) or ``strip`` (a wide frame across the top, and under it a row of
small panels: a crop of each frame's plate and the second frame).

``--frames NAME`` degrades every picture by ``bench/degrade.py``'s ``NAME`` before it is
composed (default ``DIR``: ``bench/results/dashboards-NAME/``): dashboards of darker,
noisier or softer footage, the zoomed crop enlarging the degraded frame, the interface
drawn as it is. ``bench/accuracy.py --degrade NAME`` on the plain composed set degrades the
whole screenshot, interface included; the same pairs are drawn either way.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DEV, ROOT, Item, load_set  # noqa: E402
from degrade import DEGRADATIONS  # noqa: E402

SIZE = (1920, 1080)
HEADER_HIGH = 57


class Theme(NamedTuple):
    """An interface's colours (BGR): its flat ground, its header's top and bottom rows, and
    the header's text."""

    ground: tuple[int, int, int]
    header: tuple[tuple[int, int, int], tuple[int, int, int]]
    text: tuple[int, int, int]


# ``dark`` is the dev set's (read off its screenshots); other systems' dashboards are drawn
# light, on a web page's white or on black.
THEMES = {
    "dark": Theme((38, 33, 30), ((69, 51, 40), (66, 50, 43)), (242, 238, 236)),
    "light": Theme((240, 240, 240), ((226, 222, 218), (220, 216, 212)), (40, 40, 40)),
    "white": Theme((255, 255, 255), ((250, 246, 242), (244, 238, 232)), (30, 30, 30)),
    "black": Theme((0, 0, 0), ((20, 20, 20), (14, 14, 14)), (220, 220, 220)),
}
Rect = tuple[int, int, int, int]  # x, y, largest width and height


class Layout(NamedTuple):
    """Where an interface puts its panels: the wide frame, the second frame, and zoomed
    crops, each of the largest plate of the frame it names (``wide`` or ``second``)."""

    wide: Rect
    second: Rect
    zooms: tuple[tuple[Rect, str], ...]


WIDE = (24, 80, 1180, 980)
ZOOM = (1230, 90, 660, 430)
ZOOM_PLATE_WIDE = 390
ZOOM_MARGIN = (0.346, 0.6)  # context around the zoomed plate: shares of its width, height
SECOND = (1230, 560, 660, 412)
# ``dev`` is the dev set's; other systems put the zoomed crop on the left, show a crop of each
# frame's plate in a grid, or set the crops in a row of small panels under a wide frame.
LAYOUTS = {
    "dev": Layout(WIDE, SECOND, ((ZOOM, "wide"),)),
    "mirrored": Layout((716, 80, 1180, 980), (30, 560, 660, 412), (((30, 90, 660, 430), "wide"),)),
    "grid": Layout(
        (24, 80, 924, 480), (972, 80, 924, 480),
        (((24, 590, 924, 470), "wide"), ((972, 590, 924, 470), "second")),
    ),
    "strip": Layout(
        (24, 80, 1872, 690), (1336, 800, 560, 260),
        (((24, 800, 620, 260), "wide"), ((680, 800, 620, 260), "second")),
    ),
}
SOURCES = ("plates-romania-dashcam", "plates-openalpr-us-eu")


def fitted(image: NDArray[np.uint8], width: int, height: int) -> tuple[NDArray[np.uint8], float]:
    """``image`` scaled to fit ``width`` x ``height`` (either way), and the scale."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp), scale


def zoomed(
    image: NDArray[np.uint8], plate: NDArray[np.int64], plate_wide: int = ZOOM_PLATE_WIDE, panel: Rect = ZOOM
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The zoomed crop of ``plate`` (xyxy in ``image``) for ``panel``, the plate ``plate_wide``
    px wide in it, and the plate's box in it."""
    x0, y0, x1, y1 = (int(v) for v in plate)
    w, h = x1 - x0, y1 - y0
    scale = plate_wide / w
    mx = panel[2] / scale / 2 - w / 2  # the panel's width around the plate, in source pixels
    my = min(ZOOM_MARGIN[1] * h, max(0.0, (panel[3] / scale - h) / 2))
    cx0, cy0 = int(round(x0 - mx)), int(round(y0 - my))
    cx1, cy1 = int(round(x1 + mx)), int(round(y1 + my))
    ih, iw = image.shape[:2]
    pad = max(0, -cx0, -cy0, cx1 - iw, cy1 - ih)
    src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0)) if pad else image
    crop = src[cy0 + pad : cy1 + pad, cx0 + pad : cx1 + pad]
    out_h = min(panel[3], max(1, round(crop.shape[0] * scale)))
    crop = cv2.resize(crop, (panel[2], out_h), interpolation=cv2.INTER_CUBIC)
    sy = out_h / (cy1 - cy0)
    box = np.array([(x0 - cx0) * scale, (y0 - cy0) * sy, (x1 - cx0) * scale, (y1 - cy0) * sy])
    return crop, np.round(box).astype(np.int64)


def header(canvas: NDArray[np.uint8], rng: np.random.Generator, theme: Theme) -> None:
    """The header band and its line: system, violation number, camera."""
    top, bottom = (np.array(c, np.float32) for c in theme.header)
    ramp = np.linspace(0, 1, HEADER_HIGH, dtype=np.float32)[:, None]
    canvas[:HEADER_HIGH] = (top + (bottom - top) * ramp).astype(np.uint8)[:, None, :]
    text = (f"Intelligent traffic management  |  violation 2025-{rng.integers(100000, 1000000)}  |  "
            f"camera {rng.integers(1, 100)}")
    pil = Image.fromarray(canvas[:HEADER_HIGH, :, ::-1].copy())
    ImageDraw.Draw(pil).text((24, 14), text, font=ImageFont.load_default(size=26), fill=theme.text[::-1])
    canvas[:HEADER_HIGH] = np.asarray(pil)[:, :, ::-1]


def paste(canvas: NDArray[np.uint8], picture: NDArray[np.uint8], x: int, y: int) -> None:
    h, w = picture.shape[:2]
    canvas[y : y + h, x : x + w] = picture


def largest(boxes: NDArray[np.int64]) -> NDArray[np.int64]:
    """The largest of ``boxes`` (xyxy, (N, 4)): the plate a dashboard zooms."""
    return boxes[int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))]


def moved(boxes: NDArray[np.int64], scale: float, x: int, y: int) -> NDArray[np.int64]:
    return (np.round(boxes * scale) + np.array([x, y, x, y])).astype(np.int64)


def read(item: Item, frames: str | None, rng: np.random.Generator | None) -> tuple[NDArray[np.uint8], Item]:
    """An item's picture, degraded by ``frames`` when given (drawing from ``rng``, or a
    generator seeded 0), and the item with its boxes where they land."""
    image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {item.path}")
    if frames is None:
        return image, item
    image, where = DEGRADATIONS[frames](image, rng if rng is not None else np.random.default_rng(0))
    gt = np.round(where.xyxy(item.gt)).astype(np.int64).reshape(-1, 4)
    return image, replace(item, gt=gt, width=image.shape[1], height=image.shape[0])


def compose(
    wide: Item, second: Item, rng: np.random.Generator, frames: str | None = None,
    frames_rng: np.random.Generator | None = None, theme: Theme = THEMES["dark"],
    plate_wide: int = ZOOM_PLATE_WIDE, layout: Layout = LAYOUTS["dev"],
) -> tuple[NDArray[np.uint8], list[dict]]:
    """One screenshot and its plate boxes (dev-annotation dicts); its pictures degraded by
    ``frames`` (drawing from ``frames_rng``) when given, the interface in ``theme``'s colours
    and ``layout``'s panels, the zoomed plates ``plate_wide`` px wide."""
    canvas = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
    canvas[:] = theme.ground
    header(canvas, rng, theme)
    framed = {}  # each frame's picture, item and plate boxes on the canvas
    for name, item, rect in (("wide", wide, layout.wide), ("second", second, layout.second)):
        image, item = read(item, frames, frames_rng)
        pic, s = fitted(image, rect[2], rect[3])
        paste(canvas, pic, rect[0], rect[1])
        framed[name] = image, item, moved(item.gt, s, rect[0], rect[1])
    crops = []
    for rect, name in layout.zooms:
        image, item, _ = framed[name]
        crop, box = zoomed(image, largest(item.gt), plate_wide, rect)
        paste(canvas, crop, rect[0], rect[1])
        crops.append(box[None] + np.array([rect[0], rect[1], rect[0], rect[1]]))
    out = []
    for x0, y0, x1, y1 in np.concatenate([framed["wide"][2], *crops, framed["second"][2]]):
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(SIZE[0], int(x1)), min(SIZE[1], int(y1))
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            out.append({"label": "plate", "x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0})
    return canvas, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=120, help="screenshots to compose (default 120)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--frames", choices=sorted(DEGRADATIONS), default=None,
                    help="degrade every picture so before composing it (bench/degrade.py)")
    ap.add_argument("--theme", choices=sorted(THEMES), default="dark",
                    help="the interface's colours (default: dark, the dev set's)")
    ap.add_argument("--zoom-plate", type=int, default=ZOOM_PLATE_WIDE,
                    help=f"the zoomed plate's width in its crop, px (default {ZOOM_PLATE_WIDE}, the dev set's)")
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="dev",
                    help="where the panels sit (default: dev, the dev set's)")
    ap.add_argument("--out", type=Path, default=None,
                    help="default: bench/results/dashboards/, with -FRAMES, -THEME, -zZOOM and -LAYOUT "
                         "for the options given")
    args = ap.parse_args(argv)
    if args.out is None:
        zoom = None if args.zoom_plate == ZOOM_PLATE_WIDE else f"z{args.zoom_plate}"
        layout = None if args.layout == "dev" else args.layout
        tail = "".join(f"-{v}" for v in (args.frames, None if args.theme == "dark" else args.theme, zoom, layout) if v)
        args.out = ROOT / "bench" / "results" / f"dashboards{tail}"
    pools = [[it for it in load_set(DEV / name) if len(it.gt)] for name in SOURCES]
    everything = [it for pool in pools for it in pool]
    rng = np.random.default_rng(args.seed)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    images = []
    for n in range(args.count):
        pool = pools[n % len(pools)]
        wide = pool[rng.integers(len(pool))]
        second = everything[rng.integers(len(everything))]
        while second.path == wide.path:
            second = everything[rng.integers(len(everything))]
        canvas, boxes = compose(
            wide, second, rng, args.frames, np.random.default_rng([args.seed, n]), THEMES[args.theme],
            args.zoom_plate, LAYOUTS[args.layout],
        )
        name = f"images/composed_{n:03d}.jpg"
        cv2.imwrite(str(args.out / name), canvas, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append({"file": name, "width": SIZE[0], "height": SIZE[1], "boxes": boxes,
                       "from": [str(wide.path.relative_to(DEV)), str(second.path.relative_to(DEV))]})
    data = {
        "source": {"repo": "composed by bench/dashboards.py from " + " and ".join(SOURCES), "seed": args.seed,
                   "frames": args.frames, "theme": args.theme, "zoom_plate": args.zoom_plate,
                   **({"layout": args.layout} if args.layout != "dev" else {})},
        "images": images,
    }
    (args.out / "annotations.json").write_text(json.dumps(data, indent=1))
    print(f"{len(images)} screenshots, {sum(len(im['boxes']) for im in images)} plates -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
