"""The Ray executor: every task is a Ray task on a cluster that shares the run's storage.

Tasks start largest first, at most a window of them submitted at a time (``--workers``, or
twice the cluster's task slots) so the order holds on a large batch. Each task asks for
``threads`` CPUs (``--threads``, default 1) and, when the cluster has GPUs and the models
may use one (``--device auto``), a share of a GPU (:data:`GPU_SHARE`). A task whose worker
dies (killed, out of memory, its machine gone) is retried up to :data:`RETRIES` times; an
exception the task raises is not retried and fails its file.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from redact.errors import ConfigError
from redact.executors import Outcome, Task, TaskContext, WorkerSpec, one_line, task_error, worker_for

log = logging.getLogger("redact")

RETRIES = 3
# Four tasks share a GPU: detection is a fraction of a task's time (decode, tracking,
# encode run on its CPU), so one task per GPU would leave the GPU mostly idle.
GPU_SHARE = 0.25
POLL_SECONDS = 0.5  # how often the driver wakes while waiting (Ctrl-C and SIGTERM are seen then)
CANCEL_SECONDS = 10.0  # how long an interrupted run waits for cancelled tasks to stop


class RayExecutor:
    """Runs tasks on a Ray cluster (see the module docstring).

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be joined.
    """

    def __init__(self, spec: WorkerSpec, *, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray on this machine and every machine of the cluster: "
                "pip install 'redact[ray]'"
            ) from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "RAY_ADDRESS or this machine"
                raise ConfigError(
                    f"cannot join a Ray cluster at {where} ({one_line(exc)}); start one with "
                    "`ray start --head` and pass the address it prints to --address"
                ) from None
            self._started = True
        self.threads = spec.threads or 1
        self.spec = dataclasses.replace(spec, threads=self.threads)
        self.workers = workers

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
        pending: dict[Any, Task] = {}
        try:
            while True:
                while len(pending) < window and (task := next(todo, None)) is not None:
                    pending[remote.remote(spec_ref, task.fn, task.args)] = task
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    yield self._outcome(pending.pop(ref), ref)
        except BaseException:
            self._cancel(list(pending))
            raise

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

    def _cancel(self, refs: list[Any]) -> None:
        """Stop the tasks still running or queued, and wait a little for them to go."""
        ray = self._ray
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except (ray.exceptions.RayError, ValueError, TypeError) as exc:
                log.info("could not cancel a task: %s", exc)
        if refs:
            ray.wait(refs, num_returns=len(refs), timeout=CANCEL_SECONDS)

    def close(self) -> None:
        if self._started:
            self._started = False
            self._ray.shutdown()


def _ray_call(spec: WorkerSpec, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Runs on a cluster worker: this process's worker for the run, then the task."""
    return fn(TaskContext(worker_for(spec)), *args)
