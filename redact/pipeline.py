"""Orchestration only: plan jobs, run them through an executor, keep the manifest current.

Each file becomes a :class:`~redact.executors.FileWork` (its tasks and a finish step) that
an executor (:mod:`redact.executors`: this machine's processes, or a Ray cluster) runs.
Each file is redacted to a temp file and renamed into place; the driver alone records
each finished file in the manifest, so an interrupted run loses at most the files in
progress, and a rerun with the same settings skips what is done.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redact import __version__
from redact.config import RedactConfig
from redact.discover import Job, plan
from redact.errors import ConfigError
from redact.executors import (
    Executor,
    ExecutorFactory,
    FileWork,
    Outcome,
    Task,
    TaskContext,
    WorkerSpec,
    make_executor,
    preflight,
)
from redact.io.atomic import remove_stale_temps
from redact.manifest import MANIFEST_NAME, Manifest, base_entry
from redact.resume import previous_run, reusable
from redact.review.overrides import Overrides
from redact.types import FrameCallback
from redact.video.segments import video_work
from redact.worker import DetectorLike, Worker, make_detectors

if TYPE_CHECKING:
    pass

log = logging.getLogger("redact")

FileCallback = Callable[[int, int, Mapping[str, Any]], None]
"""Called after each file with (files done, files total, the file's manifest entry)."""


@dataclass
class RunResult:
    """What a run did. ``exit_code``: 0 all good, 1 some files failed."""

    manifest_path: Path
    manifest_sha256: str
    files: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    resumed: int = 0
    """Files skipped because a previous run with the same settings already did them."""

    @property
    def ok(self) -> int:
        return sum(e["status"] == "ok" for e in self.files)

    @property
    def failed(self) -> int:
        return sum(e["status"] == "failed" for e in self.files)

    @property
    def skipped(self) -> int:
        return sum(e["status"] == "skipped" for e in self.files)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# --- work units ------------------------------------------------------------------------


def process_file(ctx: TaskContext, job: Job) -> dict[str, Any]:
    """Task function (see :mod:`redact.executors`): redact one whole file; returns its manifest entry."""
    return ctx.worker.process(job, ctx.on_frames)


def file_work(job: Job, *, absolute: bool = False) -> FileWork:
    """One task for the whole file; videos run in the driver's process on a local run.

    Args:
        job: the file.
        absolute: give the task absolute paths (for workers on other machines or folders).
    """
    if absolute:
        job = replace(job, src=job.src.absolute(), dst=job.dst.absolute(), out=job.out.absolute())
    try:
        cost = float(job.src.stat().st_size)
    except OSError:
        cost = 0.0
    inline = job.kind == "video" and not job.problem
    task = Task(f"{job.root}:{job.rel}", process_file, (job,), cost=cost, inline=inline)
    return FileWork(job, [task], finish_file)


def finish_file(job: Job, outcomes: list[Outcome]) -> dict[str, Any]:
    """The entry of a one-task file: the task's, or a failed one with the task's error."""
    (outcome,) = outcomes
    if outcome.ok:
        return dict(outcome.value)
    entry = base_entry(job)
    entry.update(status="failed", output=None, error=f"worker error: {outcome.error}")
    log.info("%s: %s", job.rel, entry["error"])  # reported from the entry by the front end
    return entry


def frames_dir(manifest_path: Path) -> Path:
    """Folder for video frame sidecars: ``<manifest folder>/<manifest stem>.frames/``."""
    return manifest_path.with_name(manifest_path.stem + ".frames")


# --- the run ---------------------------------------------------------------------------


def model_records(dset: DetectorLike) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Manifest records for the models a run uses (hashes verified) and the resolved thresholds."""
    records = []
    for m in (f for model in dset.models for f in model.files()):
        m.verified_path()
        records.append(
            {"name": m.name, "label": m.label, "file": m.file, "sha256": m.sha256, "licence": m.licence,
             "origin": m.origin}
        )
    return records, dict(dset.thresholds)


def redact_path(
    inputs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: RedactConfig | None = None,
    *,
    manifest_path: str | os.PathLike[str] | None = None,
    on_file: FileCallback | None = None,
    on_frames: FrameCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    detectors: DetectorLike | None = None,
    overrides: Overrides | None = None,
    glance: DetectorLike | None = None,
    executor: ExecutorFactory | None = None,
) -> RunResult:
    """Redact files and folders into ``out`` and write the manifest.

    Args:
        inputs: files and/or folders (folders are walked recursively).
        out: output folder; must not be, or be inside, an input folder.
        config: options; defaults to ``RedactConfig()``.
        manifest_path: where to write the manifest (default ``out/manifest.json``).
        on_file: progress callback after each file.
        on_frames: progress callback during videos.
        on_start: called once with the number of files to process.
        detectors: a ready detector set to use instead of the configured models (tests,
            embedding); forces in-process work (no worker pool).
        overrides: reviewer edits to apply (see :mod:`redact.review.overrides`); their hash is
            part of the run's settings identity.
        glance: a ready detector set for video frames between keyframes; defaults to
            ``detectors`` when that is given, else the configured models' glance.
        executor: builds the executor from the run's worker spec, instead of the one
            ``config.executor`` names (embedding; tests that inject faults).

    Returns:
        A RunResult; ``exit_code`` is 1 when any file failed.

    Raises:
        ConfigError: bad options or paths (nothing was written).
        ModelError: a model file is missing or corrupt.
        KeyboardInterrupt: the run was interrupted; the manifest on disk is consistent
            and says ``complete: false``.
    """
    config = config or RedactConfig()
    remote = config.executor != "local"
    if remote and detectors is not None:
        raise ConfigError("ready detector sets run only with the local executor; drop detectors= or use local")
    preflight(config.executor, config.address)
    paths = [Path(inputs)] if isinstance(inputs, (str, os.PathLike)) else [Path(p) for p in inputs]
    out_dir = Path(out)
    mpath = Path(manifest_path) if manifest_path else out_dir / MANIFEST_NAME
    jobs = plan(paths, out_dir, follow_symlinks=config.follow_symlinks, extra_outputs=[mpath])
    main_detectors = detectors if detectors is not None else make_detectors(config, config.threads)
    models, thresholds = model_records(main_detectors)
    settings = config.as_dict() | {"resolved_thresholds": thresholds}
    identity: dict[str, Any] = {"models": [m["sha256"] for m in models], "thresholds": thresholds}
    if overrides is not None:
        overrides.check_files((j.root, j.rel) for j in jobs)
        identity["overrides"] = overrides.sha256
    settings_sha = config.settings_hash(identity)

    previous = previous_run(mpath, settings_sha, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temps(out_dir):
        log.info("removed a temp file left by an interrupted run: %s", stale)
    manifest = Manifest(
        mpath, settings=settings, settings_sha256=settings_sha, inputs=[str(p) for p in paths], models=models,
        overrides=overrides.record() if overrides is not None else None,
    )
    warnings: list[str] = []
    if not config.redacts:
        warnings.append(
            f"style {config.style!r} is for review only: outputs show every face and plate UNREDACTED"
        )

    todo: list[Job] = []
    resumed = 0
    for job in jobs:
        if job.kind is None:
            entry = base_entry(job)
            entry["error"] = f"{job.problem}; left out" if job.problem else "not an image or video; left out"
            manifest.add(entry)
            continue
        reused = reusable(job, previous, mpath.parent)
        if reused is not None:
            manifest.add(reused)
            resumed += 1
            continue
        if previous is None and job.dst.exists() and not config.overwrite:
            entry = base_entry(job)
            entry.update(
                status="failed",
                output=None,
                error=f"output {job.rel} already exists in --out and is not from this run; "
                "pass --overwrite or choose an empty --out",
            )
            manifest.add(entry)
            continue
        todo.append(job)

    manifest.save()
    spec = WorkerSpec(config, config.threads, overrides, frames_dir(mpath).absolute(), __version__, uuid.uuid4().hex)
    # A long video is split into segments, each a task (redact.video.segments); other files are one task.
    fdir = frames_dir(mpath)
    works = [video_work(job, config, fdir, absolute=remote) or file_work(job, absolute=remote) for job in todo]
    by_key = {task.key: work for work in works for task in work.tasks}
    total = len(works)
    done = 0

    def finish(entry: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        manifest.record(entry)
        if on_file:
            on_file(done, total, entry)

    runner: Executor | None = None
    try:
        if executor is not None:
            runner = executor(spec)
        else:
            driver = None if remote else Worker(
                config, config.threads, main_detectors, frames_dir=frames_dir(mpath), overrides=overrides,
                glance=glance if glance is not None else detectors, stills=detectors,
            )
            runner = make_executor(
                config.executor, spec, workers=1 if detectors is not None else config.workers,
                address=config.address, worker=driver, on_frames=on_frames,
            )
        if on_start:
            on_start(total)
        for outcome in runner.run(task for work in works for task in work.tasks):
            work = by_key[outcome.task.key]
            work.outcomes[outcome.task.key] = outcome
            if len(work.outcomes) == len(work.tasks):
                finish(work.finish(work.job, [work.outcomes[t.key] for t in work.tasks]))
    except BaseException:
        if runner is not None:
            runner.close()
        manifest.save(complete=False)
        _remove_temps(out_dir, frames_dir(mpath))
        raise
    runner.close()
    _remove_temps(out_dir, frames_dir(mpath))  # of attempts killed mid-task: their retries wrote the outputs
    digest = manifest.save(complete=True)
    return RunResult(mpath, digest, manifest.files, warnings, resumed)


def _remove_temps(*folders: Path) -> None:
    for folder in folders:
        for stale in remove_stale_temps(folder):
            log.info("removed a temp file of an interrupted task: %s", stale)

