"""Speed benchmark: `redact run` (default settings) against a plain transcode, alternating.

Makes its own clips by upscaling ``../shared/data/dev/videos/car-detection.mp4`` (relative to
the repository root; 768x432, 12.5 fps, 30 s, looped for longer clips) to 1080p and 4K, then
times, per clip and repeat, a ``redact run`` and a transcode-only PyAV pass (decode -> encode
with the same encoder settings, look-ahead cap included, audio copied) in separate
processes, reporting frames per second, the wall-time ratio, each process's peak RSS
(``ru_maxrss``, MiB) and redact's median RSS over each fifth of its run (sampled every 0.5 s:
flat with length?). Also images per second on a folder of dev JPEGs against plain decode +
encode: ``redact run`` on the folder as a user runs it (its default workers and threads), so
the seconds per image are the batch's throughput on this machine's cores, start-up included
(``--image-dir``: the dash-cam frames for the 1280x720 figure).

The check from outside: where an ``ffmpeg`` program is found (``--ffmpeg``, else on PATH, else
the one in the ``bench`` extra's imageio-ffmpeg, installed by ``make bench``), each repeat also
times a plain ``ffmpeg -i clip -c:v libx264 -crf 18 -preset medium -c:a copy`` (the preset's
own 40-frame look-ahead: the reference from outside) and reports redact's wall time against it too.

    .venv/bin/python bench/speed.py                        # 10-s clips, 1080p and 4K
    .venv/bin/python bench/speed.py --seconds 10,600 --sizes 1080p --images 0  # RSS flat with length?
    .venv/bin/python bench/speed.py --redact-args="--threads 1"                # any `redact run` options
    .venv/bin/python bench/speed.py --lookahead 40   # redact and the PyAV transcode with medium's own look-ahead
    .venv/bin/python bench/speed.py --fps 30 --sizes 1080p  # the same frames at 30 fps (keyframes 30 frames apart)
    .venv/bin/python bench/speed.py --pan 12 --sizes 1080p --seconds 4  # a moving camera (dash-cam footage)
    .venv/bin/python bench/speed.py --interlaced --sizes 1080p --images 0  # 1080i: looked at field by field
    # 1280x720 stills, a folder of them as a user runs it:
    .venv/bin/python bench/speed.py --sizes none --images 40 --image-dir ../shared/data/dev/plates-romania-dashcam

The dev clip's camera stands still, so the default schedule looks closely only where cars move.
``--pan PX`` makes the camera move instead: each clip frame is enlarged :data:`PAN_MARGIN` times
beyond the clip's size and the clip shows a window of it that travels ``PX`` pixels a frame
across and half that down, back and forth. The picture then changes wherever it has texture, as
on a dash-cam, and a frame whose changed windows cover over half of it gets the full detectors:
the faster the pan, the more such frames (docs/performance.md, current figures).

Nothing is written into the repository except the JSON report (bench/results/, gitignored).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "data" / "dev"
SOURCE_CLIP = DEV / "videos" / "car-detection.mp4"
JPEG_DIR = DEV / "plates-openalpr-us-eu" / "images"
SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}
PAN_MARGIN = 1.25  # --pan: how much larger than the clip the picture its window travels over is
ENCODER: dict[str, Any] = {"codec": "libx264", "crf": 18, "preset": "medium"}  # redact's defaults (checked in main)


def bounce(travel: float, span: int) -> int:
    """Where a window that has travelled ``travel`` pixels, back and forth over ``span``, is."""
    if span <= 0:
        return 0
    t = travel % (2 * span)
    return int(t if t <= span else 2 * span - t)


def panned(frame: Any, size: tuple[int, int], index: int, step: float) -> Any:
    """Frame ``index`` of a camera panning ``step`` px a frame (and half that down): the
    window of ``size`` over ``frame`` enlarged :data:`PAN_MARGIN` times beyond it (yuv420p)."""
    import av
    import numpy as np

    w, h = size
    big_w, big_h = round(w * PAN_MARGIN) // 2 * 2, round(h * PAN_MARGIN) // 2 * 2
    rgb = frame.reformat(width=big_w, height=big_h, format="rgb24", interpolation="BICUBIC").to_ndarray()
    x, y = bounce(index * step, big_w - w), bounce(index * step / 2, big_h - h)
    window = np.ascontiguousarray(rgb[y : y + h, x : x + w])
    return av.VideoFrame.from_ndarray(window, format="rgb24").reformat(format="yuv420p")


def make_clip(
    dst: Path, size: tuple[int, int], seconds: float, fps: float | None = None, gop: int | None = None,
    pan: float = 0.0, interlaced: bool = False,
) -> int:
    """Upscale the first ``seconds`` of the dev clip to ``size``, looping it when it is shorter
    (audio from its first pass only); returns the frame count. ``fps``: play the clip's frames
    at this rate instead of its own 12.5 (faster motion, ``seconds * fps`` frames); ``gop``: at
    most this many frames from one keyframe to the next (default x264's 250); ``pan``: the
    camera moves this many pixels a frame (:func:`panned`); ``interlaced``: encoded as
    interlaced, top field first (broadcast 1080i: redact looks at each field on its own)."""
    import av

    w, h = size
    n = 0
    target = round(seconds * fps) if fps else None
    rate_tb = Fraction(1, 90000)  # the time base of re-timed frames
    with av.open(str(dst), "w") as out:
        offset = 0  # ticks added to every timestamp of the current pass
        first = True
        while True:
            with av.open(str(SOURCE_CLIP)) as src:
                vin = src.streams.video[0]
                ain = src.streams.audio[0] if src.streams.audio else None
                if first:
                    rate = Fraction(fps).limit_denominator(1001) if fps else vin.average_rate
                    vtb = rate_tb if fps else vin.time_base
                    options = {"crf": "18", "preset": "veryfast"} | ({"g": str(gop)} if gop else {})
                    if interlaced:
                        options["x264-params"] = "interlaced=1:tff=1"
                    vs = out.add_stream("libx264", rate=rate, options=options)
                    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
                    vs.time_base = vtb
                    vs.codec_context.time_base = vtb
                    aout = out.add_stream_from_template(ain) if ain is not None else None
                    step = round(1 / (vin.average_rate * vin.time_base))
                    tb = vin.time_base  # PyAV 19 refuses stream attributes once the file is closed
                last = offset
                for packet in src.demux([s for s in (vin, ain) if s is not None]):
                    if packet.stream.type == "audio":
                        if first and packet.size and aout is not None and packet.pts is not None \
                                and float(packet.pts * packet.time_base) < seconds:
                            packet.stream = aout
                            out.mux(packet)
                        continue
                    for frame in packet.decode():
                        ticks = frame.pts + offset
                        if target is not None:
                            if n >= target:
                                continue
                            ticks = round(n / (rate * rate_tb))
                        elif float(ticks * vin.time_base) >= seconds:
                            continue
                        if pan:
                            big = panned(frame, (w, h), n, pan)
                        else:
                            big = frame.reformat(width=w, height=h, format="yuv420p", interpolation="BICUBIC")
                        big.pts, big.time_base = ticks, vtb
                        out.mux(vs.encode(big))
                        last = max(last, ticks)
                        n += 1
            first = False
            if target is not None:
                if n >= target:
                    break
                continue
            if float((last + step) * tb) >= seconds:
                break
            offset = last + step
        out.mux(vs.encode(None))
    return n


def transcode(src: Path, dst: Path, options: dict[str, str]) -> None:
    """The floor: decode -> encode with the same settings (``options``: the encoder's private
    options as redact sets them), audio stream-copied, no detection."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        vs = out.add_stream(ENCODER["codec"], rate=vin.average_rate, options=options)
        vs.width, vs.height = vin.codec_context.width, vin.codec_context.height
        vs.pix_fmt = "yuv420p"
        vs.time_base = vin.time_base
        vs.codec_context.time_base = vin.time_base
        aout = out.add_stream_from_template(ain) if ain is not None else None
        for packet in inp.demux([s for s in (vin, ain) if s is not None]):
            if packet.stream.type == "audio":
                if packet.size and aout is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = 0  # let the encoder choose frame types
                out.mux(vs.encode(frame))
        out.mux(vs.encode(None))


def images_plain(src: Path, dst: Path) -> None:
    """The image floor: decode and re-encode every JPEG (quality 95), no detection."""
    from PIL import Image

    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        with Image.open(p) as im:
            im.convert("RGB").save(dst / p.name, quality=95)


RSS_EVERY = 0.5  # seconds between samples of a process's resident memory


def timed(cmd: list[str], samples: list[float] | None = None) -> tuple[float, float, float]:
    """Run a command; returns (wall seconds, peak RSS in MiB, CPU seconds user + system).

    CPU seconds do not depend on what else the machine runs; on a shared machine compare
    those too (on N cores the wall time is at least CPU / N). ``samples``, when given, gets
    the process's resident memory (MiB) every :data:`RSS_EVERY` seconds (Linux)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()
    tail: collections.deque[bytes] = collections.deque(maxlen=64)  # the last of stderr, for errors

    def drain(stream: Any) -> None:  # read stderr all along: a full pipe would stop the process
        # (tqdm writes a line per update; a 3-minute 4K run filled the 64 KiB pipe and waited)
        for chunk in iter(lambda: stream.read1(4096), b""):
            tail.append(chunk)

    reader = threading.Thread(target=drain, args=(proc.stderr,), daemon=True)
    reader.start()

    def sample() -> None:  # beside the blocking wait, which times the process to the end
        while samples is not None and not done.wait(RSS_EVERY):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]) / 1024.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = b"".join(tail).decode(errors="replace")
    if proc.returncode not in (0,):
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime  # ru_maxrss is KiB on Linux


def fifths(samples: list[float]) -> list[int]:
    """Median of each fifth of a run's memory samples (MiB); fewer than 5 samples: none."""
    n = len(samples) // 5
    return [round(sorted(samples[i * n:(i + 1) * n])[n // 2]) for i in range(5)] if n else []


def find_ffmpeg(given: str | None) -> str | None:
    """The ffmpeg program for the check from outside: ``given`` ("none" skips the check),
    else ffmpeg on PATH, else imageio-ffmpeg's (the ``bench`` extra), else None."""
    if given:
        return None if given == "none" else given
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_cmd(ffmpeg: str, src: Path, dst: Path) -> list[str]:
    """A plain ffmpeg transcode, libx264 CRF 18 preset medium as the preset has it (no
    look-ahead cap), audio copied, single output."""
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
            "-map", "0:v:0", "-map", "0:a?", "-c:v", ENCODER["codec"], "-crf", str(ENCODER["crf"]),
            "-preset", ENCODER["preset"], "-pix_fmt", "yuv420p", "-c:a", "copy", str(dst)]


def redact_cmd(src: Path, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "redact", "run", str(src), "--out", str(out), "--quiet", "--overwrite", *extra]


def self_cmd(mode: str, src: Path, dst: Path, *more: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), f"--{mode}", str(src), str(dst), *more]


def clip_in_child(
    dst: Path, size: str, seconds: float, fps: float | None = None, pan: float = 0.0, interlaced: bool = False
) -> int:
    """:func:`make_clip` in a child process (on Linux a child's peak RSS, ``ru_maxrss``, starts
    from its parent's peak at exec, so the timing parent stays small: the 4K upscale alone
    peaks at ~670 MiB); returns the frame count."""
    w, h = SIZES[size]
    cmd = [sys.executable, str(Path(__file__).resolve()), "--make-clip", str(dst), str(w), str(h), str(seconds),
           str(fps or 0), str(pan), str(int(interlaced))]
    return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", default="10", help="comma-separated clip lengths in seconds (default 10)")
    ap.add_argument("--sizes", default="1080p,4k", help="comma-separated: 1080p, 4k; none: no video")
    ap.add_argument("--repeats", type=int, default=1, help="alternating repeats per clip")
    ap.add_argument("--images", type=int, default=30, help="JPEGs for the image benchmark (0 skips it)")
    ap.add_argument("--image-dir", type=Path, default=JPEG_DIR,
                    help="folder of JPEGs for the image benchmark (or a dev set, its images/), the first "
                         "--images of them by name (default: the openalpr set's)")
    ap.add_argument("--redact-args", default="", help="extra `redact run` options, e.g. \"--threads 1\"")
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "speed.json",
                    help="where to write the results")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp folder)")
    ap.add_argument("--lookahead", type=int, default=None,
                    help="redact's --lookahead, used by the PyAV transcode too (default: redact's default, "
                         "which depends on the picture size)")
    ap.add_argument("--encoder-options", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--ffmpeg", default=None,
                    help="ffmpeg program for the check from outside (default: PATH, then imageio-ffmpeg; none skips)")
    ap.add_argument("--transcode", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--images-plain", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--fps", type=float, default=None,
                    help="play the clips' frames at this rate instead of the dev clip's 12.5 (e.g. 30)")
    ap.add_argument("--pan", type=float, default=0.0,
                    help="the camera moves this many pixels a frame (a dash-cam's footage; default 0: it stands still)")
    ap.add_argument("--interlaced", action="store_true",
                    help="encode the clips interlaced, top field first (1080i: redact looks at each field)")
    ap.add_argument("--make-clip", nargs=7, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.transcode:
        src, dst = args.transcode
        transcode(src, dst, json.loads(args.encoder_options))
        return 0
    if args.images_plain:
        images_plain(*args.images_plain)
        return 0
    if args.make_clip:
        dst, w, h, seconds, fps, pan, interlaced = args.make_clip
        print(make_clip(Path(dst), (int(w), int(h)), float(seconds), float(fps) or None, pan=float(pan),
                        interlaced=interlaced == "1"))
        return 0
    if not SOURCE_CLIP.is_file():
        print(f"dev data not found at {SOURCE_CLIP}; check out ../shared next to the repository", file=sys.stderr)
        return 2

    # Only here, in the parent: the timed child passes (transcode, images-plain) import no redact.
    sys.path.insert(0, str(REPO))
    from redact.config import RedactConfig
    from redact.io.encode import EncoderSettings, auto_lookahead

    defaults = RedactConfig()
    if {"codec": defaults.codec, "crf": defaults.crf, "preset": defaults.preset} != ENCODER:
        print(f"bench/speed.py's ENCODER {ENCODER} is not redact's default; update it", file=sys.stderr)
        return 2
    if args.lookahead is None:
        args.lookahead = defaults.lookahead

    def encoder_for(size: tuple[int, int]) -> EncoderSettings:
        """Redact's encoder settings for pictures of ``size`` (its default look-ahead depends on it)."""
        cap = args.lookahead if args.lookahead is not None else auto_lookahead(*size)
        return EncoderSettings(ENCODER["codec"], ENCODER["crf"], ENCODER["preset"], cap)

    ffmpeg = find_ffmpeg(args.ffmpeg)
    missing = "skipped" if args.ffmpeg == "none" else "none found (make bench installs one)"
    print(f"ffmpeg for the check from outside: {ffmpeg or missing}", flush=True)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        given = [] if args.lookahead is None else ["--lookahead", str(args.lookahead)]
        extra = [*given, *shlex.split(args.redact_args)]
        lengths = [float(x) for x in args.seconds.split(",") if x.strip()]
        sizes = [s.strip() for s in args.sizes.split(",") if s.strip() and s.strip() != "none"]
        for name, seconds in [(s, t) for s in sizes for t in lengths]:
            clip = work / f"clip-{name}-{seconds:g}s.mp4"
            what = f"{name} {seconds:g}s" + (f" {args.fps:g}fps" if args.fps else "")
            what += f" pan{args.pan:g}" if args.pan else ""
            what += " interlaced" if args.interlaced else ""
            frames = clip_in_child(clip, name, seconds, args.fps, args.pan, args.interlaced)
            encoder = encoder_for(SIZES[name])
            options = json.dumps(encoder.options())
            for rep in range(args.repeats):
                floor = self_cmd("transcode", clip, work / f"t-{name}.mp4", "--encoder-options", options)
                tw, trss, tcpu = timed(floor)
                outside = timed(ffmpeg_cmd(ffmpeg, clip, work / f"f-{name}.mp4")) if ffmpeg else None
                rss: list[float] = []
                rw, rrss, rcpu = timed(redact_cmd(clip, work / f"r-{name}", extra), rss)
                shutil.rmtree(work / f"r-{name}", ignore_errors=True)
                rows.append({
                    "what": what, "repeat": rep, "frames": frames, "lookahead": encoder.lookahead,
                    "redact_s": round(rw, 2), "redact_fps": round(frames / rw, 2), "redact_rss_mib": round(rrss),
                    "floor_s": round(tw, 2), "floor_fps": round(frames / tw, 2), "floor_rss_mib": round(trss),
                    "ratio": round(rw / tw, 2),
                    "redact_cpu_s": round(rcpu, 1), "floor_cpu_s": round(tcpu, 1), "cpu_ratio": round(rcpu / tcpu, 2),
                    # Flat with length? The median resident memory of each fifth of the run.
                    "redact_rss_median_by_fifth_mib": fifths(rss),
                })
                if outside is not None:
                    rows[-1].update({
                        "ffmpeg_s": round(outside[0], 2), "ffmpeg_fps": round(frames / outside[0], 2),
                        "ffmpeg_rss_mib": round(outside[1]), "ffmpeg_cpu_s": round(outside[2], 1),
                        "ffmpeg_ratio": round(rw / outside[0], 2),
                    })
                print(_row(rows[-1]), flush=True)
        if (args.image_dir / "images").is_dir():  # a dev set: its pictures
            args.image_dir = args.image_dir / "images"
        if args.images and args.image_dir.is_dir():
            folder = work / "jpegs"
            folder.mkdir()
            for p in sorted(args.image_dir.glob("*.jpg"))[: args.images]:
                shutil.copyfile(p, folder / p.name)  # a temp copy, never into the repository
            n = len(list(folder.iterdir()))
            for rep in range(args.repeats):
                tw, trss, tcpu = timed(self_cmd("images-plain", folder, work / "plain"))
                rw, rrss, rcpu = timed(redact_cmd(folder, work / "r-images", extra))
                # Else the next repeat resumes this run: every file done, nothing timed.
                shutil.rmtree(work / "r-images", ignore_errors=True)
                rows.append({
                    "what": "images", "repeat": rep, "frames": n, "image_dir": str(args.image_dir),
                    "redact_s": round(rw, 2), "redact_fps": round(n / rw, 2), "redact_rss_mib": round(rrss),
                    "redact_s_per_image": round(rw / n, 3), "redact_cpu_s_per_image": round(rcpu / n, 3),
                    "floor_s": round(tw, 2), "floor_fps": round(n / tw, 2), "floor_rss_mib": round(trss),
                    "ratio": round(rw / tw, 2),
                    "redact_cpu_s": round(rcpu, 1), "floor_cpu_s": round(tcpu, 1), "cpu_ratio": round(rcpu / tcpu, 2),
                })
                print(_row(rows[-1]), flush=True)
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "encoder": {**ENCODER, "lookahead": args.lookahead if args.lookahead is not None else "auto"},
        "ffmpeg": ffmpeg, "seconds": args.seconds, "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'what':<12} {'frames':>6} {'redact s':>9} {'fps':>6} {'RSS MiB':>8} "
          f"{'floor s':>8} {'fps':>6} {'RSS MiB':>8} {'ratio':>6} {'CPU ratio':>9}"
          f" {'ffmpeg s':>8} {'RSS MiB':>8} {'ratio':>6}")
    for r in rows:
        print(_row(r))
    for r in rows:
        if r.get("redact_rss_median_by_fifth_mib"):
            print(f"{r['what']} #{r['repeat']}: redact's median RSS by fifth of the run "
                  f"{r['redact_rss_median_by_fifth_mib']} MiB")
    print(f"written {args.json}")
    return 0


def _row(r: dict[str, object]) -> str:
    outside = (f" {r['ffmpeg_s']:>8} {r['ffmpeg_rss_mib']:>8} {r['ffmpeg_ratio']:>6}" if "ffmpeg_s" in r
               else f" {'-':>8} {'-':>8} {'-':>6}")
    return (f"{r['what']:<12} {r['frames']:>6} {r['redact_s']:>9} {r['redact_fps']:>6} {r['redact_rss_mib']:>8} "
            f"{r['floor_s']:>8} {r['floor_fps']:>6} {r['floor_rss_mib']:>8} {r['ratio']:>6} {r['cpu_ratio']:>9}"
            + outside)


if __name__ == "__main__":
    raise SystemExit(main())
