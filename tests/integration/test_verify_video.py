"""verify and review on a video entry (frames sidecar + PyAV decode), built by hand.

The video job lands separately; this fakes what it writes (an output clip, a JSON Lines
sidecar and a file entry with ``frames`` and ``tracks``) so verify's video path is tested now.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from redact.hashing import sha256_file
from redact.manifest import Manifest, empty_counts
from redact.review.report import build_report
from redact.review.verify import verify
from tests.helpers import MarkerDetectors, scene

N = 12
FACE = (40, 40, 40, 40)


def _frames(redacted: bool) -> list[np.ndarray]:
    out = []
    for i in range(N):
        x = 40 + 4 * i
        img = scene(160, 128, faces=((x, 40, 40, 40),), plates=())
        if redacted:
            img[34:86, x - 6 : x + 46] = 0
        out.append(img)
    return out


def _write(path: Path, frames: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 160, 128, "yuv444p"
        s.options = {"crf": "12"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="bgr24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


@pytest.fixture
def video_run(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    _write(tmp_path / "in" / "clip.mp4", _frames(False))
    _write(tmp_path / "out" / "clip.mp4", _frames(True))
    side = tmp_path / "out" / "manifest.frames" / "clip.mp4.jsonl"
    side.parent.mkdir()
    lines = [
        {"frame": i, "pts": i / 10, "regions": [{"label": "face", "score": 0.9 if i % 3 else None,
                                                 "box": [40 + 4 * i - 6, 34, 52, 52],
                                                 "source": "detector" if i % 3 else "tracker", "track": 0}]}
        for i in range(N)
    ]
    for line in lines:
        if line["regions"][0]["score"] is None:
            line["regions"][0]["score"] = 0.5
    side.write_text("".join(json.dumps(line) + "\n" for line in lines))
    m = Manifest(tmp_path / "out" / "manifest.json", settings={"resolved_thresholds": {"face": 0.5, "plate": 0.5}},
                 settings_sha256=None, inputs=[str(tmp_path / "in")], models=[])
    m.add({
        "input": "clip.mp4", "root": 0, "output": "clip.mp4", "kind": "video", "format": "mp4", "status": "ok",
        "error": None, "warnings": [], "redacted": True,
        "input_sha256": sha256_file(tmp_path / "in" / "clip.mp4"),
        "output_sha256": sha256_file(tmp_path / "out" / "clip.mp4"),
        "width": 160, "height": 128, "regions": [], "counts": {**empty_counts(), "face": N},
        "frame_count": N, "rotation": 0,
        "frames": {"file": "manifest.frames/clip.mp4.jsonl", "sha256": sha256_file(side), "count": N},
        "tracks": [{"id": 0, "label": "face", "first_frame": 0, "last_frame": N - 1, "observed": 8,
                    "predicted": 4}],
    })
    m.save(complete=True)
    return tmp_path / "out" / "manifest.json"


def test_verify_video_clean(video_run: Path) -> None:
    result = verify(video_run, detectors=MarkerDetectors(), frames_step=3)
    assert result.ok, [f.line() for f in result.findings]
    assert result.frames_checked == 4 and result.regions_checked == 4


def test_verify_video_replaced_by_original(video_run: Path) -> None:
    shutil.copyfile(video_run.parent.parent / "in" / "clip.mp4", video_run.parent / "clip.mp4")
    result = verify(video_run, detectors=MarkerDetectors(), frames_step=4)
    kinds = {f.kind for f in result.problems}
    assert {"output", "region"} <= kinds
    assert {f.frame for f in result.problems if f.kind == "region"} == {0, 4, 8}


def test_verify_video_leak_the_input_shows_is_a_problem(video_run: Path) -> None:
    # On frame 6 a tracked box slid off its face (recorded and drawn 40 px to its right):
    # the leak check finds the face there, and on the input's frame too.
    frames = _frames(True)
    frames[6] = _frames(False)[6]
    frames[6][34:86, 104:156] = 0
    _write(video_run.parent / "clip.mp4", frames)
    side = video_run.parent / "manifest.frames" / "clip.mp4.jsonl"
    lines = [json.loads(line) for line in side.read_text().splitlines()]
    lines[6]["regions"][0]["box"] = [104, 34, 52, 52]
    side.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = verify(video_run, detectors=MarkerDetectors(), frames_step=3)
    leaks = [f for f in result.findings if f.kind == "leak"]
    assert [(f.frame, f.label, f.severity) for f in leaks] == [(6, "face", "problem")]


def test_verify_video_sidecar_tampered(video_run: Path) -> None:
    side = video_run.parent / "manifest.frames" / "clip.mp4.jsonl"
    side.write_text(side.read_text().replace('"frame": 11', '"frame": 11, "x": 1'))
    kinds = {f.kind for f in verify(video_run, leak_check=False, frames_step=11).problems}
    assert kinds == {"frames"}


def test_report_video_contact_sheet_and_timeline(video_run: Path) -> None:
    text = build_report(video_run)
    assert "clip.mp4" in text and "<svg" in text and text.count("<img ") >= 6
    assert "UNREDACTED" not in text
