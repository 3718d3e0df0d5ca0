"""The executor interface without a cluster: registry, resources asked of Ray, local ordering."""

from __future__ import annotations

from typing import Any

import pytest

from redact import __version__
from redact.config import RedactConfig
from redact.errors import ConfigError
from redact.executors import Task, TaskContext, WorkerSpec, make_executor, worker_for
from redact.executors.cluster import GPU_SHARE, RETRIES, RayExecutor
from redact.executors.local import LocalExecutor


def spec(**cfg: Any) -> WorkerSpec:
    return WorkerSpec(RedactConfig(**cfg), 1, None, None, __version__, "unit")


def test_unknown_executor_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="local, ray"):
        make_executor("dask", spec())


def test_address_needs_the_ray_executor() -> None:
    with pytest.raises(ConfigError, match="--executor ray"):
        RedactConfig(address="10.0.0.5:6379")
    assert RedactConfig(executor="ray", address="10.0.0.5:6379").address == "10.0.0.5:6379"


def test_the_executor_is_not_part_of_the_settings_identity() -> None:
    assert RedactConfig(executor="ray").settings_hash() == RedactConfig().settings_hash()


def test_a_worker_of_another_version_refuses() -> None:
    other = WorkerSpec(RedactConfig(), 1, None, None, "0.0.0-other", "unit")
    with pytest.raises(ConfigError, match="same version on every machine"):
        worker_for(other)


class FakeRay:
    def __init__(self, resources: dict[str, float]) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


def ray_executor(resources: dict[str, float], workers: int | None = None, **cfg: Any) -> RayExecutor:
    executor = RayExecutor.__new__(RayExecutor)
    executor._ray = FakeRay(resources)
    executor.threads = 1
    executor.spec = spec(**cfg)
    executor.workers = workers
    return executor


@pytest.mark.parametrize(
    ("resources", "device", "workers", "gpus", "window"),
    [
        ({"CPU": 8.0}, "auto", None, None, 16),
        ({"CPU": 8.0, "GPU": 1.0}, "auto", None, GPU_SHARE, 16),
        ({"CPU": 8.0, "GPU": 1.0}, "cpu", None, None, 16),
        ({"CPU": 8.0}, "auto", 3, None, 3),
    ],
)
def test_ray_task_resources(resources: dict[str, float], device: str, workers: int | None,
                            gpus: float | None, window: int) -> None:
    options, got_window = ray_executor(resources, workers, device=device)._options()
    assert options.get("num_gpus") == gpus
    assert options["num_cpus"] == 1 and options["max_retries"] == RETRIES and options["retry_exceptions"] is False
    assert got_window == window


def _record(ctx: TaskContext, name: str) -> str:
    return name


def _fail(ctx: TaskContext, name: str) -> str:
    raise OSError(2, "No such file or directory", name)


def test_local_runs_pooled_tasks_before_inline_ones_and_reports_exceptions() -> None:
    executor = LocalExecutor(spec(), workers=1, worker=object())  # type: ignore[arg-type]
    tasks = [
        Task("v", _record, ("video",), inline=True),
        Task("i", _record, ("image",)),
        Task("x", _fail, ("gone.jpg",)),
    ]
    outcomes = list(executor.run(tasks))
    assert [o.task.key for o in outcomes] == ["i", "x", "v"]
    assert outcomes[0].value == "image" and outcomes[2].value == "video"
    assert outcomes[1].error == "FileNotFoundError: No such file or directory: gone.jpg"


def test_an_address_nothing_listens_on_is_refused_at_once() -> None:
    import socket

    from redact.executors.cluster import check_reachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match="ray start --head"):
        check_reachable(f"127.0.0.1:{port}")
    for left_to_ray in (None, "auto", "ray://head:10001"):
        check_reachable(left_to_ray)


def test_ray_missing_is_refused_before_anything_is_written(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import sys

    from redact.pipeline import redact_path

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"pip install 'redact\[ray\]'"):
        redact_path([tmp_path / "in"], tmp_path / "out", RedactConfig(executor="ray"))
    assert not (tmp_path / "out").exists()


def test_a_rerender_runs_here_whatever_executor_the_run_used() -> None:
    from redact.review.rerender import config_from_manifest

    settings = RedactConfig(executor="ray", address="10.0.0.5:6379", padding=0.3).as_dict()
    config = config_from_manifest({"settings": settings})
    assert (config.executor, config.address, config.padding) == ("local", None, 0.3)


_ORPHAN_DRIVER = """
import multiprocessing, sys, time
from redact.executors.local import exit_with_parent

def child():
    exit_with_parent()
    time.sleep(60)

if __name__ == "__main__":
    p = multiprocessing.get_context("spawn").Process(target=child)
    p.start()
    print(p.pid, flush=True)
    time.sleep(60)
"""


def test_a_pool_worker_ends_when_its_driver_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A driver killed outright cannot stop its workers: they stop themselves."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "driver.py"
    script.write_text(_ORPHAN_DRIVER)
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None
    child = int(driver.stdout.readline())
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the worker outlived its driver")
