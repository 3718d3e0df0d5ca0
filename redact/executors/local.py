"""The local executor: a process pool on this machine, and the driver's own process.

Tasks that are not ``inline`` go to a pool of ``workers`` spawned processes (each builds
its worker once); with one worker, or none to pool, they run in the driver's process.
``inline`` tasks then run in the driver's process, one after another, with frame progress.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from redact.errors import ModelError
from redact.executors import Outcome, Task, TaskContext, WorkerSpec, cpu_count, task_error, worker_for

if TYPE_CHECKING:
    from redact.types import FrameCallback
    from redact.worker import Worker


class LocalExecutor:
    """Runs tasks on this machine (see the module docstring)."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        workers: int | None = None,
        worker: Worker | None = None,
        on_frames: FrameCallback | None = None,
    ) -> None:
        self.spec = spec
        self.workers = workers
        self.on_frames = on_frames
        self._worker = worker
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def worker(self) -> Worker:
        """The driver's worker for inline tasks (built on first use unless given)."""
        if self._worker is None:
            self._worker = worker_for(self.spec)
        return self._worker

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        todo = list(tasks)
        pooled = [t for t in todo if not t.inline]
        inline = [t for t in todo if t.inline]
        n = min(self.workers or cpu_count(), max(1, len(pooled)))
        if n > 1:
            yield from self._run_pool(pooled, n)
        else:
            inline = pooled + inline
        ctx = TaskContext(self.worker, self.on_frames)
        for task in inline:
            try:
                value = task.fn(ctx, *task.args)
            except Exception as exc:  # a bug in one task fails its file, not the run
                yield Outcome(task, error=task_error(exc))
            else:
                yield Outcome(task, value)

    def _run_pool(self, tasks: list[Task], workers: int) -> Iterator[Outcome]:
        threads = self.spec.threads or max(1, cpu_count() // workers)
        spec = dataclasses.replace(self.spec, threads=threads)
        pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_pool_worker, initargs=(spec,),
        )
        self._pool = pool
        futures = {pool.submit(_pool_call, t.fn, t.args): t for t in tasks}
        try:
            for fut in cf.as_completed(futures):
                task = futures[fut]
                try:
                    value = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    raise ModelError(f"a worker process died ({exc}); rerun with --workers 1 to see why") from exc
                except Exception as exc:  # e.g. a result that could not be sent back: this task fails
                    yield Outcome(task, error=task_error(exc))
                else:
                    yield Outcome(task, value)
        except BaseException:
            self.close()
            raise
        pool.shutdown(wait=True)
        self._pool = None

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)


_SPEC: WorkerSpec | None = None


def exit_with_parent() -> None:
    """End this process as soon as the process that spawned it is gone.

    A driver killed outright (``kill``, ``kill -9``, out of memory) cannot terminate its
    workers, and a worker in the middle of a long video would run on to the end of its file
    with no one to take its result. Outputs are written atomically, so a worker ended mid-file
    leaves nothing half-written; a rerun redoes the file.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the spawn pipe closes
        os._exit(1)

    threading.Thread(target=watch, name="redact-exit-with-parent", daemon=True).start()


def _init_pool_worker(spec: WorkerSpec) -> None:
    # The parent owns Ctrl-C; workers are terminated by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    global _SPEC
    _SPEC = spec
    worker_for(spec)


def _pool_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    assert _SPEC is not None, "pool worker was not initialised"
    return fn(TaskContext(worker_for(_SPEC)), *args)
