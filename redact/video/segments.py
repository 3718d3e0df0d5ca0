"""Long videos in segments: plan at keyframes, redact each segment on its own, join the parts.

A video longer than ``--segment-seconds`` (MP4, MOV or M4V) is cut at keyframes found by a
packet scan (:func:`redact.io.parts.scan`, nothing decoded) into segments of about that
length, and each segment is a task of its own (:mod:`redact.executors`), so the segments of
one video run on several cores or machines at once:

* **Lead-in.** A segment's detectors start decoding at a keyframe :func:`lead_in_frames`
  before the segment (seek back, decode, look, track, write nothing), so the tracker, the
  change maps and the suspects know what came before: a track that crosses the boundary is
  carried, grown and gap-filled as in one pass, and frames keep their index in the whole
  video, so the keyframe schedule is the same.
* **Lead-out.** The detectors go on past the segment's end by the tracker's look-ahead
  (:class:`redact.video.job.Span`), so a track first found just after the boundary is padded
  back into the segment as in one pass.
* **Parts.** Each segment is encoded with the run's settings into an MP4 part beside the
  output (x264's GOPs are closed: every part starts with an IDR frame); :func:`finish` joins
  the parts by packet copy with their timestamps shifted back exactly, copies the source's
  audio once, checks every frame is there, merges the frames sidecars into one, and makes
  one manifest entry.

Where a split run and a one-pass run may differ: the first keyframe of a lead-in looks at
the whole picture, where one pass would have looked at what changed since its last keyframe
(so a segment can find more near its start, never less from that), and track ids: each
segment numbers its tracks from its own base (:data:`TRACK_STRIDE` times its number), so a
track that crosses a boundary has one id on each side.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redact.errors import MediaError, RedactError
from redact.hashing import sha256_file
from redact.io.atomic import TMP_MARKER, atomic_path, fit_name
from redact.io.parts import FrameIndex, Part, join, scan
from redact.io.video import VideoReader, count_video_packets, pix_fmt_for
from redact.manifest import base_entry, empty_counts
from redact.video.job import Span, VideoRun, encoder_settings
from redact.video.ledger import sidecar_rel
from redact.video.schedule import FALLBACK_FPS, LOOKS, plan_schedule

if TYPE_CHECKING:
    from redact.config import RedactConfig
    from redact.discover import Job
    from redact.executors import FileWork, Outcome, TaskContext

log = logging.getLogger("redact")

# Containers whose videos are split: MP4 parts join into the same family exactly. Others
# (Matroska, WebM, AVI) are redacted in one pass.
SPLIT_CONTAINERS = frozenset({".mp4", ".mov", ".m4v"})
# Segment n numbers its tracks from n * TRACK_STRIDE.
TRACK_STRIDE = 1_000_000


def lead_in_frames(config: RedactConfig, rate: Fraction | None) -> int:
    """Frames a segment's detectors look at before it: the look-ahead (two keyframe intervals,
    the furthest a new track is padded back), the track gap (how long a track is carried
    unseen) and one more keyframe interval (a keyframe's look before the boundary)."""
    fps = float(rate) if rate else FALLBACK_FPS
    schedule = plan_schedule(
        keyframe_seconds=config.keyframe_seconds, every=config.detect_every, glance=config.glance,
        pad=config.track_pad, fps=rate,
    )
    return schedule.lookahead + math.ceil(config.track_gap * fps) + schedule.keyframe


def plan(index: FrameIndex, seconds: float, lead_in: int) -> list[Span]:
    """Segments of about ``seconds`` each, starting at keyframes; empty when the video is not
    longer than ``seconds`` (or ``seconds`` is 0) or has no keyframe to cut at."""
    if seconds <= 0 or index.duration <= seconds:
        return []
    starts = [0]
    while True:
        at = next((i for i in range(starts[-1] + 1, index.frames) if index.seconds(i) - index.seconds(starts[-1])
                   >= seconds), None)
        key = index.keyframe_at_or_after(at) if at is not None else None
        if key is None:
            break
        starts.append(key)
    if len(starts) < 2:
        return []
    spans = []
    for n, first in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else None
        lead = index.keyframe_at_or_before(max(0, first - lead_in))
        spans.append(Span(first, index.ticks[first], end, lead, index.ticks[lead], n * TRACK_STRIDE))
    return spans


def plan_video(job: Job, config: RedactConfig) -> list[Span]:
    """The segments of ``job``'s video, or an empty list for one pass.

    One pass for: ``--segment-seconds 0``, a container other than MP4/MOV/M4V,
    ``--truncated-video cut`` (where a segment would end is not known before decoding),
    and a stream the packet scan cannot cut exactly (see :func:`redact.io.parts.scan`).
    A file that cannot be opened also gets one pass, which reports why.
    """
    if config.segment_seconds <= 0 or job.src.suffix.lower() not in SPLIT_CONTAINERS \
            or config.truncated_video == "cut":
        return []
    try:
        index = scan(job.src, longer_than=config.segment_seconds)
    except RedactError:
        return []
    if index is None:
        return []
    return plan(index, config.segment_seconds, lead_in_frames(config, index.rate))


def part_paths(job: Job, number: int) -> tuple[Path, Path]:
    """Where segment ``number``'s MP4 part and frames sidecar go: hidden temp names beside the
    output that depend only on the job and the number (a retried task replaces them), and
    that a run's clean-up of temp files removes."""
    tag = f"{TMP_MARKER}part{number:04d}"
    return (job.dst.with_name(fit_name(f".{job.dst.stem}", tag + ".mp4")),
            job.dst.with_name(fit_name(f".{job.dst.stem}", tag + ".jsonl")))


def run_segment(ctx: TaskContext, job: Job, span: Span, number: int) -> dict[str, Any]:
    """Redact segment ``number`` of ``job`` into its part (a task function, see
    :mod:`redact.executors`).

    Returns:
        What :func:`finish` needs of it (small and picklable), or ``{"error": reason}`` when
        the segment failed.
    """
    started = time.monotonic()
    worker = ctx.worker
    cfg = worker.config
    part, side = part_paths(job, number)
    job.checked_dst()
    try:
        with VideoReader(job.src, keep_audio=False, max_pixels=cfg.max_pixels, threads=1) as reader:
            settings, codec_warning = encoder_settings(cfg, reader, job.dst.suffix)
            with atomic_path(part) as tmp_out, atomic_path(side) as tmp_side:
                run = VideoRun(job, worker, reader, settings, ctx.on_frames, span)
                run.go(tmp_out, tmp_side)
            info = reader.info()
            end = span.end if span.end is not None else math.inf
            return {
                "frames": run.ledger.frames,
                "counts": run.ledger.counts,
                "tracks": run.ledger.track_summary(),
                "cuts": [c for c in run.looker.cuts if span.first <= c["frame"] < end],
                "removed": run.removed,
                "warnings": ([codec_warning] if codec_warning else []) + reader.left_out + run.warnings,
                "format": info.format, "width": info.width, "height": info.height, "fps": info.fps,
                "duration": info.duration, "rotation": info.rotation, "time_base": reader.time_base,
                "has_audio": bool(reader.all_audio), "coded_size": reader.coded_size,
                "encoder": {"codec": settings.codec, "crf": settings.crf, "preset": settings.preset,
                            "lookahead": settings.lookahead},
                "providers": worker._take_providers(),
                "seconds": time.monotonic() - started,
            }
    except (RedactError, OSError) as exc:
        return {"error": " ".join(str(exc).split()) or type(exc).__name__, "seconds": time.monotonic() - started}


@dataclass(frozen=True)
class _Merged:
    frames: int
    looks: dict[str, int]


def _merge_sidecars(sides: list[Path], out: Path, spans: list[Span]) -> _Merged:
    """Concatenate the segments' sidecars into ``out``, checking that every frame is there once
    and in order; counts each kind of look."""
    looks = dict.fromkeys(LOOKS, 0)
    expected = 0
    with open(out, "w", encoding="utf-8") as dst:
        for side, span in zip(sides, spans, strict=True):
            if expected != span.first:
                raise MediaError(f"segment sidecar {side.name} starts at frame {span.first}, not {expected}")
            with open(side, encoding="utf-8") as src:
                for line in src:
                    record = json.loads(line)
                    if record["frame"] != expected:
                        raise MediaError(f"segment sidecar {side.name} skips frame {expected}; nothing was written")
                    looks[record["look"]] += 1
                    expected += 1
                    dst.write(line)
    return _Merged(expected, looks)


def finish(job: Job, outcomes: list[Outcome], *, config: RedactConfig, spans: list[Span],
           frames_dir: Path) -> dict[str, Any]:
    """Join a split video's parts into its output and make its manifest entry (on the driver).

    Raises:
        MediaError: a segment failed, or the joined output is not every frame of the input.
    """
    try:
        values = []
        for number, outcome in enumerate(outcomes):
            if not outcome.ok:
                raise MediaError(f"segment {number} failed: {outcome.error}")
            if "error" in outcome.value:
                raise MediaError(outcome.value["error"])
            values.append(outcome.value)
        return _joined(job, values, config=config, spans=spans, frames_dir=frames_dir)
    finally:
        for number in range(len(spans)):
            for path in part_paths(job, number):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def _joined(job: Job, values: list[dict[str, Any]], *, config: RedactConfig, spans: list[Span],
            frames_dir: Path) -> dict[str, Any]:
    first = values[0]
    rel_side = sidecar_rel(job.rel)
    sidecar = frames_dir / rel_side
    total = sum(v["frames"] for v in values)
    parts = [Part(part_paths(job, n)[0], span.first_ticks) for n, span in enumerate(spans)]
    audio = config.audio == "keep" and first["has_audio"]
    with atomic_path(job.checked_dst()) as tmp_out, atomic_path(sidecar) as tmp_side:
        written = join(parts, tmp_out, source=job.src, audio=audio, rotation=first["rotation"],
                       time_base=first["time_base"])
        if written != total or count_video_packets(tmp_out) != total:
            raise MediaError(f"{job.rel}: the joined output holds {written} frames but {total} were redacted; "
                             "pass --segment-seconds 0 to redact it in one pass")
        merged = _merge_sidecars([part_paths(job, n)[1] for n in range(len(spans))], tmp_side, spans)
    if merged.frames != total:
        raise MediaError(f"{job.rel}: the segments' sidecars hold {merged.frames} frames, not {total}")
    counts = empty_counts()
    for v in values:
        for label, n in v["counts"].items():
            counts[label] = counts.get(label, 0) + n
    warnings = list(dict.fromkeys(w for v in values for w in v["warnings"]))
    fps = first["fps"]
    duration = first["duration"]
    if duration is None:
        duration = float((spans[-1].first_ticks - spans[0].first_ticks) * first["time_base"])
    return {
        "format": first["format"],
        "input_sha256": sha256_file(job.src),
        "output_sha256": sha256_file(job.dst),
        "width": first["width"],
        "height": first["height"],
        "regions": [],
        "counts": counts,
        "warnings": warnings,
        "redacted": config.redacts,
        "fps": f"{fps.numerator}/{fps.denominator}" if fps else None,
        "frame_count": total,
        "duration": round(max(0.0, duration), 6),
        "rotation": first["rotation"],
        "audio": "none" if not first["has_audio"] else config.audio,
        "encoder": first["encoder"] | {"pix_fmt": pix_fmt_for(*first["coded_size"]),
                                       "container": job.dst.suffix.lower().lstrip(".")},
        "tracks": [t for v in values for t in v["tracks"]],
        "looks": merged.looks,
        "cuts": [c for v in values for c in v["cuts"]],
        "removed": [r for v in values for r in v["removed"]],
        "frames": {"file": f"{frames_dir.name}/{rel_side}", "sha256": sha256_file(sidecar), "count": total},
        "segments": len(spans),
    }


def video_work(job: Job, config: RedactConfig, frames_dir: Path, *, absolute: bool = False) -> FileWork | None:
    """A split video's work for an executor: one task per segment, joined by the driver;
    None when the video gets one pass (see :func:`plan_video`).

    Args:
        job: the video.
        config: the run's settings.
        frames_dir: the run's folder of frames sidecars.
        absolute: give the tasks absolute paths (workers on other machines or folders).
    """
    from redact.executors import FileWork, Task

    if job.kind != "video" or job.problem:
        return None
    spans = plan_video(job, config)
    if not spans:
        return None
    if absolute:
        job = replace(job, src=job.src.absolute(), dst=job.dst.absolute(), out=job.out.absolute())
        frames_dir = frames_dir.absolute()
    cost = float(job.src.stat().st_size) / len(spans)  # segments are about equally long
    tasks = [Task(f"{job.root}:{job.rel}#{n}", run_segment, (job, span, n), cost=cost) for n, span in enumerate(spans)]

    def done(job: Job, outcomes: list[Outcome]) -> dict[str, Any]:
        return finish_entry(job, outcomes, config=config, spans=spans, frames_dir=frames_dir)

    return FileWork(job, tasks, done)


def finish_entry(job: Job, outcomes: list[Outcome], *, config: RedactConfig, spans: list[Span],
                 frames_dir: Path) -> dict[str, Any]:
    """The manifest entry of a split video: :func:`finish`'s fields, or failed with its reason."""
    entry = base_entry(job)
    try:
        entry.update(finish(job, outcomes, config=config, spans=spans, frames_dir=frames_dir))
        entry["status"] = "ok"
    except (RedactError, OSError) as exc:
        entry.update(status="failed", error=" ".join(str(exc).split()), output=None, output_sha256=None)
        log.info("%s: %s", job.rel, entry["error"])  # reported from the entry by the front end
    values = [o.value for o in outcomes if o.ok and isinstance(o.value, dict)]
    entry["providers"] = sorted({p for v in values for p in v.get("providers", [])})
    entry["seconds"] = round(sum(v.get("seconds", 0.0) for v in values), 3)
    return entry
