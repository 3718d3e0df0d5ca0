"""A plate-reading dashboard's screen recording: what a clip of the interface leaves readable.

Usage::

    python bench/recording.py [--feeds 4] [--hold 30] [--seed 1] [--size 1080p|4k] [--layout dev|...]
                              [--set KEY=VALUE ...] [--json bench/results/recording.json]

The material's clips are often recordings of the dashboard itself, exported at 1080p or 4K:
the wide panel plays the live feed, the zoomed crop and the second frame change with each
read (and the header's violation number with them), the rest of the interface stands still.
Watching (the default schedule) looks where the picture changed: the feed's panel on every
frame, the crop and second frame's panels where a read replaces them. This bench composes
such a recording from the dev pictures in ``bench/dashboards.py``'s layout and theme: the
feed closes in on a dash-cam frame for ``--hold`` frames, then cuts to another (a camera
on the move); halfway through each feed shot a new read replaces the zoomed crop (of the
largest plate of a dash-cam frame) and the second frame (a dash-cam or openalpr picture).
So the feed's panel cuts on its own, and the read's panels change on their own. Every plate
of every frame is labelled where it lands. ``--size 4k`` scales each composed frame to
3840x2160 (an interface exported at twice its size).

It redacts the clip with the default settings (``--set`` changes any ``RedactConfig``
setting) and reports, per panel (``feed``, ``crop``, ``second``) and in all, from the frames
sidecar: labelled plates on frames, those not wholly covered (under 0.99 of the box inside
regions) and those left under 0.8 (``exposed``: a readable plate), the least coverage, and
the share of each frame redacted away from every labelled plate (mean and worst: the
dashboard's panels show cars, whose window zones ``--occupants windows`` redacts).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DEV, ROOT, Item, load_set  # noqa: E402
from dashboards import LAYOUTS, SIZE, THEMES, fitted, header, largest, moved, paste, zoomed  # noqa: E402
from schedule import _setting, box_mask, coverage, run  # noqa: E402

FPS = 25
SIZES = {"1080p": 1, "4k": 2}
ZOOM_TO = 0.7  # the feed closes in to this share of its frame over a shot
FEEDS = {"zoom": ZOOM_TO, "still": 1.0}  # --feed: closing in (the camera on the move) or a fixed camera's still
EXPOSED = 0.8  # a plate less covered than this is counted readable, as bench/accuracy.py does
WHOLE = 0.99

Box = list[int]  # x, y, w, h


def feed_view(
    item: Item, image: NDArray[np.uint8], rect: tuple[int, int, int, int], t: float, zoom: float = ZOOM_TO
) -> tuple[NDArray[np.uint8], list[Box]]:
    """The feed's picture at ``t`` (0..1 through its shot: closing in on the largest plate to
    ``zoom`` of the picture; 1.0: standing still) fitted to ``rect``'s size, and its plates'
    boxes in that picture (x, y, w, h)."""
    ih, iw = image.shape[:2]
    x0, y0, x1, y1 = largest(item.gt)
    s = 1.0 + (zoom - 1.0) * t
    w, h = iw * s, ih * s
    x = min(max(0.0, (x0 + x1) / 2 - w / 2), iw - w)
    y = min(max(0.0, (y0 + y1) / 2 - h / 2), ih - h)
    _, scale = fitted(image, rect[2], rect[3])
    out_w, out_h = round(iw * scale), round(ih * scale)
    k = out_w / w
    m = np.array([[k, 0, -x * k], [0, out_h / h, -y * out_h / h]], np.float64)
    pic = cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    boxes = []
    for bx0, by0, bx1, by1 in item.gt:
        cx0, cy0 = max(0.0, (bx0 - x) * k), max(0.0, (by0 - y) * out_h / h)
        cx1, cy1 = min(out_w, (bx1 - x) * k), min(out_h, (by1 - y) * out_h / h)
        if cx1 - cx0 >= 2 and cy1 - cy0 >= 2:
            boxes.append([round(cx0), round(cy0), round(cx1 - cx0), round(cy1 - cy0)])
    return pic, boxes


def compose(
    dashcam: list[Item],
    others: list[Item],
    feeds: int,
    hold: int,
    seed: int,
    layout: str = "dev",
    theme: str = "dark",
    feed: str = "zoom",
) -> tuple[list[NDArray[np.uint8]], list[list[tuple[str, Box]]]]:
    """The recording's 1920x1080 frames and, per frame, its labelled plates as (panel, box):
    the feed's shots and the zoomed crops drawn from ``dashcam``, the second frames from
    ``others`` (items with a plate each); ``feed``: ``zoom`` (the feed closes in on its
    picture) or ``still``."""
    lay, colours = LAYOUTS[layout], THEMES[theme]
    rng = np.random.default_rng(seed)
    shots = [dashcam[i] for i in rng.choice(len(dashcam), feeds, replace=False)]
    reads = [(dashcam[rng.integers(len(dashcam))], others[rng.integers(len(others))]) for _ in range(feeds + 1)]
    pictures = {it.path: cv2.imread(str(it.path), cv2.IMREAD_COLOR) for it in [*shots, *(i for r in reads for i in r)]}
    frames, truth = [], []
    read_at = -1
    read_canvas = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
    read_boxes: list[tuple[str, Box]] = []
    for n in range(feeds * hold):
        shot, t = divmod(n, hold)
        r = (n + hold // 2) // hold  # reads change halfway through each feed shot
        if r != read_at:  # a new read: header, zoomed crop and second frame
            read_at = r
            read_canvas[:] = colours.ground
            header(read_canvas, rng, colours)
            crop_item, second_item = reads[r]
            read_boxes = []
            for rect, name in lay.zooms:  # the read's crop, and in a grid or strip the second frame's too
                item = crop_item if name == "wide" else second_item
                crop, (bx0, by0, bx1, by1) = zoomed(pictures[item.path], largest(item.gt), panel=rect)
                paste(read_canvas, crop, rect[0], rect[1])
                read_boxes.append(("crop", [rect[0] + int(bx0), rect[1] + int(by0), int(bx1 - bx0), int(by1 - by0)]))
            rect = lay.second
            pic, s = fitted(pictures[second_item.path], rect[2], rect[3])
            paste(read_canvas, pic, rect[0], rect[1])
            for bx0, by0, bx1, by1 in moved(second_item.gt, s, rect[0], rect[1]).tolist():
                read_boxes.append(("second", [bx0, by0, bx1 - bx0, by1 - by0]))
        canvas = read_canvas.copy()
        rect = lay.wide
        pic, boxes = feed_view(shots[shot], pictures[shots[shot].path], rect, t / max(1, hold - 1), FEEDS[feed])
        paste(canvas, pic, rect[0], rect[1])
        frames.append(canvas)
        truth.append([("feed", [rect[0] + x, rect[1] + y, w, h]) for x, y, w, h in boxes] + read_boxes)
    return frames, truth


def write(frames: list[NDArray[np.uint8]], path: Path, scale: int) -> None:
    tb = Fraction(1, FPS)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"crf": "16", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = SIZE[0] * scale, SIZE[1] * scale, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        for n, pic in enumerate(frames):
            if scale != 1:
                pic = cv2.resize(pic, (SIZE[0] * scale, SIZE[1] * scale), interpolation=cv2.INTER_CUBIC)
            vf = av.VideoFrame.from_ndarray(pic, format="bgr24")
            vf.pts, vf.time_base = n, tb
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))


def measure(truth: list[list[tuple[str, Box]]], got: dict[int, list[dict]], scale: int) -> dict[str, dict]:
    """Per panel and in all: plates on frames, not wholly covered, exposed, least coverage;
    and the away share of each frame."""
    size = (SIZE[0] * scale, SIZE[1] * scale)
    rows: dict[str, dict] = {}
    away = []
    for f, plates in enumerate(truth):
        regions = [r["box"] for r in got.get(f, [])]
        scaled = [(panel, [v * scale for v in box]) for panel, box in plates]
        for panel, box in scaled:
            c = coverage(box, regions, size)
            for key in (panel, "all"):
                row = rows.setdefault(key, {"plates": 0, "not_whole": 0, "exposed": 0, "least": 1.0, "exposed_at": []})
                row["plates"] += 1
                row["not_whole"] += c < WHOLE
                row["exposed"] += c < EXPOSED
                row["least"] = round(min(row["least"], c), 3)
                if c < EXPOSED and key != "all":
                    row["exposed_at"].append([f, box, round(c, 3)])
        objects = box_mask((b for _, b in scaled), size)
        away.append(float((box_mask(regions, size) & ~objects).mean()))
    rows["all"]["away_mean"] = round(float(np.mean(away)), 4)
    rows["all"]["away_worst"] = round(max(away), 4)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=4, help="feed shots (default 4), a read in each")
    ap.add_argument("--hold", type=int, default=30, help="frames per feed shot and per read (default 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", choices=sorted(SIZES), default="1080p")
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="dev")
    ap.add_argument("--theme", choices=sorted(THEMES), default="dark")
    ap.add_argument(
        "--feed",
        choices=sorted(FEEDS),
        default="zoom",
        help="the feed closes in on its picture (zoom, the default) or stands still between cuts",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a RedactConfig setting, e.g. keyframe_seconds=0 (VALUE read as JSON when it parses)",
    )
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "recording.json")
    args = ap.parse_args(argv)
    if not (DEV / "plates-romania-dashcam").is_dir():
        print(f"dev data not found at {DEV}; check out ../shared next to the repository", file=sys.stderr)
        return 2
    scale = SIZES[args.size]
    dashcam = [it for it in load_set(DEV / "plates-romania-dashcam") if len(it.gt)]
    others = dashcam + [it for it in load_set(DEV / "plates-openalpr-us-eu") if len(it.gt)]
    frames, truth = compose(dashcam, others, args.feeds, args.hold, args.seed, args.layout, args.theme, args.feed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = work / "in" / "recording.mp4"
        clip.parent.mkdir(parents=True)
        write(frames, clip, scale)
        got, seconds, entry = run(clip, work, **dict(_setting(s) for s in args.set))
    rows = measure(truth, got, scale)
    result = {
        "feeds": args.feeds,
        "hold": args.hold,
        "seed": args.seed,
        "size": args.size,
        "layout": args.layout,
        "theme": args.theme,
        "feed": args.feed,
        "settings": args.set,
        "frames": len(frames),
        "seconds_per_frame": round(seconds / len(frames), 3),
        "looks": entry.get("looks"),
        "panels": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"{len(frames)} frames at {args.size}, {seconds / len(frames):.2f} s a frame")
    for key, row in rows.items():
        extra = f", away {row['away_mean']:.1%} / {row['away_worst']:.1%}" if key == "all" else ""
        print(
            f"{key:7s} plates {row['plates']:4d}  not whole {row['not_whole']:3d}  exposed {row['exposed']:3d}  "
            f"least {row['least']:.3f}{extra}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
