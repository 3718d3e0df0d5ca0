"""Video writing with PyAV: encoder settings, the x264/x265 look-ahead and its memory, and
:class:`VideoWriter`, which encodes redacted frames with their input timestamps and copies
audio packets untouched (the choices: :mod:`redact.io.video`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np

from redact.errors import MediaError
from redact.io.video import FORCED_CODEC, MPEG_RANGE, VideoReader, pix_fmt_for
from redact.io.yuv import Picture

log = logging.getLogger("redact")


# Frames of rate-control look-ahead each x264 / x265 preset uses (their own preset tables).
# x264's look-ahead keeps about 6 MiB of pictures per frame at 1080p and 24 MiB at 4K, the
# largest single item in a video run's memory (bench/encoder.py; docs/performance.md).
PRESET_LOOKAHEAD: dict[str, dict[str, int]] = {
    "libx264": {"ultrafast": 0, "superfast": 0, "veryfast": 10, "faster": 20, "fast": 30, "medium": 40,
                "slow": 50, "slower": 60, "veryslow": 60},
    "libx265": {"ultrafast": 5, "superfast": 10, "veryfast": 15, "faster": 15, "fast": 15, "medium": 20,
                "slow": 25, "slower": 40, "veryslow": 40},
}
# Without --lookahead the look-ahead holds at most LOOKAHEAD_BUDGET of pictures, and at most
# AUTO_LOOKAHEAD frames: 20 at 1080p, 11 at 1440p, 5 at 4K. Each frame costs x264 about
# LOOKAHEAD_BYTES_PER_PIXEL bytes per pixel: the I420 picture (1.5), its four half-size
# planes (1), padding and per-block tables.
LOOKAHEAD_BUDGET = 120 * 2**20
LOOKAHEAD_BYTES_PER_PIXEL = 3
AUTO_LOOKAHEAD = 20


def auto_lookahead(width: int, height: int) -> int:
    """The look-ahead cap for ``width`` x ``height`` pictures when none is given: as many frames
    as fit :data:`LOOKAHEAD_BUDGET`, from 1 to :data:`AUTO_LOOKAHEAD`."""
    per_frame = LOOKAHEAD_BYTES_PER_PIXEL * max(1, width * height)
    return max(1, min(AUTO_LOOKAHEAD, LOOKAHEAD_BUDGET // per_frame))


@dataclass(frozen=True)
class EncoderSettings:
    """How video is encoded.

    Attributes:
        codec: FFmpeg encoder name (``libx264``, ``libx265``, ``libvpx-vp9``, ``mpeg4``).
        crf: constant rate factor (0..51; lower is better).
        preset: x264/x265 speed preset.
        max_lookahead: at most this many frames of x264/x265 rate-control look-ahead (a
            preset with fewer keeps its own); ``None`` keeps the preset's.
        fields: ``"tff"`` or ``"bff"`` to encode interlaced video field by field, top or
            bottom field first (x264), so players deinterlace it as they did the input;
            ``None``: progressive.
    """

    codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    max_lookahead: int | None = None
    fields: str | None = None

    def for_container(self, suffix: str) -> tuple[EncoderSettings, str | None]:
        """Settings that the container can hold, and a warning when they had to change."""
        forced = FORCED_CODEC.get(suffix.lower())
        if forced and forced != self.codec:
            return (
                replace(self, codec=forced),
                f"{suffix} can only hold VP8/VP9/AV1 video; encoded with {forced} instead of {self.codec}",
            )
        return self, None

    @property
    def lookahead(self) -> int | None:
        """Frames of look-ahead the encoder will use (``None``: not an x264/x265 setting)."""
        own = PRESET_LOOKAHEAD.get(self.codec, {}).get(self.preset)
        if own is None or self.max_lookahead is None:
            return own
        return min(own, self.max_lookahead)

    def options(self) -> dict[str, str]:
        """Encoder private options."""
        if self.codec in ("libx264", "libx265"):
            opts = {"crf": str(self.crf), "preset": self.preset}
            # x265 writes its own banner and statistics to stderr unless told not to.
            params = ["log-level=error"] if self.codec == "libx265" else []
            if self.lookahead is not None and self.lookahead != PRESET_LOOKAHEAD[self.codec].get(self.preset):
                params.append(f"rc-lookahead={self.lookahead}")
            if self.fields is not None and self.codec == "libx264":
                params += ["interlaced=1", f"{self.fields}=1"]
            if params:
                opts[f"{self.codec[3:]}-params"] = ":".join(params)
            return opts
        if self.codec == "libvpx-vp9":
            return {"crf": str(self.crf), "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"}
        # mpeg4: fixed quantiser; qscale 2..31 mapped from the CRF scale.
        return {"flags": "+qscale", "global_quality": str(118 * max(2, min(31, round(self.crf / 6))))}


class VideoWriter:
    """Encode frames into a new file, copying audio packets; nothing else is written.

    Args:
        path: output path; its suffix picks the container.
        reader: the open input (time base, rate, rotation, sizes and audio templates).
        settings: encoder settings already adapted with :meth:`EncoderSettings.for_container`.

    Raises:
        MediaError: the output or an audio stream cannot be set up.
    """

    def __init__(self, path: Path, reader: VideoReader, settings: EncoderSettings) -> None:
        self.path = path
        self.settings = settings
        self.rotation = reader.rotation
        self.time_base = reader.time_base
        self.frames = 0
        try:
            self.container: Any = av.open(str(path), "w")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"cannot create {path.name}: {exc}") from None
        try:
            self._setup(reader)
        except BaseException:
            self.container.close()
            raise

    def _setup(self, reader: VideoReader) -> None:
        s = self.settings
        try:
            vs = self.container.add_stream(s.codec, rate=reader.rate or None, options=s.options())
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(f"encoder {s.codec} is not available: {exc}; choose another --codec") from None
        w, h = reader.coded_size
        vs.width, vs.height = w, h
        self.pix_fmt = pix_fmt_for(w, h)
        vs.pix_fmt = self.pix_fmt
        vs.time_base = self.time_base
        vs.codec_context.time_base = self.time_base
        if self.rotation:
            vs.set_display_rotation(-self.rotation)  # FFmpeg angles are counter-clockwise
        # The output says what colours it holds, so a player shows them as the input's: frames
        # that pass through as decoded keep the input's description; converted ones are in the
        # stream's matrix (VideoReader.matrix), limited range, with its primaries and transfer.
        cc = vs.codec_context
        primaries, trc, colorspace, color_range = reader.colour
        self.matrix = reader.matrix
        if not reader.passes:
            colorspace, color_range = self.matrix, MPEG_RANGE
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = primaries, trc, colorspace, color_range
        sar = reader.sample_aspect_ratio
        if sar is not None:
            # Anamorphic video (HDV, DV, broadcast recordings) stores wider-than-square pixels:
            # without their shape the output would play squeezed.
            vs.codec_context.sample_aspect_ratio = sar
        if self.container.format.name == "avi":
            vs.codec_context.max_b_frames = 0  # AVI stores no reordering information
        self.video = vs
        self.audio: dict[int, Any] = {}
        for tmpl in reader.audio_streams:
            try:
                out = self.container.add_stream_from_template(tmpl)
            except (av.FFmpegError, ValueError) as exc:
                raise MediaError(f"cannot copy audio stream {tmpl.index}: {exc}; pass --audio drop") from None
            out.metadata.clear()
            self.audio[tmpl.index] = out

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is None:
            self.finish()
        else:
            self.container.close()

    def write(self, picture: Picture, ticks: int) -> None:
        """Encode one redacted upright picture at ``ticks`` (input time base).

        The encoder reads the picture's own buffer: the caller must not change it afterwards.

        Raises:
            MediaError: the encoder refused the frame (or could not start).
        """
        coded_pic = picture.rotated(self.rotation // 90)
        # No copy: FFmpeg holds a reference to the array for as long as it needs the frame
        # (x264 copies it into its own pictures at once); from_ndarray would copy every picture.
        data = np.ascontiguousarray(coded_pic.data)
        vf = av.VideoFrame.from_numpy_buffer(data, format="yuv420p" if coded_pic.yuv else "bgr24")
        if vf.format.name != self.pix_fmt:
            vf = vf.reformat(format=self.pix_fmt, dst_colorspace=self.matrix, dst_color_range=MPEG_RANGE)
        vf.pts = ticks
        vf.time_base = self.time_base
        try:
            packets = self.video.encode(vf)
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(
                f"encoding {self.path.name} with {self.settings.codec} ({self.pix_fmt}) failed: {exc}; "
                "choose another --codec"
            ) from None
        self._mux(packets)
        self.frames += 1

    def mux_audio(self, packet: Any) -> None:
        """Copy one input audio packet unchanged."""
        out = self.audio.get(packet.stream.index)
        if out is None:
            return
        packet.stream = out
        self._mux([packet])

    def finish(self) -> None:
        """Flush the encoder and close the file.

        Raises:
            MediaError: the encoder or muxer failed.
        """
        try:
            self._mux(self.video.encode(None))
        finally:
            self.container.close()

    def _mux(self, packets: list[Any]) -> None:
        try:
            for p in packets:
                self.container.mux(p)
        except (av.FFmpegError, ValueError) as exc:
            hint = "; pass --audio drop" if packets and packets[0].stream.type == "audio" else ""
            raise MediaError(f"writing {self.path.name} failed: {exc}{hint}") from None
