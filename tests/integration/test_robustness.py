"""Bad inputs, interruption and resume: nothing lost, nothing leaked."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from redact import redact_path
from redact.errors import MediaError
from redact.hashing import sha256_file
from redact.io.image import read_image
from redact.manifest import load, read_journal
from tests.helpers import REPO, MarkerDetectors, scene


def jpeg_bytes(seed: int = 0, size: int = 120) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(scene(size, size, faces=((10, 10, 30, 30),), plates=(), seed=seed)[:, :, ::-1]).save(
        buf, "JPEG", quality=90
    )
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


BAD_IMAGES = {
    "zero.jpg": (b"", "not a readable image"),
    "truncated.jpg": (jpeg_bytes()[:300], "truncated or corrupt"),
    "bomb.png": (png_header(60000, 60000), "max-pixels"),
    "garbage.png": (b"\x89PNG\r\n\x1a\nthis is not a png", "corrupt|not a readable"),
    "photo.heic": (b"\x00\x00\x00\x18ftypheic", "unsupported format"),
    "odd name é ü.jpg": (jpeg_bytes(1), None),
    "with space.jpg": (jpeg_bytes(2), None),
    "n" * 250 + ".jpg": (jpeg_bytes(3), None),  # a name the folder takes, its temp name would not
}


def _video_bytes(tmp_path: Path, **kwargs) -> bytes:
    from tests.videos import make_clip

    path = tmp_path / "clips" / f"v{len(kwargs)}.mp4"
    make_clip(path, frames=12, **kwargs)
    return path.read_bytes()


def bad_inputs(tmp_path: Path) -> dict[str, tuple[bytes, str | None]]:
    """Every bad input (name -> bytes, expected error pattern or None for files that must succeed)."""
    clip = _video_bytes(tmp_path)
    table = dict(BAD_IMAGES)
    table.update(
        {
            "text.mp4": (b"this is a text file, not a video\n" * 4, "cannot open video"),
            "zero.mov": (b"", "cannot open video"),
            "truncated.mp4": (clip[: len(clip) // 2], "cannot open video|truncated|cut short|ends|decode"),
            "truncated-faststart.mp4": (
                (lambda b: b[: len(b) * 2 // 3])(_video_bytes(tmp_path, faststart=True)),
                "frames|truncated|cut|decode",
            ),
            "clip.mkv.mp4": (clip, None),
            "v" * 250 + ".mp4": (clip, None),  # nor its frames sidecar's
        }
    )
    return table


def test_bad_input_table(tmp_path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    table = bad_inputs(tmp_path)
    for name, (data, _) in table.items():
        (src / name).write_bytes(data)
    before = {p.name: sha256_file(p) for p in src.iterdir()}
    out = tmp_path / "out"
    result = redact_path([src], out, detectors=MarkerDetectors())
    assert result.exit_code == 1
    files = {e["input"]: e for e in load(out / "manifest.json")["files"]}
    for name, (_, message) in table.items():
        e = files[name]
        if message is None:
            assert e["status"] == "ok", e
            assert (out / name).is_file()
        else:
            assert e["status"] == "failed", e
            assert __import__("re").search(message, e["error"]), e["error"]
            assert "\n" not in e["error"] and "Traceback" not in e["error"]
            assert e["output"] is None and not (out / name).exists()
    assert {p.name: sha256_file(p) for p in src.iterdir()} == before
    assert not [p for p in out.rglob("*") if ".redact-tmp-" in p.name]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read everything")
def test_unreadable_file(tmp_path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    p = src / "locked.jpg"
    p.write_bytes(jpeg_bytes())
    p.chmod(0)
    result = redact_path([src], tmp_path / "out", detectors=MarkerDetectors())
    assert result.exit_code == 1 and "Permission denied" in result.files[0]["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_image_reader_random_bytes(tmp_path, data) -> None:
    path = tmp_path / "r.jpg"
    path.write_bytes(data)
    try:
        img = read_image(path, 10_000_000)
    except MediaError:
        return
    assert img.bgr.ndim == 3 and img.bgr.dtype == np.uint8


_REAL_JPEG = jpeg_bytes(3, 64)
_REAL_PNG = png_header(64, 64)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from([_REAL_JPEG, _REAL_PNG]),
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 4000),
)
def test_image_reader_mutated_headers(tmp_path, base, edits, cut) -> None:
    data = bytearray(base[: max(1, cut)])
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    path = tmp_path / "m.png"
    path.write_bytes(bytes(data))
    try:
        img = read_image(path, 10_000_000)
    except MediaError:
        return
    assert img.bgr.shape[0] * img.bgr.shape[1] <= 10_000_000


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "redact", *args]


def _finished(manifest: Path) -> list[dict]:
    """File entries a run has recorded: the manifest plus its journal of newer entries."""
    entries = {e["input"]: e for e in json.loads(manifest.read_text())["files"]}
    entries.update({e["input"]: e for e in read_journal(manifest)})
    return list(entries.values())


def _wait_for_done(manifest: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "run ended before it could be interrupted"
        try:
            files = _finished(manifest)
        except (OSError, ValueError):
            files = []
        if sum(e["status"] == "ok" for e in files) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("run made no progress")


def _batch(tmp_path: Path, n: int) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(n):
        (src / f"img{i:02d}.jpg").write_bytes(jpeg_bytes(i, 480))
    return src


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupt_and_resume(tmp_path, sig) -> None:
    src = _batch(tmp_path, 12)
    out = tmp_path / "out"
    manifest = out / "manifest.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        _cli("run", str(src), "--out", str(out), "--workers", "1", "--quiet"), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    _wait_for_done(manifest, 2, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert b"Traceback" not in err
        assert json.loads(manifest.read_text())["complete"] is False
    else:
        assert proc.returncode == -signal.SIGKILL
    done = [e for e in _finished(manifest) if e["status"] == "ok"]  # still valid JSON after a kill
    assert 2 <= len(done) < 12
    for e in done:  # whatever the manifest says is finished really is
        assert sha256_file(out / e["output"]) == e["output_sha256"]

    rerun = subprocess.run(
        _cli("run", str(src), "--out", str(out), "--workers", "1"), env=env, capture_output=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"({len(done)} already done)".encode() in rerun.stderr
    data = json.loads(manifest.read_text())
    assert data["complete"] is True and data["summary"]["ok"] == 12
    assert not [p for p in out.rglob("*") if ".redact-tmp-" in p.name]


def _read_all_video(path: Path) -> int:
    """Decode every frame of ``path``; return how many there were.

    A reader that does not raise must have yielded whole frames, numbered from 0 in order,
    with strictly rising timestamps (the writer needs them so).
    """
    from redact.io.video import DecodedFrame, VideoReader

    frames = 0
    last_ticks: int | None = None
    with VideoReader(path, keep_audio=True, max_pixels=10_000_000) as reader:
        for item in reader.items():
            if not isinstance(item, DecodedFrame):
                continue  # an audio packet
            assert item.index == frames
            assert last_ticks is None or item.ticks > last_ticks
            assert item.picture.width > 0 and item.picture.height > 0
            last_ticks = item.ticks
            frames += 1
    return frames


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory) -> bytes:
    from tests.videos import make_clip

    path = tmp_path_factory.mktemp("clip") / "c.mp4"
    make_clip(path, frames=6, size=(64, 48), faststart=True)
    return path.read_bytes()


def test_video_reader_reads_the_intact_clip(tmp_path, small_clip) -> None:
    path = tmp_path / "c.mp4"
    path.write_bytes(small_clip)
    assert _read_all_video(path) == 6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_video_reader_random_bytes(tmp_path, data) -> None:
    path = tmp_path / "r.mp4"
    path.write_bytes(data)
    try:
        frames = _read_all_video(path)
    except MediaError:
        return  # refused with a message: fine
    assert frames >= 1  # otherwise it read garbage as a video without a word


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=10),
    cut=st.integers(16, 20000),
)
def test_video_reader_mutated_headers(tmp_path, small_clip, edits, cut) -> None:
    data = bytearray(small_clip[:cut])
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    path = tmp_path / "m.mp4"
    path.write_bytes(bytes(data))
    try:
        frames = _read_all_video(path)
    except MediaError:
        return  # refused with a message: fine
    assert 1 <= frames <= 6  # whole frames of the clip, never more than it had


def test_pictures_of_extreme_shapes_go_through_every_default_detector(tmp_path) -> None:
    # Strips a pixel or a few deep, and a single pixel: redacted like any picture, never an internal error.
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(5)
    shapes = {
        "wide.png": (3, 4000),
        "tall.png": (4000, 3),
        "line.png": (1, 2500),
        "dot.png": (1, 1),
        "band.png": (20, 5000),
    }
    for name, (h, w) in shapes.items():
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(src / name)
    result = redact_path([src], tmp_path / "out")
    files = {e["input"]: e for e in load(tmp_path / "out" / "manifest.json")["files"]}
    assert result.exit_code == 0, [e.get("error") for e in files.values()]
    for name, (h, w) in shapes.items():
        assert files[name]["status"] == "ok", files[name]
        assert Image.open(tmp_path / "out" / name).size == (w, h)
