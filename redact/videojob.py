"""Redact one video: decode, detect, track, render and encode as a streaming pipeline.

Three stages overlap in threads joined by bounded queues, so memory does not depend on
the video's length::

    reader thread ──► q_in ──► this thread: detect, track, look-ahead ──► q_out ──► writer thread
    (decode, rotate)            (regions, sidecar line, progress)   (regions)  (decode again, render,
                                                                                 encode, mux audio)

The writer decodes the input a second time, in step, rather than being handed the pictures:
the look-ahead (below) then holds what was found in each frame, not the frame, so memory does
not depend on the frame rate, the frame size or the keyframe interval either. Decoding again
costs ~7 ms of CPU per 1080p frame in one thread (a plain transcode takes ~80 ms a frame on
2 cores); 1-2 s of held 1080p pictures took 80-130 MiB. Decoding is exact, and the writer
checks each frame against the one the detectors saw (index, timestamp, size and a
fingerprint of its pixels): a frame that differs, or a decode that ends where the other does
not, stops the run and nothing is written.

Detection follows a :class:`Schedule`. The configured detector set (``--quality``) runs on
*keyframes* (every ``keyframe_seconds``, 1 s by default, and on the last frame) and, on the
frames between, looks closely (full resolution, every pass of the set) only at windows:
around every part of the picture that changed since it last looked there (*watching*, the
default), every live track where it is predicted, and every *suspect* of the last keyframe
(a candidate scoring from half the threshold up to it, so an object near the threshold gets
the chances full detection would give it). Without watching, a cheap single-scale *glance*,
every other frame between keyframes, finds large newcomers instead.

Most footage comes from cameras that stand still, where most of the picture is the same
pixels from one look to the next, and the detectors would find in them what they found
before. A :class:`~redact.change.ChangeMap` remembers what each part of the picture looked
like when last looked at: a keyframe looks at the parts that changed since the previous
keyframe (and around tracks and suspects; ``CHANGED``), the first and every
:data:`WHOLE_EVERY`-th keyframe after a whole one at the whole picture (``FULL``); a frame
between keyframes (``CHANGED`` too), or the glance, looks at what changed since any look
there. An object that comes into view changes the picture where it appears, so watching
looks at it closely from its first frame, as full detection would. Wherever the windows
would cover most of the picture (a moving camera, a cut), the whole picture gets the pass
instead. With
``keyframe_seconds`` 0, or when the detectors run on a GPU (where a full pass costs about what
the windows cost), every frame gets a full pass. A track born at frame ``t`` is redacted back
to the previous keyframe (which looked at everything that changed since the one before), so
the look-ahead holds two keyframe intervals of frames back (then the track's motion is known
when its first frames are backfilled).

Every frame is compared with the one before it for a cut (:class:`~redact.change.CutDetector`,
on the thumbnail the reader thread makes of each frame): the first frame of a new shot ends
every track and gets a full pass on the whole picture, whatever the schedule says, and is
marked in the sidecar (``cut``) and the manifest (``cuts``).

Watching leaves one gap: an object already in view that full detection finds on a later
frame although its pixels stayed within the change level of what the detectors last saw
there (and it was no suspect) waits for the next whole-picture keyframe. Without watching,
an object too small for the glance (under about 10-15 px at 640 px, i.e. faces under ~40 px
and plates under ~60 px wide in 1080p) that is not even a suspect on a keyframe and shows up
only between two keyframes is not found. ``bench/schedule.py`` and ``bench/montage.py``
measure both against full detection.

The output is written to a temp file that only replaces the final path once every frame was
encoded and the result was checked (frame count); on any error it is removed.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from redact import regions as region_mod
from redact.change import ChangeMap, CutDetector, cut_picture, thumbnail
from redact.change import windows as change_windows
from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.merge import merge_detections
from redact.detect.tiling import Tile, windows_around
from redact.errors import MediaError, RedactError
from redact.hashing import sha256_file
from redact.io.atomic import atomic_path
from redact.io.video import (
    DecodedFrame,
    DecodeError,
    EncoderSettings,
    Seek,
    VideoReader,
    VideoWriter,
    auto_lookahead,
    count_video_packets,
    pix_fmt_for,
)
from redact.io.yuv import Picture, redact_picture
from redact.manifest import empty_counts
from redact.memory import return_large_blocks
from redact.track import centres_inside, grow_blind, make_tracker
from redact.types import Detections, Frame, FrameCallback, Label, Regions

if TYPE_CHECKING:
    from redact.config import RedactConfig
    from redact.discover import Job
    from redact.overrides import Overrides
    from redact.render import Style

log = logging.getLogger("redact")


class VideoContext(Protocol):
    """What the video job takes from the process that runs it (a pipeline ``Worker`` is one):
    the run's settings, its detector sets, style and reviewer edits, and where sidecars go."""

    config: RedactConfig
    detectors: Any
    style: Style
    overrides: Overrides
    frames_dir: Path | None

    @property
    def glance(self) -> Any: ...

# Decoded frames waiting for the detectors, at most QUEUE_FRAMES and QUEUE_BYTES, at least
# one (and the reader holds the next while it waits): decoding is 20-60x faster than
# detecting, so a few frames cover its jitter (12 held ~30 MiB more at 1080p and were no
# faster, measured). 4 at 1080p, 3 at 1440p, 1 at 4K (4 held 25 MiB more there).
QUEUE_FRAMES = 4
QUEUE_BYTES = 20 * 2**20
OUT_QUEUE = 64  # frames' regions waiting for the writer (no pictures: the writer decodes its own)
# Between keyframes the full detectors look closely at windows around live tracks and
# *suspects*: candidates of the last keyframe scoring from SUSPECT_RATIO times the threshold
# up to it (an object near the threshold gets a second chance on every frame, as it would
# with full detection on every frame). Each window is the box grown by FOCUS_MARGIN of its
# longer side (at least FOCUS_MIN_MARGIN px) on every side; when the windows cover more than
# FOCUS_MAX_AREA of the frame, the frame gets a full pass instead.
SUSPECT_RATIO = 0.5
MAX_SUSPECTS = 16
FOCUS_MARGIN = 0.5
FOCUS_MIN_MARGIN = 32
FOCUS_MAX_AREA = 0.5
FALLBACK_FPS = 25  # for the keyframe interval when a stream declares no rate
FULL = "full"
CHANGED = "changed"
GLANCE = "glance"
FOCUS = "focus"
NONE = "none"
LOOKS = (FULL, CHANGED, GLANCE, FOCUS, NONE)  # how a frame was looked at (sidecar "look")
# A keyframe's full detectors look at the parts of the picture that changed since the last
# keyframe and around tracks and suspects (CHANGED); every WHOLE_EVERY-th keyframe, and any
# whose windows would cover more than FOCUS_MAX_AREA of it, looks at the whole picture (FULL).
WHOLE_EVERY = 4
# The glance runs on every GLANCE_EVERY-th frame between keyframes, the close looks on every
# frame: a large newcomer found a frame late is still redacted from the previous keyframe on
# (backfill), so the glance only has to catch objects that come and go between two keyframes.
GLANCE_EVERY = 2
# The glance looks at a cell of the change map (32 x 32 px) only when at least GLANCE_LEAST of
# its 64 thumbnail pixels changed: the smallest object the glance finds (~12 px at 640 px,
# 36 px in 1080p) moves several times that many, while single specks of noise or flicker
# each cost a window (measured on the 1080p speed clip: 28 % fewer glance runs, the same
# schedule-bench coverage). Keyframes look at every changed cell.
GLANCE_LEAST = 8
_POLL = 0.1  # seconds between checks of the stop flag while blocked on a queue
_END = object()


class _Stopped(Exception):
    """The pipeline is shutting down; a stage leaves quietly."""


class _Stage(threading.Thread):
    """A daemon thread that records the exception it died of."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the main thread, which re-raises it
            self.error = exc


def _put(q: queue.Queue[Any], item: object, stop: threading.Event, other: _Stage | None = None) -> None:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            q.put(item, timeout=_POLL)
            return
        except queue.Full:
            if other is not None and not other.is_alive():
                # The consumer died (its error says why); nobody will make room.
                raise other.error or MediaError("a video stage stopped unexpectedly") from None


def _get(q: queue.Queue[Any], stop: threading.Event, other: _Stage | None = None) -> Any:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            return q.get(timeout=_POLL)
        except queue.Empty:
            if other is not None and not other.is_alive() and q.empty():
                # The producer died without saying so; surface its error.
                raise other.error or MediaError("a video stage stopped unexpectedly") from None


def _drain(q: queue.Queue[Any]) -> None:
    with contextlib.suppress(queue.Empty):
        while True:
            q.get_nowait()


@dataclass(frozen=True)
class Schedule:
    """Which detection each video frame gets.

    Attributes:
        keyframe: frames between full passes (>= 1); frame ``i`` is a keyframe when
            ``i % keyframe == 0``. A multiple of ``every``.
        every: only frames with ``i % every == 0`` get any detection (``--detect-every``).
        glance: whether frames between keyframes get the glance (on every
            :data:`GLANCE_EVERY`-th of them); the others get close looks only.
        lookahead: frames held back before rendering (the tracker's look-ahead).
        watch: whether frames between keyframes get close looks at every part of the
            picture that changed since the full detectors last looked at it as well
            (``CHANGED``; then no glance).
    """

    keyframe: int
    every: int
    glance: bool
    lookahead: int
    watch: bool = False

    def kind(self, index: int, last: bool = False) -> str | None:
        """``FULL``, ``CHANGED`` (close looks at what changed, tracks and suspects),
        ``GLANCE`` (glance and close looks), ``FOCUS`` (close looks) or ``None`` (tracker
        only) for frame ``index``.

        The last frame is always a keyframe, so nothing after the final keyframe goes unseen
        by the full detectors.
        """
        if index % self.keyframe == 0 or last:
            return FULL
        if index % self.every:
            return None
        if self.watch:
            return CHANGED
        if self.glance and ((index % self.keyframe) // self.every) % GLANCE_EVERY == 1:
            return GLANCE
        return FOCUS


@dataclass(frozen=True)
class _Read:
    """A decoded frame with what the change maps and the cut detector take of it (made on the
    reader's thread, which waits on the detectors most of the time anyway)."""

    frame: DecodedFrame
    thumb: NDArray[np.int16]  # change.thumbnail
    small: NDArray[np.uint8]  # change.cut_picture

    @classmethod
    def of(cls, decoded: DecodedFrame) -> _Read:
        thumb = thumbnail(decoded.picture)
        return cls(decoded, thumb, cut_picture(thumb))


@dataclass(frozen=True)
class _Seen:
    """A frame the detectors saw, as far as the writer's own decode of it must match."""

    index: int
    pts: float
    ticks: int
    width: int
    height: int
    fingerprint: int

    @classmethod
    def of(cls, decoded: DecodedFrame) -> _Seen:
        pic = decoded.picture
        return cls(decoded.index, decoded.pts, decoded.ticks, pic.width, pic.height, pic.fingerprint())


def _xyxy(tiles: list[Tile]) -> NDArray[np.float64]:
    """Windows as an (N, 4) xyxy array."""
    return np.array([[t.x0, t.y0, t.x1, t.y1] for t in tiles], np.float64).reshape(-1, 4)


def _merged(tiles: list[Tile], width: int, height: int) -> list[Tile]:
    """``tiles`` merged until none overlap (their union, window by window)."""
    return windows_around(_xyxy(tiles), width, height, margin=0.0, min_margin=0)


@dataclass(frozen=True)
class Span:
    """The part of a video one job writes, for a video split into segments (see
    :mod:`redact.segments`); frame numbers are 0-based indices in the whole video.

    The detectors' decode starts at the keyframe ``lead`` and runs on past ``end`` by the
    tracker's look-ahead and one frame: frames outside ``[first, end)`` are looked at and
    tracked but not written, so the frames written get the padding and gap fill one pass
    would give them. The part's timestamps start at 0 (at ``first_ticks``).

    Attributes:
        first: the first frame written (a keyframe) and its PTS in stream ticks.
        end: the first frame not written; None: to the end of the video.
        lead: the keyframe the detectors' decode starts at (at or before ``first``) and its PTS.
        first_track: the id the segment's first track gets.
    """

    first: int
    first_ticks: int
    end: int | None
    lead: int
    lead_ticks: int
    first_track: int


def held_bytes(width: int, height: int) -> int:
    """Bytes one decoded frame takes (a :class:`~redact.io.yuv.Picture`: I420 when both sides
    are even, BGR otherwise)."""
    return max(1, width * height * 3 // 2 if width % 2 == 0 and height % 2 == 0 else width * height * 3)


def plan_schedule(
    *, keyframe_seconds: float, every: int, glance: bool, pad: int, fps: Fraction | None, watch: bool = False
) -> Schedule:
    """The schedule for a video at ``fps`` frames per second.

    The keyframe interval is ``keyframe_seconds`` of frames rounded up to a multiple of
    ``every``; the look-ahead is two intervals, and never less than ``pad``. Held frames keep
    their detections only (the writer decodes the pictures again), so neither depends on
    the picture size.
    """
    rate = float(fps) if fps else FALLBACK_FPS
    k = max(1, round(keyframe_seconds * rate)) if keyframe_seconds > 0 else 1
    k = math.ceil(k / every) * every
    watch = watch and k > every
    return Schedule(
        keyframe=k, every=every, glance=glance and k > every and not watch, lookahead=max(pad, 2 * k), watch=watch
    )


def redact_video(job: Job, worker: VideoContext, on_frames: FrameCallback | None = None) -> dict[str, Any]:
    """Redact one video file into ``job.dst`` and write its frames sidecar.

    Returns:
        The manifest entry fields for the file (see the schema's ``file`` object).

    Raises:
        MediaError: the input cannot be decoded (or is cut short, unless
            ``truncated_video="cut"``), or the output cannot be encoded.
    """
    cfg = worker.config
    if worker.frames_dir is None:
        raise RedactError("video needs a frames folder for its sidecar; run it through redact_path")
    return_large_blocks()  # long runs of full-size pictures on several threads: see redact.memory
    input_sha = sha256_file(job.src)
    sidecar = worker.frames_dir / f"{job.rel}.jsonl"
    sidecar_rel = f"{worker.frames_dir.name}/{job.rel}.jsonl"

    dst = job.checked_dst()
    # The detectors' decode; the writer decodes again, with the audio (see _Run._write). One
    # thread: frame threads hold pictures in flight (~15 MiB at 1080p), and at the detectors'
    # pace one thread keeps the queue full.
    with VideoReader(job.src, keep_audio=False, max_pixels=cfg.max_pixels, threads=1) as reader:
        lookahead = cfg.lookahead if cfg.lookahead is not None else auto_lookahead(*reader.coded_size)
        encoder = EncoderSettings(cfg.codec, cfg.crf, cfg.preset, lookahead)
        settings, codec_warning = encoder.for_container(job.dst.suffix)
        warnings: list[str] = [codec_warning] if codec_warning else []
        warnings.extend(reader.left_out)
        with atomic_path(dst) as tmp_out, atomic_path(sidecar) as tmp_side:
            run = _Run(job, worker, reader, settings, on_frames)
            run.go(tmp_out, tmp_side)
            warnings.extend(run.warnings)
            written = count_video_packets(tmp_out)
            if written != run.frames:
                raise MediaError(
                    f"{job.rel}: the output holds {written} frames but {run.frames} were decoded; "
                    "the encoder dropped frames, try another --codec"
                )
        info = reader.info()
    frame_count = run.frames
    duration = info.duration
    if run.cut or duration is None:
        duration = run.last_pts - run.first_pts + (float(1 / info.fps) if info.fps else 0.0)
    return {
        "format": info.format,
        "input_sha256": input_sha,
        "output_sha256": sha256_file(job.dst),
        "width": info.width,
        "height": info.height,
        "regions": [],
        "counts": run.counts,
        "warnings": warnings,
        "redacted": worker.style.redacts,
        "fps": f"{info.fps.numerator}/{info.fps.denominator}" if info.fps else None,
        "frame_count": frame_count,
        "duration": round(max(0.0, duration), 6),
        "rotation": info.rotation,
        "audio": "none" if not reader.all_audio else cfg.audio,
        "encoder": {
            "codec": settings.codec, "crf": settings.crf, "preset": settings.preset,
            "lookahead": settings.lookahead,
            "pix_fmt": pix_fmt_for(*reader.coded_size),
            "container": job.dst.suffix.lower().lstrip("."),
        },
        "tracks": run.track_summary(),
        "looks": run.looks,
        "cuts": run.cuts,
        "removed": run.removed,
        "frames": {"file": sidecar_rel, "sha256": sha256_file(sidecar), "count": frame_count},
    }


class _Run:
    """The state of one video's pipeline run."""

    def __init__(
        self, job: Job, worker: VideoContext, reader: VideoReader, settings: EncoderSettings,
        on_frames: FrameCallback | None, span: Span | None = None,
    ) -> None:
        cfg = worker.config
        self.job, self.worker, self.reader, self.settings = job, worker, reader, settings
        self.span = span
        self.on_frames = on_frames
        w, h = reader.coded_size
        # On a GPU a full pass costs about what the close looks cost there (and their changing
        # window sizes cost more: see redact.detect.session), so every frame gets one.
        keyframe_seconds = 0.0 if getattr(worker.detectors, "accelerated", False) else cfg.keyframe_seconds
        self.schedule = plan_schedule(
            keyframe_seconds=keyframe_seconds, every=cfg.detect_every, glance=cfg.glance, pad=cfg.track_pad,
            fps=reader.rate, watch=cfg.watch,
        )
        # Live tracks get a close look on every detection frame between keyframes, so they are
        # carried for --track-gap as with full detection, not to the next keyframe regardless.
        self.tracker = make_tracker(
            gap=cfg.track_gap, pad=cfg.track_pad, detect_every=self.schedule.every,
            lookahead=self.schedule.lookahead,
            first_id=span.first_track if span else 0,
        )
        self.pad = self.tracker.lookahead
        self.last_full = span.lead if span else 0  # index of the latest frame the full detectors ran on
        self.looks = dict.fromkeys(LOOKS, 0)  # frames per kind of look
        self.change = ChangeMap()  # what the glance and full detectors last saw, per cell
        self.key_change = ChangeMap()  # what the full detectors last saw, per cell
        self.cut_detector = CutDetector()
        self.cuts: list[dict[str, Any]] = []  # first frames of new shots, and the tracks each ended
        self.since_whole = 0  # keyframes since the last one on the whole picture
        self.suspects = Detections.empty()  # near-threshold candidates of the last keyframe
        # The occupant detector alone, for vehicles' window zones between keyframes (None: not running).
        self.by_vehicle = _occupant_only(worker.detectors)
        self.suspects_at = 0
        self.bgr: NDArray[np.uint8] | None = None  # see _bgr_buffer
        self.frames = 0
        self.first_pts = 0.0
        self.last_pts = 0.0
        self.cut = False
        self.warnings: list[str] = []
        self.removed: list[dict[str, Any]] = []
        self.counts = empty_counts()
        self.tracks: dict[int, dict[str, Any]] = {}
        self.stop = threading.Event()
        self.writer_stage: _Stage | None = None
        in_flight = max(1, min(QUEUE_FRAMES, QUEUE_BYTES // held_bytes(w, h)))
        self.q_in: queue.Queue[Any] = queue.Queue(in_flight)
        self.q_out: queue.Queue[Any] = queue.Queue(OUT_QUEUE)

    def go(self, out_path: Path, sidecar_path: Path) -> None:
        """Run every stage to the end; raises the first error of any stage."""
        reader_stage = _Stage("redact-decode", self._read)
        writer_stage = _Stage("redact-encode", lambda: self._write(out_path))
        self.writer_stage = writer_stage
        try:
            reader_stage.start()
            writer_stage.start()
            with open(sidecar_path, "w", encoding="utf-8") as side:
                self._detect_loop(reader_stage, writer_stage, side)
            _put(self.q_out, _END, self.stop, writer_stage)
            writer_stage.join()
            if writer_stage.error is not None:
                raise writer_stage.error
        finally:
            self.stop.set()
            for stage in (reader_stage, writer_stage):
                _drain(self.q_in)
                _drain(self.q_out)
                if stage.ident is not None:  # started
                    stage.join()
        if self.frames == 0:
            raise MediaError(f"{self.job.rel} has no video frames")

    # --- stages ----------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            span = self.span
            start = Seek(span.lead_ticks, span.lead) if span else None
            # A segment's detectors look on past its end by the look-ahead (and the frame that
            # ends it, looked at as the last): see Span.
            stop = span.end + self.pad + 1 if span and span.end is not None else None
            for item in self.reader.items(start, stop) if span else self.reader.items():
                _put(self.q_in, _Read.of(item) if isinstance(item, DecodedFrame) else item, self.stop)
        except DecodeError as exc:
            _put(self.q_in, exc, self.stop)
            return
        _put(self.q_in, _END, self.stop)

    def _write(self, out_path: Path) -> None:
        """Decode the input again, in step with the frames the detectors saw (``q_out``), and
        render and encode each with its regions; copy the audio packets (kept or dropped as
        configured) on the way."""
        cfg = self.worker.config
        style = self.worker.style
        writer: VideoWriter | None = None
        early: list[Any] = []  # audio packets demuxed before the first picture
        # One thread is enough at the encoder's pace (1080p: ~7 ms a frame) and holds fewer
        # pictures than frame threads.
        span = self.span  # a segment's part: no audio (joined from the source), timestamps from 0
        keep_audio = cfg.audio == "keep" and span is None
        with VideoReader(self.job.src, keep_audio=keep_audio, max_pixels=cfg.max_pixels, threads=1) as again:
            items = again.items(Seek(span.first_ticks, span.first), span.end) if span else again.items()
            offset = span.first_ticks if span else 0
            failed: DecodeError | None = None
            try:
                while True:
                    try:
                        item = next(items, _END)
                    except DecodeError as exc:  # judged below, against the detectors' decode
                        failed = exc
                        break
                    if item is _END:
                        break
                    if not isinstance(item, DecodedFrame):  # an audio packet
                        if writer is None:
                            early.append(item)
                        else:
                            writer.mux_audio(item)
                        continue
                    if writer is None:  # the rotation is known once the first frame is decoded
                        writer = VideoWriter(out_path, again, self.settings)
                        for packet in early:
                            writer.mux_audio(packet)
                        early.clear()
                    # The picture is this decode's own, so it is redacted where it lies (no copy
                    # of the frame unless regions overlap).
                    regions = self._regions_for(item)
                    writer.write(redact_picture(style, item.picture, regions, in_place=True), item.ticks - offset)
                # The detectors' decode must have ended at the same frame, and where the writer's
                # decode failed, theirs too (then the main thread has ended the output there,
                # --truncated-video cut, or fails the run and this wait stops).
                if _get(self.q_out, self.stop) is not _END or (failed is not None and not self.cut):
                    raise MediaError(
                        f"{self.job.rel}: the second decode ended after {writer.frames if writer else 0} frames "
                        f"({failed or 'end of file'}), where the detectors' decode did not; nothing was written "
                        "(report this file)"
                    )
            except BaseException:
                if writer is not None:
                    writer.container.close()
                raise
            if writer is not None:
                writer.finish()

    def _regions_for(self, decoded: DecodedFrame) -> Regions:
        """The regions the main thread found for this frame of the writer's decode.

        Raises:
            MediaError: the frame is not the one the detectors saw (the two decodes differ).
        """
        item = _get(self.q_out, self.stop)
        if item is _END:
            raise MediaError(
                f"{self.job.rel}: the second decode found frame {decoded.index} after the detectors' "
                "last frame; nothing was written"
            )
        seen, regs = item
        pic = decoded.picture
        if (seen.index, seen.ticks, seen.width, seen.height) != (decoded.index, decoded.ticks, pic.width, pic.height) \
                or seen.fingerprint != pic.fingerprint():
            raise MediaError(
                f"{self.job.rel}: frame {decoded.index} decoded differently the second time, so the regions "
                "found in it cannot be trusted to fit; nothing was written (report this file)"
            )
        return regs

    def _detect_loop(self, reader: _Stage, writer: _Stage, side: Any) -> None:
        held: collections.deque[tuple[_Seen, Detections, str, bool]] = collections.deque()
        total = self.reader.declared_frames
        current = _get(self.q_in, self.stop, reader)
        while isinstance(current, _Read):
            if writer.error is not None:
                raise writer.error
            # One frame of peeking tells whether this is the last frame (a keyframe, always)
            # and whether a changed frame is a cut or a flash.
            upcoming = _get(self.q_in, self.stop, reader)
            after = upcoming if isinstance(upcoming, _Read) else None
            cut = self.cut_detector.check(current.small, after.small if after is not None else None)
            dets, look = self._track(current, last=after is None, cut=cut)
            self.looks[look] += 1
            held.append((_Seen.of(current.frame), dets, look, cut))
            if len(held) > self.pad:
                self._emit(*held.popleft(), side)
            if self.on_frames:
                self.on_frames(self.job.rel, current.frame.index + 1, total)
            current = upcoming
        if isinstance(current, DecodeError):
            self._on_decode_error(current)
        while held:
            self._emit(*held.popleft(), side)

    def _track(self, read: _Read, *, last: bool, cut: bool = False) -> tuple[Detections, str]:
        """Detect on a frame as the schedule says and update the tracker; returns the
        tracker's boxes and how the frame was looked at (one of :data:`LOOKS`).

        The first frame of a new shot (``cut``) ends every track and gets a full pass on the
        whole frame, whatever the schedule says.
        """
        decoded = read.frame
        if cut:
            ended = self.tracker.cut(decoded.index)
            self.cuts.append({"frame": decoded.index, "pts": round(decoded.pts, 6), "tracks": ended})
            self.suspects = Detections.empty()  # the last shot's
        kind = FULL if cut else self.schedule.kind(decoded.index, last)
        if kind is None:
            return self.tracker.update(decoded.index, decoded.pts, None), NONE
        # The BGR picture the detectors take, in one buffer reused from frame to frame (it is
        # read only while this frame is detected).
        f = Frame(decoded.index, decoded.pts, decoded.picture.bgr_in(self._bgr_buffer(decoded.picture)))
        h, w = f.image.shape[:2]
        full = self.worker.detectors
        if self.schedule.keyframe == self.schedule.every:  # no keyframe schedule: always in full
            dets = full.detect(f.image)
            out = self.tracker.update(f.index, f.pts, dets, reach=f.index - self.last_full)
            self.last_full = f.index
            return out, FULL
        expected = self.tracker.active(f.index, f.pts)
        # Between keyframes an occupant track (a vehicle's windows) is followed by the vehicle
        # network alone, in windows of its own: its zones are large, and the face and plate
        # networks run where faces and plates are tracked or suspected.
        by_vehicle = self.by_vehicle if kind != FULL else None
        is_occ = expected.label == Label.OCCUPANT.value
        rois = self._focus(f, expected[~is_occ] if by_vehicle is not None else expected)
        occ_rois = self._focus(f, expected[is_occ], suspects=False) if by_vehicle is not None else []
        thumb = read.thumb if kind == FULL else None
        cells = None
        if thumb is not None and self.since_whole + 1 < WHOLE_EVERY and not cut:
            cells = self.key_change.changed(thumb)
            rois = _merged(change_windows(cells, w, h) + rois, w, h)
        watching = kind == CHANGED  # between keyframes, with Schedule.watch
        if watching:
            # Whatever changed since the full detectors last looked at it: a newcomer is
            # looked at closely from its first frame, as full detection would. (Keyframes
            # still look at all that changed since the last keyframe, for its suspects.)
            thumb = read.thumb
            cells = self.change.changed(thumb)
            rois = _merged(change_windows(cells, w, h) + rois, w, h)
        if sum(t.width * t.height for t in rois) > FOCUS_MAX_AREA * w * h:
            # So much to look at closely that a full pass costs about the same.
            kind, cells = FULL, None
            thumb = read.thumb
        elif kind == FULL and cells is not None:
            kind = CHANGED
        if kind == FULL:
            dets, suspects = full.look(f.image, ratio=SUSPECT_RATIO)
            weak = None
            self.since_whole = 0
        else:
            dets, weak = full.look(f.image, ratio=SUSPECT_RATIO, rois=rois)
            if by_vehicle is not None and occ_rois:
                vdets, vweak = by_vehicle.look(f.image, ratio=SUSPECT_RATIO, rois=occ_rois)
                dets, weak = Detections.concat([dets, vdets]), Detections.concat([weak, vweak])
            if kind == GLANCE:
                dets = Detections.concat([dets, self._glance(read, f.image)])
                dets = merge_detections(dets, iou=MERGE_IOU, contain=MERGE_CONTAIN)
            suspects = weak
            # A live track may be continued by weaker evidence where it is expected (full
            # detection on every frame would likely have seen it at full score), never started.
            weak = weak[np.asarray(centres_inside(weak.xyxy, expected.xyxy).any(axis=0), bool)]
        if thumb is None or (watching and kind == CHANGED):  # between keyframes
            if thumb is not None:
                self.change.looked(thumb, cells)
            return self.tracker.update(f.index, f.pts, dets, reach=f.index - self.last_full, weak=weak), kind
        if kind == CHANGED:
            self.since_whole += 1
            # The last keyframe's suspects where nothing changed are suspects still.
            kept = np.asarray(~centres_inside(self.suspects.xyxy, _xyxy(rois)).any(axis=0), bool)
            suspects = Detections.concat([suspects, self.suspects[kept]])
        order = np.argsort(-suspects.score, kind="stable")[:MAX_SUSPECTS]
        self.suspects, self.suspects_at = suspects[order], f.index
        self.key_change.looked(thumb, cells)
        self.change.looked(thumb, cells)
        # New tracks are covered back to the last keyframe, which looked at every part of the
        # picture that changed since the one before it.
        out = self.tracker.update(f.index, f.pts, dets, reach=f.index - self.last_full, weak=weak)
        self.last_full = f.index
        return out, kind

    def _bgr_buffer(self, picture: Picture) -> NDArray[np.uint8]:
        shape = (picture.height, picture.width, 3)
        if self.bgr is None or self.bgr.shape != shape:
            self.bgr = np.empty(shape, np.uint8)
        return self.bgr

    def _glance(self, read: _Read, image: NDArray[np.uint8]) -> Detections:
        """The glance, on the parts of the picture that changed since the last glance or full
        pass looked at them (the rest would show it what it saw then); on the whole picture
        when most of it changed."""
        w, h = read.frame.picture.width, read.frame.picture.height
        thumb = read.thumb
        cells = self.change.changed(thumb, least=GLANCE_LEAST)
        self.change.looked(thumb, cells)
        wins = change_windows(cells, w, h)
        if not wins:
            return Detections.empty()
        whole = sum(t.width * t.height for t in wins) > FOCUS_MAX_AREA * w * h
        return self.worker.glance.detect(image, rois=None if whole else wins)

    def _focus(self, f: Frame, expected: Detections, *, suspects: bool = True) -> list[Tile]:
        """Windows the full detectors look at between keyframes: around every live track
        (``expected``: where it is predicted) and, with ``suspects``, every suspect of the
        last keyframe (grown as far as it could have moved since)."""
        h, w = f.image.shape[:2]
        boxes: list[NDArray[np.float64]] = [expected.xyxy.astype(np.float64)]
        since = f.index - self.suspects_at
        for box in self.suspects.xyxy.astype(np.float64) if suspects else ():
            boxes.append(grow_blind(box, since)[None])
        return windows_around(np.concatenate(boxes), w, h, margin=FOCUS_MARGIN, min_margin=FOCUS_MIN_MARGIN)

    def _on_decode_error(self, exc: DecodeError) -> None:
        if self.worker.config.truncated_video != "cut" or exc.frames == 0:
            raise MediaError(f"{exc}; the partial output was removed (pass --truncated-video cut to keep it)")
        msg = f"{exc}; output cut after frame {exc.frames - 1} (--truncated-video cut)"
        log.warning("%s: %s", self.job.rel, msg)
        self.warnings.append(msg)
        self.cut = True

    def _emit(self, seen: _Seen, dets: Detections, look: str, cut: bool, side: Any) -> None:
        index, pts = seen.index, seen.pts
        dets = Detections.concat([dets, self.tracker.backfill(index, pts)])
        span = self.span
        if span is not None and (index < span.first or (span.end is not None and index >= span.end)):
            return  # a segment's lead-in or lead-out: looked at and tracked, not written
        w, h = seen.width, seen.height
        cfg = self.worker.config
        edits = self.worker.overrides.apply(self.job.rel, index, dets, w, h, root=self.job.root)
        self.removed.extend(edits.removed)
        self.warnings.extend(edits.warnings)
        regs: Regions = region_mod.build(edits.dets, w, h, padding=cfg.padding, face_shape=cfg.shape)
        records = edits.annotate(regs.to_records())
        line: dict[str, Any] = {"frame": index, "pts": round(pts, 6), "look": look}
        if cut:
            line["cut"] = True
        line["regions"] = records
        side.write(json.dumps(line) + "\n")
        for rec in records:
            self.counts[str(rec["label"])] += 1
            self._count_track(rec, index)
        _put(self.q_out, (seen, regs), self.stop, self.writer_stage)
        if self.frames == 0:
            self.first_pts = pts
        self.frames += 1
        self.last_pts = pts

    def _count_track(self, rec: dict[str, Any], index: int) -> None:
        tid = rec.get("track")
        if tid is None:
            return
        t = self.tracks.setdefault(
            int(tid),
            {"id": int(tid), "label": rec["label"], "first_frame": index, "last_frame": index,
             "observed": 0, "predicted": 0, "_last": -1},
        )
        if t["_last"] == index:
            return  # one frame counts once even if the track has two boxes in it
        t["_last"] = index
        t["last_frame"] = index
        t["observed" if rec["source"] == "detector" else "predicted"] += 1

    def track_summary(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in t.items() if k != "_last"} for _, t in sorted(self.tracks.items())]


def _occupant_only(detectors: Any) -> Any:
    """The occupant detector of a detector set on its own, or ``None`` where the set has
    none (or cannot be split: test doubles)."""
    only = getattr(detectors, "only", None)
    names = [getattr(d, "name", "") for d in getattr(detectors, "detectors", ())]
    if only is None or "occupants" not in names:
        return None
    return only(("occupants",))
