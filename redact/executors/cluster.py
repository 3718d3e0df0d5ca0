"""The Ray executor: every task is a Ray task on a cluster that shares the run's storage.

Tasks start largest first, at most a window of them submitted at a time (``--workers``, or
twice the cluster's task slots) so the order holds on a large batch. Each task asks for
``threads`` CPUs (``--threads``, default 1) and, when the cluster has GPUs and the models
may use one (``--device auto``), a share of a GPU (:data:`GPU_SHARE`). A task whose worker
dies (killed, out of memory, its machine gone) is retried up to :data:`RETRIES` times; an
exception the task raises is not retried and fails its file.

With an ``on_frames`` callback, tasks report video frame progress to a small actor that the
driver reads while it waits, and the driver shows one running video's progress at a time.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from redact.errors import ConfigError
from redact.executors import Outcome, Task, TaskContext, WorkerSpec, one_line, task_error, worker_for
from redact.types import FrameCallback

log = logging.getLogger("redact")

RETRIES = 3
# Four tasks share a GPU: detection is a fraction of a task's time (decode, tracking,
# encode run on its CPU), so one task per GPU would leave the GPU mostly idle.
GPU_SHARE = 0.25
POLL_SECONDS = 0.5  # how often the driver wakes while waiting (Ctrl-C and SIGTERM are seen then)
CONNECT_SECONDS = 5.0  # how long the driver tries to reach the cluster's address before giving up
REPORT_SECONDS = 0.5  # a task reports its frame progress at most this often


class RayExecutor:
    """Runs tasks on a Ray cluster (see the module docstring).

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be joined.
    """

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        workers: int | None = None,
        address: str | None = None,
        on_frames: FrameCallback | None = None,
    ) -> None:
        ray = import_ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            check_reachable(address or os.environ.get("RAY_ADDRESS"))
            # ray.init makes SIGTERM exit at once; the caller's handler (the CLI's: an
            # interruption, exit code 130) is put back.
            main = threading.current_thread() is threading.main_thread()
            on_term = signal.getsignal(signal.SIGTERM) if main else None
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "RAY_ADDRESS or this machine"
                raise ConfigError(
                    f"cannot join a Ray cluster at {where} ({one_line(exc)}); start one with "
                    "`ray start --head` and pass the address it prints to --address"
                ) from None
            finally:
                if on_term is not None:
                    signal.signal(signal.SIGTERM, on_term)
            self._started = True
        self.threads = spec.threads or 1
        self.spec = dataclasses.replace(spec, threads=self.threads)
        self.workers = workers
        self.on_frames = on_frames
        largest = max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")), default=0)
        if largest < self.threads:
            self.close()
            raise ConfigError(
                f"--threads {self.threads} asks for more CPUs per task than any machine of the Ray "
                f"cluster has ({largest:g}); lower --threads"
            )

    def _options(self) -> tuple[dict[str, Any], int]:
        """Resources of one task, and how many tasks to keep submitted."""
        resources = self._ray.cluster_resources()
        options: dict[str, Any] = {"num_cpus": self.threads, "max_retries": RETRIES, "retry_exceptions": False}
        if self.spec.config.device != "cpu" and resources.get("GPU", 0) > 0:
            options["num_gpus"] = GPU_SHARE
        slots = max(1, int(resources.get("CPU", 1) // self.threads))
        return options, self.workers or 2 * slots

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        ray = self._ray
        todo = iter(sorted(tasks, key=lambda t: -t.cost))
        options, window = self._options()
        remote = ray.remote(_ray_call).options(**options)
        spec_ref = ray.put(self.spec)
        frames = _Frames(ray, self.on_frames) if self.on_frames else None
        pending: dict[Any, Task] = {}
        try:
            while True:
                while len(pending) < window and (task := next(todo, None)) is not None:
                    sink = frames.actor if frames else None
                    pending[remote.remote(spec_ref, task.fn, task.args, task.key, sink)] = task
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    task = pending.pop(ref)
                    if frames:
                        frames.done(task.key)
                    yield self._outcome(task, ref)
                if frames:
                    frames.show()
        except BaseException:
            # The tasks are not cancelled one by one (Ray's driver can abort while it settles
            # cancels of tasks finishing at that moment): leaving the cluster (close) ends
            # them, and the next run removes any temp file they leave.
            raise
        finally:
            if frames:
                frames.close()

    def _outcome(self, task: Task, ref: Any) -> Outcome:
        exceptions = self._ray.exceptions
        try:
            return Outcome(task, self._ray.get(ref))
        except exceptions.RayTaskError as exc:  # the task raised: not retried
            cause = getattr(exc, "cause", None) or exc
            return Outcome(task, error=task_error(cause))
        except exceptions.RayError as exc:  # its worker or machine died on every attempt
            return Outcome(task, error=(
                f"its worker died {RETRIES + 1} times ({type(exc).__name__}: killed, out of memory, "
                "or its machine left the cluster); see the Ray logs of the cluster"
            ))

    def close(self) -> None:
        if self._started:
            self._started = False
            self._ray.shutdown()


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        ConfigError: Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--executor ray needs Ray on this machine and every machine of the cluster: "
            "pip install 'redact[ray]'"
        ) from None
    return ray


def check_reachable(address: str | None) -> None:
    """Refuse a ``HOST:PORT`` cluster address that takes no connection (Ray itself would retry
    for minutes); other forms (``auto``, ``ray://...``) are left to Ray.

    Raises:
        ConfigError: nothing listens there.
    """
    host, _, port = (address or "").rpartition(":")
    if not host or not port.isdigit() or "/" in host:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); check --address (or "
            "RAY_ADDRESS) against what `ray start --head` printed, and that its port is open"
        ) from None


def _ray_call(spec: WorkerSpec, fn: Callable[..., Any], args: tuple[Any, ...], key: str, sink: Any) -> Any:
    """Runs on a cluster worker: this process's worker for the run, then the task."""
    return fn(TaskContext(worker_for(spec), _Reporter(sink, key) if sink is not None else None), *args)


class _Reporter:
    """A task's frame callback: sends its progress to the driver's actor, at most every REPORT_SECONDS."""

    def __init__(self, sink: Any, key: str) -> None:
        self.sink, self.key, self.sent = sink, key, 0.0

    def __call__(self, name: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.sent >= REPORT_SECONDS or done == total:
            self.sent = now
            self.sink.report.remote(self.key, name, done, total)  # not waited for


class _FrameBoard:
    """Ray actor: the latest frame progress of each running task."""

    def __init__(self) -> None:
        self.latest: dict[str, tuple[str, int, int | None]] = {}

    def report(self, key: str, name: str, done: int, total: int | None) -> None:
        self.latest[key] = (name, done, total)

    def take(self) -> dict[str, tuple[str, int, int | None]]:
        latest, self.latest = self.latest, {}
        return latest


class _Frames:
    """The driver's side of frame progress: shows one running task's frames until it ends."""

    def __init__(self, ray: Any, on_frames: FrameCallback) -> None:
        self.ray = ray
        self.on_frames = on_frames
        self.actor = ray.remote(num_cpus=0)(_FrameBoard).remote()
        self.latest: dict[str, tuple[str, int, int | None]] = {}
        self.finished: set[str] = set()
        self.shown: str | None = None

    def done(self, key: str) -> None:
        self.finished.add(key)
        self.latest.pop(key, None)

    def show(self) -> None:
        try:
            reports = self.ray.get(self.actor.take.remote(), timeout=POLL_SECONDS)
        except self.ray.exceptions.GetTimeoutError:
            return
        self.latest.update((k, v) for k, v in reports.items() if k not in self.finished)
        if self.shown not in self.latest:
            self.shown = next(iter(self.latest), None)
        if self.shown is not None:
            self.on_frames(*self.latest[self.shown])

    def close(self) -> None:
        self.ray.kill(self.actor)
