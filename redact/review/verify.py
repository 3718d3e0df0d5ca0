"""Check a finished run: manifest integrity, output and input hashes, redaction, leaks.

``verify(manifest_path)`` returns a :class:`VerifyResult` listing :class:`Finding` s. A
finding of severity ``"problem"`` makes the result fail (CLI exit 1); ``"warning"``
findings (e.g. a low-score detection outside every region) are listed for the reviewer
and fail only with ``strict=True``. A manifest that cannot be read or does not match
its schema raises :class:`~redact.errors.ManifestError` (CLI exit 2).

The per-region test (:func:`~redact.review.checks.region_redacted`) compares output and
input pixels inside each recorded region (boxes ``[x, y, w, h]`` in output pixels; ellipses
inscribed):

* at least 90% of the region's pixels differ clearly (max channel difference above 0
  for lossless formats, above :data:`~redact.review.checks.LOSSY_TOL` grey levels for
  JPEG/WebP/video), or
* the region is near-uniform (a solid fill whose colour happens to be close to a dark
  original after lossy compression), or
* lossy outputs only: the detail (Laplacian of Gaussian) of output and input no longer
  correlate (blur and pixelate over low-contrast originals, where compression blurs
  the per-pixel difference).

An output replaced by its unredacted original fails all three (no change, real texture,
detail correlation near 1); so do review-only ``outline`` files, which are also flagged
on their own because the manifest says ``redacted: false``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.config import RedactConfig
from redact.errors import ManifestError, MediaError, RedactError
from redact.hashing import sha256_file
from redact.manifest import DIGEST_SUFFIX, validate_frame_line
from redact.manifest import load as load_manifest
from redact.review.checks import Finding, check_regions, find_leaks

log = logging.getLogger("redact")

LOSSY_FORMATS = frozenset({"JPEG", "WEBP", "AVIF"})
LEAK_THRESHOLD_FACTOR = 0.5  # the leak check also lists candidates down to this fraction of the run's thresholds
DEFAULT_FRAMES_STEP = 30

ProgressCallback = Callable[[int, int], None]
"""Called with (files checked, files total)."""


@dataclass
class VerifyResult:
    """Everything verify checked and found."""

    manifest: str
    manifest_sha256: str | None
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    regions_checked: int = 0
    frames_checked: int = 0
    leak_checked: bool = False
    strict: bool = False

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "problem" or (self.strict and f.severity == "warning")]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 clean, 1 problems found."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "manifest_sha256": self.manifest_sha256,
            "ok": self.ok,
            "files": self.files,
            "regions_checked": self.regions_checked,
            "frames_checked": self.frames_checked,
            "leak_checked": self.leak_checked,
            "findings": [{k: v for k, v in asdict(f).items() if v is not None} for f in self.findings],
        }


# --- paths and media -----------------------------------------------------------------


def input_root(given: str, base: Path | None = None) -> Path:
    """A recorded input path (as given on the run's command line), relative to ``base``
    (default: the current folder) unless absolute."""
    root = Path(given)
    return base / root if base is not None and not root.is_absolute() else root


def recorded_max_pixels(data: Mapping[str, Any]) -> int:
    """The run's --max-pixels, used again when re-reading its pictures."""
    return int((data.get("settings") or {}).get("max_pixels") or RedactConfig().max_pixels)


def input_path(data: Mapping[str, Any], entry: Mapping[str, Any], base: Path | None = None) -> Path:
    """Where a file entry's input is: its root (a file, or a folder plus ``input``)."""
    root = input_root(data["inputs"][int(entry.get("root", 0))], base)
    if root.is_dir():
        return root / str(entry["input"])
    return root


def video_frames(path: Path, step: int) -> Iterator[tuple[int, NDArray[np.uint8]]]:
    """Every ``step``-th decoded frame of a video as (index, BGR uint8 (H, W, 3)), upright as stored.

    Raises:
        MediaError: the file cannot be opened or decoded.
    """
    import av

    try:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index % step == 0:
                    yield index, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    except (av.error.FFmpegError, OSError) as exc:  # type: ignore[attr-defined]
        raise MediaError(f"cannot decode video {path}: {exc}") from None


def read_sidecar(path: Path) -> list[dict[str, Any]]:
    """The lines of a video frames sidecar (JSON Lines), indexed by position.

    Raises:
        ManifestError: unreadable or malformed.
    """
    try:
        lines = path.read_text("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read frames sidecar {path}: {exc}") from None


def sampled_video(entry: Mapping[str, Any], out_path: Path, in_path: Path | None, sidecar: list[dict[str, Any]],
                  step: int) -> Iterator[tuple[int, NDArray[np.uint8], NDArray[np.uint8] | None, list[dict[str, Any]]]]:
    """(frame index, output BGR, input BGR or None, region records) for every ``step``-th frame.

    The input is decoded alongside only when its rotation is 0 (frames then line up pixel
    for pixel); otherwise only the output and its regions are given.
    """
    by_frame = {int(line["frame"]): line for line in sidecar}
    compare = in_path is not None and not entry.get("rotation")
    ins = video_frames(in_path, step) if compare and in_path is not None else None
    for index, out in video_frames(out_path, step):
        inp = None
        if ins is not None:
            nxt = next(ins, None)
            inp = nxt[1] if nxt is not None and nxt[0] == index and nxt[1].shape == out.shape else None
        yield index, out, inp, list(by_frame.get(index, {}).get("regions", []))


def leak_detector(data: Mapping[str, Any], threads: int | None = None, lanes: int = 1) -> Any:
    """The run's detectors at its resolved thresholds (occupants: persons in or on vehicles
    only), giving their candidates down to :data:`LEAK_THRESHOLD_FACTOR` times those too
    (:class:`~redact.review.checks.LeakLook`); ``lanes``: how many run side by side
    (:mod:`redact.detect.lanes`)."""
    from redact.detect import build_detector_set
    from redact.detect.turns import looking
    from redact.review.checks import LeakLook

    settings = data.get("settings", {})
    resolved = settings.get("resolved_thresholds") or {}
    detectors = build_detector_set(
        faces=bool(settings.get("faces", True)),
        plates=bool(settings.get("plates", True)),
        # Persons in vehicles, not window zones: a zone drawn around a vehicle seen in the
        # output (its windows blacked out, its box found anew) says nothing of what shows.
        occupants="off" if settings.get("occupants", "off") == "off" else "people",
        thresholds={k: float(v) for k, v in resolved.items()},
        quality=str(settings.get("quality", "balanced")),
        threads=threads,
        lanes=lanes,
    )
    # A run that looked at its pictures turned is checked turned too.
    return LeakLook(looking(detectors, str(settings.get("orientations", "upright"))), LEAK_THRESHOLD_FACTOR)


# --- the check -----------------------------------------------------------------------


def verify(
    manifest_path: Path,
    *,
    out_dir: Path | None = None,
    inputs_base: Path | None = None,
    leak_check: bool = True,
    frames_step: int = DEFAULT_FRAMES_STEP,
    detectors: Any = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    signoff: Path | None = None,
) -> VerifyResult:
    """Re-check everything a manifest claims.

    Args:
        manifest_path: the run's ``manifest.json``.
        out_dir: the run's output folder (default: the manifest's folder).
        inputs_base: folder the manifest's relative ``inputs`` are relative to (default: cwd).
        leak_check: re-run the detectors on the outputs (the slow part).
        frames_step: check every N-th video frame (>= 1).
        detectors: detector set for the leak check (default: the run's models, their
            candidates down to lowered thresholds too, see :func:`leak_detector`).
        strict: warnings fail too.
        progress: called after each file.
        signoff: a reviewer's sign-off record (:mod:`redact.review.signoff`): files it does
            not approve, and a run it does not cover, are problems.

    Raises:
        ManifestError: the manifest is missing, unreadable or does not match its schema.
        ConfigError: the sign-off cannot be read or does not match its schema.
    """
    if frames_step < 1:
        raise ValueError("frames_step must be >= 1")
    data = load_manifest(manifest_path, check=True)
    digest = sha256_file(manifest_path)
    result = VerifyResult(str(manifest_path), digest, strict=strict, leak_checked=leak_check)
    add = result.findings.append
    _check_digest(manifest_path, digest, add)
    if signoff is not None:
        from redact.review import signoff as signoffs

        result.findings += signoffs.check(data, digest, signoffs.load(signoff), str(signoff))
    if not data.get("complete", False):
        add(Finding("manifest", "the run did not finish (complete: false); rerun it before publishing"))
    out_dir = out_dir or manifest_path.parent
    run_thresholds = (data.get("settings") or {}).get("resolved_thresholds") or {}
    if leak_check and detectors is None:
        detectors = _leak_detectors(data)
    files = data["files"]
    for n, entry in enumerate(files, 1):
        result.files += 1
        try:
            _check_file(data, entry, manifest_path.parent, out_dir, inputs_base, detectors if leak_check else None,
                        run_thresholds, frames_step, result)
        except (RedactError, OSError) as exc:
            add(Finding("output", f"cannot check: {exc}", file=str(entry["input"])))
        if progress:
            progress(n, len(files))
    return result


def _leak_detectors(data: Mapping[str, Any]) -> Any:
    """The leak check's detectors on this machine: pictures (and frames) of up to
    :data:`~redact.detect.lanes.LANES_MAX_PIXELS` with their detectors side by side on the CPU,
    as a run redacts such stills, larger ones one after another."""
    from redact.detect.lanes import side_by_side

    return side_by_side(leak_detector(data), lambda threads, lanes: leak_detector(data, threads, lanes), None,
                        cpu_only=False)


def _check_digest(manifest_path: Path, digest: str, add: Callable[[Finding], None]) -> None:
    side = manifest_path.with_name(manifest_path.name + DIGEST_SUFFIX)
    try:
        recorded = side.read_text("utf-8").split()[0].lower() if side.is_file() else None
    except (OSError, UnicodeDecodeError, IndexError):
        recorded = ""
    if recorded is None:
        add(Finding("digest", f"{side.name} is missing; the manifest cannot be checked for edits"))
    elif recorded != digest:
        add(Finding("digest", f"manifest SHA-256 {digest} differs from {side.name} ({recorded or 'unreadable'}); "
                              "the manifest was edited after the run"))


def _style(data: Mapping[str, Any]) -> str | None:
    """The style the run redacted with."""
    style = (data.get("settings") or {}).get("style")
    return str(style) if style else None


def _check_file(data: Mapping[str, Any], entry: Mapping[str, Any], manifest_dir: Path, out_dir: Path,
                inputs_base: Path | None, detector: Any, run_thresholds: Mapping[str, float], step: int,
                result: VerifyResult) -> None:
    add = result.findings.append
    name = str(entry["input"])
    if entry["status"] == "skipped":
        return
    if entry["status"] == "failed":
        add(Finding("failed", f"the run failed this file ({entry.get('error')}); it has no redacted output",
                    file=name))
        return
    if entry.get("redacted") is False:
        add(Finding("unredacted", "written with a review-only style (outline): the output is NOT redacted",
                    file=name))
    out_path = out_dir / str(entry["output"])
    if not out_path.is_file():
        add(Finding("output", f"output {out_path} is missing", file=name))
        return
    if sha256_file(out_path) != entry["output_sha256"]:
        add(Finding("output", f"output {out_path} does not match its recorded SHA-256 (changed or replaced)",
                    file=name))
    in_path: Path | None = input_path(data, entry, inputs_base)
    if in_path is not None and in_path.is_file():
        if sha256_file(in_path) != entry["input_sha256"]:
            add(Finding("input", f"input {in_path} differs from the one redacted (changed since the run); "
                                 "pixel checks against it skipped", severity="warning", file=name))
            in_path = None
    else:
        add(Finding("input", f"input {in_path} not found (run verify from the folder the run was started in, "
                             "or pass --inputs-base); pixel checks against it skipped", severity="warning", file=name))
        in_path = None
    style = _style(data)
    if entry["kind"] == "video":
        _check_video(entry, manifest_dir, out_path, in_path, detector, run_thresholds, step, result, style)
        return
    from redact.io.image import read_image
    from redact.io.metadata import pictures_in

    for what in pictures_in(out_path):
        add(Finding("metadata", f"{what}: the output carries the picture, unredacted, in its metadata; run "
                                "again without --keep-metadata (or with a build that leaves such pictures out)",
                    file=name))

    max_px = recorded_max_pixels(data)
    out = read_image(out_path, max_px).bgr
    records = list(entry.get("regions", []))
    result.frames_checked += 1
    inp = None if in_path is None else read_image(in_path, max_px).bgr
    if inp is not None and inp.shape != out.shape:
        add(Finding("output", f"output is {out.shape[1]}x{out.shape[0]} but input is "
                              f"{inp.shape[1]}x{inp.shape[0]}", file=name))
        inp = None
    if inp is not None:
        result.findings.extend(check_regions(out, inp, records, lossy=entry.get("format") in LOSSY_FORMATS,
                                             file=name, frame=0, style=style))
        result.regions_checked += len(records)
    if detector is not None:
        result.findings.extend(find_leaks(detector, out, records, list(entry.get("removed", [])), run_thresholds,
                                          file=name, frame=0, original=inp))


def _as_shown(detector: Any, out_path: Path) -> Any:
    """The leak check's detectors, looking at an anamorphic or interlaced video's frames as
    they are shown, as the run's did (:mod:`redact.video.anamorphic`,
    :mod:`redact.video.fields`)."""
    from redact.io.video import VideoReader
    from redact.video.anamorphic import as_shown

    try:
        with VideoReader(out_path, keep_audio=False) as reader:
            sar, interlaced = reader.sample_aspect_ratio, reader.interlaced
    except MediaError:
        return detector  # the frame checks report an unreadable output
    return as_shown(detector, None if sar is None else float(sar), interlaced)


def _check_video(entry: Mapping[str, Any], manifest_dir: Path, out_path: Path, in_path: Path | None, detector: Any,
                 run_thresholds: Mapping[str, float], step: int, result: VerifyResult, style: str | None) -> None:
    add = result.findings.append
    name = str(entry["input"])
    frames = entry.get("frames")
    if not frames:
        add(Finding("frames", "video entry has no frames sidecar; its regions cannot be checked", file=name))
        return
    side = manifest_dir / str(frames["file"])
    if not side.is_file():
        add(Finding("frames", f"frames sidecar {side} is missing", file=name))
        return
    if sha256_file(side) != frames["sha256"]:
        add(Finding("frames", f"frames sidecar {side} does not match its recorded SHA-256", file=name))
    lines = read_sidecar(side)
    if len(lines) != int(frames["count"]):
        add(Finding("frames", f"frames sidecar has {len(lines)} lines, the manifest says {frames['count']}",
                    file=name))
    removed_by_frame: dict[int, list[Mapping[str, Any]]] = {}
    for rec in entry.get("removed", []):
        removed_by_frame.setdefault(int(rec["frame"]), []).append(rec)
    if detector is not None:
        detector = _as_shown(detector, out_path)
    for index, out, inp, records in sampled_video(entry, out_path, in_path, lines, step):
        if index < len(lines):
            try:
                validate_frame_line(lines[index])
            except ManifestError as exc:
                add(Finding("frames", str(exc), file=name, frame=index))
        result.frames_checked += 1
        if inp is not None:
            result.findings.extend(check_regions(out, inp, records, lossy=True, file=name, frame=index,
                                                 style=style))
            result.regions_checked += len(records)
        if detector is not None:
            result.findings.extend(find_leaks(detector, out, records, removed_by_frame.get(index, []),
                                              run_thresholds, file=name, frame=index, original=inp))
