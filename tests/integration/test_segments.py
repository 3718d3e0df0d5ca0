"""Long videos split into segments and joined: the same frames, timestamps, audio, rotation
and regions as one pass (synthetic clips, fake detectors, tiny --segment-seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from redact import RedactConfig, redact_path
from redact.errors import MediaError
from redact.io.atomic import TMP_MARKER
from redact.manifest import load
from redact.types import Detections
from tests.helpers import SAMPLES, MarkerDetectors
from tests.videos import make_clip, probe, still

VFR = [0.0, 0.04, 0.1, 0.13, 0.2, 0.3, 0.31, 0.32, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0, 1.01, 1.1,
       1.2, 1.24, 1.3, 1.42, 1.5, 1.51, 1.6]
# Short keyframe interval, gap and padding, so lead-ins start well after frame 0 in a short clip.
SHORT: dict[str, Any] = {"keyframe_seconds": 0.2, "track_gap": 0.2, "track_pad": 3}


def crossing(i: int) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    """A face missed for 4 frames (a gap), a plate that appears mid-clip (padded back across a join)."""
    faces = [(10 + 2 * i, 20, 20, 20)] if not 40 <= i < 44 else []
    plates = [(20 + (2 * i) % 200, 150, 30, 12)] if i >= 33 else []
    return faces, plates


def regions(out: Path, entry: dict[str, Any]) -> list[tuple[int, float, list[Any]]]:
    lines = [json.loads(line) for line in (out / entry["frames"]["file"]).read_text().splitlines()]
    return [(ln["frame"], ln["pts"], sorted((r["label"], r["box"], r["source"]) for r in ln["regions"]))
            for ln in lines]


def both(src: Path, tmp_path: Path, seconds: float, **cfg: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    one = redact_path(src, tmp_path / "one", RedactConfig(segment_seconds=0, **cfg), detectors=MarkerDetectors())
    split = redact_path(src, tmp_path / "split", RedactConfig(segment_seconds=seconds, **cfg),
                        detectors=MarkerDetectors())
    assert one.exit_code == 0 and split.exit_code == 0, (one.files, split.files)
    return one.files[0], split.files[0]


CASES: dict[str, tuple[dict[str, Any], str, float, dict[str, Any]]] = {
    "audio": ({"frames": 90, "gop": 8, "audio": True, "objects": crossing, "size": (320, 240),
               "background": still()}, "clip.mp4", 1.2, SHORT),
    "vfr": ({"pts_s": VFR, "gop": 5, "audio": True, "size": (320, 240), "background": still(1)}, "vfr.mp4", 0.4, {}),
    "rotated": ({"frames": 40, "gop": 6, "rotation": 90, "background": still(2)}, "rot.mov", 0.5, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_split_video_equals_one_pass(tmp_path: Path, case: str) -> None:
    clip, name, seconds, cfg = CASES[case]
    src = tmp_path / "in" / name
    make_clip(src, **clip)
    one, split = both(src, tmp_path, seconds, **cfg)
    assert "segments" not in one and split["segments"] >= 3
    inp, a, b = probe(src), probe(tmp_path / "one" / name), probe(tmp_path / "split" / name)
    # Every frame, at its input timestamp (VFR included), the same size, rotation and streams.
    assert b["times"] == inp["times"] == a["times"]
    assert (b["size"], b["rotation"], b["streams"]) == (inp["size"], inp["rotation"], inp["streams"])
    assert b["audio_duration"] == a["audio_duration"]
    # The same regions on every frame as one pass (tracks crossing a join included).
    assert regions(tmp_path / "split", split) == regions(tmp_path / "one", one)
    assert sum(len(r) for _, _, r in regions(tmp_path / "one", one)) > 0
    for key in ("frame_count", "duration", "fps", "rotation", "audio", "encoder", "counts", "width", "height"):
        assert split[key] == one[key], key
    assert sum(split["looks"].values()) == split["frame_count"]
    # Pictures: what one pass wrote, up to the encoder's own differences.
    diff = [np.abs(x.astype(int) - y.astype(int)).mean() for x, y in zip(a["images"], b["images"], strict=True)]
    assert max(diff) < 2.0
    # One sidecar per video, no parts left behind, a manifest that passes its schema.
    manifest = load(tmp_path / "split" / "manifest.json")
    assert manifest["files"][0]["frames"]["count"] == len(inp["times"])
    assert [p.name for p in (tmp_path / "split" / "manifest.frames").iterdir()] == [f"{name}.jsonl"]
    assert not [p for p in (tmp_path / "split").rglob(f"*{TMP_MARKER}*")]


def test_track_ids_come_from_each_segment_range(tmp_path: Path) -> None:
    src = tmp_path / "in" / "clip.mp4"
    make_clip(src, **CASES["audio"][0])
    result = redact_path(src, tmp_path / "out", RedactConfig(segment_seconds=1.2, **SHORT), detectors=MarkerDetectors())
    entry = result.files[0]
    bases = sorted({t["id"] // 1_000_000 for t in entry["tracks"]})
    assert bases == list(range(entry["segments"]))
    firsts = [t["first_frame"] for t in entry["tracks"]]
    assert firsts == sorted(firsts)


class FailingDetectors(MarkerDetectors):
    """Fails on its ``fail_at``-th call, as a damaged frame would."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def detect(self, image: np.ndarray, *, rois: Any = None) -> Detections:
        if self.calls == self.fail_at:
            raise MediaError("frame could not be analysed")
        return super().detect(image, rois=rois)


def test_a_failed_segment_fails_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in" / "clip.mp4"
    make_clip(src, **CASES["audio"][0])
    result = redact_path(src, tmp_path / "out", RedactConfig(segment_seconds=1.2, **SHORT),
                         detectors=FailingDetectors(fail_at=100))
    entry = result.files[0]
    assert result.exit_code == 1 and entry["status"] == "failed"
    assert "could not be analysed" in entry["error"]
    assert not (tmp_path / "out" / "clip.mp4").exists()
    assert not (tmp_path / "out" / "manifest.frames" / "clip.mp4.jsonl").exists()
    assert not [p for p in (tmp_path / "out").rglob(f"*{TMP_MARKER}*")]


def test_a_split_video_is_resumed(tmp_path: Path) -> None:
    src = tmp_path / "in" / "clip.mp4"
    make_clip(src, frames=40, gop=6)
    cfg = RedactConfig(segment_seconds=0.5)
    first = redact_path(src, tmp_path / "out", cfg, detectors=MarkerDetectors())
    again = redact_path(src, tmp_path / "out", cfg, detectors=MarkerDetectors())
    assert first.files[0]["segments"] >= 2 and again.resumed == 1
    assert again.files[0]["output_sha256"] == first.files[0]["output_sha256"]


@pytest.mark.parametrize(("suffix", "cfg"), [(".mkv", {}), (".mp4", {"truncated_video": "cut"})])
def test_one_pass_where_segments_do_not_apply(tmp_path: Path, suffix: str, cfg: dict[str, Any]) -> None:
    make_clip(tmp_path / "in" / f"c{suffix}", frames=40, gop=6)
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(segment_seconds=0.5, **cfg),
                         detectors=MarkerDetectors())
    assert result.exit_code == 0 and "segments" not in result.files[0]


@pytest.fixture(scope="module")
def portrait_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A still camera on a real face (the sample portrait), with audio and short GOPs."""
    import cv2

    face = cv2.resize(cv2.imread(str(SAMPLES / "astronaut.jpg")), (320, 240), interpolation=cv2.INTER_AREA)
    src = tmp_path_factory.mktemp("portrait") / "in" / "face.mp4"
    make_clip(src, frames=48, gop=6, audio=True, size=(320, 240), objects=lambda i: ([], []),
              background=lambda i, w, h: face)
    return src


def same_entry(out: Path) -> tuple[dict[str, Any], list[Any]]:
    entry = {k: v for k, v in load(out / "manifest.json")["files"][0].items() if k not in ("seconds", "providers")}
    return entry, regions(out, entry)


@pytest.mark.slow
def test_segments_in_worker_processes_equal_ray_tasks(ray_cluster: str, portrait_clip: Path, tmp_path: Path) -> None:
    """Real models: the segments of one video run in two local worker processes, and as Ray
    tasks; outputs, sidecar and manifest entry are the same."""
    cfg: dict[str, Any] = {"segment_seconds": 0.5}
    pooled = redact_path(portrait_clip, tmp_path / "pooled", RedactConfig(workers=2, **cfg))
    on_ray = redact_path(portrait_clip, tmp_path / "ray", RedactConfig(executor="ray", **cfg))
    assert pooled.files[0]["segments"] >= 3 and pooled.files[0]["counts"]["face"] > 0
    assert same_entry(tmp_path / "ray") == same_entry(tmp_path / "pooled")
    assert on_ray.files[0]["output_sha256"] == pooled.files[0]["output_sha256"]
    assert probe(tmp_path / "ray" / "face.mp4", images=False)["times"] == probe(portrait_clip, images=False)["times"]
