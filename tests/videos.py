"""Synthetic video clips for tests, made with PyAV (no downloads, no system ffmpeg)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.helpers import FACE_BGR, PLATE_BGR

TIME_BASE = Fraction(1, 90000)
# A marker moving right: (x, y, w, h) at frame i.
Box = tuple[int, int, int, int]


def moving_scene(
    i: int, width: int, height: int, faces: Sequence[Box] = (), plates: Sequence[Box] = (),
    base: np.ndarray | None = None,
) -> np.ndarray:
    """A textured BGR frame (H, W, 3) with marker faces (magenta) and plates (cyan) at xywh boxes,
    drawn on a copy of ``base`` (H, W, 3) or on fresh noise seeded by ``i``."""
    if base is not None:
        img = base.copy()
    else:
        img = np.random.default_rng(i).integers(40, 200, (height, width, 3), dtype=np.uint8)
    for x, y, w, h in faces:
        img[y : y + h, x : x + w] = FACE_BGR
    for x, y, w, h in plates:
        img[y : y + h, x : x + w] = PLATE_BGR
    return img


def still(seed: int = 0) -> Callable[[int, int, int], np.ndarray]:
    """A ``background`` for :func:`make_clip`: the same picture on every frame, textured in
    8-px blocks (structure a camera would see, not pixel noise), chosen by ``seed``."""

    def picture(i: int, width: int, height: int) -> np.ndarray:
        blocks = np.random.default_rng(seed).integers(40, 200, (-(-height // 8), -(-width // 8), 3), dtype=np.uint8)
        return np.repeat(np.repeat(blocks, 8, 0), 8, 1)[:height, :width]

    return picture


def default_objects(i: int) -> tuple[list[Box], list[Box]]:
    """One face and one plate moving 3 px per frame to the right."""
    return [(10 + 3 * i, 20, 20, 20)], [(20 + 3 * i, 80, 30, 12)]


def make_clip(
    path: Path,
    *,
    frames: int = 20,
    size: tuple[int, int] = (160, 120),
    pts_s: Sequence[float] | None = None,
    fps: int = 25,
    audio: bool = False,
    tags: dict[str, str] | None = None,
    stream_tags: dict[str, str] | None = None,
    rotation: int = 0,
    codec: str = "libx264",
    objects: Callable[[int], tuple[list[Box], list[Box]]] = default_objects,
    faststart: bool = False,
    background: Callable[[int, int, int], np.ndarray] | None = None,
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    sar: Fraction | None = None,
    colour: tuple[int, int, int, int] | None = None,
    fields: str | None = None,
) -> list[float]:
    """Write a clip and return its frame timestamps in seconds.

    Args:
        path: output file; its suffix picks the container.
        frames: number of video frames.
        size: coded (width, height) in pixels.
        pts_s: frame timestamps in seconds (variable frame rate); default ``i / fps``.
        fps: nominal frame rate.
        audio: add a mono AAC (Opus for WebM) tone as long as the video.
        tags: container metadata (e.g. title, comment, location).
        stream_tags: video stream metadata.
        rotation: FFmpeg display rotation in degrees (counter-clockwise, as stored).
        codec: video encoder.
        objects: frame index -> (face boxes, plate boxes), xywh in the *upright* picture.
        faststart: put the index at the front (so a cut file still opens).
        background: (frame index, width, height) -> the upright frame's BGR background;
            default fresh noise every frame. :func:`still` makes a camera that stands still.
        pix_fmt: the stream's pixel format.
        gop: at most this many frames from one keyframe to the next (default: the encoder's).
        sar: the stored pixels' shape, where not square (anamorphic video).
        colour: the stream's colour description: primaries, transfer, matrix and range
            (FFmpeg's numbers: 1, 1, 1, 1 is BT.709 limited range).
        fields: ``"tff"`` or ``"bff"``: interlaced, top or bottom field first (x264 only).
    """
    w, h = size
    times = list(pts_s) if pts_s is not None else [i / fps for i in range(frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        out.metadata.update(tags or {})
        if path.suffix == ".webm":
            codec = "libvpx-vp9"
        # AVI counts time in frames: give it a 1/fps time base.
        tb = Fraction(1, fps) if path.suffix == ".avi" else TIME_BASE
        options = ({"g": str(gop)} if gop else {}) | ({"x264-params": f"interlaced=1:{fields}=1"} if fields else {})
        vs = out.add_stream(codec, rate=fps, options=options or None)
        vs.width, vs.height = w, h
        vs.pix_fmt = pix_fmt
        vs.time_base = tb
        vs.codec_context.time_base = tb
        vs.metadata.update(stream_tags or {})
        if rotation:
            vs.set_display_rotation(rotation)
        if sar is not None:
            vs.codec_context.sample_aspect_ratio = sar
        if colour is not None:
            cc = vs.codec_context
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = colour
        a = None
        if audio:
            a = out.add_stream("libopus" if path.suffix == ".webm" else "aac", rate=48000)
            a.layout = "mono"
        k = (-rotation // 90) % 4  # clockwise quarter turns a player applies
        uw, uh = (h, w) if k % 2 else (w, h)
        for i, t in enumerate(times):
            faces, plates = objects(i)
            base = background(i, uw, uh) if background else None
            img = moving_scene(i, uw, uh, faces, plates, base)
            img = np.ascontiguousarray(np.rot90(img, k=k))  # store it coded (undo the player's turn)
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            if pix_fmt != "yuv420p":
                vf = vf.reformat(format=pix_fmt)
            vf.pts = round(t / tb)
            vf.time_base = tb
            for p in vs.encode(vf):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        if a is not None:
            total = times[-1] + (times[-1] - times[-2] if len(times) > 1 else 1 / fps)
            n = int(total * 48000)
            tone = (0.2 * np.sin(np.arange(n) * 2 * np.pi * 440 / 48000)).astype(np.float32)
            step = 960
            for s in range(0, n, step):
                chunk = tone[s : s + step]
                if len(chunk) < step:
                    chunk = np.pad(chunk, (0, step - len(chunk)))
                af = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                af.sample_rate = 48000
                af.pts = s
                for p in a.encode(af):
                    out.mux(p)
            for p in a.encode(None):
                out.mux(p)
    return times


def probe(path: Path, images: bool = True) -> dict[str, Any]:
    """Facts a checker compares: frame timestamps (s), size, rotation, tags, streams, audio duration."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        tb = v.time_base
        frames = list(c.decode(v))
        times = [float(f.pts * tb) for f in frames]
        rotation = frames[0].rotation if frames else 0
        pictures = [f.to_ndarray(format="bgr24") for f in frames] if images else []
    with av.open(str(path)) as c:
        audio = [s for s in c.streams.audio]
        adur = None
        if audio:
            last = 0.0
            for p in c.demux(audio[0]):
                if p.pts is not None and p.duration:
                    last = max(last, float((p.pts + p.duration) * p.time_base))
            adur = last
        return {
            "times": times,
            "images": pictures,
            "size": (v.codec_context.width, v.codec_context.height),
            "rotation": rotation,
            "tags": dict(c.metadata),
            "video_tags": dict(c.streams.video[0].metadata),
            "audio_tags": [dict(s.metadata) for s in c.streams.audio],
            "streams": [s.type for s in c.streams],
            "audio_duration": adur,
        }


def make_angles(path: Path, *, streams: int = 2, frames: int = 10, size: tuple[int, int] = (160, 120),
                cover: bool = False) -> None:
    """Write a clip with ``streams`` video streams (camera angles), each showing the default
    marker objects, and with ``cover`` a cover picture (an attached-picture MJPEG stream)."""
    w, h = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        videos = []
        for _ in range(streams):
            vs = out.add_stream("libx264", rate=25)
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            vs.time_base = vs.codec_context.time_base = TIME_BASE
            videos.append(vs)
        art = None
        if cover:
            art = out.add_stream("mjpeg")
            art.width, art.height, art.pix_fmt = w, h, "yuvj420p"
            art.disposition = av.stream.Disposition.attached_pic
        if art is not None:
            pic = av.VideoFrame.from_ndarray(moving_scene(0, w, h, [(10, 10, 30, 30)]), format="bgr24")
            pic = pic.reformat(format="yuvj420p")
            for p in art.encode(pic):
                out.mux(p)
            for p in art.encode(None):
                out.mux(p)
        for i in range(frames):
            faces, plates = default_objects(i)
            for n, vs in enumerate(videos):
                vf = av.VideoFrame.from_ndarray(moving_scene(i + 100 * n, w, h, faces, plates), format="bgr24")
                vf.pts = round(i / 25 / TIME_BASE)
                vf.time_base = TIME_BASE
                for p in vs.encode(vf):
                    out.mux(p)
        for vs in videos:
            for p in vs.encode(None):
                out.mux(p)


Objects = Callable[[int], tuple[list[Box], list[Box]]]


def make_resized(path: Path, parts: Sequence[tuple[tuple[int, int], Objects]]) -> None:
    """A clip whose picture size changes mid-stream (joined recordings, adaptive streams):
    each part an H.264 MPEG-TS clip of its own size, the streams joined and remuxed into
    ``path`` (timestamps moved on), as joining TS files and copying them does."""
    joined = b""
    for n, (size, objects) in enumerate(parts):
        part = path.with_name(f"{path.stem}-part{n}.ts")
        make_clip(part, frames=10, size=size, objects=objects, background=still(n))
        joined += part.read_bytes()
        part.unlink()
    ts = path.with_suffix(".joined.ts")
    ts.write_bytes(joined)
    with av.open(str(ts)) as inp, av.open(str(path), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        last, shift = None, 0
        for packet in inp.demux(vin):
            if packet.dts is None:
                continue
            if last is not None and packet.dts + shift <= last:
                shift = last - packet.dts + 3600  # the next part starts 40 ms (90 kHz) after
            packet.dts += shift
            packet.pts += shift
            last = packet.dts
            packet.stream = vout
            out.mux(packet)
    ts.unlink()
