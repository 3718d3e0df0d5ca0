"""Redact one video: decode, detect, track, render and encode as a streaming pipeline.

Three stages overlap in threads joined by bounded queues, so memory does not depend on
the video's length::

    reader thread ──► q_in ──► this thread: detect, track, look-ahead ──► q_out ──► writer thread
    (decode, rotate)            (regions, sidecar line, progress)   (regions)  (decode again, render,
                                                                                 encode, mux audio)

The writer decodes the input a second time, in step, rather than being handed the pictures:
the tracker's look-ahead (see :mod:`redact.video.schedule`) then holds what was found in each
frame, not the frame, so memory does not depend on the frame rate, the frame size or the
keyframe interval either; decoding again costs far less than encoding (docs/performance.md).
Decoding is exact, and the writer checks each frame against the one the detectors saw (index, timestamp, size and a
fingerprint of its pixels): a frame that differs, or a decode that ends where the other does
not, stops the run and nothing is written.

Which frames the detectors look at, and where, follows a schedule
(:mod:`redact.video.schedule`): keyframes get the configured detector set, the frames between
close looks at what changed, at live tracks and at near-threshold suspects; the first frame
of every new shot gets a full pass and ends every track.

The output is written to a temp file that only replaces the final path once every frame was
encoded and the result was checked (frame count); on any error it is removed.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from redact.errors import MediaError, RedactError
from redact.hashing import sha256_file
from redact.io.atomic import atomic_path
from redact.io.encode import EncoderSettings, VideoWriter, auto_lookahead
from redact.io.video import (
    DecodedFrame,
    DecodeError,
    Seek,
    VideoReader,
    count_video_packets,
    pix_fmt_for,
)
from redact.render import regions as region_mod
from redact.render.picture import redact_picture
from redact.types import Detections, FrameCallback, Regions
from redact.video.anamorphic import ShownContext, as_shown
from redact.video.ledger import Ledger, sidecar_rel
from redact.video.memory import return_large_blocks
from redact.video.schedule import Looker, Read
from redact.video.stages import END, Stage, drain, get, put

if TYPE_CHECKING:
    from redact.config import RedactConfig
    from redact.discover import Job
    from redact.render.styles import Style
    from redact.review.overrides import Overrides

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
# one (and the reader holds the next while it waits): decoding is far faster than detecting,
# so a few frames cover its jitter, and more only hold memory. 4 at 1080p, 1 at 4K.
QUEUE_FRAMES = 4
QUEUE_BYTES = 20 * 2**20
OUT_QUEUE = 64  # frames' regions waiting for the writer (no pictures: the writer decodes its own)


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


@dataclass(frozen=True)
class Span:
    """The part of a video one job writes, for a video split into segments (see
    :mod:`redact.video.segments`); frame numbers are 0-based indices in the whole video.

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


def encoder_settings(cfg: RedactConfig, reader: VideoReader, suffix: str) -> tuple[EncoderSettings, str | None]:
    """The encoder settings for ``reader``'s video written as ``suffix``, and a warning when the
    configured codec does not fit that container (see :meth:`EncoderSettings.for_container`)."""
    lookahead = cfg.lookahead if cfg.lookahead is not None else auto_lookahead(*reader.coded_size)
    return EncoderSettings(cfg.codec, cfg.crf, cfg.preset, lookahead, reader.fields).for_container(suffix)


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
    return_large_blocks()  # long runs of full-size pictures on several threads: see redact.video.memory
    input_sha = sha256_file(job.src)
    sidecar = worker.frames_dir / sidecar_rel(job.rel)
    side_rel = f"{worker.frames_dir.name}/{sidecar_rel(job.rel)}"

    dst = job.checked_dst()
    # The detectors' decode; the writer decodes again, with the audio (see VideoRun._write). One
    # thread: frame threads hold pictures in flight, and at the detectors' pace one thread
    # keeps the queue full.
    with VideoReader(job.src, keep_audio=False, max_pixels=cfg.max_pixels, threads=1) as reader:
        settings, codec_warning = encoder_settings(cfg, reader, job.dst.suffix)
        warnings: list[str] = [codec_warning] if codec_warning else []
        with atomic_path(dst) as tmp_out, atomic_path(sidecar) as tmp_side:
            run = VideoRun(job, worker, reader, settings, on_frames)
            run.go(tmp_out, tmp_side)
            warnings.extend(reader.left_out)  # after decoding: it may have more to say
            warnings.extend(run.warnings)
        info = reader.info()
    frame_count = run.ledger.frames
    duration = info.duration
    if run.cut or duration is None or reader.joined:
        duration = run.ledger.last_pts - run.ledger.first_pts + (float(1 / info.fps) if info.fps else 0.0)
    return {
        "format": info.format,
        "input_sha256": input_sha,
        "output_sha256": sha256_file(job.dst),
        "width": info.width,
        "height": info.height,
        "regions": [],
        "counts": run.ledger.counts,
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
        "tracks": run.ledger.track_summary(),
        "looks": run.looker.looks,
        "cuts": run.looker.cuts,
        "removed": run.removed,
        "frames": {"file": side_rel, "sha256": sha256_file(sidecar), "count": frame_count},
    }


class VideoRun:
    """One video's pipeline run: the reader, detector and writer threads and the queues between
    them. The detector thread (the caller's) hands each frame to a :class:`Looker`, holds the
    boxes for the tracker's look-ahead, and records what it emits in a :class:`Ledger`."""

    def __init__(
        self, job: Job, worker: VideoContext, reader: VideoReader, settings: EncoderSettings,
        on_frames: FrameCallback | None, span: Span | None = None,
    ) -> None:
        self.job, self.worker, self.reader, self.settings = job, worker, reader, settings
        self.span = span
        self.on_frames = on_frames
        # Pixels that are not square, and interlaced frames, are looked at as the video is
        # shown (redact.video.anamorphic, redact.video.fields).
        sar = reader.sample_aspect_ratio
        aspect = None if sar is None else float(sar)
        looking: VideoContext = worker
        if aspect is not None or reader.interlaced:
            looking = ShownContext(worker, lambda d: as_shown(d, aspect, reader.interlaced))
        self.looker = Looker(
            looking, reader.rate, start=span.lead if span else 0, first_track=span.first_track if span else 0
        )
        self.pad = self.looker.lookahead
        self.ledger = Ledger()
        self.cut = False  # the input was cut short and the output ends there (--truncated-video cut)
        self.warnings: list[str] = []
        self.removed: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.writer_stage: Stage | None = None
        w, h = reader.coded_size
        in_flight = max(1, min(QUEUE_FRAMES, QUEUE_BYTES // held_bytes(w, h)))
        self.q_in: queue.Queue[Any] = queue.Queue(in_flight)
        self.q_out: queue.Queue[Any] = queue.Queue(OUT_QUEUE)

    def go(self, out_path: Path, sidecar_path: Path) -> None:
        """Run every stage to the end and check that ``out_path`` holds every frame decoded;
        raises the first error of any stage."""
        reader_stage = Stage("redact-decode", self._read)
        writer_stage = Stage("redact-encode", lambda: self._write(out_path))
        self.writer_stage = writer_stage
        try:
            reader_stage.start()
            writer_stage.start()
            with open(sidecar_path, "w", encoding="utf-8") as side:
                self._detect_loop(reader_stage, writer_stage, side)
            put(self.q_out, END, self.stop, writer_stage)
            writer_stage.join()
            if writer_stage.error is not None:
                raise writer_stage.error
        finally:
            self.stop.set()
            for stage in (reader_stage, writer_stage):
                drain(self.q_in)
                drain(self.q_out)
                if stage.ident is not None:  # started
                    stage.join()
        if self.ledger.frames == 0:
            raise MediaError(f"{self.job.rel} has no video frames")
        written = count_video_packets(out_path)
        if written != self.ledger.frames:
            what = "the output" if self.span is None else f"the part from frame {self.span.first}"
            raise MediaError(
                f"{self.job.rel}: {what} holds {written} frames but {self.ledger.frames} were decoded; "
                "the encoder dropped frames, try another --codec"
            )

    # --- stages ----------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            span = self.span
            start = Seek(span.lead_ticks, span.lead) if span else None
            # A segment's detectors look on past its end by the look-ahead (and the frame that
            # ends it, looked at as the last): see Span.
            stop = span.end + self.pad + 1 if span and span.end is not None else None
            for item in self.reader.items(start, stop) if span else self.reader.items():
                put(self.q_in, Read.of(item) if isinstance(item, DecodedFrame) else item, self.stop)
        except DecodeError as exc:
            put(self.q_in, exc, self.stop)
            return
        put(self.q_in, END, self.stop)

    def _write(self, out_path: Path) -> None:
        """Decode the input again, in step with the frames the detectors saw (``q_out``), and
        render and encode each with its regions; copy the audio packets (kept or dropped as
        configured) on the way."""
        cfg = self.worker.config
        style = self.worker.style
        writer: VideoWriter | None = None
        early: list[Any] = []  # audio packets demuxed before the first picture
        # One thread keeps up with the encoder and holds fewer pictures than frame threads.
        span = self.span  # a segment's part: no audio (joined from the source), timestamps from 0
        keep_audio = cfg.audio == "keep" and span is None
        with VideoReader(self.job.src, keep_audio=keep_audio, max_pixels=cfg.max_pixels, threads=1) as again:
            items = again.items(Seek(span.first_ticks, span.first), span.end) if span else again.items()
            offset = span.first_ticks if span else 0
            failed: DecodeError | None = None
            try:
                while True:
                    try:
                        item = next(items, END)
                    except DecodeError as exc:  # judged below, against the detectors' decode
                        failed = exc
                        break
                    if item is END:
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
                if get(self.q_out, self.stop) is not END or (failed is not None and not self.cut):
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
        item = get(self.q_out, self.stop)
        if item is END:
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

    def _detect_loop(self, reader: Stage, writer: Stage, side: TextIO) -> None:
        held: collections.deque[tuple[_Seen, Detections, str, bool]] = collections.deque()
        total = self.reader.declared_frames
        current = get(self.q_in, self.stop, reader)
        while isinstance(current, Read):
            if writer.error is not None:
                raise writer.error
            # One frame of peeking tells whether this is the last frame (a keyframe, always)
            # and whether a changed frame is a cut or a flash.
            upcoming = get(self.q_in, self.stop, reader)
            after = upcoming if isinstance(upcoming, Read) else None
            dets, look, cut = self.looker.look(current, after)
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

    def _on_decode_error(self, exc: DecodeError) -> None:
        if self.worker.config.truncated_video != "cut" or exc.frames == 0:
            raise MediaError(f"{exc}; the partial output was removed (pass --truncated-video cut to keep it)")
        msg = f"{exc}; output cut after frame {exc.frames - 1} (--truncated-video cut)"
        log.warning("%s: %s", self.job.rel, msg)
        self.warnings.append(msg)
        self.cut = True

    def _emit(self, seen: _Seen, dets: Detections, look: str, cut: bool, side: TextIO) -> None:
        """A frame's boxes are final (nothing later can backfill into it): apply the reviewer's
        edits, build its regions, record it and hand the regions to the writer."""
        index, pts = seen.index, seen.pts
        dets = Detections.concat([dets, self.looker.backfill(index, pts)])
        span = self.span
        if span is not None and (index < span.first or (span.end is not None and index >= span.end)):
            return  # a segment's lead-in or lead-out: looked at and tracked, not written
        w, h = seen.width, seen.height
        cfg = self.worker.config
        edits = self.worker.overrides.apply(self.job.rel, index, dets, w, h, root=self.job.root)
        self.removed.extend(edits.removed)
        self.warnings.extend(edits.warnings)
        regs: Regions = region_mod.build(edits.dets, w, h, padding=cfg.padding, face_shape=cfg.shape)
        self.ledger.frame(side, index, pts, look, cut, edits.annotate(regs.to_records()))
        put(self.q_out, (seen, regs), self.stop, self.writer_stage)
