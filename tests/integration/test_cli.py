"""The CLI in-process (CliRunner) with the real models on small generated pictures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from redact import __version__
from redact.cli import main
from redact.hashing import sha256_file
from redact.manifest import validate
from tests.helpers import SAMPLES


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help() -> None:
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output
    r = invoke("run", "--help")
    assert r.exit_code == 0 and "Examples" in r.output and "--style" in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--style", "smudge"], "Invalid value"),
        (["--no-faces", "--no-plates", "--occupants", "off"], "nothing to redact"),
        (["--occupants", "drivers"], "Invalid value"),
        (["--padding", "-1"], "Invalid value"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message) -> None:
    (tmp_path / "in").mkdir()
    r = CliRunner().invoke(main, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output


def test_out_equal_to_input_exit_2(tmp_path) -> None:
    (tmp_path / "in").mkdir()
    r = CliRunner().invoke(main, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "in")])
    assert r.exit_code == 2 and "inside the input folder" in r.output


@pytest.mark.slow
def test_samples_redacted_with_real_models(tmp_path) -> None:
    """Smoke test: the shipped models find the face and the plate in samples/."""
    out = tmp_path / "out"
    r = invoke("run", str(SAMPLES), "--out", str(out), "--workers", "1")
    assert r.exit_code == 0, r.output
    data = json.loads((out / "manifest.json").read_text())
    validate(data)
    files = {e["input"]: e for e in data["files"]}
    assert files["astronaut.jpg"]["counts"]["face"] >= 1
    street = files["street/parked-car.png"]
    assert street["counts"]["face"] >= 1 and street["counts"]["plate"] >= 1
    # The plate on the generated car is covered; so are its windscreen and driver, by
    # occupant regions no wider than the car (x 333..950 of 1280) and far from half the frame.
    plate = [r["box"] for r in street["regions"] if r["label"] == "plate"]
    assert any(x <= 562 and y <= 560 and x + w >= 718 and y + h >= 596 for x, y, w, h in plate)
    occupant = [r["box"] for r in street["regions"] if r["label"] == "occupant"]
    assert any(x <= 400 and y <= 300 and x + w >= 880 and y + h >= 425 for x, y, w, h in occupant), occupant
    assert all(x >= 320 and x + w <= 960 and w * h < 0.2 * 1280 * 720 for x, y, w, h in occupant), occupant
    # Run again: every file already done, no empty progress bar.
    r = invoke("run", str(SAMPLES), "--out", str(out), "--workers", "1")
    assert r.exit_code == 0 and "(2 already done)" in r.output, r.output
    assert "file/s" not in r.output, r.output
    # GPS and camera tags are gone.
    exif = Image.open(out / "astronaut.jpg").getexif()
    assert 0x8825 not in exif and 0x010F not in exif
    # samples/README.md (where the samples come from) is not media: listed, skipped.
    assert files["README.md"]["status"] == "skipped"
    for e in data["files"]:
        if e["status"] == "ok":
            assert e["output_sha256"] == sha256_file(out / e["output"])
    assert {m["label"] for m in data["models"]} == {"face", "plate", "occupant"}
    assert data["settings"]["occupants"] == "windows"
    assert "manifest sha256" in r.output
    # Where the models ran is recorded per file: the CPU here unless onnxruntime-gpu is installed.
    import onnxruntime

    gpu = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    for e in (e for e in data["files"] if e["status"] == "ok"):
        assert e["providers"] and set(e["providers"]) <= {"CPUExecutionProvider", "CUDAExecutionProvider"}
        assert gpu or e["providers"] == ["CPUExecutionProvider"]


@pytest.mark.slow
def test_quiet_prints_nothing_on_success(tmp_path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(src / "grey.png")
    r = invoke("run", str(src), "--out", str(tmp_path / "o"), "--quiet", "--workers", "1")
    assert r.exit_code == 0 and r.output == ""


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_failed_file_reported_by_the_cli_alone(tmp_path, workers) -> None:
    """A file that fails is named once above the progress bar and once in the summary: not
    also as a bare log line written through the bar (the worker processes' included)."""
    import subprocess
    import sys

    from tests.helpers import REPO

    src = tmp_path / "in"
    src.mkdir()
    (src / "notes.jpg").write_text("not a picture")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(src / "grey.png")
    proc = subprocess.run(
        [sys.executable, "-m", "redact", "run", str(src), "--out", str(tmp_path / "o"), "--workers", workers],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 1
    lines = [ln.split("\r")[-1].strip() for ln in proc.stderr.splitlines() if "notes.jpg" in ln]
    assert len(lines) == 2 and all(ln.startswith("FAILED notes.jpg: ") for ln in lines), proc.stderr


@pytest.mark.slow
def test_a_picture_stored_on_its_side_is_looked_at_turned(tmp_path) -> None:
    """The sample street scene stored a quarter turn clockwise and upside down, with no
    orientation tag: with ``--orientations all`` its plate is covered where it lies, and the
    verify run looks at the outputs turned too."""
    import cv2

    picture = cv2.imread(str(SAMPLES / "street" / "parked-car.png"))
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "side.png"), cv2.rotate(picture, cv2.ROTATE_90_CLOCKWISE))
    cv2.imwrite(str(tmp_path / "in" / "down.png"), cv2.rotate(picture, cv2.ROTATE_180))
    out = tmp_path / "out"
    r = invoke("run", str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--orientations", "all")
    assert r.exit_code == 0, r.output
    data = json.loads((out / "manifest.json").read_text())
    validate(data)
    assert data["settings"]["orientations"] == "all"
    files = {e["input"]: e for e in data["files"]}
    # The upright plate lies at x 562..718, y 560..596 of 1280x720; turned a quarter
    # clockwise (x, y) -> (720 - y, x), upside down (x, y) -> (1280 - x, 720 - y).
    where = {"side.png": (124, 562, 160, 718), "down.png": (562, 124, 718, 160)}
    for name, (x0, y0, x1, y1) in where.items():
        plates = [r["box"] for r in files[name]["regions"] if r["label"] == "plate"]
        assert any(x <= x0 and y <= y0 and x + w >= x1 and y + h >= y1 for x, y, w, h in plates), (name, plates)
        assert files[name]["counts"]["face"] >= 1, name
    # The car's windows (upright about x 360..925, y 290..445) are covered where they lie, the
    # window zone drawn by the look that shows the car upright, not one upside down.
    windows = {"side.png": (275, 360, 430, 925), "down.png": (355, 275, 920, 430)}
    for name, (x0, y0, x1, y1) in windows.items():
        zones = [r["box"] for r in files[name]["regions"] if r["label"] == "occupant"]
        assert any(x <= x0 and y <= y0 and x + w >= x1 and y + h >= y1 for x, y, w, h in zones), (name, zones)
    r = invoke("verify", str(out))
    assert r.exit_code == 0, r.output


@pytest.mark.slow
def test_a_picture_askew_is_looked_at_slanted(tmp_path) -> None:
    """The sample street scene turned 16 degrees (a photo of a screen, a camera mounted
    askew): with ``--orientations askew`` its plate is covered where it lies on the slant,
    the manifest says how it was looked at and the verify run finds nothing left."""
    import cv2

    picture = cv2.imread(str(SAMPLES / "street" / "parked-car.png"))
    m = cv2.getRotationMatrix2D((640.0, 360.0), 16.0, 1.0)
    m[:, 2] += [(1429 - 1280) / 2, (1045 - 720) / 2]  # a canvas holding the whole turned picture
    (tmp_path / "in").mkdir()
    # Its corners filled with the picture mirrored, as a photo of a screen shows the room around it.
    askew = cv2.warpAffine(picture, m, (1429, 1045), borderMode=cv2.BORDER_REFLECT_101)
    cv2.imwrite(str(tmp_path / "in" / "askew.png"), askew)
    out = tmp_path / "out"
    r = invoke("run", str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--orientations", "askew")
    assert r.exit_code == 0, r.output
    data = json.loads((out / "manifest.json").read_text())
    validate(data)
    assert data["settings"]["orientations"] == "askew"
    # The upright plate's corners (x 562..718, y 560..596) where the turn takes them.
    corners = np.array([[562, 560, 1], [718, 560, 1], [718, 596, 1], [562, 596, 1]], float) @ m.T
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    entry = data["files"][0]
    plates = [reg["box"] for reg in entry["regions"] if reg["label"] == "plate"]
    assert any(x <= x0 and y <= y0 and x + w >= x1 and y + h >= y1 for x, y, w, h in plates), plates
    assert entry["counts"]["face"] >= 1
    r = invoke("verify", str(out))
    assert r.exit_code == 0, r.output
