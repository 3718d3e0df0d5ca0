"""Executors: where a run's work units run, on this machine or on a Ray cluster.

The pipeline turns every file into a :class:`FileWork`: one or more :class:`Task` s and a
``finish`` step. An executor runs tasks and yields an :class:`Outcome` for each as it
completes, in any order; the driver (the process that called ``redact_path``) calls a
file's ``finish`` once all of its tasks are done and alone writes the manifest.

Contract for a task function ``fn(ctx, *args) -> value``:

- ``fn`` is a module-level function (pickled by reference); ``args`` and the returned value
  are small and picklable: paths, settings, jobs, manifest fields. Never pixels.
- ``ctx`` is a :class:`TaskContext`: ``ctx.worker`` is the process's
  :class:`redact.worker.Worker` (detectors and style, built once per process from the
  run's :class:`WorkerSpec`), ``ctx.on_frames`` reports video frame progress (or is None).
- Paths in ``args`` are absolute when the task may run on another machine; every machine
  sees the inputs and ``--out`` at the same paths (shared storage).
- A task may run more than once (a worker killed mid-task is retried): it writes each
  output to a temp file beside its final name (``redact.io.atomic``) and renames it into
  place, and the final name depends only on the arguments, so a second attempt replaces the
  first with the same bytes. Temp files of killed attempts are removed by the driver when
  the run ends.
- An exception raised by ``fn`` is not retried: the outcome carries it as ``error`` (one
  line) and the file fails with that reason. Bad inputs should rather return a failed
  manifest entry, as :meth:`redact.worker.Worker.process` does.

Kinds of work: a whole file (``redact.pipeline.process_file``, ``inline`` so a local run
keeps redacting videos in its own process with frame progress), and the parts of a file
(e.g. video segments: ``inline=False`` tasks whose ``finish`` joins the parts on the
driver). ``finish`` receives the file's outcomes in the order of ``FileWork.tasks``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from redact.config import EXECUTORS
from redact.errors import ConfigError

if TYPE_CHECKING:
    from redact.config import RedactConfig
    from redact.discover import Job
    from redact.review.overrides import Overrides
    from redact.types import FrameCallback
    from redact.worker import Worker


@dataclass(frozen=True)
class WorkerSpec:
    """What any process needs to build its :class:`redact.worker.Worker` (picklable).

    Attributes:
        config: the run's settings.
        threads: inference threads per worker process (None: the config's or the default).
        overrides: reviewer edits applied to every file.
        frames_dir: absolute folder for video frame sidecars.
        version: the driver's redact version; a worker of another version refuses tasks.
        run_id: identifies the run; a process keeps its worker for the tasks of one run.
    """

    config: RedactConfig
    threads: int | None
    overrides: Overrides | None
    frames_dir: Path | None
    version: str
    run_id: str


@dataclass(frozen=True)
class TaskContext:
    """Handed to a task function: the process's worker and a frame-progress callback."""

    worker: Worker
    on_frames: FrameCallback | None = None


@dataclass(frozen=True)
class Task:
    """One unit of work.

    Attributes:
        key: unique within a run (e.g. ``"0:clips/a.mp4"`` or ``"0:clips/a.mp4#3"``).
        fn: module-level function called as ``fn(ctx, *args)`` on a worker.
        args: its picklable arguments (paths and settings, never pixels).
        cost: relative size (e.g. input bytes); executors that schedule start the largest first.
        inline: a local run does it in the driver's own process after the pool's tasks
            (whole videos: they use several threads and report frame progress); a Ray run
            sends every task to the cluster.
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    cost: float = 0.0
    inline: bool = False


@dataclass(frozen=True)
class Outcome:
    """A finished task: its ``value``, or ``error`` (one line) when it raised or its worker
    died more often than the executor retries."""

    task: Task
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FileWork:
    """A file's tasks and the driver-side step that turns their outcomes into its manifest entry.

    ``finish(job, outcomes)`` runs on the driver once every task of the file is done; the
    outcomes are in the order of ``tasks``. It returns the manifest entry (failed or ok).
    """

    job: Job
    tasks: list[Task]
    finish: Callable[[Job, list[Outcome]], dict[str, Any]]
    outcomes: dict[str, Outcome] = field(default_factory=dict)


class Executor(Protocol):
    """Runs tasks; see the module docstring for the contract."""

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Yield one outcome per task as each completes.

        Interrupting the iteration (Ctrl-C, or closing the generator) stops the tasks not
        yet finished: the local pool cancels them; on Ray, :meth:`close` leaves the cluster,
        which ends them.
        """
        ...

    def close(self) -> None:
        """Release processes and connections (idempotent)."""
        ...


ExecutorFactory = Callable[[WorkerSpec], Executor]
"""Builds a run's executor from its worker spec (``redact_path(executor=...)``)."""


def make_executor(
    name: str,
    spec: WorkerSpec,
    *,
    workers: int | None = None,
    address: str | None = None,
    worker: Worker | None = None,
    on_frames: FrameCallback | None = None,
) -> Executor:
    """The executor called ``name``.

    Args:
        name: ``"local"`` or ``"ray"``.
        spec: how worker processes build their worker.
        workers: local: worker processes for non-inline tasks (default: CPU cores); Ray: at
            most this many tasks running at once (default: the cluster's CPUs).
        address: Ray: the cluster to join (``ray start --head`` prints it); None joins the
            cluster named by ``RAY_ADDRESS`` or starts one on this machine.
        worker: local: the driver's worker for inline tasks (may hold injected detectors).
        on_frames: frame progress of videos (local: those redacted in the driver's process).

    Raises:
        ConfigError: an unknown name, or Ray asked for but not installed.
    """
    if name == "local":
        from redact.executors.local import LocalExecutor

        return LocalExecutor(spec, workers=workers, worker=worker, on_frames=on_frames)
    if name == "ray":
        from redact.executors.cluster import RayExecutor

        return RayExecutor(spec, workers=workers, address=address, on_frames=on_frames)
    raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


def preflight(name: str, address: str | None = None) -> None:
    """Check, before a run writes anything, that executor ``name`` can start.

    Raises:
        ConfigError: Ray asked for but not installed, or its address takes no connection.
    """
    if name == "ray":
        from redact.executors.cluster import check_reachable, import_ray

        import_ray()
        check_reachable(address or os.environ.get("RAY_ADDRESS"))


_PROCESS_WORKER: tuple[str, Worker] | None = None


def worker_for(spec: WorkerSpec) -> Worker:
    """This process's worker for ``spec``, built on first use and kept for later tasks.

    Raises:
        ConfigError: this process runs another redact version than the driver.
    """
    global _PROCESS_WORKER
    from redact import __version__
    from redact.worker import Worker

    if spec.version != __version__:
        raise ConfigError(
            f"this worker has redact {__version__} but the run was started with {spec.version}; "
            "install the same version on every machine of the cluster"
        )
    if _PROCESS_WORKER is None or _PROCESS_WORKER[0] != spec.run_id:
        _PROCESS_WORKER = (spec.run_id, Worker(spec.config, spec.threads, frames_dir=spec.frames_dir,
                                        overrides=spec.overrides))
    return _PROCESS_WORKER[1]


def one_line(exc: BaseException) -> str:
    """An exception as one line of text: its message, or its type when it has none."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return text


def task_error(exc: BaseException) -> str:
    """The reason an outcome gives for a task that raised: ``"<type>: <message>"``."""
    return f"{type(exc).__name__}: {one_line(exc)}"


def cpu_count() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
