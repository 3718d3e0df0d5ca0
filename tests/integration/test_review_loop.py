"""verify, review, overrides and render end to end, with the fake marker detectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from redact.cli import main
from redact.config import RedactConfig
from redact.errors import ManifestError
from redact.manifest import load as load_manifest
from redact.pipeline import redact_path
from redact.review.checks import region_redacted
from redact.review.overrides import Overrides
from redact.review.report import build_report
from redact.review.rerender import rerender
from redact.review.verify import verify
from tests.helpers import PLATE_BGR, MarkerDetectors, scene


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    cv2.imwrite(str(src / "a.png"), scene())
    cv2.imwrite(str(src / "sub" / "b.jpg"), scene(faces=((150, 30, 50, 50),), plates=(), seed=1),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(src / "empty.png"), scene(faces=(), plates=(), seed=2))
    return src


def run(inputs: Path, out: Path, config: RedactConfig | None = None, **kw: object) -> Path:
    result = redact_path([inputs], out, config, detectors=MarkerDetectors(), **kw)  # type: ignore[arg-type]
    assert result.exit_code == 0
    return result.manifest_path


def check(mpath: Path, **kw: object):  # noqa: ANN201
    return verify(mpath, detectors=MarkerDetectors(), **kw)  # type: ignore[arg-type]


def test_verify_passes_on_an_untouched_run(inputs: Path, tmp_path: Path) -> None:
    result = check(run(inputs, tmp_path / "out"))
    assert result.ok, [f.line() for f in result.findings]
    assert result.files == 3 and result.regions_checked == 3 and result.frames_checked == 3


def test_verify_says_when_it_cannot_find_the_inputs(inputs: Path, tmp_path: Path) -> None:
    # Outputs shared without the originals (or verify run from another folder): the pixel
    # checks against the inputs cannot run, and verify says so instead of passing quietly.
    mpath = run(inputs, tmp_path / "out")
    shutil.rmtree(inputs)
    result = check(mpath)
    assert result.ok and result.regions_checked == 0
    missing = [f for f in result.findings if f.kind == "input"]
    assert len(missing) == 3 and all(f.severity == "warning" and "--inputs-base" in f.message for f in missing)


@pytest.mark.parametrize("style", ["blur", "pixelate"])
def test_verify_passes_for_other_styles(inputs: Path, tmp_path: Path, style: str) -> None:
    result = check(run(inputs, tmp_path / "out", RedactConfig(style=style)))
    assert result.ok, [f.line() for f in result.findings]


@pytest.mark.parametrize("name", ["a.png", "sub/b.jpg"])
def test_verify_fails_when_an_output_is_replaced_by_its_original(inputs: Path, tmp_path: Path, name: str) -> None:
    mpath = run(inputs, tmp_path / "out")
    shutil.copyfile(inputs / name, tmp_path / "out" / name)
    result = check(mpath, leak_check=False)
    assert not result.ok
    kinds = {(f.kind, f.file) for f in result.problems}
    assert ("output", name) in kinds and ("region", name) in kinds
    region = next(f for f in result.problems if f.kind == "region")
    assert region.box is not None and region.frame == 0


@pytest.mark.parametrize("style", ["fill", "blur"])
def test_avif_pictures_are_redacted_and_verified_like_jpegs(tmp_path: Path, style: str) -> None:
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(scene(seed=3)[:, :, ::-1]).save(src / "c.avif", quality=80)
    mpath = run(src, tmp_path / "out", RedactConfig(style=style))
    entry = load_manifest(mpath)["files"][0]
    assert entry["format"] == "AVIF" and len(entry["regions"]) == 2
    assert Image.open(tmp_path / "out" / "c.avif").format == "AVIF"
    result = check(mpath)
    assert result.ok, [f.line() for f in result.findings]
    shutil.copyfile(src / "c.avif", tmp_path / "out" / "c.avif")  # the original published instead
    kinds = {f.kind for f in check(mpath, leak_check=False).problems}
    assert {"output", "region"} <= kinds


def test_verify_flags_outline_runs(inputs: Path, tmp_path: Path) -> None:
    result = check(run(inputs, tmp_path / "out", RedactConfig(style="outline")), leak_check=False)
    kinds = {f.kind for f in result.problems}
    assert kinds == {"unredacted", "region"}


def test_leak_check_finds_a_missed_face(inputs: Path, tmp_path: Path) -> None:
    # The detector misses everything in the first file (a.png): its face and plate leak.
    result = redact_path([inputs], tmp_path / "out", detectors=MarkerDetectors(skip={0}))
    res = check(result.manifest_path)
    leaks = [f for f in res.problems if f.kind == "leak"]
    assert {(f.file, f.label) for f in leaks} == {("a.png", "face"), ("a.png", "plate")}
    assert next(f for f in leaks if f.label == "face").box == [40, 40, 40, 40]


def test_the_leak_check_keeps_the_runs_rules_and_lists_what_scores_under_them() -> None:
    # The run's detectors at the run's thresholds (its evidence and reading rules with
    # them), and their candidates down to half of those as well.
    from redact.review.checks import LeakLook
    from redact.review.verify import LEAK_THRESHOLD_FACTOR, leak_detector
    from redact.types import Detections

    check = leak_detector({"settings": {"resolved_thresholds": {"face": 0.35, "plate": 0.4}, "quality": "fast"}})
    assert isinstance(check, LeakLook) and check.ratio == LEAK_THRESHOLD_FACTOR
    assert (check.inner.thresholds["face"], check.inner.thresholds["plate"]) == (0.35, 0.4)

    class Looking:
        def look(self, image: np.ndarray, *, ratio: float, rois: object = None) -> tuple[Detections, Detections]:
            self.ratio = ratio
            return (Detections.from_arrays([[0, 0, 10, 10]], [0.9], "face"),
                    Detections.from_arrays([[20, 20, 40, 30]], [0.25], "plate"))

    inner = Looking()
    found = LeakLook(inner, 0.5).detect(np.zeros((50, 50, 3), np.uint8))
    assert inner.ratio == 0.5 and list(found.label) == ["face", "plate"]
    assert found.score.tolist() == pytest.approx([0.9, 0.25])


def test_a_leak_the_input_does_not_show_is_a_warning(inputs: Path, tmp_path: Path) -> None:
    # A redacted picture can show the detectors what its input did not: a fill beside a
    # badge or a timestamp changes how a network scores it. Such a finding is the
    # reviewer's to look at; what the input shows at all stays a problem.
    from redact.review.checks import find_leaks

    original = scene(faces=(), plates=((200, 150, 60, 20),))
    output = original.copy()
    output[150:170, 200:260] = 0  # the plate redacted
    output[60:80, 30:90] = PLATE_BGR  # something the detectors now take for a plate

    redacted = [{"label": "plate", "box": [200, 150, 60, 20], "source": "detector"}]

    def leaks(given: np.ndarray | None) -> list[tuple[str, str, list[int] | None]]:
        found = find_leaks(MarkerDetectors(), output, redacted, [], {"plate": 0.5}, file="x.png", frame=0,
                           original=given)
        return [(f.severity, f.message, f.box) for f in found]

    assert leaks(None) == [("problem", "plate (score 0.90) found outside the redacted regions (0% covered)",
                            [30, 60, 60, 20])]  # no input at hand: fails closed
    (severity, message, box), = leaks(original)
    assert severity == "warning" and "nothing of it found on the input" in message and box == [30, 60, 60, 20]
    shown = original.copy()
    shown[62:78, 34:86] = PLATE_BGR  # the input shows it too (a little smaller)
    assert [s for s, _, _ in leaks(shown)] == ["problem"]


def test_verify_checks_the_manifest_digest_and_hashes(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out")
    data = json.loads(mpath.read_text())
    data["files"][0]["regions"] = []
    mpath.write_text(json.dumps(data))
    assert "digest" in {f.kind for f in check(mpath, leak_check=False).problems}
    (mpath.parent / "manifest.json.sha256").unlink()
    assert "digest" in {f.kind for f in check(mpath, leak_check=False).problems}
    # An input changed since the run is a warning; a missing output is a problem.
    mpath = run(inputs, tmp_path / "out2")
    cv2.imwrite(str(inputs / "empty.png"), scene(seed=5))
    (tmp_path / "out2" / "a.png").unlink()
    found = {(f.kind, f.severity) for f in check(mpath, leak_check=False).findings}
    assert found == {("input", "warning"), ("output", "problem")}


def test_verify_unusable_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        verify(tmp_path / "manifest.json")
    (tmp_path / "manifest.json").write_text('{"schema": "redact-manifest/1", "files": 3}')
    with pytest.raises(ManifestError):
        verify(tmp_path / "manifest.json")


def test_verify_cli_exit_codes_and_json(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out")
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", str(mpath), "--no-leak-check", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True
    shutil.copyfile(inputs / "a.png", tmp_path / "out" / "a.png")
    bad = runner.invoke(main, ["verify", str(mpath), "--no-leak-check"])
    assert bad.exit_code == 1 and "a.png" in bad.output and "box [" in bad.output
    missing = runner.invoke(main, ["verify", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2


def test_the_review_commands_take_the_run_folder_for_its_manifest(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out")
    runner = CliRunner()
    by_folder = runner.invoke(main, ["verify", str(tmp_path / "out"), "--no-leak-check", "--json"])
    by_file = runner.invoke(main, ["verify", str(mpath), "--no-leak-check", "--json"])
    assert by_folder.exit_code == 0, by_folder.output
    assert json.loads(by_folder.stdout) == json.loads(by_file.stdout)
    page = tmp_path / "r.html"
    assert runner.invoke(main, ["review", str(tmp_path / "out"), "--out", str(page), "--static"]).exit_code == 0
    assert page.is_file()
    empty = runner.invoke(main, ["verify", str(inputs)])
    assert empty.exit_code == 2 and "without a manifest.json" in empty.output


# --- per-region pixel test ---------------------------------------------------------


def _jpeg(img: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_COLOR)


@pytest.mark.parametrize("style", ["fill", "blur", "pixelate"])
@pytest.mark.parametrize("lossy", [False, True])
@pytest.mark.parametrize("dark", [False, True])
def test_region_test_accepts_redaction_styles(style: str, lossy: bool, dark: bool) -> None:
    from redact.render import get_style
    from redact.render import regions as region_mod
    from redact.types import Detections

    img = scene(faces=(), plates=(), seed=3)
    if dark:  # a dark, low-contrast original: fill barely changes it
        img = (img // 16).astype(np.uint8)
    regs = region_mod.build(Detections.from_arrays([[60, 40, 140, 140]], [0.9], "face"), 320, 240, padding=0)
    out = get_style(RedactConfig(style=style)).apply(img, regs)
    original = img
    if lossy:
        out, original = _jpeg(out), _jpeg(img)
    ok, how = region_redacted(out[40:140, 60:140], original[40:140, 60:140], np.ones((100, 80), bool), lossy=lossy)
    assert ok, how


@pytest.mark.parametrize(("fmt", "chroma"), [("JPEG", 0), ("AVIF", "4:4:4")])
def test_a_pixelated_dim_picture_is_judged_by_the_detail_left_in_its_cells(fmt: str, chroma: object) -> None:
    # Small regions on a dim, smooth picture: a mosaic there moves few pixels by more than a
    # lossy re-encode may, and keeps the coarse shading the detail test correlates; judged by
    # those alone such regions were reported unredacted. Each region is judged where no later
    # one is drawn over it.
    import io

    from PIL import Image

    from redact.render import get_style
    from redact.render import regions as region_mod
    from redact.review.checks import check_regions
    from redact.types import Detections

    shade = cv2.GaussianBlur(np.random.default_rng(7).normal(0, 1, (240, 320)).astype(np.float32), (0, 0), 3)
    dim = np.repeat(np.clip(shade / shade.std() * 10 + 40, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    boxes = [[20, 30, 93, 49], [60, 40, 120, 58], [210, 150, 259, 168], [40, 160, 113, 179]]
    regs = region_mod.build(Detections.from_arrays(boxes, [0.9] * 4, "plate"), 320, 240, padding=0)
    records = [{"box": [x1, y1, x2 - x1, y2 - y1], "label": "plate"} for x1, y1, x2, y2 in boxes]

    def lossy(bgr: np.ndarray) -> np.ndarray:  # as the run writes them (quality 95)
        buf = io.BytesIO()
        Image.fromarray(bgr[:, :, ::-1]).save(buf, fmt, quality=95, subsampling=chroma)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))[:, :, ::-1]

    out = lossy(get_style(RedactConfig(style="pixelate")).apply(dim, regs))
    assert check_regions(out, dim, records, lossy=True, file="f", frame=0, style="pixelate") == []
    assert check_regions(out, dim, records, lossy=True, file="f", frame=0) != []  # without the cells
    unredacted = check_regions(lossy(dim), dim, records, lossy=True, file="f", frame=0, style="pixelate")
    assert len(unredacted) == 4


@pytest.mark.parametrize("lossy", [False, True])
def test_region_test_rejects_unredacted_and_outline(lossy: bool) -> None:
    from redact.render import get_style
    from redact.render import regions as region_mod
    from redact.types import Detections

    img = scene(faces=(), plates=(), seed=4)
    regs = region_mod.build(Detections.from_arrays([[60, 40, 140, 140]], [0.9], "face"), 320, 240, padding=0)
    for out in (img.copy(), get_style(RedactConfig(style="outline")).apply(img, regs)):
        if lossy:
            out = _jpeg(out)
        ok, how = region_redacted(out[40:140, 60:140], img[40:140, 60:140], np.ones((100, 80), bool), lossy=lossy)
        assert not ok, how


# --- overrides through the pipeline, and render --------------------------------------

EDITS = {
    "schema": "redact-overrides/1",
    "reviewer": "R. Viewer",
    "edits": [
        {"op": "add", "file": "empty.png", "box": [10, 10, 30, 30], "label": "face", "reason": "face in a window"},
        {"op": "remove", "file": "a.png", "box": [200, 150, 60, 20], "reason": "a shop sign, not a plate"},
    ],
}


def test_overrides_are_applied_and_recorded(inputs: Path, tmp_path: Path) -> None:
    plain = run(inputs, tmp_path / "plain")
    mpath = run(inputs, tmp_path / "out", overrides=Overrides.from_data(EDITS))
    data = load_manifest(mpath)  # schema-valid
    assert data["overrides"]["reviewer"] == "R. Viewer" and data["overrides"]["edits"] == 2
    assert data["settings_sha256"] != load_manifest(plain)["settings_sha256"]
    files = {e["input"]: e for e in data["files"]}
    (manual,) = files["empty.png"]["regions"]
    assert manual["source"] == "manual" and manual["score"] is None
    assert manual["reviewer"] == "R. Viewer" and manual["reason"] == "face in a window"
    assert [r["label"] for r in files["a.png"]["regions"]] == ["face"]
    (removed,) = files["a.png"]["removed"]
    assert removed["box"] == [200, 150, 60, 20] and removed["reason"].startswith("a shop sign")
    out = cv2.imread(str(tmp_path / "out" / "a.png"))
    src = cv2.imread(str(inputs / "a.png"))
    assert np.array_equal(out[150:170, 200:260], src[150:170, 200:260])  # the plate was left alone
    # A removed detection is not a leak; the added region is checked like any other.
    result = check(mpath)
    assert result.ok, [f.line() for f in result.findings]
    assert result.regions_checked == 3


def test_overrides_naming_unknown_files_fail_before_anything_is_written(inputs: Path, tmp_path: Path) -> None:
    from redact.errors import ConfigError

    edits = {**EDITS, "edits": [{**EDITS["edits"][0], "file": "nope.png"}]}
    with pytest.raises(ConfigError, match="nope.png"):
        redact_path([inputs], tmp_path / "out", detectors=MarkerDetectors(), overrides=Overrides.from_data(edits))
    assert not (tmp_path / "out").exists()


def test_render_applies_overrides_into_the_runs_folder(inputs: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mpath = run(Path("in"), tmp_path / "out")
    before = (tmp_path / "out" / "sub" / "b.jpg").read_bytes()
    result = rerender(mpath, Overrides.from_data(EDITS), detectors=MarkerDetectors())
    assert result.exit_code == 0
    data = load_manifest(mpath)
    assert data["overrides"]["edits"] == 2
    assert {e["input"]: e["counts"]["face"] for e in data["files"]}["empty.png"] == 1
    assert (tmp_path / "out" / "sub" / "b.jpg").read_bytes() == before  # untouched file: same bytes
    assert check(mpath).ok


def test_run_and_render_cli_take_overrides(inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import redact.pipeline as pipeline
    import redact.worker as worker

    def fake(config: object, threads: int | None = None, **kw: object) -> MarkerDetectors:
        return MarkerDetectors()

    monkeypatch.setattr(pipeline, "make_detectors", fake)
    monkeypatch.setattr(worker, "make_detectors", fake)  # the video glance
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps(EDITS))
    runner = CliRunner()
    res = runner.invoke(main, ["run", str(inputs), "--out", str(tmp_path / "out"), "-q", "--workers", "1",
                               "--overrides", str(edits)])
    assert res.exit_code == 0, res.output
    assert load_manifest(tmp_path / "out" / "manifest.json")["overrides"]["sha256"]
    edits.write_text('{"schema": "redact-overrides/1", "edits": []}')
    res = runner.invoke(main, ["run", str(inputs), "--out", str(tmp_path / "o2"), "--overrides", str(edits)])
    assert res.exit_code == 2 and "reviewer" in res.output


# --- the report ----------------------------------------------------------------------


def test_report_names_every_file_and_embeds_no_originals_by_default(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out")
    vr = check(mpath)
    text = build_report(mpath, verify_result=vr)
    for name in ("a.png", "sub/b.jpg", "empty.png"):
        assert name in text
    assert text.count("<img ") == 3 and "UNREDACTED" not in text
    assert "Files with no detections: the likeliest misses (1)" in text
    assert "passed" in text
    full = build_report(mpath, include_originals=True)
    assert full.count("<img ") == 6 and "UNREDACTED ORIGINAL" in full


def test_report_withholds_unredacted_outputs(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out", RedactConfig(style="outline"))
    text = build_report(mpath)
    assert "<img " not in text and "withheld" in text
    mpath = run(inputs, tmp_path / "out2")
    shutil.copyfile(inputs / "a.png", tmp_path / "out2" / "a.png")
    assert build_report(mpath).count("<img ") == 2


def test_review_cli_writes_report(inputs: Path, tmp_path: Path) -> None:
    mpath = run(inputs, tmp_path / "out")
    report = tmp_path / "report.html"
    res = CliRunner().invoke(main, ["review", str(mpath), "--out", str(report)])
    assert res.exit_code == 0, res.output
    assert "sub/b.jpg" in report.read_text()


def test_report_renders_in_chromium(inputs: Path, tmp_path: Path) -> None:
    """A real browser draws the report (skipped without Debian's chromium)."""
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    mpath = run(inputs, tmp_path / "out")
    report = tmp_path / "report.html"
    report.write_text(build_report(mpath, verify_result=check(mpath)))
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--window-size=1000,1400",
         f"--screenshot={shot}", report.as_uri()],
        check=True, capture_output=True, timeout=60,
    )
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1400, 1000)
    assert img.std() > 10  # not a blank page


def test_verify_reports_an_output_whose_metadata_carries_the_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    import redact.io.metadata as metadata

    src = tmp_path / "in"
    src.mkdir()
    pic = scene()
    preview = tmp_path / "preview.jpg"
    cv2.imwrite(str(preview), pic[::8, ::8])
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif.get_ifd(0x8769)[0x927C] = b"Nikon\x00" + preview.read_bytes()  # a maker note with its preview
    Image.fromarray(pic[:, :, ::-1]).save(src / "a.jpg", "JPEG", quality=95, exif=exif.tobytes())
    keep = RedactConfig(keep_metadata=True)
    assert check(run(src, tmp_path / "out", keep)).ok  # the preview is left out, verify agrees
    # An output written by a build that kept such previews: verify finds the picture.
    monkeypatch.setattr(metadata, "exif_bytes", lambda e: (e.tobytes(), []))
    result = check(run(src, tmp_path / "older", keep))
    assert not result.ok
    assert [(f.kind, f.file) for f in result.problems] == [("metadata", "a.jpg")]
    assert "EXIF holds a picture" in result.problems[0].message
