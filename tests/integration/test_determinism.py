"""Same inputs, settings and overrides give byte-identical outputs (so a re-render can be checked)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from redact.config import RedactConfig
from redact.pipeline import redact_path
from redact.review.overrides import Overrides
from tests.helpers import SAMPLES, MarkerDetectors, scene

EDITS = Overrides.from_data({
    "schema": "redact-overrides/1",
    "reviewer": "R",
    "edits": [{"op": "add", "file": "a.jpg", "box": [5, 5, 20, 20], "label": "face", "reason": "r"}],
})


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and not p.name.startswith("manifest.json")}


def regions(result) -> list:  # noqa: ANN001
    return [(e["input"], e["regions"], e["output_sha256"]) for e in result.files]


@pytest.mark.parametrize("style", ["fill", "blur", "pixelate"])
def test_two_runs_are_byte_identical(tmp_path: Path, style: str) -> None:
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "a.jpg"), scene())
    cv2.imwrite(str(src / "b.png"), scene(seed=1, faces=((100, 100, 64, 48),)))
    cfg = RedactConfig(style=style)
    r1 = redact_path([src], tmp_path / "o1", cfg, detectors=MarkerDetectors(), overrides=EDITS)
    r2 = redact_path([src], tmp_path / "o2", cfg, detectors=MarkerDetectors(), overrides=EDITS)
    assert outputs(tmp_path / "o1") == outputs(tmp_path / "o2")
    assert regions(r1) == regions(r2)
    assert outputs(tmp_path / "o1").keys() == {"a.jpg", "b.png"}


@pytest.mark.slow
def test_real_detectors_on_samples_workers_1_and_2(tmp_path: Path) -> None:
    samples = SAMPLES
    if not samples.is_dir():
        pytest.skip("samples/ not present")
    r1 = redact_path([samples], tmp_path / "w1", RedactConfig(workers=1, style="blur"))
    r2 = redact_path([samples], tmp_path / "w2", RedactConfig(workers=2, style="blur"))
    assert r1.exit_code == r2.exit_code == 0
    assert outputs(tmp_path / "w1") == outputs(tmp_path / "w2")
    assert regions(r1) == regions(r2)
    assert r1.manifest_sha256 != "" and len(r1.files) >= 2
