"""A video in parts: its frame index by packet scan, and parts joined back by packet copy.

A long video is redacted in segments that start at keyframes (:mod:`redact.video.segments`). The
keyframes and every frame's timestamp come from the container's packets, without decoding.
Each segment is encoded into an MP4 part with timestamps from 0 (an MP4 part that starts
later gets an edit list, whose start MP4 rounds to 1 ms); :func:`join` copies the parts'
packets into the output, each part's timestamps shifted back by the exact tick where it
starts, and copies the source's audio packets once, interleaved by time. Matroska and NUT
parts would not do: they lose the decode timestamps that B-frames need.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from redact.errors import MediaError
from redact.io.video import FALLBACK_TIME_BASE


@dataclass(frozen=True)
class FrameIndex:
    """Every frame's timestamp and the keyframes of a video stream.

    Attributes:
        time_base: seconds per tick.
        ticks: every frame's PTS in ticks, in presentation order (strictly rising).
        keyframes: presentation indices of the frames a decode can start at, rising.
        rate: the stream's average frame rate (frames per second), None when it declares none.
    """

    time_base: Fraction
    ticks: tuple[int, ...]
    keyframes: tuple[int, ...]
    rate: Fraction | None = None

    @property
    def frames(self) -> int:
        return len(self.ticks)

    def seconds(self, index: int) -> float:
        """Seconds from the first frame to frame ``index``."""
        return float((self.ticks[index] - self.ticks[0]) * self.time_base)

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the last one's end (its step taken as the one before)."""
        if self.frames < 2:
            return 0.0
        step = self.ticks[-1] - self.ticks[-2]
        return float((self.ticks[-1] + step - self.ticks[0]) * self.time_base)

    def keyframe_at_or_after(self, index: int) -> int | None:
        """The first keyframe at or after frame ``index``, or None."""
        i = bisect.bisect_left(self.keyframes, index)
        return self.keyframes[i] if i < len(self.keyframes) else None

    def keyframe_at_or_before(self, index: int) -> int:
        """The last keyframe at or before frame ``index`` (frame 0 when none is)."""
        i = bisect.bisect_right(self.keyframes, index)
        return self.keyframes[i - 1] if i else 0


def scan(path: Path, *, longer_than: float = 0.0) -> FrameIndex | None:
    """The frame index of ``path``'s video stream, read from its packets (nothing is decoded).

    Args:
        path: the video.
        longer_than: return None without reading the packets when the container's header
            says the video is not longer than this (seconds).

    Returns:
        None when the stream cannot be cut at keyframes exactly (a packet without a
        timestamp, two frames with one timestamp, the first frame not a keyframe, frames an
        edit list hides from the start of a trimmed MP4), when the
        file has no video stream or several, or when the header says it is too short.

    Raises:
        MediaError: the file cannot be opened or its packets cannot be read.
    """
    try:
        container: Any = av.open(str(path), "r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot open {path.name}: {exc}") from None
    with container:
        cover = av.stream.Disposition.attached_pic
        videos = [s for s in container.streams.video if not s.disposition & cover]
        if len(videos) != 1:
            return None  # redacted (or refused, with a reason) in one pass
        stream = videos[0]
        time_base = Fraction(stream.time_base or FALLBACK_TIME_BASE)
        header = float(stream.duration * time_base) if stream.duration is not None else (
            float(container.duration) / 1e6 if container.duration is not None else None)
        if header is not None and header <= longer_than:
            return None
        rate = Fraction(stream.average_rate) if stream.average_rate else None
        pts: list[int] = []
        keys: list[int] = []
        try:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if packet.pts is None or packet.is_discard:
                    return None  # no timestamp, or frames an edit list hides: no exact cuts
                pts.append(int(packet.pts))
                if packet.is_keyframe:
                    keys.append(int(packet.pts))
        except av.FFmpegError as exc:
            raise MediaError(f"cannot read the packets of {path.name}: {exc}") from None
    ordered = sorted(pts)
    if not ordered or len(set(ordered)) != len(ordered):
        return None
    keyframes = sorted(bisect.bisect_left(ordered, k) for k in keys)
    if not keyframes or keyframes[0] != 0:
        return None
    return FrameIndex(time_base, tuple(ordered), tuple(keyframes), rate)


def _exact(value: int, from_base: Fraction, to_base: Fraction, what: str) -> int:
    ticks = Fraction(value) * from_base / to_base
    if ticks.denominator != 1:
        raise MediaError(f"{what}: timestamp {value} x {from_base} is not a whole tick of {to_base}; "
                         "pass --segment-seconds 0 to redact it in one pass")
    return int(ticks)


@dataclass(frozen=True)
class Part:
    """An MP4 part: its file and the tick (source time base) its timestamps start from."""

    path: Path
    offset: int


def _video_packets(parts: Sequence[Part], out_stream: Any, time_base: Fraction) -> Iterator[tuple[float, int, Any]]:
    """Every part's video packets, timestamps in ``time_base`` shifted by the part's offset,
    as (seconds of decode time, 0, packet)."""
    last_dts: int | None = None
    for part in parts:
        with av.open(str(part.path), "r") as c:
            stream = c.streams.video[0]
            tb = Fraction(stream.time_base)
            for packet in c.demux(stream):
                if not packet.size:
                    continue
                if packet.pts is None or packet.dts is None:
                    raise MediaError(f"{part.path.name} has a packet without timestamps; nothing was written")
                pts = _exact(packet.pts, tb, time_base, part.path.name) + part.offset
                dts = _exact(packet.dts, tb, time_base, part.path.name) + part.offset
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1  # decode times must rise across a join
                if dts > pts:
                    raise MediaError(f"{part.path.name}: the parts cannot be joined in decode order; "
                                     "pass --segment-seconds 0 to redact it in one pass")
                last_dts = dts
                duration = _exact(packet.duration, tb, time_base, part.path.name) if packet.duration else 0
                packet.stream = out_stream
                packet.time_base = time_base
                packet.pts, packet.dts, packet.duration = pts, dts, duration
                yield float(dts * time_base), 0, packet


def _audio_packets(source: Any, streams: dict[int, Any]) -> Iterator[tuple[float, int, Any]]:
    """The source's audio packets (of ``streams``' inputs) as (seconds of decode time, 1, packet)."""
    inputs = [s for s in source.streams.audio if s.index in streams]
    if not inputs:
        return
    for packet in source.demux(inputs):
        if not packet.size or packet.dts is None:
            continue
        seconds = float(packet.dts * packet.time_base)
        packet.stream = streams[packet.stream.index]
        yield seconds, 1, packet


def join(parts: Sequence[Part], out: Path, *, source: Path, audio: bool, rotation: int, time_base: Fraction) -> int:
    """Join MP4 parts into ``out`` (its suffix picks the container) by packet copy.

    Args:
        parts: the parts in order; each part's timestamps start at 0 and are shifted by its
            ``offset`` (ticks of ``time_base``).
        out: the file to write (a temp path: the caller renames it into place).
        source: the input video, whose audio streams are copied once, packet for packet.
        audio: copy the source's audio (False: none).
        rotation: the input's clockwise display rotation in degrees.
        time_base: the input video stream's time base.

    Returns:
        The number of video packets (frames) written.

    Raises:
        MediaError: the parts differ in their codec setup, or the output cannot be written.
    """
    if not parts:
        raise MediaError(f"{out.name}: no parts to join")
    with av.open(str(parts[0].path), "r") as first:
        template = first.streams.video[0]
        extradata = template.codec_context.extradata
        for part in parts[1:]:
            with av.open(str(part.path), "r") as c:
                if c.streams.video[0].codec_context.extradata != extradata:
                    raise MediaError(f"{part.path.name} was encoded with other settings than {parts[0].path.name}; "
                                     "nothing was written")
        try:
            container: Any = av.open(str(out), "w")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"cannot create {out.name}: {exc}") from None
        with container, av.open(str(source), "r") as src:
            try:
                video = container.add_stream_from_template(template)
                video.time_base = time_base
                if rotation:
                    video.set_display_rotation(-rotation)  # FFmpeg angles are counter-clockwise
                streams: dict[int, Any] = {}
                for tmpl in src.streams.audio if audio else ():
                    copy = container.add_stream_from_template(tmpl)
                    copy.metadata.clear()
                    streams[tmpl.index] = copy
                written = 0
                for _, kind, packet in heapq.merge(
                    _video_packets(parts, video, time_base), _audio_packets(src, streams), key=lambda t: t[:2]
                ):
                    container.mux(packet)
                    written += kind == 0
            except (av.FFmpegError, ValueError) as exc:
                raise MediaError(f"joining the parts of {out.name} failed: {exc}") from None
    return written
