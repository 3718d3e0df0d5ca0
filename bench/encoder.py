"""Encoder look-ahead: file size, quality, time and peak memory of redact's encoder settings
at several ``--lookahead`` caps (x264 CRF 18, preset medium).

Encodes each clip once per cap with exactly the options redact passes to the encoder
(``EncoderSettings.options``), each in its own process (``bench/speed.py``'s transcode-only
pass: PyAV decode -> encode, audio copied, no detection), and reports per cap: the video
stream's size, mean and worst per-frame PSNR of the luma against the decoded input, wall
seconds and the process's peak RSS (``ru_maxrss``, MiB).

Clips: the two dev videos at their own size (``../shared/data/dev/videos``: real camera
footage, 768x432) and, with ``--sizes``, the 10-s upscales ``bench/speed.py`` makes.

    .venv/bin/python bench/encoder.py                                   # dev videos, caps 10,20,40
    .venv/bin/python bench/encoder.py --sizes 1080p,4k --lookaheads 20,40

Nothing is written into the repository except the JSON report (bench/results/, gitignored).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (bench/speed.py: its clips, transcode pass and process timing)

REPO = Path(__file__).resolve().parent.parent
DEV_VIDEOS = REPO.parent / "shared" / "data" / "dev" / "videos"
CLIPS = ("car-detection.mp4", "one-by-one-person-detection.mp4")


def luma(path: Path, sizes: list[int]) -> Iterator[np.ndarray]:
    """Every video frame's luma (float32 (H, W)); appends each video packet's size to ``sizes``."""
    import av

    with av.open(str(path)) as c:
        for packet in c.demux(video=0):
            sizes.append(packet.size)
            for frame in packet.decode():
                yield frame.to_ndarray(format="gray").astype(np.float32)


def compare(src: Path, dst: Path) -> tuple[float, float, int, int]:
    """Mean and worst per-frame luma PSNR (dB) of ``dst`` against ``src``, the frame count and
    the bytes of ``dst``'s video stream."""
    values = []
    sizes: list[int] = []
    for a, b in zip(luma(src, []), luma(dst, sizes), strict=True):
        mse = float(np.mean((a - b) ** 2))
        values.append(99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse))
    return float(np.mean(values)), float(np.min(values)), len(values), sum(sizes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lookaheads", default="10,20,40", help="comma-separated --lookahead caps")
    ap.add_argument("--sizes", default="", help="also 10-s upscales of the dev clip: 1080p, 4k")
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "encoder.json")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from redact.config import RedactConfig
    from redact.io.encode import EncoderSettings

    cfg = RedactConfig()
    if not DEV_VIDEOS.is_dir():
        print(f"dev data not found at {DEV_VIDEOS}; check out ../shared next to the repository", file=sys.stderr)
        return 2
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clips = [DEV_VIDEOS / name for name in CLIPS]
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            clip = work / f"clip-{size}.mp4"
            speed.clip_in_child(clip, size, 10)
            clips.append(clip)
        for clip in clips:
            for cap in [int(x) for x in args.lookaheads.split(",") if x.strip()]:
                settings = EncoderSettings(cfg.codec, cfg.crf, cfg.preset, cap)
                dst = work / f"out-{cap}.mp4"
                cmd = speed.self_cmd("transcode", clip, dst, "--encoder-options", json.dumps(settings.options()))
                wall, rss, _cpu = speed.timed(cmd)
                mean, worst, n, video_bytes = compare(clip, dst)
                rows.append({
                    "clip": clip.name if clip.parent == DEV_VIDEOS else clip.stem, "frames": n,
                    "lookahead": settings.lookahead, "options": settings.options(),
                    "video_kib": round(video_bytes / 1024), "psnr_y_mean_db": round(mean, 3),
                    "psnr_y_worst_db": round(worst, 3), "seconds": round(wall, 2), "rss_mib": round(rss),
                })
                r = rows[-1]
                print(f"{r['clip']:<36} lookahead {r['lookahead']:>3}: {r['video_kib']:>7} KiB, PSNR-Y "
                      f"{r['psnr_y_mean_db']:.3f} dB (worst {r['psnr_y_worst_db']:.3f}), {r['seconds']:>6} s, "
                      f"{r['rss_mib']:>5} MiB", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"codec": cfg.codec, "crf": cfg.crf, "preset": cfg.preset, "rows": rows},
                                    indent=2) + "\n")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
