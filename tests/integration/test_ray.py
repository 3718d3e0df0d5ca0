"""Batches on a real Ray cluster on this machine: equal to a local run, and fault tolerant.

The cluster (2 CPUs) is started once per session by the ``ray_cluster`` fixture; the inputs
are tiny, the models real.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from redact import __version__
from redact.config import RedactConfig
from redact.executors import Executor, Outcome, Task, TaskContext, WorkerSpec
from redact.hashing import sha256_file
from redact.io.atomic import TMP_MARKER, temp_path_for
from redact.manifest import read_journal
from redact.pipeline import redact_path
from tests.helpers import REPO, SAMPLES, scene
from tests.videos import make_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two pictures (one with a real face), a broken JPEG, a short clip and a text file."""
    src = tmp_path_factory.mktemp("batch") / "in"
    (src / "sub").mkdir(parents=True)
    face = cv2.imread(str(SAMPLES / "astronaut.jpg"))
    cv2.imwrite(str(src / "a.jpg"), cv2.resize(face, (256, 256), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(src / "sub" / "b.png"), scene(seed=1))
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a picture" * 20)
    make_clip(src / "clip.mp4", frames=10, size=(160, 120))
    (src / "notes.txt").write_text("not media")
    return src


@pytest.fixture(scope="module")
def local_run(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "out"
    redact_path([batch], out, RedactConfig())
    return out


def files_of(out: Path) -> list[dict[str, Any]]:
    """The manifest's file entries without timings."""
    entries = json.loads((out / "manifest.json").read_text())["files"]
    return [{k: v for k, v in e.items() if k != "seconds"} for e in entries]


def outputs(out: Path) -> dict[str, str]:
    """Every file a run left in ``out`` (sidecars included, the manifest left out), by hash."""
    return {
        p.relative_to(out).as_posix(): sha256_file(p)
        for p in sorted(out.rglob("*")) if p.is_file() and not p.name.startswith("manifest.json")
    }


def assert_same_run(out: Path, reference: Path) -> None:
    for got, want in zip(files_of(out), files_of(reference), strict=True):
        differ = sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))
        assert not differ, f"{got['input']}: {differ} differ from the local run"
    assert outputs(out) == outputs(reference)
    assert not [p for p in out.rglob("*") if TMP_MARKER in p.name], "a partial output was left"


def test_batch_equals_a_local_run(ray_cluster: str, batch: Path, local_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = redact_path([batch], out, RedactConfig(executor="ray"))
    assert result.exit_code == 1  # the broken picture, as locally
    assert_same_run(out, local_run)
    by_input = {e["input"]: e for e in result.files}
    assert by_input["broken.jpg"]["status"] == "failed" and by_input["broken.jpg"]["error"]
    assert by_input["clip.mp4"]["status"] == "ok" and by_input["clip.mp4"]["frame_count"] == 10
    assert by_input["a.jpg"]["counts"]["face"] >= 1
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


# --- faults ------------------------------------------------------------------------------


def _double(ctx: TaskContext, x: int) -> int:
    return 2 * x


def _boom(ctx: TaskContext, x: int) -> int:
    raise ValueError(f"boom {x}")


@pytest.mark.parametrize("name", ["local", "ray"])
def test_a_raising_task_fails_alone(ray_cluster: str, name: str) -> None:
    from redact.executors import make_executor

    spec = WorkerSpec(RedactConfig(), 1, None, None, __version__, f"raising-{name}")
    executor = make_executor(name, spec, workers=1)
    try:
        got = {o.task.key: o for o in executor.run([Task("a", _double, (2,)), Task("b", _boom, (1,))])}
    finally:
        executor.close()
    assert got["a"].ok and got["a"].value == 4
    assert got["b"].error == "ValueError: boom 1"


def _faulty(ctx: TaskContext, marks: str, fn: Any, *args: Any) -> Any:
    """The first attempt at ``clip.mp4`` and ``a.jpg`` kills its own worker (kill -9) mid-task;
    every attempt at ``sub/b.png`` raises."""
    job = args[0]
    if job.rel == "sub/b.png":
        raise RuntimeError("injected fault")
    mark = Path(marks) / hashlib.sha256(job.rel.encode()).hexdigest()
    if job.rel not in ("clip.mp4", "a.jpg") or mark.exists():
        return fn(ctx, *args)
    mark.touch()
    if job.kind == "video":  # in the middle of the video, its temp output and sidecar open

        def die(name: str, done: int, total: int | None) -> None:
            if done >= 4:
                os.kill(os.getpid(), signal.SIGKILL)

        return fn(TaskContext(ctx.worker, die), *args)
    temp_path_for(job.dst).write_bytes(b"half a picture")
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


class Faulty:
    """Wraps an executor so that its tasks run through :func:`_faulty`."""

    def __init__(self, inner: Executor, marks: Path) -> None:
        self.inner, self.marks = inner, marks

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        wrapped = [dataclasses.replace(t, fn=_faulty, args=(str(self.marks), t.fn, *t.args)) for t in tasks]
        yield from self.inner.run(wrapped)

    def close(self) -> None:
        self.inner.close()


def test_killed_workers_are_retried_and_a_raising_task_fails_its_file(
    ray_cluster: str, batch: Path, local_run: Path, tmp_path: Path
) -> None:
    from redact.executors.cluster import RayExecutor

    marks = tmp_path / "marks"
    marks.mkdir()
    out = tmp_path / "out"
    result = redact_path(
        [batch], out, RedactConfig(executor="ray"), executor=lambda spec: Faulty(RayExecutor(spec), marks)
    )
    assert len(list(marks.iterdir())) == 2, "both first attempts should have been killed"
    by_input = {e["input"]: e for e in result.files}
    assert by_input["sub/b.png"]["status"] == "failed"
    assert by_input["sub/b.png"]["error"] == "worker error: RuntimeError: injected fault"
    assert not (out / "sub" / "b.png").exists()
    # Everything else as in a local run, with no partial file left by the killed attempts.
    reference = [e for e in files_of(local_run) if e["input"] != "sub/b.png"]
    assert [e for e in files_of(out) if e["input"] != "sub/b.png"] == reference
    assert outputs(out) == {k: v for k, v in outputs(local_run).items() if k != "sub/b.png"}
    assert not [p for p in out.rglob("*") if TMP_MARKER in p.name], "a partial output was left"


def _finished(manifest: Path) -> list[dict[str, Any]]:
    entries = {e["input"]: e for e in json.loads(manifest.read_text())["files"]}
    entries.update({e["input"]: e for e in read_journal(manifest)})
    return list(entries.values())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["kill", "interrupt", "term"])
def test_interrupted_driver_resumes_like_a_local_run(ray_cluster: str, tmp_path: Path, sig: int) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(10):
        cv2.imwrite(str(src / f"img{i:02d}.jpg"), scene(seed=i, width=240, height=180))
    out = tmp_path / "out"
    manifest = out / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "redact", "run", str(src), "--out", str(out), "--quiet",
         "--executor", "ray", "--address", ray_cluster],
        env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, "the run made no progress"
        try:
            if sum(e["status"] == "ok" for e in _finished(manifest)) >= 2:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig != signal.SIGKILL:
        assert proc.returncode == 130, err
        assert b"Traceback" not in err
        assert json.loads(manifest.read_text())["complete"] is False
    else:
        assert proc.returncode == -signal.SIGKILL
    done = [e for e in _finished(manifest) if e["status"] == "ok"]
    assert 2 <= len(done) < 10
    for e in done:
        assert sha256_file(out / e["output"]) == e["output_sha256"]

    result = redact_path([src], out, RedactConfig(executor="ray"))
    assert result.exit_code == 0 and result.resumed == len(done)
    data = json.loads(manifest.read_text())
    assert data["complete"] is True and data["summary"]["ok"] == 10
    assert not [p for p in out.rglob("*") if TMP_MARKER in p.name]


def _frames_until_seen(ctx: TaskContext, seen: str) -> int:
    """Reports frames until the driver has shown one (it touches ``seen``), for at most a minute."""
    assert ctx.on_frames is not None
    done, deadline = 0, time.monotonic() + 60
    while not Path(seen).exists() and time.monotonic() < deadline:
        done += 1
        ctx.on_frames("clip.mp4", done, None)
        time.sleep(0.1)
    return done


def test_frame_progress_reaches_the_driver(ray_cluster: str, tmp_path: Path) -> None:
    from redact.executors.cluster import RayExecutor

    marker = tmp_path / "seen"
    seen: list[tuple[str, int, int | None]] = []

    def on_frames(name: str, done: int, total: int | None) -> None:
        seen.append((name, done, total))
        marker.touch()

    spec = WorkerSpec(RedactConfig(), 1, None, None, __version__, "progress")
    executor = RayExecutor(spec, on_frames=on_frames)
    try:
        (outcome,) = executor.run([Task("a", _frames_until_seen, (str(marker),))])
    finally:
        executor.close()
    assert seen, "no frame progress reached the driver within a minute"
    assert {name for name, _, _ in seen} == {"clip.mp4"}
    assert all(1 <= done <= outcome.value for _, done, _ in seen)


def test_threads_beyond_any_machine_are_refused(ray_cluster: str) -> None:
    from redact.errors import ConfigError
    from redact.executors.cluster import RayExecutor

    with pytest.raises(ConfigError, match="lower --threads"):
        RayExecutor(WorkerSpec(RedactConfig(), 64, None, None, __version__, "big"))
