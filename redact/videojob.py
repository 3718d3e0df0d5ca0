"""Redact one video: decode, detect, track, render and encode as a streaming pipeline.

Three stages overlap in threads joined by bounded queues, so memory does not depend on
the video's length::

    reader thread ──► q_in ──► this thread: detect, track, look-ahead ──► q_out ──► writer thread
    (decode, rotate)            (regions, sidecar line, progress)              (render, encode, mux)

The look-ahead holds ``track_pad`` frames back so tracks can be padded before their first
detection. The output is written to a temp file that only replaces the final path once
every frame was encoded and the result was checked (frame count); on any error it is removed.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redact import regions as region_mod
from redact.errors import MediaError, RedactError
from redact.hashing import sha256_file
from redact.io.atomic import atomic_path
from redact.io.video import (
    PIX_FMT,
    DecodedFrame,
    DecodeError,
    EncoderSettings,
    VideoReader,
    VideoWriter,
    count_video_packets,
)
from redact.manifest import empty_counts
from redact.track import make_tracker
from redact.types import Detections, Regions

if TYPE_CHECKING:
    from redact.discover import Job
    from redact.pipeline import FrameCallback, Worker

log = logging.getLogger("redact")

QUEUE_FRAMES = 8  # decoded/rendered frames in flight per queue (bounds memory)
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


def _put(q: queue.Queue[Any], item: object, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            q.put(item, timeout=_POLL)
            return
        except queue.Full:
            continue


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


def redact_video(job: Job, worker: Worker, on_frames: FrameCallback | None = None) -> dict[str, Any]:
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
    input_sha = sha256_file(job.src)
    settings, codec_warning = EncoderSettings(cfg.codec, cfg.crf, cfg.preset).for_container(job.dst.suffix)
    warnings: list[str] = [codec_warning] if codec_warning else []
    sidecar = worker.frames_dir / f"{job.rel}.jsonl"
    sidecar_rel = f"{worker.frames_dir.name}/{job.rel}.jsonl"

    dst = job.checked_dst()
    with VideoReader(job.src, keep_audio=cfg.audio == "keep", max_pixels=cfg.max_pixels) as reader:
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
            "codec": settings.codec, "crf": settings.crf, "preset": settings.preset, "pix_fmt": PIX_FMT,
            "container": job.dst.suffix.lower().lstrip("."),
        },
        "tracks": run.track_summary(),
        "removed": run.removed,
        "frames": {"file": sidecar_rel, "sha256": sha256_file(sidecar), "count": frame_count},
    }


class _Run:
    """The state of one video's pipeline run."""

    def __init__(
        self, job: Job, worker: Worker, reader: VideoReader, settings: EncoderSettings,
        on_frames: FrameCallback | None,
    ) -> None:
        cfg = worker.config
        self.job, self.worker, self.reader, self.settings = job, worker, reader, settings
        self.on_frames = on_frames
        self.tracker = make_tracker(gap=cfg.track_gap, pad=cfg.track_pad, detect_every=cfg.detect_every)
        self.pad = self.tracker.lookahead
        self.every = cfg.detect_every
        self.frames = 0
        self.first_pts = 0.0
        self.last_pts = 0.0
        self.cut = False
        self.warnings: list[str] = []
        self.removed: list[dict[str, Any]] = []
        self.counts = empty_counts()
        self.tracks: dict[int, dict[str, Any]] = {}
        self.stop = threading.Event()
        self.q_in: queue.Queue[Any] = queue.Queue(QUEUE_FRAMES)
        self.q_out: queue.Queue[Any] = queue.Queue(QUEUE_FRAMES)

    def go(self, out_path: Path, sidecar_path: Path) -> None:
        """Run every stage to the end; raises the first error of any stage."""
        reader_stage = _Stage("redact-decode", self._read)
        writer_stage: _Stage | None = None
        try:
            # The writer needs the rotation, known once the first frame is decoded.
            reader_stage.start()
            early: list[Any] = []  # audio packets demuxed before the first picture
            first = _get(self.q_in, self.stop, reader_stage)
            while not isinstance(first, DecodedFrame) and first is not _END and not isinstance(first, DecodeError):
                early.append(first)
                first = _get(self.q_in, self.stop, reader_stage)
            writer = VideoWriter(out_path, self.reader, self.settings)
            writer_stage = _Stage("redact-encode", lambda: self._write(writer))
            writer_stage.start()
            for packet in early:
                _put(self.q_out, packet, self.stop)
            with open(sidecar_path, "w", encoding="utf-8") as side:
                self._detect_loop(first, reader_stage, writer_stage, side)
            _put(self.q_out, _END, self.stop)
            writer_stage.join()
            if writer_stage.error is not None:
                raise writer_stage.error
        finally:
            self.stop.set()
            for stage in (reader_stage, writer_stage):
                if stage is not None:
                    _drain(self.q_in)
                    _drain(self.q_out)
                    stage.join()
        if self.frames == 0:
            raise MediaError(f"{self.job.rel} has no video frames")

    # --- stages ----------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            for item in self.reader.items():
                _put(self.q_in, item, self.stop)
        except DecodeError as exc:
            _put(self.q_in, exc, self.stop)
            return
        _put(self.q_in, _END, self.stop)

    def _write(self, writer: VideoWriter) -> None:
        style = self.worker.style
        try:
            while True:
                item = _get(self.q_out, self.stop)
                if item is _END:
                    break
                if isinstance(item, tuple):
                    decoded, regs = item
                    writer.write(style.apply(decoded.frame.image, regs), decoded.ticks)
                else:
                    writer.mux_audio(item)
        except BaseException:
            writer.container.close()
            raise
        writer.finish()

    def _detect_loop(self, item: Any, reader: _Stage, writer: _Stage, side: Any) -> None:
        held: collections.deque[tuple[DecodedFrame, Detections]] = collections.deque()
        detectors = self.worker.detectors
        total = self.reader.declared_frames
        while item is not _END:
            if writer.error is not None:
                raise writer.error
            if isinstance(item, DecodeError):
                self._on_decode_error(item)
                break
            if not isinstance(item, DecodedFrame):
                _put(self.q_out, item, self.stop)  # an audio packet
            else:
                f = item.frame
                dets = detectors.detect(f.image) if f.index % self.every == 0 else None
                held.append((item, self.tracker.update(f.index, f.pts, dets)))
                if len(held) > self.pad:
                    self._emit(*held.popleft(), side)
                if self.on_frames:
                    self.on_frames(self.job.rel, f.index + 1, total)
            item = _get(self.q_in, self.stop, reader)
        while held:
            self._emit(*held.popleft(), side)

    def _on_decode_error(self, exc: DecodeError) -> None:
        if self.worker.config.truncated_video != "cut" or exc.frames == 0:
            raise MediaError(f"{exc}; the partial output was removed (pass --truncated-video cut to keep it)")
        msg = f"{exc}; output cut after frame {exc.frames - 1} (--truncated-video cut)"
        log.warning("%s: %s", self.job.rel, msg)
        self.warnings.append(msg)
        self.cut = True

    def _emit(self, decoded: DecodedFrame, dets: Detections, side: Any) -> None:
        f = decoded.frame
        dets = Detections.concat([dets, self.tracker.backfill(f.index, f.pts)])
        h, w = f.image.shape[:2]
        cfg = self.worker.config
        edits = self.worker.overrides.apply(self.job.rel, f.index, dets, w, h, root=self.job.root)
        self.removed.extend(edits.removed)
        self.warnings.extend(edits.warnings)
        regs: Regions = region_mod.build(edits.dets, w, h, padding=cfg.padding, face_shape=cfg.shape)
        records = edits.annotate(regs.to_records())
        side.write(json.dumps({"frame": f.index, "pts": round(f.pts, 6), "regions": records}) + "\n")
        for rec in records:
            self.counts[str(rec["label"])] += 1
            self._count_track(rec, f.index)
        _put(self.q_out, (decoded, regs), self.stop)
        if self.frames == 0:
            self.first_pts = f.pts
        self.frames += 1
        self.last_pts = f.pts

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
