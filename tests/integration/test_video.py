"""Video end to end with synthetic clips and fake detectors: fidelity, audio, tags, coverage, failures."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from redact import RedactConfig, redact_path
from redact.errors import MediaError
from redact.hashing import sha256_file
from redact.io import encode, video
from redact.manifest import load, validate_frame_line
from redact.types import Detections
from redact.video import job as videojob
from tests.helpers import DEV_DATA, MarkerDetectors
from tests.videos import default_objects, make_angles, make_clip, make_resized, probe

VFR = [0.0, 0.04, 0.1, 0.13, 0.2, 0.3, 0.31, 0.32, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0, 1.01, 1.1]
TAGS = {"title": "secret title", "comment": "leaked", "location": "+48.8577+002.2950/", "make": "Apple"}


def run(src: Path, out: Path, detectors: MarkerDetectors | None = None, **cfg: object):
    return redact_path(src, out, RedactConfig(**cfg), detectors=detectors or MarkerDetectors())  # type: ignore[arg-type]


def covered(image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """True when a fill-redacted box is dark everywhere (H.264 keeps black near 0)."""
    x, y, w, h = box
    return bool(image[y : y + h, x : x + w].max() < 60)


def sidecar(out: Path, entry: dict) -> list[dict]:
    return [json.loads(line) for line in (out / entry["frames"]["file"]).read_text().splitlines()]


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vfr")
    make_clip(folder / "clip.mp4", pts_s=VFR, audio=True, tags=TAGS, stream_tags={"handler_name": "iPhone 15"})
    return folder / "clip.mp4"


def test_vfr_clip_keeps_frames_timestamps_size_audio_and_loses_tags(vfr_clip: Path, tmp_path: Path) -> None:
    result = run(vfr_clip, tmp_path / "out")
    assert result.exit_code == 0, result.files
    src, dst = probe(vfr_clip), probe(tmp_path / "out" / "clip.mp4")
    assert len(dst["times"]) == len(src["times"]) == len(VFR)
    assert np.max(np.abs(np.array(dst["times"]) - np.array(VFR))) < 0.001
    assert dst["size"] == src["size"]
    assert dst["streams"] == ["video", "audio"]
    assert abs(dst["audio_duration"] - src["audio_duration"]) < 0.1
    for key in ("title", "comment", "location", "make"):
        assert key not in dst["tags"]
    assert "iPhone" not in json.dumps([dst["video_tags"], dst["audio_tags"]])
    for i, img in enumerate(dst["images"]):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"

    manifest = load(tmp_path / "out" / "manifest.json")  # schema-checked
    entry = manifest["files"][0]
    assert entry["kind"] == "video" and entry["status"] == "ok"
    assert entry["frame_count"] == len(VFR) and entry["audio"] == "keep" and entry["rotation"] == 0
    assert entry["encoder"]["codec"] == "libx264" and entry["encoder"]["crf"] == 18
    # Look-ahead capped at 20 (medium's own is 40): in the manifest and in x264's own record of
    # its settings, which it writes into the stream.
    assert entry["encoder"]["preset"] == "medium" and entry["encoder"]["lookahead"] == 20
    assert x264_lookahead(tmp_path / "out" / "clip.mp4") == 20
    assert entry["frames"]["sha256"] == sha256_file(tmp_path / "out" / entry["frames"]["file"])
    lines = sidecar(tmp_path / "out", entry)
    assert [ln["frame"] for ln in lines] == list(range(len(VFR)))
    assert [ln["pts"] for ln in lines] == pytest.approx(VFR, abs=1e-6)
    for ln in lines:
        validate_frame_line(ln)
    assert entry["counts"] == {"face": len(VFR), "plate": len(VFR), "occupant": 0}
    assert [(t["label"], t["observed"]) for t in entry["tracks"]] == [("face", len(VFR)), ("plate", len(VFR))]


def x264_lookahead(path: Path) -> int:
    """The rc_lookahead x264 wrote into its settings record (an SEI message) in ``path``."""
    found = re.search(rb"rc_lookahead=(\d+)", path.read_bytes())
    assert found, f"no x264 settings record in {path.name}"
    return int(found.group(1))


@pytest.mark.parametrize(("preset", "cap", "used"), [("medium", 40, 40), ("veryfast", 20, 10), ("slow", 12, 12)])
def test_lookahead_is_capped_never_raised(tmp_path: Path, preset: str, cap: int, used: int) -> None:
    make_clip(tmp_path / "in" / "c.mp4", frames=6)
    result = run(tmp_path / "in", tmp_path / "out", preset=preset, lookahead=cap)
    assert result.exit_code == 0, result.files
    assert x264_lookahead(tmp_path / "out" / "c.mp4") == used
    assert load(tmp_path / "out" / "manifest.json")["files"][0]["encoder"]["lookahead"] == used


def test_default_lookahead_depends_on_the_picture_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --lookahead the cap is what fits the budget at the video's size (here a budget
    small enough to matter at the test clip's size): recorded in the manifest and used by x264;
    the settings keep "default" (null), so a re-render resolves it the same way."""
    make_clip(tmp_path / "in" / "c.mp4", frames=6)
    w, h = probe(tmp_path / "in" / "c.mp4")["size"]
    monkeypatch.setattr(encode, "LOOKAHEAD_BUDGET", 7 * encode.LOOKAHEAD_BYTES_PER_PIXEL * w * h)
    result = run(tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 0, result.files
    manifest = load(tmp_path / "out" / "manifest.json")
    assert manifest["settings"]["lookahead"] is None
    assert manifest["files"][0]["encoder"]["lookahead"] == 7
    assert x264_lookahead(tmp_path / "out" / "c.mp4") == 7


def test_x265_is_capped_and_quiet(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    make_clip(tmp_path / "in" / "c.mp4", frames=6)
    result = run(tmp_path / "in", tmp_path / "out", codec="libx265", preset="slower")
    assert result.exit_code == 0, result.files
    assert b"rc-lookahead=20" in (tmp_path / "out" / "c.mp4").read_bytes()  # x265's own settings record
    assert "x265 [info]" not in capfd.readouterr().err  # the library prints nothing


def test_audio_drop_removes_audio(vfr_clip: Path, tmp_path: Path) -> None:
    result = run(vfr_clip, tmp_path / "out", audio="drop")
    assert result.exit_code == 0
    assert probe(tmp_path / "out" / "clip.mp4")["streams"] == ["video"]
    assert result.files[0]["audio"] == "drop"


def test_rotation_is_kept_and_detection_runs_upright(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "rot.mov", frames=8, rotation=90)
    dets = MarkerDetectors()
    result = run(tmp_path / "in", tmp_path / "out", dets)
    entry = result.files[0]
    assert entry["status"] == "ok" and entry["rotation"] == 270
    assert (entry["width"], entry["height"]) == (120, 160)  # upright
    out = probe(tmp_path / "out" / "rot.mov")
    assert out["rotation"] == 90 and out["size"] == (160, 120)
    for i, img in enumerate(out["images"]):
        upright = np.rot90(img, k=-3)  # a player turns it 270 degrees clockwise
        faces, plates = default_objects(i)
        assert all(covered(upright, b) for b in faces + plates)


@pytest.mark.parametrize(
    ("skip", "note"),
    [({4, 5, 6, 7, 8, 9}, "gap mid-track"), ({0, 1, 2, 3}, "first detections missed: padded before"),
     ({13, 14, 15}, "last detections missed: carried after")],
)
def test_missed_frames_are_covered_by_the_tracker(tmp_path: Path, skip: set[int], note: str) -> None:
    make_clip(tmp_path / "in" / "gap.mp4", frames=16)
    # Full detection on every frame, so call i is frame i.
    result = run(tmp_path / "in", tmp_path / "out", MarkerDetectors(skip=skip), keyframe_seconds=0)
    entry = result.files[0]
    images = probe(tmp_path / "out" / "gap.mp4")["images"]
    for i, img in enumerate(images):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"{note}: frame {i} not covered"
    lines = sidecar(tmp_path / "out", entry)
    sources = {ln["frame"]: {r["source"] for r in ln["regions"]} for ln in lines}
    assert all(sources[i] == {"tracker"} for i in skip)
    assert sum(t["predicted"] for t in entry["tracks"]) >= 2 * len(skip)


def test_detect_every_predicts_in_between(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "k.mp4", frames=12)
    dets = MarkerDetectors()
    result = run(tmp_path / "in", tmp_path / "out", dets, detect_every=3)
    assert result.exit_code == 0 and dets.calls == 5  # frames 0, 3, 6, 9 and the last one, 11
    for i, img in enumerate(probe(tmp_path / "out" / "k.mp4")["images"]):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i}"


@pytest.mark.parametrize(("suffix", "codec"), [(".mkv", "h264"), (".avi", "h264"), (".webm", "vp9"), (".mov", "h264")])
def test_other_containers_keep_their_container(tmp_path: Path, suffix: str, codec: str) -> None:
    make_clip(tmp_path / "in" / f"c{suffix}", frames=6, audio=suffix in (".mkv", ".webm"))
    result = run(tmp_path / "in", tmp_path / "out")
    entry = result.files[0]
    assert entry["status"] == "ok", entry["error"]
    import av

    with av.open(str(tmp_path / "out" / f"c{suffix}")) as c:
        assert c.streams.video[0].codec_context.name == codec
        assert sum(1 for _ in c.decode(video=0)) == 6
    assert bool(entry["warnings"]) == (suffix == ".webm")


@pytest.mark.parametrize("name", ["c.ts", "c.m2ts", "c.mts", "c.3gp"])
def test_transport_streams_and_3gp_are_redacted_in_their_container(tmp_path: Path, name: str) -> None:
    # Broadcast and camcorder recordings (MPEG-TS, AVCHD's .mts/.m2ts) and phone clips (3GP).
    make_clip(tmp_path / "in" / name, frames=8, audio=True)
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    out = tmp_path / "out" / name
    with av.open(str(out)) as c:
        assert c.format.name == ("mpegts" if name.endswith("ts") else "mov,mp4,m4a,3gp,3g2,mj2")
        assert c.streams.video[0].codec_context.name == "h264" and len(c.streams.audio) == 1
    images = probe(out)["images"]
    assert len(images) == 8
    for i, img in enumerate(images):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i}"


def test_a_transport_stream_cut_mid_group_starts_at_its_first_whole_picture(tmp_path: Path) -> None:
    # A recording taken from a stream begins anywhere: the pictures before the first keyframe
    # cannot be decoded and are not written; the rest are redacted.
    make_clip(tmp_path / "whole.ts", frames=40, gop=10)
    data = (tmp_path / "whole.ts").read_bytes()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cut.ts").write_bytes(data[(len(data) // 3) // 188 * 188 + 77 :])
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    images = probe(tmp_path / "out" / "cut.ts")["images"]
    assert 20 <= len(images) == entry["frame_count"] < 40
    assert all(np.mean(img) > 5 for img in images)


def test_transport_streams_joined_end_to_end_play_one_after_the_other(tmp_path: Path) -> None:
    # Two recordings copied into one file: the second's timestamps start again from zero.
    for n in (0, 1):
        make_clip(tmp_path / f"part{n}.ts", frames=25, gop=10, audio=True)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "joined.ts").write_bytes(b"".join((tmp_path / f"part{n}.ts").read_bytes() for n in (0, 1)))
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    assert any("timestamps go back at frame 25" in w for w in entry["warnings"])
    facts = probe(tmp_path / "out" / "joined.ts")
    times = facts["times"]
    assert len(times) == 50 and all(b > a for a, b in zip(times, times[1:], strict=False))
    assert times[25] - times[24] == pytest.approx(0.04, abs=1e-3)  # the second part follows at one frame
    assert entry["duration"] == pytest.approx(2.0, abs=0.05)
    assert facts["audio_duration"] == pytest.approx(times[-1] + 0.04, abs=0.1)
    for i, img in enumerate(facts["images"]):
        faces, plates = default_objects(i % 25)
        assert all(covered(img, b) for b in faces + plates), f"frame {i}"


def test_an_mp4_trimmed_by_an_edit_list_shows_and_redacts_its_frames_from_the_cut(tmp_path: Path) -> None:
    # Cut without re-encoding (ffmpeg -ss ... -c copy, an editor's trim): the frames before the
    # cut stay in the file, hidden by an edit list. The index counts them; no player shows them.
    src = tmp_path / "in" / "trimmed.mp4"
    make_clip(src, frames=30, pts_s=[(i - 10) / 25 for i in range(30)], faststart=True)
    with av.open(str(src)) as c:
        assert c.streams.video[0].frames == 30 and sum(1 for _ in c.decode(video=0)) == 20
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    assert entry["frame_count"] == 20
    images = probe(tmp_path / "out" / "trimmed.mp4")["images"]
    assert len(images) == 20
    for i, img in enumerate(images):
        faces, plates = default_objects(i + 10)
        assert all(covered(img, b) for b in faces + plates), f"frame {i}"
    from redact.io.parts import scan

    assert scan(src) is None  # not split into segments: the hidden frames break exact cuts
    data = src.read_bytes()
    src.write_bytes(data[: int(len(data) * 0.6)])  # and cut short, it still fails as such
    entry = run(tmp_path / "in", tmp_path / "cut").files[0]
    assert entry["status"] == "failed" and "cut short" in entry["error"]


def _truncated(tmp_path: Path) -> Path:
    src = tmp_path / "in" / "cut.mp4"
    make_clip(src, frames=30, faststart=True)
    data = src.read_bytes()
    src.write_bytes(data[: int(len(data) * 0.6)])
    return src


def test_truncated_video_fails_and_leaves_nothing(tmp_path: Path) -> None:
    _truncated(tmp_path)
    result = run(tmp_path / "in", tmp_path / "out")
    entry = result.files[0]
    assert entry["status"] == "failed" and "cut short" in entry["error"]
    left = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert left == ["manifest.json", "manifest.json.sha256"]
    assert not [t for t in threading.enumerate() if t.name.startswith("redact-")]


def test_truncated_video_cut_keeps_whole_frames_with_a_warning(tmp_path: Path) -> None:
    _truncated(tmp_path)
    result = run(tmp_path / "in", tmp_path / "out", truncated_video="cut")
    entry = result.files[0]
    assert entry["status"] == "ok" and entry["warnings"]
    n = entry["frame_count"]
    assert 0 < n < 30
    assert len(probe(tmp_path / "out" / "cut.mp4")["times"]) == n


@pytest.mark.parametrize("suffix", [".webm", ".mkv"])
def test_a_matroska_file_cut_in_half_is_truncated_like_an_mp4(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / "in" / f"cut{suffix}"
    make_clip(src, frames=25, audio=True)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "failed" and "cut short" in entry["error"] and "declares" in entry["error"]
    assert not (tmp_path / "out" / f"cut{suffix}").exists()
    entry = run(tmp_path / "in", tmp_path / "cut", truncated_video="cut").files[0]
    assert entry["status"] == "ok" and any("cut short" in w for w in entry["warnings"])
    assert 0 < entry["frame_count"] < 25
    assert len(probe(tmp_path / "cut" / f"cut{suffix}", images=False)["times"]) == entry["frame_count"]


def test_a_file_with_two_video_streams_is_refused_with_a_reason(tmp_path: Path) -> None:
    make_angles(tmp_path / "in" / "angles.mkv", streams=2)
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "failed"
    assert "2 video streams" in entry["error"] and "one file per video stream" in entry["error"]
    assert not (tmp_path / "out" / "angles.mkv").exists()


def test_a_cover_picture_is_left_out_with_a_warning(tmp_path: Path) -> None:
    make_angles(tmp_path / "in" / "c.mp4", streams=1, cover=True)
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    assert any("cover picture" in w for w in entry["warnings"])
    assert probe(tmp_path / "out" / "c.mp4", images=False)["streams"] == ["video"]
    assert entry["frame_count"] == 10


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_anamorphic_video_keeps_the_shape_of_its_pixels(tmp_path: Path, suffix: str) -> None:
    # HDV and DV widescreen store 4:3-wide pixels: an output without them plays squeezed.
    make_clip(tmp_path / "in" / f"hdv{suffix}", frames=6, sar=Fraction(4, 3))
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    with av.open(str(tmp_path / "out" / f"hdv{suffix}")) as c:
        assert c.streams.video[0].sample_aspect_ratio == Fraction(4, 3)


@pytest.mark.parametrize(
    "pix_fmt, colour, kept",
    [
        ("yuv420p", (1, 1, 1, 1), (1, 1, 1, 1)),  # BT.709 as decoded: the description stays true
        ("yuv420p", (9, 18, 9, 1), (9, 18, 9, 1)),  # BT.2020 HLG in 8 bits, likewise
        ("yuv420p10le", (9, 18, 9, 1), (9, 18, 9, 1)),  # 10-bit HLG reduced to 8 bits sample by sample
        ("yuv444p", (1, 1, 1, 1), (1, 1, 1, 1)),  # converted in its own matrix, limited range
        ("yuvj420p", (1, 1, 1, 2), (1, 1, 1, 1)),  # full range made limited, in its own matrix
        ("yuv444p", (2, 2, 2, 0), (2, 2, 6, 1)),  # undeclared: the matrix players assume below 720 lines
    ],
)
def test_frames_passed_through_keep_their_colour_description(
    tmp_path: Path, pix_fmt: str, colour: tuple[int, int, int, int], kept: tuple[int, int, int, int]
) -> None:
    make_clip(tmp_path / "in" / "c.mp4", frames=6, pix_fmt=pix_fmt, colour=colour)
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    with av.open(str(tmp_path / "out" / "c.mp4")) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range) == kept


@pytest.mark.parametrize(("fields", "order"), [("tff", 2), ("bff", 3)])
def test_interlaced_video_stays_interlaced_in_its_field_order(tmp_path: Path, fields: str, order: int) -> None:
    # Broadcast 1080i: written progressive, players would not deinterlace it and motion combs.
    make_clip(tmp_path / "in" / "i.mp4", frames=8, fields=fields)
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    with av.open(str(tmp_path / "out" / "i.mp4")) as c:
        v = c.streams.video[0]
        assert v.codec_context.field_order == order and next(c.decode(v)).interlaced_frame
    for i, picture in enumerate(probe(tmp_path / "out" / "i.mp4")["images"]):
        faces, plates = default_objects(i)
        assert all(covered(picture, box) for box in faces + plates), i


class WholeOnly(MarkerDetectors):
    """Finds white blobs at least 6 rows high, as the networks find only whole objects: the
    rows of an object combed by motion between two fields are none to it."""

    def __init__(self) -> None:
        super().__init__()
        self.heights: set[int] = set()
        self.pictures = 0

    def detect(self, image: np.ndarray, *, rois=None):  # noqa: ANN001, ANN201
        self.heights.add(image.shape[0])
        self.pictures += 1
        n, _, stats, _ = cv2.connectedComponentsWithStats((image.min(axis=2) > 200).astype(np.uint8))
        boxes = [[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:] if h >= 6]
        return Detections.from_arrays(np.array(boxes, np.float32).reshape(-1, 4), [0.9] * len(boxes), "plate")


def combed(i: int, width: int, height: int) -> np.ndarray:
    """A grey frame with a white plate (30x12) that moves 40 px right from one field to the
    next: the top field shows it at x = 20, the bottom field at x = 60."""
    top = np.full((height, width, 3), 128, np.uint8)
    bottom = top.copy()
    top[40:52, 20:50] = 255
    bottom[40:52, 60:90] = 255
    bottom[0::2] = top[0::2]
    return bottom


def test_interlaced_video_is_looked_at_field_by_field(tmp_path: Path) -> None:
    # A player deinterlaces and shows each field whole: a plate combed across two places in the
    # woven frame is readable in both, so both are redacted, and verify looks the same way.
    make_clip(tmp_path / "in" / "i.mp4", frames=8, fields="tff", objects=lambda i: ([], []), background=combed)
    detectors = WholeOnly()
    entry = run(tmp_path / "in", tmp_path / "out", detectors).files[0]
    assert entry["status"] == "ok", entry["error"]
    assert detectors.heights == {120}  # each field stretched back to the frame's height
    for i, picture in enumerate(probe(tmp_path / "out" / "i.mp4")["images"]):
        assert covered(picture, (20, 40, 30, 12)) and covered(picture, (60, 40, 30, 12)), i
        assert picture[100:, :].min() > 100  # nothing else
    from redact.review.verify import verify

    seen = WholeOnly()
    result = verify(tmp_path / "out" / "manifest.json", detectors=seen, frames_step=3)
    assert result.ok, [f.line() for f in result.findings]
    assert result.frames_checked == 3 and seen.pictures == 6  # each frame's two fields


def test_dv_whose_stream_does_not_say_it_is_interlaced_is_looked_at_and_written_so(tmp_path: Path) -> None:
    # DV declares no field order; its frames are interlaced, bottom field first by definition.
    make_clip(tmp_path / "in" / "tape.avi", frames=6, size=(720, 576), codec="dvvideo", objects=lambda i: ([], []),
              background=combed)
    with av.open(str(tmp_path / "in" / "tape.avi")) as c:
        assert c.streams.video[0].codec_context.field_order == 0
    detectors = WholeOnly()
    entry = run(tmp_path / "in", tmp_path / "out", detectors).files[0]
    assert entry["status"] == "ok", entry["error"]
    with av.open(str(tmp_path / "out" / "tape.avi")) as c:
        assert c.streams.video[0].codec_context.field_order == 3  # BB: bottom field first
    for i, picture in enumerate(probe(tmp_path / "out" / "tape.avi")["images"]):
        assert covered(picture, (20, 40, 30, 12)) and covered(picture, (60, 40, 30, 12)), i


@pytest.mark.parametrize(("pix_fmt", "colour"), [("yuvj420p", (1, 1, 1, 2)), ("yuv444p", (1, 1, 1, 1))])
def test_converted_frames_keep_their_colours_as_a_player_shows_them(
    tmp_path: Path, pix_fmt: str, colour: tuple[int, int, int, int]
) -> None:
    # BT.709 colour bars in HD, full range or 4:4:4 (phones, screen recorders): converted to
    # limited-range 4:2:0, they must look the same in a player as the input does.
    bars = np.zeros((720, 1280, 3), np.uint8)
    for i, bgr in enumerate([(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (0, 128, 255), (40, 160, 90)]):
        bars[:, i * 200 : (i + 1) * 200] = bgr
    make_clip(tmp_path / "in" / "bars.mp4", frames=2, size=(1280, 720), pix_fmt=pix_fmt, colour=colour,
              objects=lambda i: ([], []), background=lambda i, w, h: bars)

    def shown(path: Path) -> np.ndarray:
        """The first frame as a player shows it: in the matrix declared, else BT.709 (HD)."""
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            matrix = v.codec_context.colorspace if v.codec_context.colorspace not in (0, 2) else 1
            return next(c.decode(v)).reformat(format="bgr24", src_colorspace=matrix).to_ndarray().astype(int)

    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    a, b = shown(tmp_path / "in" / "bars.mp4"), shown(tmp_path / "out" / "bars.mp4")
    for i in range(6):
        x = i * 200 + 50
        assert np.abs(a[300:400, x : x + 100].mean((0, 1)) - b[300:400, x : x + 100].mean((0, 1))).max() < 5, i


def test_anamorphic_video_is_looked_at_as_shown_and_redacted_where_stored(tmp_path: Path) -> None:
    class Seeing(MarkerDetectors):
        widths: set[int] = set()

        def detect(self, image: np.ndarray, *, rois=None):  # noqa: ANN001, ANN201
            self.widths.add(image.shape[1])
            return super().detect(image, rois=rois)

    make_clip(tmp_path / "in" / "hdv.mp4", frames=12, sar=Fraction(4, 3))
    detectors = Seeing()
    entry = run(tmp_path / "in", tmp_path / "out", detectors).files[0]
    assert entry["status"] == "ok", entry["error"]
    assert detectors.widths == {213}  # 160 stored pixels, shown 213 wide
    out = probe(tmp_path / "out" / "hdv.mp4")
    assert out["size"] == (160, 120)
    for i, picture in enumerate(out["images"]):
        faces, plates = default_objects(i)
        for box in faces + plates:
            assert covered(picture, box), (i, box)  # in the stored pixels, where the markers are
    # verify's leak check looks at the output's frames as shown too, and finds nothing left.
    from redact.review.verify import verify

    checker = Seeing()
    checker.widths = set()
    result = verify(tmp_path / "out" / "manifest.json", detectors=checker, frames_step=3)
    assert result.ok, [f.line() for f in result.findings]
    assert checker.widths == {213} and result.frames_checked == 4


def test_a_picture_size_that_changes_mid_stream_is_redacted_at_the_streams_size(tmp_path: Path) -> None:
    # 10 frames at 160x120, then 10 at 320x240 whose face sits where the first part has none.
    make_resized(tmp_path / "in" / "joined.mkv", [
        ((160, 120), lambda i: ([(10, 20, 20, 20)], [])),
        ((320, 240), lambda i: ([(260, 160, 40, 40)], [])),
    ])
    entry = run(tmp_path / "in", tmp_path / "out").files[0]
    assert entry["status"] == "ok", entry["error"]
    assert (entry["width"], entry["height"], entry["frame_count"]) == (160, 120, 20)
    assert any("320x240 (the picture size changes mid-stream) scaled" in w for w in entry["warnings"])
    out = probe(tmp_path / "out" / "joined.mkv")
    assert {p.shape[:2] for p in out["images"]} == {(120, 160)}
    for i, picture in enumerate(out["images"]):
        # The second part's face, scaled by a half with its frame, is redacted where it is shown.
        assert covered(picture, (10, 20, 20, 20) if i < 10 else (130, 80, 20, 20)), i
    for line in sidecar(tmp_path / "out", entry)[10:]:
        (region,) = line["regions"]
        x, y, w, h = region["box"]
        assert 110 <= x <= 130 and x + w <= 160 and 60 <= y <= 80 and y + h <= 120, region  # output pixels


def test_encoder_error_fails_the_file_and_stops_every_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_clip(tmp_path / "in" / "e.mp4", frames=20)
    real = encode.VideoWriter.write

    def broken(self, image, ticks):  # type: ignore[no-untyped-def]
        if self.frames == 3:
            raise MediaError("encoder exploded")
        real(self, image, ticks)

    monkeypatch.setattr(encode.VideoWriter, "write", broken)
    result = run(tmp_path / "in", tmp_path / "out")
    assert result.files[0]["status"] == "failed" and "exploded" in result.files[0]["error"]
    assert not (tmp_path / "out" / "e.mp4").exists()
    assert not list((tmp_path / "out").rglob("*.jsonl"))
    assert not [t for t in threading.enumerate() if t.name.startswith("redact-")]


def test_a_single_thread_decode_gives_the_same_frames(tmp_path: Path) -> None:
    """The writer's decode (one thread) matches the detectors' (FFmpeg's threads) exactly."""
    make_clip(tmp_path / "c.mp4", frames=12)

    def decode(threads: int | None) -> list[tuple[int, int, int]]:
        with video.VideoReader(tmp_path / "c.mp4", keep_audio=False, threads=threads) as reader:
            if threads is not None:
                assert reader.stream.codec_context.thread_count == threads
            return [(f.index, f.ticks, f.picture.fingerprint()) for f in reader.items()]

    one = decode(1)
    assert len(one) == 12 and len({fp for _, _, fp in one}) == 12
    assert decode(None) == one


def test_a_frame_the_writer_decodes_differently_fails_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer decodes the input a second time; a frame that is not the one the detectors
    saw (here its fingerprint is altered) stops the run and nothing is written."""
    make_clip(tmp_path / "in" / "f.mp4", frames=20)
    real = videojob._Seen.of.__func__  # type: ignore[attr-defined]

    def altered(cls, decoded):  # type: ignore[no-untyped-def]
        seen = real(cls, decoded)
        return dataclasses.replace(seen, fingerprint=seen.fingerprint ^ 1) if decoded.index == 7 else seen

    monkeypatch.setattr(videojob._Seen, "of", classmethod(altered))
    result = run(tmp_path / "in", tmp_path / "out")
    (entry,) = result.files
    assert entry["status"] == "failed" and "frame 7 decoded differently" in entry["error"]
    assert not [p for p in (tmp_path / "out").rglob("*") if p.suffix in (".mp4", ".jsonl")]
    assert not [t for t in threading.enumerate() if t.name.startswith("redact-")]


def test_a_writer_decode_that_fails_alone_fails_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's decode (the second reader opened) fails, after its last frame, where the
    detectors' did not: what follows (audio) would be lost without a word, so the file fails."""
    make_clip(tmp_path / "in" / "w.mp4", frames=12)
    real_init, real_items = video.VideoReader.__init__, video.VideoReader.items
    readers: list[object] = []  # the detectors' reader opens first, the writer's second

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_init(self, *args, **kwargs)
        readers.append(self)

    def items(self):  # type: ignore[no-untyped-def]
        yield from real_items(self)
        if self is readers[-1] and len(readers) == 2:
            raise video.DecodeError("damaged on the second read", 12)

    monkeypatch.setattr(video.VideoReader, "__init__", init)
    monkeypatch.setattr(video.VideoReader, "items", items)
    result = run(tmp_path / "in", tmp_path / "out")
    (entry,) = result.files
    assert entry["status"] == "failed" and "second decode ended after 12 frames" in entry["error"]
    assert not [p for p in (tmp_path / "out").rglob("*") if p.suffix in (".mp4", ".jsonl")]
    assert not [t for t in threading.enumerate() if t.name.startswith("redact-")]


def test_detector_crash_stops_threads_and_removes_partial_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_clip(tmp_path / "in" / "d.mp4", frames=20)

    class Crashing(MarkerDetectors):
        def detect(self, image, *, rois=None):  # type: ignore[no-untyped-def]
            if self.calls == 5:
                raise RuntimeError("model blew up")
            return super().detect(image, rois=rois)

    caplog._expect_errors = True  # type: ignore[attr-defined]  # the crash is logged with its traceback
    result = run(tmp_path / "in", tmp_path / "out", Crashing())
    assert result.exit_code == 1
    (entry,) = result.files
    assert entry["status"] == "failed" and "model blew up" in entry["error"] and entry["output"] is None
    assert not [p for p in (tmp_path / "out").rglob("*") if p.suffix in (".mp4", ".jsonl")]
    assert not [t for t in threading.enumerate() if t.name.startswith("redact-")]


def test_cli_reports_video_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from redact import cli, pipeline, worker

    make_clip(tmp_path / "in" / "p.mp4", frames=6, audio=True)
    def fake(config: object, threads: int | None = None, **kw: object) -> MarkerDetectors:
        return MarkerDetectors()

    monkeypatch.setattr(pipeline, "make_detectors", fake)
    monkeypatch.setattr(worker, "make_detectors", fake)  # the video glance
    res = CliRunner().invoke(cli.main, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--audio", "drop"])
    assert res.exit_code == 0, res.output
    assert probe(tmp_path / "out" / "p.mp4")["streams"] == ["video"]


REAL_CLIP = DEV_DATA / "videos" / "car-detection.mp4"


@pytest.mark.slow
@pytest.mark.skipif(not REAL_CLIP.is_file(), reason="dev data ../shared/data/dev is absent")
@pytest.mark.parametrize("audio", ["keep", "drop"])
def test_real_12_5_fps_clip_with_aac(tmp_path: Path, audio: str) -> None:
    result = run(REAL_CLIP, tmp_path / "out", audio=audio, preset="ultrafast")
    entry = result.files[0]
    assert entry["status"] == "ok", entry["error"]
    src, dst = probe(REAL_CLIP, images=False), probe(tmp_path / "out" / REAL_CLIP.name, images=False)
    assert len(dst["times"]) == len(src["times"]) == entry["frame_count"]
    assert np.max(np.abs(np.array(dst["times"]) - np.array(src["times"]))) < 0.001
    assert dst["size"] == src["size"] and entry["fps"] == "25/2"
    assert "creation_time" not in dst["tags"]
    if audio == "keep":
        assert dst["streams"] == ["video", "audio"]
        assert abs(dst["audio_duration"] - src["audio_duration"]) < 0.1
    else:
        assert dst["streams"] == ["video"]


def test_overrides_apply_per_frame(tmp_path: Path) -> None:
    """A reviewer's add covers exactly its frame range; remove_track drops a whole track."""
    from redact.review.overrides import Overrides

    make_clip(tmp_path / "in" / "o.mp4", frames=10)
    first = run(tmp_path / "in", tmp_path / "out1")
    tracks = first.files[0]["tracks"]
    plate_track = next(t["id"] for t in tracks if t["label"] == "plate")
    edits = Overrides.from_data(
        {
            "schema": "redact-overrides/1",
            "reviewer": "R. Eviewer",
            "edits": [
                {"op": "add", "file": "o.mp4", "frames": [2, 4], "box": [100, 5, 30, 20], "label": "face",
                 "reason": "missed face"},
                {"op": "remove_track", "file": "o.mp4", "track": plate_track, "reason": "not a plate"},
            ],
        }
    )
    result = redact_path(
        tmp_path / "in", tmp_path / "out2", RedactConfig(), detectors=MarkerDetectors(), overrides=edits
    )
    entry = result.files[0]
    assert entry["status"] == "ok"
    lines = [
        json.loads(line)
        for line in (tmp_path / "out2" / entry["frames"]["file"]).read_text().splitlines()
    ]
    for line in lines:
        manual = [r for r in line["regions"] if r["source"] == "manual"]
        assert len(manual) == (1 if 2 <= line["frame"] <= 4 else 0)
        assert all(r["reviewer"] == "R. Eviewer" and r["reason"] == "missed face" for r in manual)
        assert not [r for r in line["regions"] if r.get("track") == plate_track]
    assert entry["removed"] and all(r["reason"] == "not a plate" for r in entry["removed"])
    assert {r["frame"] for r in entry["removed"]} == set(range(10))


@pytest.mark.parametrize(
    ("pix_fmt", "size"),
    [("yuv444p", (160, 120)), ("yuvj420p", (160, 120)), ("yuv444p", (161, 121)), ("yuv420p10le", (160, 120))],
)
def test_other_pixel_formats_and_odd_sizes_are_redacted_with_their_colours(
    tmp_path: Path, pix_fmt: str, size: tuple[int, int]
) -> None:
    """Frames that are not limited-range 4:2:0 with even sides go through BGR (full range
    converted as FFmpeg reads it), 10-bit 4:2:0 is reduced to 8 bits; the markers are
    covered and the rest keeps its colours."""
    make_clip(tmp_path / "in" / "p.mp4", frames=6, size=size, pix_fmt=pix_fmt)
    result = run(tmp_path / "in", tmp_path / "out")
    entry = result.files[0]
    assert entry["status"] == "ok" and entry["frame_count"] == 6, entry
    assert (entry["width"], entry["height"]) == size
    inp = probe(tmp_path / "in" / "p.mp4")["images"]
    out = probe(tmp_path / "out" / "p.mp4")["images"]
    for i, (a, b) in enumerate(zip(inp, out, strict=True)):
        faces, plates = default_objects(i)
        assert all(covered(b, box) for box in faces + plates), f"frame {i} not covered"
        x, y, w, h = 100, 40, 50, 30  # background, away from the markers' paths
        assert abs(float(a[y : y + h, x : x + w].mean()) - float(b[y : y + h, x : x + w].mean())) < 4

