"""The occupant label end to end with fake detectors: manifest, frames sidecar, overrides, verify, report."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from redact.cli import main
from redact.config import RedactConfig
from redact.manifest import load as load_manifest
from redact.manifest import validate_frame_line
from redact.pipeline import redact_path
from redact.review.overrides import Overrides
from redact.review.report import build_report
from redact.review.verify import verify
from redact.types import Detections
from tests.helpers import MarkerDetectors, scene
from tests.videos import make_clip


class OccupantMarkers(MarkerDetectors):
    """The marker fake with its plates (cyan blobs) seen as occupants."""

    def __init__(self) -> None:
        super().__init__()
        self.thresholds = {"face": 0.5, "plate": 0.5, "occupant": 0.5}

    def detect(self, image: np.ndarray, *, rois=None) -> Detections:  # noqa: ANN001
        dets = super().detect(image, rois=rois)
        return dets.replace(label=np.where(dets.label == "plate", "occupant", dets.label).astype(object))


EDITS = {
    "schema": "redact-overrides/1",
    "reviewer": "R. Viewer",
    "edits": [
        {"op": "add", "file": "empty.png", "box": [10, 10, 60, 30], "label": "occupant", "reason": "driver"},
    ],
}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "car.png"), scene())
    cv2.imwrite(str(src / "empty.png"), scene(faces=(), plates=(), seed=2))
    make_clip(src / "clip.mp4", frames=8)
    return src


def test_occupant_regions_through_manifest_verify_and_report(inputs: Path, tmp_path: Path) -> None:
    result = redact_path(
        [inputs], tmp_path / "out", RedactConfig(occupants="people"), detectors=OccupantMarkers(),  # type: ignore[arg-type]
        overrides=Overrides.from_data(EDITS),
    )
    assert result.exit_code == 0, result.files
    data = load_manifest(result.manifest_path)  # schema-checked
    assert data["settings"]["occupants"] == "people"
    files = {e["input"]: e for e in data["files"]}
    assert files["car.png"]["counts"] == {"face": 1, "plate": 0, "occupant": 1}
    (manual,) = files["empty.png"]["regions"]
    assert manual["label"] == "occupant" and manual["source"] == "manual" and manual["shape"] == "rect"
    clip = files["clip.mp4"]
    assert clip["counts"]["occupant"] == 8 and {t["label"] for t in clip["tracks"]} == {"face", "occupant"}
    lines = (tmp_path / "out" / clip["frames"]["file"]).read_text().splitlines()
    for line in map(json.loads, lines):
        validate_frame_line(line)
    assert data["summary"]["regions"]["occupant"] == 1 + 1 + 8

    checked = verify(result.manifest_path, detectors=OccupantMarkers())
    assert checked.ok, [f.line() for f in checked.findings]
    text = build_report(result.manifest_path, verify_result=checked)
    assert "occupant regions" in text and "occupants 1" in text


def test_cli_prints_occupant_counts(inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import redact.pipeline as pipeline
    import redact.worker as worker

    def fake(config: object, threads: int | None = None, **kw: object) -> OccupantMarkers:
        return OccupantMarkers()

    monkeypatch.setattr(pipeline, "make_detectors", fake)
    monkeypatch.setattr(worker, "make_detectors", fake)  # the video glance
    res = CliRunner().invoke(
        main, ["run", str(inputs / "car.png"), "--out", str(tmp_path / "out"), "--no-plates", "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "1 face, 0 plate, 1 occupant" in res.output
    assert load_manifest(tmp_path / "out" / "manifest.json")["settings"]["occupants"] == "windows"
