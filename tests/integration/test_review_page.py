"""The interactive review page in headless Chromium: edit, approve, export, render, verify.

The browser tests skip when Debian's ``chromium`` is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
from click.testing import CliRunner

from redact.cli import main
from redact.errors import ConfigError
from redact.manifest import load as load_manifest
from redact.pipeline import redact_path
from redact.review import signoff as signoffs
from redact.review.overrides import load as load_overrides
from redact.review.page import MAX_FRAMES, build_page, order_key, pick_frames
from redact.review.rerender import rerender
from redact.review.verify import verify
from tests.browser import Browser, find_chromium
from tests.helpers import MarkerDetectors, scene
from tests.videos import make_clip

REVIEWER = "E. Ditor"


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run over two stills and a clip, started in ``tmp_path`` with the relative input ``in``."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "a.png"), scene())
    cv2.imwrite(str(src / "empty.png"), scene(faces=(), plates=(), seed=2))
    make_clip(src / "clip.mp4", frames=20)
    result = redact_path([Path("in")], tmp_path / "out", detectors=MarkerDetectors())  # type: ignore[arg-type]
    assert result.exit_code == 0
    return tmp_path


def _page(run_dir: Path, *args: str) -> Path:
    page = run_dir / "review.html"
    res = CliRunner().invoke(main, ["review", str(run_dir / "out" / "manifest.json"), "--out", str(page), *args])
    assert res.exit_code == 0, res.output
    return page


def test_page_is_offline_and_embeds_outputs_only(run_dir: Path) -> None:
    text = _page(run_dir).read_text("utf-8")
    assert "default-src 'none'" in text  # the page may not load anything
    urls = set(re.findall(r"https?://[\w./-]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls  # XML namespaces only, nothing fetched
    data = json.loads(text.split('id="review-data">', 1)[1].split("</script>", 1)[0])
    assert [f["input"] for f in data["files"]] == ["empty.png", "a.png", "clip.mp4"]  # no detections first
    assert all(fr["orig"] is None for f in data["files"] for fr in f["frames"])
    assert data["manifest_sha256"] == hashlib.sha256((run_dir / "out" / "manifest.json").read_bytes()).hexdigest()
    clip = data["files"][2]
    assert clip["frames"][0]["f"] == 0 and clip["frames"][-1]["f"] == 19 and len(clip["frames"]) == 12
    assert "track #0 starts" in clip["frames"][0]["why"] and "track #1 ends" in clip["frames"][-1]["why"]
    full = build_page(run_dir / "out" / "manifest.json", include_originals=True)
    data = json.loads(full.split('id="review-data">', 1)[1].split("</script>", 1)[0])
    assert "UNREDACTED ORIGINAL" in full and all(fr["orig"] for f in data["files"] for fr in f["frames"])


def test_frames_around_track_ends_and_cuts_come_first() -> None:
    marks = pick_frames(1000, [{"id": 3, "first_frame": 100, "last_frame": 200}], [500], low=[700])
    assert marks[99] == ["before track #3"] and marks[100] == ["track #3 starts"]
    assert marks[201] == ["after track #3"] and marks[499] == ["before a cut"] and marks[700] == ["low confidence"]
    assert 0 in marks and 999 in marks
    many = [{"id": i, "first_frame": 10 * i, "last_frame": 10 * i + 5} for i in range(90)]
    assert len(pick_frames(1000, many, [])) <= MAX_FRAMES


def test_files_with_no_detections_then_low_confidence_come_first() -> None:
    def item(i: int, status: str = "ok", faces: int = 1, low: bool = False) -> dict[str, Any]:
        return {"i": i, "status": status, "counts": {"face": faces},
                "frames": [{"regions": [{"low": low}] if faces else []}]}

    items = [item(0), item(1, status="failed", faces=0), item(2, low=True), item(3, faces=0), item(4)]
    assert [x["i"] for x in sorted(items, key=order_key)] == [3, 2, 0, 4, 1]


def _record(manifest: Path, **changes: Any) -> dict[str, Any]:
    data = load_manifest(manifest)
    rec = {
        "schema": "redact-signoff/1", "reviewer": REVIEWER, "time": "2026-01-02T03:04:05Z",
        "manifest_sha256": hashlib.sha256(manifest.read_bytes()).hexdigest(), "overrides_sha256": "0" * 64,
        "files": [{"file": e["input"], "root": e["root"], "approved": True, "reviewer": REVIEWER,
                   "time": "2026-01-02T03:04:05Z"} for e in data["files"]],
        "edits": [],
    }
    rec.update(changes)
    return signoffs.validate(rec)


def test_signoff_check(run_dir: Path) -> None:
    mpath = run_dir / "out" / "manifest.json"
    data = load_manifest(mpath)
    digest = hashlib.sha256(mpath.read_bytes()).hexdigest()
    assert signoffs.check(data, digest, _record(mpath), "s.json") == []
    rec = _record(mpath)
    rec["files"][1]["approved"] = False
    (finding,) = signoffs.check(data, digest, rec, "s.json")
    assert finding.kind == "approval" and finding.file == rec["files"][1]["file"] and finding.severity == "problem"
    edit = {"op": "remove_track", "file": "clip.mp4", "track": 1, "reason": "a sign"}
    (finding,) = signoffs.check(data, digest, _record(mpath, edits=[edit]), "s.json")
    assert finding.kind == "signoff" and "redact render" in finding.message
    (finding,) = signoffs.check(data, "f" * 64, _record(mpath), "s.json")
    assert finding.kind == "signoff" and "review this run again" in finding.message
    with pytest.raises(ConfigError, match="reviewer"):
        signoffs.validate({**_record(mpath), "reviewer": ""})
    (run_dir / "s.json").write_text(json.dumps(rec))
    res = CliRunner().invoke(main, ["verify", str(mpath), "--no-leak-check", "--signoff", str(run_dir / "s.json")])
    assert res.exit_code == 1 and "not approved" in res.output


# --- in the browser --------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium not installed (apt-get install -y chromium; .ci/run does it)")
    (tmp_path / "downloads").mkdir()
    with Browser(binary, tmp_path / "profile", tmp_path / "downloads") as b:
        yield b


def _to_screen(b: Browser, box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, ...]:
    """Viewport coordinates of a box's corners given in picture pixels (half a pixel inside:
    the page rounds a drawn box outwards to whole pixels)."""
    r = b.rect("#pic")
    sx, sy = r["width"] / size[0], r["height"] / size[1]
    x, y, w, h = box
    return (r["left"] + (x + 0.5) * sx, r["top"] + (y + 0.5) * sy,
            r["left"] + (x + w - 0.5) * sx, r["top"] + (y + h - 0.5) * sy)


def _count(b: Browser, selector: str) -> int:
    return int(b.eval(f"document.querySelectorAll({json.dumps(selector)}).length"))


def _wait_file(path: Path, timeout: float = 15) -> bytes:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.is_file() and path.stat().st_size:
            time.sleep(0.1)
            return path.read_bytes()
        time.sleep(0.05)
    raise AssertionError(f"{path.name} was not downloaded")


def test_review_edit_approve_export_render_verify(run_dir: Path, browser: Browser) -> None:
    b = browser
    mpath = run_dir / "out" / "manifest.json"
    reviewed_sha = hashlib.sha256(mpath.read_bytes()).hexdigest()
    b.open(_page(run_dir).as_uri())
    assert b.eval("[...document.querySelectorAll('#files .name')].map(e => e.textContent)") == [
        "empty.png", "a.png", "clip.mp4"]
    b.key("a")  # approving needs a name first
    assert "Reviewer" in b.eval("document.getElementById('msg').textContent")
    b.type_into("#reviewer", REVIEWER)
    b.key("j")
    b.key("j")
    assert b.eval("document.querySelector('#filehead h2').textContent") == "clip.mp4"
    b.key("n")  # the next suspect: the file with no detections
    assert b.eval("document.querySelector('#filehead h2').textContent") == "empty.png"
    assert "no detections" in b.eval("document.getElementById('msg').textContent")

    # empty.png: draw a missed face, approve (the page moves on to a.png).
    x0, y0, x1, y1 = _to_screen(b, (100, 60, 40, 40), (320, 240))
    b.drag(x0, y0, x1, y1)
    assert _count(b, "#overlay .added") == 1
    b.key("a")
    assert b.eval("document.querySelector('#filehead h2').textContent") == "a.png"

    # a.png: click the plate (region 1) to drop it; drop and undo the face.
    assert _count(b, "#overlay .region") == 2
    x0, y0, x1, y1 = _to_screen(b, (191, 147, 78, 26), (320, 240))
    b.click((x0 + x1) / 2, (y0 + y1) / 2)
    assert b.eval("[...document.querySelectorAll('#overlay .region.dropped')].map(g => g.dataset.k)") == ["1"]
    b.key("Tab")
    b.key("x")
    assert _count(b, "#overlay .region.dropped") == 2
    b.key("z")
    assert _count(b, "#overlay .region.dropped") == 1
    b.key("a")
    assert b.eval("document.querySelector('#filehead h2').textContent") == "clip.mp4"

    # clip.mp4: a plate box over a frame range, from frame 0 to the fifth frame shown.
    b.key("2")
    b.key("r")
    x0, y0, x1, y1 = _to_screen(b, (110, 10, 30, 12), (160, 120))
    b.drag(x0, y0, x1, y1)
    for _ in range(4):
        b.key("ArrowRight")
    last = int(b.eval("Number(document.querySelector('#frames .strip .current').textContent)"))
    x0, y0, x1, y1 = _to_screen(b, (120, 20, 30, 12), (160, 120))
    b.drag(x0, y0, x1, y1)
    assert f"plate frames 0-{last}, [110,10,30,12] to [120,20,30,12]" in b.eval(
        "document.querySelector('#edits').textContent")
    # ...and drop the plate's whole track (region 1 on this frame).
    b.key("Tab")
    b.key("Tab")
    b.key("t")
    assert _count(b, "#overlay .region.dropped") == 1
    assert _count(b, "#overlay .added.range") == 1
    # Scrubbing: drag the slider to its end, the clip's last frame.
    r = b.rect("#scrub")
    b.drag(r["left"] + 2, r["top"] + r["height"] / 2, r["left"] + r["width"] + 40, r["top"] + r["height"] / 2)
    assert b.eval("document.querySelector('#frames .strip .current').textContent") == "19"
    b.key("a")
    assert b.eval("document.getElementById('progress').textContent").endswith("approved 3/3 · edits 4")
    assert b.errors() == []

    b.key("e")
    downloads = run_dir / "downloads"
    ov_bytes = _wait_file(downloads / "overrides.json")
    so_bytes = _wait_file(downloads / "signoff.json")
    assert ov_bytes.decode() == b.eval("document.getElementById('out-overrides').value")
    # A reload loses nothing: the session is kept in the browser under the manifest's digest.
    b.reload()
    assert b.eval("document.getElementById('progress').textContent").endswith("approved 3/3 · edits 4")
    assert b.eval("document.getElementById('reviewer').value") == REVIEWER

    edits = json.loads(ov_bytes)["edits"]
    assert edits[0] == {"op": "add", "file": "empty.png", "root": 0, "box": [100, 60, 40, 40], "label": "face",
                        "reason": "missed face"}
    assert edits[1] == {"op": "remove", "file": "a.png", "root": 0, "index": 1, "reason": "false positive"}
    adds = [e for e in edits if e["op"] == "add" and e["file"] == "clip.mp4"]
    assert adds[0]["frames"][0] == 0 and adds[0]["box"] == [110, 10, 30, 12]
    assert adds[-1]["frames"][1] == last and adds[-1]["box"] == [120, 20, 30, 12]
    assert all(a["label"] == "plate" for a in adds)
    assert edits[-1] == {"op": "remove_track", "file": "clip.mp4", "root": 0, "track": 1,
                         "reason": "false positive track"}
    record = signoffs.validate(json.loads(so_bytes))
    assert record["manifest_sha256"] == reviewed_sha and record["reviewer"] == REVIEWER
    assert record["overrides_sha256"] == hashlib.sha256(ov_bytes).hexdigest()
    assert all(f["approved"] and f["reviewer"] == REVIEWER for f in record["files"]) and record["edits"] == edits

    # Before rendering, verify says the edits are not in the outputs yet.
    (run_dir / "signoff.json").write_bytes(so_bytes)
    (run_dir / "overrides.json").write_bytes(ov_bytes)
    pending = verify(mpath, detectors=MarkerDetectors(), signoff=run_dir / "signoff.json")  # type: ignore[arg-type]
    assert [f.kind for f in pending.problems] == ["signoff"]
    result = rerender(mpath, load_overrides(run_dir / "overrides.json"), detectors=MarkerDetectors())
    assert result.exit_code == 0
    data = load_manifest(mpath)
    files = {e["input"]: e for e in data["files"]}
    assert [r["source"] for r in files["empty.png"]["regions"]] == ["manual"]
    assert [r["label"] for r in files["a.png"]["regions"]] == ["face"]
    clip = files["clip.mp4"]
    assert {r["track"] for r in clip["removed"]} == {1} and len(clip["removed"]) == 20
    lines = [json.loads(x) for x in (run_dir / "out" / clip["frames"]["file"]).read_text().splitlines()]
    manual = [f["frame"] for f in lines for r in f["regions"] if r["source"] == "manual"]
    assert manual == list(range(last + 1))
    checked = verify(mpath, detectors=MarkerDetectors(), signoff=run_dir / "signoff.json")  # type: ignore[arg-type]
    assert checked.ok, [f.line() for f in checked.findings]


def test_second_round_starts_from_the_applied_overrides(run_dir: Path) -> None:
    mpath = run_dir / "out" / "manifest.json"
    edits = {"schema": "redact-overrides/1", "reviewer": REVIEWER, "edits": [
        {"op": "add", "file": "empty.png", "root": 0, "box": [5, 5, 20, 20], "label": "face", "reason": "missed"}]}
    (run_dir / "overrides.json").write_text(json.dumps(edits))
    assert rerender(mpath, load_overrides(Path("overrides.json")), detectors=MarkerDetectors()).exit_code == 0
    text = _page(run_dir).read_text("utf-8")
    data = json.loads(text.split('id="review-data">', 1)[1].split("</script>", 1)[0])
    assert data["prior"]["edits"] == edits["edits"] and data["remove_by"] == "box"
    (run_dir / "overrides.json").unlink()
    res = CliRunner().invoke(main, ["review", str(mpath), "--out", str(run_dir / "r2.html")])
    assert res.exit_code == 0 and "pass --overrides FILE" in res.output
    res = CliRunner().invoke(main, ["review", str(mpath), "--out", str(run_dir / "r3.html"), "--static"])
    assert res.exit_code == 0 and "review-data" not in (run_dir / "r3.html").read_text("utf-8")


def test_second_round_in_the_browser_keeps_earlier_edits(run_dir: Path, browser: Browser) -> None:
    b = browser
    mpath = run_dir / "out" / "manifest.json"
    earlier = {"op": "add", "file": "empty.png", "root": 0, "box": [5, 5, 20, 20], "label": "face", "reason": "missed"}
    (run_dir / "overrides.json").write_text(json.dumps({"schema": "redact-overrides/1", "reviewer": REVIEWER,
                                                        "edits": [earlier]}))
    assert rerender(mpath, load_overrides(Path("overrides.json")), detectors=MarkerDetectors()).exit_code == 0
    b.open(_page(run_dir).as_uri())
    assert b.eval("document.getElementById('reviewer').value") == REVIEWER
    # empty.png has a region now, so the files are in manifest order.
    assert b.eval("document.querySelector('#filehead h2').textContent") == "a.png"
    x0, y0, x1, y1 = _to_screen(b, (191, 147, 78, 26), (320, 240))
    b.click((x0 + x1) / 2, (y0 + y1) / 2)
    b.key("k")
    b.key("j")
    b.key("j")
    assert b.eval("document.querySelector('#filehead h2').textContent") == "empty.png"
    assert _count(b, "#overlay .region.manual") == 1
    b.key("Tab")
    b.key("x")  # a reviewer's own region is discarded from the edit list, not dropped
    assert _count(b, "#overlay .region.dropped") == 0
    assert "earlier: add face" in b.eval("document.querySelector('#edits').textContent")
    b.key("e")
    edits = json.loads(_wait_file(run_dir / "downloads" / "overrides.json"))["edits"]
    assert edits[0] == earlier and edits[1]["op"] == "remove" and "box" in edits[1] and "index" not in edits[1]
    assert rerender(mpath, load_overrides(run_dir / "downloads" / "overrides.json"),
                    detectors=MarkerDetectors()).exit_code == 0
    files = {e["input"]: e for e in load_manifest(mpath)["files"]}
    assert [r["label"] for r in files["a.png"]["regions"]] == ["face"]
    assert [r["source"] for r in files["empty.png"]["regions"]] == ["manual"]
