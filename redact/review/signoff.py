"""The reviewer's sign-off record (``redact-signoff/1``) and its check against a manifest.

The review page exports it with ``overrides.json``: who reviewed, when, the SHA-256 of the
manifest reviewed and of the exported overrides, every file with whether it was approved,
and the edits. :func:`check` (``redact verify MANIFEST --signoff FILE``) accepts a manifest
that is either the reviewed one (when the reviewer made no edits) or one rendered with the
exported overrides (its ``overrides.sha256``), and reports every file that was not approved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from redact.errors import ConfigError
from redact.review.checks import Finding

SCHEMA_ID = "redact-signoff/1"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The sign-off JSON Schema shipped in the package."""
    text = resources.files("redact.schema").joinpath("signoff-1.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def validate(data: Any, source: str = "(data)") -> dict[str, Any]:
    """Check parsed JSON against the schema; its edits against ``redact-overrides/1``.

    Raises:
        ConfigError: naming the first offending place.
    """
    from redact.manifest import first_schema_error
    from redact.review.overrides import Overrides

    problem = first_schema_error(schema(), data)
    if problem:
        raise ConfigError(f"sign-off {source} does not match {SCHEMA_ID} at {problem}; "
                          "export it again from the review page")
    try:
        Overrides.from_data({"schema": "redact-overrides/1", "reviewer": data["reviewer"], "edits": data["edits"]})
    except ConfigError as exc:
        raise ConfigError(f"sign-off {source}: its edits are not valid overrides: {exc}") from None
    return dict(data)


def load(path: Path) -> dict[str, Any]:
    """Read and validate a sign-off file.

    Raises:
        ConfigError: unreadable, not JSON, or not matching the schema.
    """
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read sign-off file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"sign-off file {path} is not valid JSON: {exc}") from None
    return validate(data, str(path))


def check(manifest: Mapping[str, Any], digest: str, record: Mapping[str, Any], source: str) -> list[Finding]:
    """What a sign-off says about a manifest: problems for a run it does not cover and for
    every file not approved, warnings for files it names that the run does not have.

    Args:
        manifest: the parsed manifest.
        digest: hex SHA-256 of the manifest's bytes.
        record: a validated sign-off (:func:`load`).
        source: where the sign-off came from, for messages.
    """
    found: list[Finding] = []
    applied = (manifest.get("overrides") or {}).get("sha256")
    edits = len(record["edits"])
    same = digest == record["manifest_sha256"]
    if not (applied == record["overrides_sha256"] or (same and not edits)):
        if same:
            found.append(Finding("signoff", f"the sign-off {source} lists {edits} edit(s) this run does not have yet; "
                                            "run `redact render MANIFEST --overrides overrides.json` with the "
                                            "overrides exported with it, then verify again"))
        else:
            found.append(Finding("signoff", f"the sign-off {source} is for manifest {record['manifest_sha256']}, "
                                            f"not this one ({digest}), and this run was not rendered with its "
                                            "overrides; review this run again"))
    approved = {(int(f["root"]), str(f["file"])) for f in record["files"] if f["approved"]}
    listed = {(int(f["root"]), str(f["file"])) for f in record["files"]}
    known = set()
    for entry in manifest.get("files", []):
        key = (int(entry.get("root", 0)), str(entry["input"]))
        known.add(key)
        if entry["status"] == "ok" and key not in approved:
            found.append(Finding("approval", f"not approved in the sign-off {source}; review it and approve it",
                                 file=key[1]))
    for root, name in sorted(listed - known):
        found.append(Finding("approval", f"the sign-off {source} names a file this run does not have "
                                         f"(root {root})", severity="warning", file=name))
    return found
