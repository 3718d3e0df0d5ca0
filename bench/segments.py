"""Segment-parallel video: one long 1080p clip split into segments against one process.

Makes its own clip as ``bench/speed.py`` does (the dev clip ``car-detection.mp4`` upscaled to
1080p and looped to ``--seconds``, a keyframe at least every ``--gop`` frames; nothing is
copied into the repository), then runs, in
separate processes and one after another:

* ``one``: ``redact run --segment-seconds 0 --workers 1`` (one process, every core's threads);
* ``split``: ``redact run --segment-seconds S --workers W`` (W worker processes, each with
  cores / W threads, the segments of the one video spread over them);
* ``serial`` (``--serial``): ``--segment-seconds S --workers 1``, the segments one after
  another in one process: what the lead-ins and lead-outs cost without any parallelism.

Reports wall time, CPU seconds, peak RSS of the whole process tree (sampled every 0.5 s,
summed over the driver and its worker processes) and of its largest process, and checks
the split output against one pass: frame count, every frame's timestamp, and the regions:
frames whose regions differ, and the share of one pass's redacted area that the split run
leaves uncovered (should be 0).

    .venv/bin/python bench/segments.py                               # 10 min, S 60, 2 workers
    .venv/bin/python bench/segments.py --seconds 120 --segment-seconds 30 --serial
    .venv/bin/python bench/segments.py --redact-args="--no-watch"    # any `redact run` options, both runs

Writes bench/results/segments.json (gitignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (bench/speed.py: the clip maker)

REPO = Path(__file__).resolve().parent.parent
RSS_EVERY = 0.5


def tree_rss(root: int) -> tuple[float, float]:
    """(sum, largest) resident memory in MiB of process ``root`` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            status = (entry / "status").read_text().splitlines()
            fields = dict(line.split(":", 1) for line in status if ":" in line)
            parents[int(entry.name)] = int(fields["PPid"].strip())
            rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024.0
    members = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    values = [rss.get(p, 0.0) for p in members]
    return sum(values), max(values, default=0.0)


def timed(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; wall seconds, CPU seconds of it and its children, peak tree and process RSS."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(RSS_EVERY):
            total, largest = tree_rss(proc.pid)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], largest)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_tree_mib": round(peak[0]),
            "peak_process_mib": round(peak[1])}


def video_times(path: Path) -> list[int]:
    import av

    with av.open(str(path)) as c:
        return sorted(int(p.pts) for p in c.demux(c.streams.video[0]) if p.size)


def sidecar(out: Path) -> tuple[dict[str, Any], list[list[list[int]]]]:
    entry = json.loads((out / "manifest.json").read_text())["files"][0]
    lines = [json.loads(line) for line in (out / entry["frames"]["file"]).read_text().splitlines()]
    return entry, [[r["box"] for r in ln["regions"]] for ln in lines]


def uncovered(reference: list[list[int]], other: list[list[int]], width: int, height: int) -> tuple[int, int]:
    """(pixels of ``reference``'s regions outside ``other``'s, pixels of ``reference``'s regions)."""
    if not reference:
        return 0, 0
    ref = np.zeros((height, width), bool)
    for x, y, w, h in reference:
        ref[y : y + h, x : x + w] = True
    got = np.zeros_like(ref)
    for x, y, w, h in other:
        got[y : y + h, x : x + w] = True
    return int((ref & ~got).sum()), int(ref.sum())


def compare(one: Path, split: Path, name: str) -> dict[str, Any]:
    e1, r1 = sidecar(one)
    e2, r2 = sidecar(split)
    differ = sum(sorted(map(tuple, a)) != sorted(map(tuple, b)) for a, b in zip(r1, r2, strict=True))
    missed = total = 0
    for a, b in zip(r1, r2, strict=True):
        m, t = uncovered(a, b, e1["width"], e1["height"])
        missed, total = missed + m, total + t
    return {
        "frames": e2["frame_count"], "same_frame_count": e1["frame_count"] == e2["frame_count"],
        "same_timestamps": video_times(one / name) == video_times(split / name),
        "segments": e2.get("segments"), "frames_with_other_regions": differ,
        "one_pass_area_uncovered": round(missed / total, 6) if total else 0.0,
        "regions_one": sum(map(len, r1)), "regions_split": sum(map(len, r2)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600.0, help="clip length (default 600: 10 min)")
    ap.add_argument("--segment-seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gop", type=int, default=25,
                    help="the clip's longest keyframe interval in frames (default 25: 2 s, as many cameras)")
    ap.add_argument("--serial", action="store_true", help="also the segments one after another in one process")
    ap.add_argument("--redact-args", default="", help="extra `redact run` options for every run, e.g. \"--no-watch\"")
    ap.add_argument("--keep", type=Path, default=None, help="keep the clip and outputs in this folder")
    args = ap.parse_args()
    if not speed.SOURCE_CLIP.exists():
        raise SystemExit(f"dev clip not found: {speed.SOURCE_CLIP}")
    with tempfile.TemporaryDirectory(prefix="redact-segments-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clip = work / "clip.mp4"
        if not clip.exists():
            print(f"making a {args.seconds:.0f}-s 1080p clip ...", flush=True)
            speed.make_clip(clip, speed.SIZES["1080p"], args.seconds, gop=args.gop)
        s = str(args.segment_seconds)
        more = shlex.split(args.redact_args)
        runs = {"one": ["--segment-seconds", "0", "--workers", "1", *more],
                "split": ["--segment-seconds", s, "--workers", str(args.workers), *more]}
        if args.serial:
            runs["serial"] = ["--segment-seconds", s, "--workers", "1", *more]
        results: dict[str, Any] = {}
        for name, extra in runs.items():
            print(f"{name}: redact run {' '.join(extra)} ...", flush=True)
            results[name] = timed(speed.redact_cmd(clip, work / name, extra)) | {"options": extra}
            print(f"  {results[name]}", flush=True)
        checks = {name: compare(work / "one", work / name, clip.name) for name in runs if name != "one"}
    one = results["one"]["wall_s"]
    print("\n| run | wall s | vs one | CPU s | peak RSS, all processes / largest (MiB) |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} `{' '.join(r['options'])}` | {r['wall_s']} | {r['wall_s'] / one:.2f}x | {r['cpu_s']} "
              f"| {r['peak_tree_mib']} / {r['peak_process_mib']} |")
    for name, c in checks.items():
        print(f"{name} against one: {c}")
    report = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(), "cores": os.cpu_count(),
              "seconds": args.seconds, "segment_seconds": args.segment_seconds, "workers": args.workers,
              "redact_args": args.redact_args,
              "runs": results, "checks": checks}
    out = REPO / "bench" / "results" / "segments.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
