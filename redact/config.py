"""Run configuration, defined once: defaults, ranges, help text and validation.

The CLI builds its options from :data:`OPTIONS` (every option defaults to ``None``
there) and resolves values as CLI > config file > dataclass default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from redact.errors import ConfigError

STYLES = ("fill", "blur", "pixelate", "outline")
SHAPES = ("rect", "ellipse")
QUALITIES = ("fast", "balanced", "thorough")
AUDIO_POLICIES = ("keep", "drop")
VIDEO_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)
VIDEO_CODECS = ("libx264", "libx265", "libvpx-vp9", "mpeg4")
DEVICES = ("auto", "cpu")
OCCUPANT_MODES = ("windows", "people", "off")
ORIENTATIONS = ("upright", "askew", "all")
EXECUTORS = ("local", "ray")


def _opt(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
    output: bool = True,
    cli: bool = True,
) -> Any:
    """A config field with its CLI help, allowed values and whether it changes outputs."""
    meta = {"help": help, "choices": choices, "min": min, "max": max, "output": output, "cli": cli}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RedactConfig:
    """Every option of a run. Units: thresholds 0..1, padding as a fraction of box size."""

    faces: bool = _opt(True, "Detect and redact faces.")
    plates: bool = _opt(True, "Detect and redact licence plates.")
    occupants: str = _opt(
        "windows",
        "Vehicle occupants: 'windows' redacts the window area of every vehicle found and the "
        "people in or on vehicles; 'people' only the people found in or on vehicles; 'off' none. "
        "Independent of --no-plates and --no-faces.",
        choices=OCCUPANT_MODES,
    )
    person_heads: bool = _opt(
        True,
        "Redact the head of every person found where no face is found (riders and cyclists in "
        "helmets, people turned away or far off) as a face. Runs the vehicle and person network "
        "even with --occupants off; nothing with --no-faces.",
    )
    orientations: str = _opt(
        "upright",
        "Look at each picture as stored ('upright'); also turned 12 degrees either way ('askew'): "
        "for photos of a screen and cameras mounted askew, whose plates and faces lie on a slant "
        "(from about 12 degrees the networks miss some), 3-4x the time; or also turned a "
        "quarter, a half and three quarters ('all'): for pictures that may be stored on their side "
        "or upside down with no orientation tag (the networks find few faces and plates on their "
        "side), about 4x the time.",
        choices=ORIENTATIONS,
    )
    face_threshold: float | None = _opt(
        None, "Face score threshold (0..1); lower finds more. Default: tuned per model.", min=0.0, max=1.0
    )
    plate_threshold: float | None = _opt(
        None, "Plate score threshold (0..1); lower finds more. Default: tuned per model.", min=0.0, max=1.0
    )
    quality: str = _opt("balanced", "Detection preset trading speed for recall.", choices=QUALITIES)
    padding: float = _opt(
        0.15, "Extra margin added on every side of a box, as a fraction of its width/height.", min=0.0, max=2.0
    )
    style: str = _opt(
        "fill", "Redaction style; 'outline' is for review only and redacts nothing.", choices=STYLES
    )
    shape: str = _opt("rect", "Shape of face regions (plates and occupants are always rectangles).", choices=SHAPES)
    fill_color: str = _opt("#000000", "Colour of the 'fill' style as #RRGGBB.")
    jpeg_quality: int = _opt(95, "JPEG, WebP and AVIF output quality.", min=50, max=100)
    keep_metadata: bool = _opt(
        False, "Keep EXIF/XMP/IPTC and container tags (GPS included!). Off by default."
    )
    max_pixels: int = _opt(
        200_000_000, "Refuse pictures declaring more pixels than this (decompression bombs).", min=1
    )
    codec: str = _opt("libx264", "Video encoder.", choices=VIDEO_CODECS)
    crf: int = _opt(18, "Video quality (x264/x265 CRF; lower is better).", min=0, max=51)
    preset: str = _opt("medium", "Video encoder speed preset.", choices=VIDEO_PRESETS)
    lookahead: int | None = _opt(
        None,
        "Video: at most N frames of x264/x265 rate-control look-ahead; a preset with fewer keeps "
        "its own. Memory grows with it (x264: ~6 MiB a frame at 1080p, ~24 MiB at 4K). Default: "
        "as many as fit ~120 MiB, at most 20 (20 at 1080p, 11 at 1440p, 5 at 4K). Medium's own "
        "is 40, which on a static camera gives files a few percent larger and of higher quality "
        "(README, Video).",
        min=0,
        max=250,
    )
    audio: str = _opt("keep", "Copy audio streams untouched ('keep') or remove them ('drop').", choices=AUDIO_POLICIES)
    detect_every: int = _opt(
        1,
        "Run any detection on every K-th video frame only; the tracker predicts in between "
        "(faster, for previews: frames between can be left partly uncovered).",
        min=1,
        max=30,
    )
    keyframe_seconds: float = _opt(
        1.0,
        "Video: run the --quality detectors every S seconds (keyframes: on what changed since the "
        "last keyframe, and on the whole frame every fourth keyframe or when most of it changed) "
        "and, between, at full resolution only around what changed (--watch), tracked objects and "
        "near-threshold candidates; a new track is looked for again on the frames back to the "
        "previous keyframe and redacted where it is found. 0 runs the full detectors on every "
        "whole frame (slowest).",
        min=0.0,
        max=10.0,
    )
    watch: bool = _opt(
        True,
        "Video: between keyframes the full detectors also look, on every frame, at every part of the "
        "picture that changed since they last looked at it, so an object that appears between two "
        "keyframes is looked at closely from its first frame. Off: the --glance instead (faster; "
        "objects too small for it that come and go between two keyframes can be missed).",
    )
    glance: bool = _opt(
        True,
        "Video, with --no-watch: the fast 640-px pass between keyframes (on what changed since last "
        "looked at), for objects that come and go between two keyframes (off: only the close looks "
        "around tracks and candidates).",
    )
    track_gap: float = _opt(
        0.5, "Seconds a video track is carried through frames where it is not detected.", min=0.0, max=10.0
    )
    track_pad: int = _opt(
        5, "Video frames redacted before a track's first and after its last detection.", min=0, max=120
    )
    truncated_video: str = _opt(
        "fail",
        "On a decode error mid-video: 'fail' the file, or 'cut' it at the last whole frame with a warning.",
        choices=("fail", "cut"),
    )
    segment_seconds: float = _opt(
        60.0,
        "Video: split an MP4/MOV/M4V longer than S seconds at keyframes into segments of about S "
        "seconds, redacted in parallel (--workers, or a Ray cluster's tasks) and joined without "
        "re-encoding; each segment also looks at a few seconds before and after itself, so tracks "
        "crossing a join are covered as in one pass. 0 never splits.",
        min=0.0,
        max=86400.0,
    )
    follow_symlinks: bool = _opt(
        False, "Follow symlinks that lead outside an input folder (never followed by default).", output=False
    )
    workers: int | None = _opt(
        None,
        "Files processed in parallel. Default: the number of CPU cores. Ray: at most N tasks at once "
        "(default: twice the cluster's task slots).",
        min=1,
        max=256,
        output=False,
    )
    threads: int | None = _opt(
        None,
        "Inference threads per worker. Default: cores / workers. Ray: the CPUs each task asks for "
        "(default 1).",
        min=1,
        max=256,
        output=False,
    )
    device: str = _opt(
        "auto",
        "Where the models run: 'auto' uses a GPU when onnxruntime-gpu is installed and finds one "
        "(the same boxes as the CPU), else the CPU; 'cpu' always the CPU (e.g. a GPU short of memory).",
        choices=DEVICES,
        output=False,
    )
    overwrite: bool = _opt(
        False, "Replace outputs left in --out by a run with other settings.", output=False
    )
    executor: str = _opt(
        "local",
        "Where files are redacted: 'local' on this machine (--workers processes); 'ray' as tasks "
        "on a Ray cluster whose machines all see the inputs and --out at the same paths "
        "(docs/distributed.md). Needs redact[ray].",
        choices=EXECUTORS,
        output=False,
    )
    address: str | None = _opt(
        None,
        "Ray cluster to join, e.g. 10.0.0.5:6379 (what `ray start --head` prints). Default: "
        "RAY_ADDRESS, else a cluster started on this machine for the run.",
        output=False,
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if value is None:
                continue
            if meta["choices"] and value not in meta["choices"]:
                raise ConfigError(
                    f"{_flag(f.name)}: {value!r} is not valid; choose one of {', '.join(meta['choices'])}"
                )
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if meta["min"] is not None and value < meta["min"]:
                    raise ConfigError(f"{_flag(f.name)}: {value} is below the minimum {meta['min']}")
                if meta["max"] is not None and value > meta["max"]:
                    raise ConfigError(f"{_flag(f.name)}: {value} is above the maximum {meta['max']}")
        parse_color(self.fill_color)
        if self.address is not None and self.executor != "ray":
            raise ConfigError("--address names a Ray cluster; add --executor ray")
        if not (self.faces or self.plates or self.occupants != "off"):
            raise ConfigError(
                "--no-faces, --no-plates and --occupants off together leave nothing to redact; drop one"
            )

    @property
    def fill_bgr(self) -> tuple[int, int, int]:
        r, g, b = parse_color(self.fill_color)
        return (b, g, r)

    @property
    def redacts(self) -> bool:
        """False for review-only styles that leave pixels readable."""
        return self.style != "outline"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def output_settings(self) -> dict[str, Any]:
        """The settings that change output bytes (used to decide whether a rerun may skip a file)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata["output"]}

    def settings_hash(self, extra: Mapping[str, Any] | None = None) -> str:
        """SHA-256 of the output-affecting settings (plus ``extra``, e.g. model hashes)."""
        payload = {"settings": self.output_settings(), "extra": dict(extra or {})}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RedactConfig:
        """Build from a mapping (config file or CLI); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(known))}"
            )
        try:
            return cls(**{k: _coerce(k, v) for k, v in values.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from exc


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _coerce(name: str, value: Any) -> Any:
    f = {f.name: f for f in fields(RedactConfig)}[name]
    if value is None:
        return None
    base = f.type if isinstance(f.type, str) else str(f.type)
    try:
        if base.startswith("bool"):
            if not isinstance(value, bool):
                raise ValueError(f"{_flag(name)} takes true or false, not {value!r}")
            return value
        if base.startswith("int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"{_flag(name)} takes a whole number, not {value!r}")
            return int(value)
        if base.startswith("float"):
            if isinstance(value, bool):
                raise ValueError(f"{_flag(name)} takes a number, not {value!r}")
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc) if str(exc).startswith("--") else f"{_flag(name)}: {exc}") from exc
    return str(value)


def parse_color(text: str) -> tuple[int, int, int]:
    """Parse ``#RRGGBB`` into an (R, G, B) tuple."""
    s = text.strip().lstrip("#")
    if len(s) != 6:
        raise ConfigError(f"--fill-color: {text!r} is not a colour; use #RRGGBB, e.g. #000000")
    try:
        return (int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16))
    except ValueError as exc:
        raise ConfigError(f"--fill-color: {text!r} is not a colour; use #RRGGBB, e.g. #000000") from exc


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON config file into a mapping of option names to values.

    Keys may use dashes or underscores (``face-threshold`` or ``face_threshold``).
    """
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid {path.suffix or 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of options")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def resolve(cli_values: Mapping[str, Any], config_file: Path | None = None) -> RedactConfig:
    """CLI values (None = not given) over config-file values over defaults."""
    merged: dict[str, Any] = load_config_file(config_file) if config_file else {}
    merged.update({k: v for k, v in cli_values.items() if v is not None})
    return RedactConfig.from_mapping(merged)


OPTIONS = tuple(f for f in fields(RedactConfig) if f.metadata["cli"])
