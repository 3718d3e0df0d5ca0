"""Resume: which files an earlier run into the same manifest already finished.

A file is skipped when the manifest (and its journal of newer entries) records it as ok
with the same settings, and its input, output and frames sidecar still hash as recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redact.config import RedactConfig
from redact.discover import Job
from redact.errors import ConfigError, RedactError
from redact.hashing import sha256_file
from redact.manifest import load as load_manifest
from redact.manifest import read_journal

Previous = dict[tuple[int, str], dict[str, Any]]
"""Entries of an earlier run, keyed by (input root, input path)."""


def previous_run(mpath: Path, settings_sha: str, config: RedactConfig) -> Previous | None:
    """Entries of an earlier run into the same manifest, when its settings match."""
    if not mpath.exists():
        return None
    try:
        data = load_manifest(mpath, check=False)
    except RedactError as exc:
        if config.overwrite:
            return {}
        raise ConfigError(f"{exc}; remove it or pass --overwrite") from None
    if data.get("settings_sha256") != settings_sha:
        if config.overwrite:
            return {}
        raise ConfigError(
            f"{mpath} records a run with other settings or models; use another --out, "
            "or pass --overwrite to replace its outputs"
        )
    entries = list(data.get("files", [])) + read_journal(mpath)  # journal lines are newer
    return {(int(e.get("root", 0)), str(e["input"])): e for e in entries}


def reusable(job: Job, previous: Previous | None, manifest_dir: Path) -> dict[str, Any] | None:
    """The previous entry when input, settings and output all still match, else None."""
    if not previous:
        return None
    entry = previous.get((job.root, job.rel))
    if not entry or entry.get("status") != "ok" or not entry.get("output_sha256"):
        return None
    try:
        if not job.dst.is_file() or sha256_file(job.dst) != entry["output_sha256"]:
            return None
        if sha256_file(job.src) != entry.get("input_sha256"):
            return None
    except OSError:
        return None
    frames = entry.get("frames") or {}
    if frames:
        sidecar = manifest_dir / str(frames.get("file", ""))
        try:
            if not sidecar.is_file() or sha256_file(sidecar) != frames.get("sha256"):
                return None
        except OSError:
            return None
    return dict(entry)
