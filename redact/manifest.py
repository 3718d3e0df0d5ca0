"""The manifest: a versioned, schema-checked record of what a run did.

See ``redact/schema/manifest-1.schema.json`` for every field. Boxes are ``[x, y, w, h]``
in integer output pixels with a top-left origin.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redact import __version__
from redact.errors import ManifestError
from redact.hashing import sha256_bytes
from redact.io.atomic import write_bytes_atomic
from redact.types import LABELS

if TYPE_CHECKING:
    from redact.discover import Job

SCHEMA_ID = "redact-manifest/1"
MANIFEST_NAME = "manifest.json"
DIGEST_SUFFIX = ".sha256"
JOURNAL_SUFFIX = ".journal"
SAVE_INTERVAL = 2.0  # seconds between full manifest rewrites during a run


def utc_now() -> str:
    """Current UTC time as ISO 8601 with a Z suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package."""
    text = resources.files("redact.schema").joinpath("manifest-1.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def validate(data: Mapping[str, Any]) -> None:
    """Check a manifest against the schema.

    Raises:
        ManifestError: naming the first offending field.
    """
    problem = first_schema_error(schema(), data)
    if problem:
        raise ManifestError(f"manifest does not match {SCHEMA_ID} at {problem}")


def first_schema_error(schema_doc: Mapping[str, Any], data: Any) -> str | None:
    """``"<path>: <message>"`` of the first place ``data`` breaks a JSON Schema, or None."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema_doc)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
    return f"{where}: {errors[0].message}"


def validate_frame_line(line: Mapping[str, Any]) -> None:
    """Check one line of a video frames sidecar."""
    import jsonschema

    sub = {"$ref": "#/$defs/frame_line", "$defs": schema()["$defs"]}
    try:
        jsonschema.validate(line, sub, cls=jsonschema.Draft202012Validator)
    except jsonschema.ValidationError as exc:
        raise ManifestError(f"frames sidecar line does not match {SCHEMA_ID}: {exc.message}") from None


def empty_counts() -> dict[str, int]:
    return {label: 0 for label in LABELS}


def count_regions(regions: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = empty_counts()
    for r in regions:
        counts[str(r["label"])] += 1
    return counts


def base_entry(job: Job) -> dict[str, Any]:
    """A file entry with every required field, before processing."""
    return {
        "input": job.rel,
        "root": job.root,
        "output": job.rel if job.kind else None,
        "kind": job.kind or "image",
        "format": None,
        "status": "skipped",
        "error": None,
        "warnings": [],
        "redacted": True,
        "input_sha256": None,
        "output_sha256": None,
        "width": None,
        "height": None,
        "regions": [],
        "counts": empty_counts(),
    }


class Manifest:
    """A manifest being built by a run; every :meth:`save` rewrites it atomically.

    Entries are keyed by ``(root, input)`` so a resumed run replaces, not duplicates.
    """

    def __init__(
        self,
        path: Path,
        *,
        settings: Mapping[str, Any],
        settings_sha256: str | None,
        inputs: list[str],
        models: list[dict[str, Any]],
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.started = time.monotonic()
        self.data: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "tool": {"name": "redact", "version": __version__},
            "created": utc_now(),
            "updated": utc_now(),
            "complete": False,
            "settings": dict(settings),
            "settings_sha256": settings_sha256,
            "inputs": list(inputs),
            "models": list(models),
            "overrides": dict(overrides) if overrides else None,
            "files": [],
            "summary": {},
        }
        self._index: dict[tuple[int, str], int] = {}
        self._saved_at = 0.0
        self._refresh_summary()

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.data["files"])

    def add(self, entry: Mapping[str, Any]) -> None:
        """Add or replace a file entry (keyed by root and input path)."""
        key = (int(entry.get("root", 0)), str(entry["input"]))
        files: list[dict[str, Any]] = self.data["files"]
        if key in self._index:
            files[self._index[key]] = dict(entry)
        else:
            self._index[key] = len(files)
            files.append(dict(entry))

    @property
    def journal_path(self) -> Path:
        return journal_path(self.path)

    def record(self, entry: Mapping[str, Any]) -> None:
        """Add a finished file durably, cheaply: append it to the journal, and rewrite the
        whole manifest at most every :data:`SAVE_INTERVAL` seconds.

        A killed run thus loses no finished file (the journal is fsynced per line) while a
        batch of many thousands of files does not rewrite a growing manifest per file.
        """
        self.add(entry)
        line = json.dumps(dict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
        with open(self.journal_path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save()

    def save(self, *, complete: bool = False) -> str:
        """Write the manifest and its ``.sha256`` file atomically; returns the manifest's SHA-256.

        The journal is folded in and removed.
        """
        self.data["files"].sort(key=lambda e: (int(e.get("root", 0)), str(e["input"])))
        self._index = {(int(e.get("root", 0)), str(e["input"])): i for i, e in enumerate(self.data["files"])}
        self.data["complete"] = complete
        self.data["updated"] = utc_now()
        self._refresh_summary()
        blob = (json.dumps(self.data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        digest = sha256_bytes(blob)
        write_bytes_atomic(self.path, blob)
        digest_path = self.path.with_name(self.path.name + DIGEST_SUFFIX)
        write_bytes_atomic(digest_path, f"{digest}  {self.path.name}\n".encode())
        self.journal_path.unlink(missing_ok=True)
        self._saved_at = time.monotonic()
        return digest

    def _refresh_summary(self) -> None:
        files = self.data["files"]
        regions = empty_counts()
        for e in files:
            for label, n in e.get("counts", {}).items():
                regions[label] += int(n)
        self.data["summary"] = {
            "files": len(files),
            "ok": sum(e["status"] == "ok" for e in files),
            "failed": sum(e["status"] == "failed" for e in files),
            "skipped": sum(e["status"] == "skipped" for e in files),
            "images": sum(e["kind"] == "image" and e["status"] == "ok" for e in files),
            "videos": sum(e["kind"] == "video" and e["status"] == "ok" for e in files),
            "frames": sum(int(e.get("frame_count") or 0) for e in files if e["status"] == "ok"),
            "regions": regions,
            "seconds": round(time.monotonic() - self.started, 3),
        }


def journal_path(manifest_path: Path) -> Path:
    """Where a run appends finished file entries between manifest rewrites."""
    return manifest_path.with_name(manifest_path.name + JOURNAL_SUFFIX)


def read_journal(manifest_path: Path) -> list[dict[str, Any]]:
    """File entries a killed run journaled after its last manifest rewrite (a torn last line is ignored)."""
    try:
        text = journal_path(manifest_path).read_text("utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            break  # the line being written when the run was killed
        if isinstance(entry, dict) and "input" in entry:
            entries.append(entry)
    return entries


def load(path: Path, *, check: bool = True) -> dict[str, Any]:
    """Read (and by default schema-check) a manifest.

    Raises:
        ManifestError: missing, not JSON, or not matching the schema.
    """
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {path}; pass the manifest.json a run wrote") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_ID:
        raise ManifestError(f"{path} is not a {SCHEMA_ID} manifest")
    if check:
        validate(data)
    return data
