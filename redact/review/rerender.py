"""Re-render a run from its manifest: same inputs, same settings, optionally new overrides."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from redact.config import RedactConfig
from redact.errors import ConfigError
from redact.manifest import load as load_manifest
from redact.review.overrides import Overrides
from redact.review.verify import input_root

# Options added after manifests were first written, with the value that means what runs did
# before the option existed (a missing key must not take today's default): no cap on the
# encoder's look-ahead (the preset's own), full detection on every frame (no keyframe
# schedule, no glance), and, where a keyframe schedule is recorded, no close looks at what
# changed between keyframes.
LEGACY_SETTINGS: dict[str, Any] = {"lookahead": 250, "keyframe_seconds": 0.0, "glance": False, "watch": False}

# Where a run ran, not how it redacts: a re-render runs on this machine.
PLACEMENT = frozenset({"executor", "address"})


def config_from_manifest(data: dict[str, Any]) -> RedactConfig:
    """The run's configuration from a manifest's ``settings`` (non-option keys ignored;
    options the run's version did not have take :data:`LEGACY_SETTINGS`)."""
    known = {f.name for f in fields(RedactConfig)}
    settings = {k: v for k, v in (data.get("settings") or {}).items() if k in known and k not in PLACEMENT}
    return RedactConfig.from_mapping({**LEGACY_SETTINGS, **settings})


def rerender(
    manifest_path: Path,
    overrides: Overrides | None = None,
    *,
    inputs_base: Path | None = None,
    out_dir: Path | None = None,
    **kwargs: Any,
) -> Any:
    """Redact a manifest's recorded inputs again with its settings, into its output folder.

    Runs with ``overwrite``: when the settings identity changed (other overrides) every file is
    redone; when it did not, files whose input and output still match are kept as they are.

    Args:
        manifest_path: the earlier run's ``manifest.json``; it is replaced.
        overrides: reviewer edits to apply (None: none, even if the earlier run had some).
        inputs_base: folder the recorded relative inputs are relative to (default: cwd).
        out_dir: output folder (default: the manifest's folder).
        **kwargs: passed to :func:`redact.pipeline.redact_path` (callbacks, detectors).

    Returns:
        The :class:`redact.pipeline.RunResult`.

    Raises:
        ManifestError: the manifest cannot be read.
        ConfigError: a recorded input is gone, or the models differ from the run's.
    """
    from redact.pipeline import make_detectors, model_records, redact_path

    data = load_manifest(manifest_path, check=True)
    config = config_from_manifest(data)
    config = RedactConfig.from_mapping({**config.as_dict(), "overwrite": True})
    inputs = [input_root(p, inputs_base) for p in data["inputs"]]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        raise ConfigError(
            f"recorded input(s) {', '.join(missing)} not found; run from the folder the original run was "
            "started in, or pass --inputs-base"
        )
    detectors = kwargs.pop("detectors", None)
    if detectors is None:
        # Sessions open on first use, so this only hash-checks the model files.
        now = [m["sha256"] for m in model_records(make_detectors(config, 1))[0]]
        then = [m["sha256"] for m in data.get("models", [])]
        if now != then:
            raise ConfigError("the installed models differ from the ones the run used; outputs would not match. "
                              "Install the redact version recorded in the manifest")
    return redact_path(inputs, out_dir or manifest_path.parent, config, manifest_path=manifest_path,
                       detectors=detectors, overrides=overrides, **kwargs)
