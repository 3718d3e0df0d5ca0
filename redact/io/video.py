"""Video reading with PyAV, and the choices reading and writing (:mod:`redact.io.encode`)
share: exact timestamps, rotation, audio stream copy.

Choices (also in docs/video.md):

* **Containers**: the output keeps the input's container and file name (outputs mirror the
  input tree). MP4/MOV/M4V/MKV/AVI, MPEG-TS and 3GP carry H.264 (``--codec`` to change);
  WebM can only carry VP8/VP9/AV1, so WebM outputs are always VP9 (``libvpx-vp9``) and the
  manifest says so.
* **Timestamps**: every output frame keeps its input PTS in the input stream's time base,
  so variable frame rate survives exactly (within the container's own rounding). Where they
  go back (recordings joined end to end), those from there on are moved on to follow.
* **Rotation**: detection and rendering run on the upright picture; frames are turned back
  to the coded orientation before encoding and the output keeps the input's display
  rotation, so width, height and rotation match the input.
* **One video stream**: a file with two or more video streams (camera angles, views) is
  refused rather than written with the first alone; a cover picture attached to the
  container is left out with a warning.
* **Cut-short files**: MP4/MOV count their frames in the index (less those an edit list
  hides); Matroska/WebM declare each stream's duration in their header. A decode that ends
  short of either fails as damaged.
* **Metadata**: nothing is copied: no container tags (title, comment, location/GPS,
  creation time, device tags), no stream tags, no subtitle, data or attachment streams.
  Audio packets are copied untouched (``audio="keep"``) or left out (``"drop"``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av

from redact.errors import MediaError
from redact.io.yuv import Picture
from redact.types import MediaInfo

log = logging.getLogger("redact")

PIX_FMT = "yuv420p"
ODD_PIX_FMT = "yuv444p"  # 4:2:0 needs even sides; odd-sized video is written 4:4:4
JPEG_RANGE = 2  # AVColorRange AVCOL_RANGE_JPEG: full-range samples
MPEG_RANGE = 1  # AVColorRange AVCOL_RANGE_MPEG: limited-range samples
# Containers whose output codec is forced, and to what.
FORCED_CODEC = {".webm": "libvpx-vp9"}
# Time base used when a stream does not declare one (fine enough for 1 ms VFR).
FALLBACK_TIME_BASE = Fraction(1, 90000)
# A Matroska/WebM video whose frames end more than this short of the duration its header
# declares is cut short: at least SHORT_FRAMES frame intervals and SHORT_SECONDS against the
# video stream's own DURATION; against the whole file's (the longest stream, audio too) at
# least SHORT_FILE_SECONDS.
SHORT_FRAMES = 2
SHORT_SECONDS = 0.1
SHORT_FILE_SECONDS = 1.0
# Timestamps that go back further than this start a recording joined to the end of another
# (transport streams copied end to end); the later one's are moved on to follow the earlier.
JOIN_BACK_SECONDS = 0.5


class _Joins:
    """Audio timestamps moved on past joins, stream by stream (see :data:`JOIN_BACK_SECONDS`)."""

    def __init__(self) -> None:
        self.shift: dict[int, int] = {}
        self.last: dict[int, int] = {}

    def move_on(self, packet: Any) -> None:
        i = int(packet.stream.index)
        shift = self.shift.get(i, 0)
        dts = int(packet.dts) + shift
        last = self.last.get(i)
        if last is not None and (last - dts) * Fraction(packet.time_base) > JOIN_BACK_SECONDS:
            shift += last + max(1, int(packet.duration or 0)) - dts
            self.shift[i] = shift
            dts = int(packet.dts) + shift
        if shift:
            if packet.pts is not None:
                packet.pts = int(packet.pts) + shift
            packet.dts = dts
        self.last[i] = dts


@dataclass(frozen=True)
class DecodedFrame:
    """A decoded frame with its exact timestamp.

    Attributes:
        index: 0-based frame number in decode order.
        pts: presentation time in seconds.
        ticks: PTS in the input stream's time base (integer ticks).
        picture: the upright picture, I420 when its sides are even (see :mod:`redact.io.yuv`).
    """

    index: int
    pts: float
    ticks: int
    picture: Picture


@dataclass(frozen=True)
class Seek:
    """Where a partial decode starts: a keyframe's PTS (``ticks``, stream time base) and its
    0-based frame index in presentation order (see :mod:`redact.io.parts`)."""

    ticks: int
    index: int


class DecodeError(MediaError):
    """Decoding stopped before the end of the video; ``frames`` whole frames came before it."""

    def __init__(self, message: str, frames: int) -> None:
        super().__init__(message)
        self.frames = frames


def _seconds(text: str | None) -> float | None:
    """Seconds from a Matroska ``DURATION`` tag (``HH:MM:SS.nnnnnnnnn``), or None."""
    if not text:
        return None
    try:
        h, m, sec = text.strip().split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except ValueError:
        return None


def _first_frame_interlaced(path: Path) -> bool:
    """Whether the first frame of ``path``'s video is interlaced (False where it cannot be
    decoded: reading the file proper reports that)."""
    try:
        with av.open(str(path), "r") as container:
            return bool(next(container.decode(video=0)).interlaced_frame)
    except (av.FFmpegError, OSError, ValueError, StopIteration):
        return False


def _clockwise(rotation_ccw: float) -> int:
    """Clockwise display rotation (0/90/180/270) from FFmpeg's counter-clockwise angle."""
    return int(round(-rotation_ccw / 90.0)) % 4 * 90


def pix_fmt_for(width: int, height: int) -> str:
    """The output pixel format for coded frames of ``width`` x ``height``."""
    return PIX_FMT if width % 2 == 0 and height % 2 == 0 else ODD_PIX_FMT


def _passes(pix_fmt: str, width: int, height: int, color_range: int) -> bool:
    """Whether frames of this format reach the encoder as decoded, in I420: limited-range
    4:2:0 with even sides, 8-bit or deeper (10-bit HDR phone video is reduced to 8 bits,
    sample by sample: no colour matrix involved, so its colour description stays true)."""
    return pix_fmt.startswith("yuv420p") and width % 2 == 0 and height % 2 == 0 and color_range != JPEG_RANGE


def _picture(vf: Any, matrix: int) -> Picture:
    """A decoded frame's picture in its coded orientation: its own I420 planes where it
    passes (:func:`_passes`); else, with even sides, limited-range I420 converted by FFmpeg
    (which knows the frame's range) in the stream's colour ``matrix`` (:func:`colour_matrix`:
    only range, depth and chroma sampling change, not the colours); else BGR in that matrix."""
    if _passes(vf.format.name, vf.width, vf.height, getattr(vf, "color_range", 0)):
        if vf.format.name != "yuv420p":
            vf = vf.reformat(format="yuv420p")
        return Picture(vf.to_ndarray(format="yuv420p"), True)
    if vf.width % 2 == 0 and vf.height % 2 == 0:
        yuv = vf.reformat(format="yuv420p", src_colorspace=matrix, dst_colorspace=matrix, dst_color_range=MPEG_RANGE)
        return Picture(yuv.to_ndarray(format="yuv420p"), True)
    return Picture(vf.reformat(format="bgr24", src_colorspace=matrix).to_ndarray(), False)


# Colour matrices FFmpeg's scaler converts with (AVColorSpace numbers): BT.709, FCC, BT.470BG,
# SMPTE 170M (BT.601), SMPTE 240M, BT.2020.
SCALER_MATRICES = frozenset({1, 4, 5, 6, 7, 9, 10})


def colour_matrix(declared: int, height: int) -> int:
    """The matrix a stream's YUV is in: the one it declares, else the one players assume
    (BT.709 from 720 lines up, BT.601 below)."""
    if declared in SCALER_MATRICES:
        return 9 if declared == 10 else declared
    return 1 if height >= 720 else 6


class VideoReader:
    """Decode the first video stream of a file, in presentation order.

    Use as a context manager. :meth:`items` yields :class:`DecodedFrame` objects and, when
    ``keep_audio``, the audio :class:`av.Packet` objects in demux order (to be muxed by a
    :class:`VideoWriter` made with :attr:`audio_streams` as templates).

    ``threads`` 1 decodes in the calling thread only (frame threads each hold pictures in
    flight); ``None`` lets FFmpeg choose (frame and slice threads, one per core).

    Raises:
        MediaError: the file cannot be opened, has no video stream, or its frames declare more
            than ``max_pixels`` pixels.
    """

    def __init__(
        self, path: Path, *, keep_audio: bool, max_pixels: int | None = None, threads: int | None = None
    ) -> None:
        self.path = path
        try:
            self.container: Any = av.open(str(path), "r")
        except (av.FFmpegError, OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise MediaError(
                f"cannot open video ({reason}): not a video, or incomplete (truncated, missing index)"
            ) from None
        try:
            cover = av.stream.Disposition.attached_pic
            videos = [s for s in self.container.streams.video if not s.disposition & cover]
            if not videos:
                raise MediaError(f"{path.name} has no video stream; nothing to redact")
            if len(videos) > 1:
                raise MediaError(
                    f"{path.name} has {len(videos)} video streams (camera angles or views); redact writes one "
                    "video stream per file and would drop the others: split it into one file per video stream "
                    "(e.g. ffmpeg -i IN -map 0:v:1 -map 0:a? -c copy OUT) and redact each"
                )
            self.stream: Any = videos[0]
            covers = len(self.container.streams.video) - 1
            # Notes for the manifest on what the output leaves out or changes, beyond the
            # documented (filled in while decoding too).
            self.left_out: list[str] = [
                f"{covers} cover picture(s) attached to the container left out (not redacted, not written)"
            ] if covers else []
            if threads is None:
                self.stream.thread_type = "AUTO"
            else:
                self.stream.codec_context.thread_count = max(1, threads)
            self.all_audio = list(self.container.streams.audio)
            self.audio_streams = self.all_audio if keep_audio else []
            self.time_base = Fraction(self.stream.time_base or FALLBACK_TIME_BASE)
            self.rate: Fraction | None = Fraction(self.stream.average_rate) if self.stream.average_rate else None
            cc = self.stream.codec_context
            if cc is None or not cc.width or not cc.height:
                raise MediaError(
                    f"{path.name}: the video stream has no decodable picture size (damaged or truncated header)"
                )
            self.coded_size = (int(cc.width), int(cc.height))
            sar = cc.sample_aspect_ratio or self.stream.sample_aspect_ratio
            # The shape of a stored pixel where it is not square (anamorphic video), else None.
            self.sample_aspect_ratio: Fraction | None = Fraction(sar) if sar and Fraction(sar) != 1 else None
            w, h = self.coded_size
            if max_pixels is not None and w * h > max_pixels:
                raise MediaError(
                    f"video frames declare {w}x{h} = {w * h:,} pixels, over the --max-pixels limit of "
                    f"{max_pixels:,}; raise --max-pixels if the file is trusted"
                )
            # The stream's colour description (primaries, transfer, matrix, range), and whether
            # its frames reach the encoder as decoded (_passes): converted frames go through BGR
            # and back in the stream's matrix, and come out in limited range.
            self.colour = (int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace), int(cc.color_range))
            self.passes = _passes(str(cc.pix_fmt or ""), w, h, int(cc.color_range))
            self.matrix = colour_matrix(int(cc.colorspace), h)
            # FFmpeg's field order (0 unknown, 1 progressive, 2-5 interlaced): see fields.
            self._field_order = int(getattr(cc, "field_order", 0) or 0)
            self._codec = str(cc.name or "")
            self.rotation = 0  # clockwise degrees; known after the first frame is decoded
            self.joined = False  # timestamps went back (JOIN_BACK_SECONDS); known after decoding
            # Video packets the container says to decode but not show (an MP4 trimmed by an edit
            # list: the frames before its start); counted as they are read.
            self.hidden = 0
        except BaseException:
            self.container.close()
            raise

    def _to_coded_size(self, vf: Any) -> Any:
        """A frame of another size than the stream's (the picture size changes mid-stream:
        joined recordings, adaptive streams) scaled to the stream's: the detectors, the
        writer's decode and the encoder then see one picture size, and regions one geometry."""
        w, h = self.coded_size
        note = (
            f"frames of {vf.width}x{vf.height} (the picture size changes mid-stream) scaled to the stream's "
            f"{w}x{h}, and detected and redacted at that size"
        )
        if note not in self.left_out:
            self.left_out.append(note)
        return vf.reformat(width=w, height=h)

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.container.close()

    @property
    def declared_frames(self) -> int | None:
        """Frame count from the container index, when it has one (None otherwise)."""
        n = int(self.stream.frames or 0)
        return n or None

    @property
    def duration(self) -> float | None:
        """Stream duration in seconds, or the container's, or None."""
        if self.stream.duration is not None:
            return float(self.stream.duration * self.time_base)
        if self.container.duration is not None:
            return float(self.container.duration) / 1e6
        return None

    @functools.cached_property
    def interlaced(self) -> bool:
        """Whether the frames are interlaced: as the stream declares, or where it does not say
        (DV), as its first frame does (one decode, only where asked)."""
        order = self._field_order
        return order in (2, 3, 4, 5) or (order == 0 and _first_frame_interlaced(self.path))

    @functools.cached_property
    def fields(self) -> str | None:
        """Interlaced video's field order, ``"tff"`` or ``"bff"`` (FFmpeg's TT/TB or BB/BT);
        ``None``: progressive or not known. DV's fields are bottom first by the format's
        definition."""
        order = self._field_order
        if order in (2, 4):
            return "tff"
        if order in (3, 5) or (self._codec == "dvvideo" and self.interlaced):
            return "bff"
        return None

    def info(self) -> MediaInfo:
        """What is known before decoding (rotation is filled in after the first frame)."""
        w, h = self.coded_size
        if self.rotation in (90, 270):
            w, h = h, w
        return MediaInfo(
            kind="video",
            width=w,
            height=h,
            format=self.container.format.name.split(",")[0],
            fps=self.rate,
            frame_count=self.declared_frames,
            duration=self.duration,
            rotation=self.rotation,
        )

    def items(self, start: Seek | None = None, stop: int | None = None) -> Iterator[DecodedFrame | Any]:
        """Decoded frames (upright pictures) and audio packets, in demux order.

        Args:
            start: decode from this keyframe on (frames keep their index in the whole video);
                ``None``: from the first frame.
            stop: end before the frame of this index (no checks of the file's end are made
                then); ``None``: to the end of the file.

        Raises:
            DecodeError: the stream is damaged or cut short; ``frames`` says how many whole
                frames were yielded before the damage.
            MediaError: seeking to ``start`` did not land on that keyframe.
        """
        index = 0 if start is None else start.index
        first_ticks: int | None = None
        last_ticks: int | None = None
        step = self._tick_step()
        wanted = [self.stream, *self.audio_streams]
        shift = 0  # ticks added to the video's timestamps from a join on
        joins = _Joins()  # the same for each audio stream
        try:
            if start is not None and start.index > 0:
                self.container.seek(start.ticks, stream=self.stream, backward=True, any_frame=False)
            for packet in self.container.demux(wanted):
                if packet.stream.type == "audio":
                    if packet.size and packet.dts is not None:
                        joins.move_on(packet)
                        yield packet
                    continue
                if packet.size and packet.is_discard:
                    self.hidden += 1
                for vf in packet.decode():
                    if start is not None and vf.pts is not None and vf.pts < start.ticks:
                        continue  # before the keyframe (a seek lands at or before it)
                    if stop is not None and index >= stop:
                        return
                    if vf.is_corrupt:
                        raise DecodeError(f"frame {index} of {self.path.name} is corrupt", index)
                    if first_ticks is None:
                        self.rotation = _clockwise(getattr(vf, "rotation", 0) or 0)
                        if start is not None and vf.pts != start.ticks:
                            raise MediaError(
                                f"{self.path.name}: seeking to frame {start.index} found timestamp {vf.pts}, "
                                f"not {start.ticks}; pass --segment-seconds 0 to redact it in one pass"
                            )
                    ticks = vf.pts + shift if vf.pts is not None else (0 if last_ticks is None else last_ticks + step)
                    if last_ticks is not None and ticks <= last_ticks:
                        if (last_ticks - ticks) * self.time_base > JOIN_BACK_SECONDS:
                            shift += last_ticks + step - ticks
                            self._note_join(index)
                            ticks = last_ticks + step
                        else:
                            # Encoders need strictly rising timestamps; a repeated PTS moves one tick.
                            ticks = last_ticks + 1
                    last_ticks = ticks
                    first_ticks = ticks if first_ticks is None else first_ticks
                    if (vf.width, vf.height) != self.coded_size:
                        vf = self._to_coded_size(vf)
                    picture = _picture(vf, self.matrix).rotated(-(self.rotation // 90))
                    yield DecodedFrame(index, float(ticks * self.time_base), ticks, picture)
                    index += 1
        except av.FFmpegError as exc:
            declared = self._declared()
            of = f" of its {declared}" if declared is not None and index < declared else ""
            raise DecodeError(
                f"decoding {self.path.name} failed after frame {index}{of} (the file is cut short or damaged): {exc}",
                index,
            ) from None
        declared = self._declared()
        if declared is not None and index < declared:
            raise DecodeError(
                f"{self.path.name} ends after {index} of its {declared} frames (the file is cut short or damaged)",
                index,
            )
        if first_ticks is None:
            raise DecodeError(f"{self.path.name} has no decodable video frames", index)
        if last_ticks is not None and (start is None or start.index == 0):
            span = float((last_ticks + step - first_ticks) * self.time_base)
            short = self._declared_span(span)
            if short is not None:
                raise DecodeError(
                    f"{self.path.name} ends after {index} frames, {span:.2f} s of the {short:.2f} s its header "
                    "declares (the file is cut short or damaged)",
                    index,
                )

    def _note_join(self, index: int) -> None:
        if not self.joined:
            self.left_out.append(
                f"timestamps go back at frame {index} (recordings joined end to end): the frames and sound "
                "from there on are moved on to follow the earlier ones"
            )
        self.joined = True

    def _declared_span(self, span: float) -> float | None:
        """The duration (s) a Matroska/WebM header declares for the video, when the decoded
        ``span`` (s) falls short of it by more than a tolerance; ``None`` otherwise."""
        if not self.container.format.name.startswith("matroska"):
            return None
        frame = float(1 / self.rate) if self.rate else 0.0
        tag = _seconds(self.stream.metadata.get("DURATION"))
        if tag is not None:
            return tag if tag - span > max(SHORT_SECONDS, SHORT_FRAMES * frame) else None
        if self.container.duration is not None:
            whole = float(self.container.duration) / 1e6
            return whole if whole - span > max(SHORT_FILE_SECONDS, SHORT_FRAMES * frame) else None
        return None

    def _declared(self) -> int | None:
        """Frames the container's index declares to be shown, where it can be trusted."""
        # Only MP4/MOV count samples in their index; AVI and MKV headers are not reliable.
        if self.declared_frames is None or not self.container.format.name.startswith("mov"):
            return None
        return self.declared_frames - self.hidden

    def _tick_step(self) -> int:
        if self.rate:
            return max(1, round(1 / (self.rate * self.time_base)))
        return 1


def count_video_packets(path: Path) -> int:
    """Number of video packets (= frames) in a file, by demuxing only (no decoding).

    Raises:
        MediaError: the file cannot be read back.
    """
    try:
        with av.open(str(path), "r") as c:
            stream = c.streams.video[0]
            return sum(1 for p in c.demux(stream) if p.size)
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise MediaError(f"cannot read back {path.name}: {exc}") from None
