"""The image pipeline end to end with the fake marker detectors."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from redact import redact_path
from redact.config import RedactConfig
from redact.errors import ConfigError
from redact.hashing import sha256_file
from redact.manifest import load, validate
from tests.helpers import MarkerDetectors, scene


def write(path, arr, **params):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr[:, :, ::-1]).save(path, **params)
    return path


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "in"
    write(src / "a.png", scene())
    write(src / "sub" / "b.jpg", scene(faces=((10, 10, 30, 30), (100, 100, 30, 30)), plates=()), quality=95)
    write(src / "sub" / "deeper" / "c.bmp", scene(faces=(), plates=((50, 50, 80, 20),)))
    (src / "notes.txt").write_text("not media")
    return src


def run(tree, out, **cfg):
    return redact_path([tree], out, RedactConfig(**cfg), detectors=MarkerDetectors())


def test_outputs_mirror_tree_and_manifest(tree, tmp_path) -> None:
    before = {p: sha256_file(p) for p in tree.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    result = run(tree, out)
    assert result.exit_code == 0
    assert (out / "a.png").is_file() and (out / "sub" / "b.jpg").is_file() and (out / "sub/deeper/c.bmp").is_file()
    assert not (out / "notes.txt").exists()
    assert {p: sha256_file(p) for p in tree.rglob("*") if p.is_file()} == before, "an input was modified"

    data = load(out / "manifest.json")
    validate(data)
    files = {e["input"]: e for e in data["files"]}
    assert set(files) == {"a.png", "sub/b.jpg", "sub/deeper/c.bmp", "notes.txt"}
    assert files["notes.txt"]["status"] == "skipped"
    for rel in ("a.png", "sub/b.jpg", "sub/deeper/c.bmp"):
        e = files[rel]
        assert e["status"] == "ok" and e["output"] == rel
        assert e["input_sha256"] == sha256_file(tree / rel)
        assert e["output_sha256"] == sha256_file(out / rel)
        assert e["providers"] == []  # fake detectors: no onnxruntime sessions ran
    assert files["a.png"]["counts"] == {"face": 1, "plate": 1, "occupant": 0}
    assert files["sub/b.jpg"]["counts"] == {"face": 2, "plate": 0, "occupant": 0}
    assert data["summary"]["regions"] == {"face": 3, "plate": 2, "occupant": 0}
    assert data["complete"] is True
    digest = (out / "manifest.json.sha256").read_text().split()[0]
    assert digest == sha256_file(out / "manifest.json") == result.manifest_sha256


def test_regions_are_redacted_in_output(tree, tmp_path) -> None:
    out = tmp_path / "out"
    run(tree, out)
    data = load(out / "manifest.json")
    for e in data["files"]:
        if e["status"] != "ok":
            continue
        src = np.asarray(Image.open(tree / e["input"]).convert("RGB")).astype(int)
        dst = np.asarray(Image.open(out / e["output"]).convert("RGB")).astype(int)
        assert src.shape == dst.shape
        for r in e["regions"]:
            x, y, w, h = r["box"]
            diff = np.abs(src[y : y + h, x : x + w] - dst[y : y + h, x : x + w]).max(axis=-1)
            assert (diff > 8).mean() >= 0.9, f"{e['input']} region {r} not redacted"


def test_kept_metadata_leaves_out_the_cameras_preview_and_says_so(tmp_path) -> None:
    pic = scene()
    small = io.BytesIO()
    Image.fromarray(pic[::8, ::8, ::-1]).save(small, "JPEG")  # the unredacted shot, small
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif.get_ifd(0x8769)[0x927C] = b"Nikon\x00" + small.getvalue()  # a maker note with its preview
    src = write(tmp_path / "in" / "a.jpg", pic, quality=95, exif=exif.tobytes())
    for keep in (False, True):
        out = tmp_path / f"out-{keep}"
        assert run(src, out, keep_metadata=keep).exit_code == 0
        blob = (out / "a.jpg").read_bytes()
        assert blob.count(b"\xff\xd8\xff") == 1, "a second picture rode along in the metadata"
        assert (b"SpyCam" in blob) is keep
        (entry,) = load(out / "manifest.json")["files"]
        assert any("maker note" in w for w in entry["warnings"]) is keep


def test_single_file_input_lands_by_name(tmp_path) -> None:
    f = write(tmp_path / "deep" / "x.png", scene())
    out = tmp_path / "out"
    redact_path([f], out, detectors=MarkerDetectors())
    assert (out / "x.png").is_file()
    assert load(out / "manifest.json")["files"][0]["input"] == "x.png"


@pytest.mark.parametrize("where", ["same", "inside"])
def test_out_inside_input_refused(tree, where) -> None:
    out = tree if where == "same" else tree / "sub" / "out"
    with pytest.raises(ConfigError, match="inside the input folder"):
        run(tree, out)
    assert not (tree / "manifest.json").exists() and not (tree / "sub" / "out").exists()


def test_manifest_inside_input_refused(tree, tmp_path) -> None:
    with pytest.raises(ConfigError, match="inside the input folder"):
        redact_path([tree], tmp_path / "o", manifest_path=tree / "m.json", detectors=MarkerDetectors())


def test_colliding_outputs_refused(tmp_path) -> None:
    a = write(tmp_path / "a" / "x.png", scene())
    b = write(tmp_path / "b" / "x.png", scene())
    with pytest.raises(ConfigError, match="both be written"):
        redact_path([a, b], tmp_path / "out", detectors=MarkerDetectors())


def test_missing_input_is_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        redact_path([tmp_path / "nope"], tmp_path / "out", detectors=MarkerDetectors())


def test_outline_marks_files_not_redacted(tree, tmp_path) -> None:
    result = run(tree, tmp_path / "out", style="outline")
    assert any("UNREDACTED" in w for w in result.warnings)
    data = load(tmp_path / "out" / "manifest.json")
    assert all(e["redacted"] is False for e in data["files"] if e["status"] == "ok")


def test_wrong_extension_is_handled_by_content(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "shot.jpg", scene(), format="PNG")  # a PNG named .jpg
    write(src / "noext", scene(), format="PNG")
    out = tmp_path / "out"
    result = redact_path([src], out, detectors=MarkerDetectors())
    assert result.exit_code == 0
    files = {e["input"]: e for e in load(out / "manifest.json")["files"]}
    assert files["shot.jpg"]["format"] == "PNG" and files["noext"]["status"] == "ok"
    assert Image.open(out / "shot.jpg").format == "PNG"


def test_rerun_skips_finished_files(tree, tmp_path) -> None:
    out = tmp_path / "out"
    run(tree, out)
    first = json.loads((out / "manifest.json").read_text())
    dets = MarkerDetectors()
    result = redact_path([tree], out, detectors=dets)
    assert result.resumed == 3 and dets.calls == 0
    second = json.loads((out / "manifest.json").read_text())
    assert [e["output_sha256"] for e in first["files"]] == [e["output_sha256"] for e in second["files"]]


def test_rerun_redoes_changed_or_missing_outputs(tree, tmp_path) -> None:
    out = tmp_path / "out"
    run(tree, out)
    (out / "a.png").unlink()
    write(tree / "sub" / "b.jpg", scene(seed=5))
    dets = MarkerDetectors()
    result = redact_path([tree], out, detectors=dets)
    assert dets.calls == 2 and result.resumed == 1
    assert (out / "a.png").is_file()


def test_rerun_with_other_settings_refused_then_overwrite(tree, tmp_path) -> None:
    out = tmp_path / "out"
    run(tree, out)
    with pytest.raises(ConfigError, match="other settings"):
        run(tree, out, style="blur")
    result = run(tree, out, style="blur", overwrite=True)
    assert result.exit_code == 0 and load(out / "manifest.json")["settings"]["style"] == "blur"


def test_existing_foreign_output_not_overwritten(tree, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"someone else's file")
    result = run(tree, out)
    assert result.exit_code == 1
    assert (out / "a.png").read_bytes() == b"someone else's file"
    e = {e["input"]: e for e in load(out / "manifest.json")["files"]}["a.png"]
    assert e["status"] == "failed" and "--overwrite" in e["error"]


def test_stale_temp_files_cleaned(tree, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".a.redact-tmp-123-abcd.png"
    stale.write_bytes(b"partial")
    run(tree, out)
    assert not stale.exists()
    assert not [p for p in out.rglob("*") if ".redact-tmp-" in p.name]


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlinks(tmp_path) -> None:
    outside = write(tmp_path / "elsewhere" / "secret.png", scene())
    src = tmp_path / "in"
    write(src / "ok.png", scene())
    (src / "link.png").symlink_to(outside)
    (src / "broken.png").symlink_to(tmp_path / "missing.png")
    (src / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    out = tmp_path / "out"
    result = redact_path([src], out, detectors=MarkerDetectors())
    files = {e["input"]: e for e in load(out / "manifest.json")["files"]}
    assert result.exit_code == 1
    assert files["ok.png"]["status"] == "ok"
    assert files["link.png"]["status"] == "failed" and "--follow-symlinks" in files["link.png"]["error"]
    assert files["broken.png"]["status"] == "failed" and "broken symlink" in files["broken.png"]["error"]
    assert not any(k.startswith("linkdir") for k in files)
    assert not (out / "link.png").exists()
    result = redact_path([src], tmp_path / "out2", RedactConfig(follow_symlinks=True), detectors=MarkerDetectors())
    files = {e["input"]: e for e in load(tmp_path / "out2" / "manifest.json")["files"]}
    assert files["link.png"]["status"] == "ok" and files["linkdir/secret.png"]["status"] == "ok"


def test_typescript_sources_named_like_transport_streams_are_not_media(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "ok.png", scene())
    (src / "app.ts").write_text("export const limit: number = 3;\n")
    (src / "mod.mts").write_text("import { limit } from './app.js';\n" * 400)  # past the 4096 bytes looked at
    (src / "empty.ts").write_bytes(b"")
    (src / "video.ts").write_bytes(b"\x47\x40\x00\x10" + b"\xff" * 184)  # a TS packet, no picture
    result = redact_path([src], tmp_path / "out", detectors=MarkerDetectors())
    files = {e["input"]: e for e in load(tmp_path / "out" / "manifest.json")["files"]}
    assert [files[n]["status"] for n in ("app.ts", "mod.mts", "empty.ts")] == ["skipped"] * 3
    assert files["video.ts"]["status"] == "failed" and result.exit_code == 1  # a damaged video fails


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_pipes_and_devices_are_never_read(tmp_path) -> None:
    # Opening a named pipe waits for a writer, a device may never end: such inputs are not
    # read at all, whether in a folder, linked to, or named on the command line.
    src = tmp_path / "in"
    write(src / "ok.png", scene())
    os.mkfifo(src / "pipe.jpg")
    os.mkfifo(src / "pipe")
    (src / "zero.mp4").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "given.png")
    config = RedactConfig(follow_symlinks=True)
    result = redact_path([src, tmp_path / "given.png"], tmp_path / "out", config, detectors=MarkerDetectors())
    files = {e["input"]: e for e in load(tmp_path / "out" / "manifest.json")["files"]}
    assert result.exit_code == 1 and files["ok.png"]["status"] == "ok"
    for name in ("pipe.jpg", "zero.mp4", "given.png"):
        assert files[name]["status"] == "failed" and "not a regular file" in files[name]["error"], files[name]
    assert files["pipe"]["status"] == "skipped" and "not a regular file" in files["pipe"]["error"]
    # Linked to from outside the folder, without --follow-symlinks: refused before any read.
    os.mkfifo(tmp_path / "elsewhere")
    for name in ("link", "link.ts"):
        (src / name).symlink_to(tmp_path / "elsewhere")
    redact_path([src], tmp_path / "out2", detectors=MarkerDetectors())
    files = {e["input"]: e for e in load(tmp_path / "out2" / "manifest.json")["files"]}
    assert all("--follow-symlinks" in files[n]["error"] for n in ("link", "link.ts"))


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_planted_in_output_is_not_followed(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "sub" / "x.png", scene())
    target = tmp_path / "victim"
    target.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(target, target_is_directory=True)
    result = redact_path([src], out, detectors=MarkerDetectors())
    assert result.exit_code == 1
    assert not list(target.iterdir()), "wrote outside --out through a symlink"
