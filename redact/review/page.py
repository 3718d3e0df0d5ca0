"""The interactive review page: one self-contained HTML file a reviewer edits and signs off in.

The page embeds the redacted outputs only (as :mod:`redact.review.report` does: outputs written
with the review-only ``outline`` style, and outputs whose bytes no longer match the
manifest, are withheld), its script, template and style (``page.js``, ``sha256.js``,
``page.html``, ``page.css`` in this package) and the run's data as JSON. It needs no
network; its Content-Security-Policy forbids every fetch. Pictures are shown at most
:data:`IMAGE_WIDTH` (stills) or :data:`FRAME_WIDTH` (video frames) pixels wide; every box
on the page is ``[x, y, w, h]`` in the output's own pixels (top-left origin), as in the
manifest and the overrides file.

For video the page carries a sample of frames: :data:`VIDEO_SAMPLES` spread over the clip,
the frames around each track's start and end, each cut and the frame before it, and
frames holding low-confidence regions; at most :data:`MAX_FRAMES` in all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.errors import MediaError, RedactError
from redact.hashing import sha256_file
from redact.manifest import load as load_manifest
from redact.review.overrides import Overrides
from redact.review.report import LOW_SCORE_MARGIN, _attention, _e, _jpeg_b64, _summary, timeline_svg, withheld_reason
from redact.review.verify import VerifyResult, input_path, read_sidecar, recorded_max_pixels

IMAGE_WIDTH = 1600  # pixels; stills are embedded at most this wide
FRAME_WIDTH = 960  # pixels; video frames are embedded at most this wide
VIDEO_SAMPLES = 12  # frames spread evenly over each clip
MAX_FRAMES = 60  # video frames embedded per clip at most
LOW_FRAMES = 8  # frames with low-confidence regions added per clip at most
PAGE_SCHEMA = "redact-review-page/1"


def _asset(name: str) -> str:
    return resources.files("redact.review").joinpath(name).read_text("utf-8")


def _data_uri(bgr: NDArray[np.uint8], width: int) -> str:
    import cv2

    scale = min(1.0, width / bgr.shape[1])
    if scale < 1:
        size = (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale)))
        bgr = np.ascontiguousarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return "data:image/jpeg;base64," + _jpeg_b64(bgr, 85)


def is_low(record: Mapping[str, Any], thresholds: Mapping[str, float]) -> bool:
    """Whether a region record is a low-confidence detection (score below threshold + margin)."""
    score = record.get("score")
    return score is not None and float(score) < float(thresholds.get(str(record["label"]), 0.0)) + LOW_SCORE_MARGIN


def pick_frames(count: int, tracks: Sequence[Mapping[str, Any]], cuts: Iterable[int],
                low: Sequence[int] = ()) -> dict[int, list[str]]:
    """The video frames the page shows, each with why it was picked.

    Args:
        count: frames in the clip.
        tracks: manifest track records (``id``, ``first_frame``, ``last_frame``).
        cuts: first frames of new shots.
        low: frames holding low-confidence regions (ascending).

    Returns:
        frame index -> reasons, at most :data:`MAX_FRAMES` frames; the frames around track
        starts and ends and cuts come before the even samples when the cap bites.
    """
    count = max(1, count)
    marks: dict[int, list[str]] = {}

    def mark(f: int, why: str) -> None:
        if 0 <= f < count:
            marks.setdefault(f, []).append(why)

    for t in tracks:
        first, last, tid = int(t["first_frame"]), int(t["last_frame"]), int(t["id"])
        mark(first - 1, f"before track #{tid}")
        mark(first, f"track #{tid} starts")
        mark(last, f"track #{tid} ends")
        mark(last + 1, f"after track #{tid}")
    for c in cuts:
        mark(int(c) - 1, "before a cut")
        mark(int(c), "cut")
    for f in _spread(list(low), LOW_FRAMES):
        mark(f, "low confidence")
    if len(marks) > MAX_FRAMES - VIDEO_SAMPLES:
        marks = {f: marks[f] for f in _spread(sorted(marks), MAX_FRAMES - VIDEO_SAMPLES)}
    for f in _spread(list(range(count)), VIDEO_SAMPLES):
        marks.setdefault(f, []).append("sample")
    return dict(sorted(marks.items()))


def _spread(items: list[int], n: int) -> list[int]:
    """At most ``n`` of ``items``, evenly spaced, first and last included."""
    if len(items) <= n:
        return items
    if n <= 1:
        return items[:n]
    return [items[round(k * (len(items) - 1) / (n - 1))] for k in range(n)]


def decode_frames(path: Path, wanted: Iterable[int]) -> dict[int, NDArray[np.uint8]]:
    """The wanted frames of a video as BGR uint8 (H, W, 3), upright as stored.

    Raises:
        MediaError: the file cannot be opened or decoded.
    """
    import av

    want = set(wanted)
    last = max(want, default=-1)
    got: dict[int, NDArray[np.uint8]] = {}
    try:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in want:
                    got[index] = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
                if index >= last:
                    break
    except (av.error.FFmpegError, OSError) as exc:  # type: ignore[attr-defined]
        raise MediaError(f"cannot decode video {path}: {exc}") from None
    return got


def _records(regions: Sequence[Mapping[str, Any]], thresholds: Mapping[str, float]) -> list[dict[str, Any]]:
    keep = ("label", "score", "box", "source", "track", "reviewer", "reason")
    return [{**{k: r[k] for k in keep if k in r}, "low": is_low(r, thresholds)} for r in regions]


def _file_data(n: int, data: Mapping[str, Any], entry: Mapping[str, Any], manifest_dir: Path, out_dir: Path,
               inputs_base: Path | None, originals: bool, thresholds: Mapping[str, float]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "i": n, "input": entry["input"], "root": int(entry.get("root", 0)), "kind": entry["kind"],
        "status": entry["status"], "error": entry.get("error"), "warnings": list(entry.get("warnings", [])),
        "counts": entry.get("counts") or {}, "width": entry.get("width"), "height": entry.get("height"),
        "frames": [], "frameCount": 1, "tracks": [], "cuts": [], "timeline": "", "withheld": None,
    }
    if entry["status"] != "ok":
        return item
    out_path = out_dir / str(entry["output"])
    in_path = input_path(data, entry, inputs_base)
    show_orig = originals and in_path.is_file() and sha256_file(in_path) == entry.get("input_sha256")
    item["withheld"] = withheld_reason(entry, out_path)
    try:
        if entry["kind"] == "video":
            _video_data(item, entry, manifest_dir, out_path, in_path if show_orig else None, thresholds)
        else:
            _image_data(item, data, entry, out_path, in_path if show_orig else None, thresholds)
    except (RedactError, OSError) as exc:
        item["withheld"] = f"cannot show pictures: {exc}"
        item["frames"] = []
    return item


def _image_data(item: dict[str, Any], data: Mapping[str, Any], entry: Mapping[str, Any], out_path: Path,
                in_path: Path | None, thresholds: Mapping[str, float]) -> None:
    from redact.io.image import read_image

    max_px = recorded_max_pixels(data)
    src = orig = None
    if not item["withheld"]:
        bgr = read_image(out_path, max_px).bgr
        item["width"], item["height"] = int(bgr.shape[1]), int(bgr.shape[0])
        src = _data_uri(bgr, IMAGE_WIDTH)
    if in_path is not None:
        orig = _data_uri(read_image(in_path, max_px).bgr, IMAGE_WIDTH)
    if src or orig:
        item["frames"] = [{"f": 0, "src": src, "orig": orig, "why": [],
                           "regions": _records(entry.get("regions", []), thresholds)}]


def _video_data(item: dict[str, Any], entry: Mapping[str, Any], manifest_dir: Path, out_path: Path,
                in_path: Path | None, thresholds: Mapping[str, float]) -> None:
    frames = entry.get("frames") or {}
    lines = read_sidecar(manifest_dir / str(frames["file"])) if frames.get("file") else []
    count = int(entry.get("frame_count") or frames.get("count") or len(lines) or 1)
    by_frame = {int(line["frame"]): line.get("regions", []) for line in lines}
    tracks = list(entry.get("tracks") or [])
    cuts = [int(c["frame"]) for c in entry.get("cuts") or []]
    low = [f for f in sorted(by_frame) if any(is_low(r, thresholds) for r in by_frame[f])]
    marks = pick_frames(count, tracks, cuts, low)
    states: dict[int, dict[int, str]] = {}
    for line in lines:
        for r in line.get("regions", []):
            if "track" in r:
                states.setdefault(int(r["track"]), {})[int(line["frame"])] = (
                    "detector" if r["source"] == "detector" else "tracker")
    item.update(frameCount=count, tracks=tracks, cuts=cuts,
                timeline=timeline_svg(tracks, states, count, cuts=cuts) if tracks else "")
    outs = {} if item["withheld"] else decode_frames(out_path, marks)
    origs = decode_frames(in_path, marks) if in_path is not None and not entry.get("rotation") else {}
    for f, why in marks.items():
        if f not in outs and f not in origs:
            continue
        if f in outs:
            item["width"], item["height"] = int(outs[f].shape[1]), int(outs[f].shape[0])
        item["frames"].append({
            "f": f, "why": why, "regions": _records(by_frame.get(f, []), thresholds),
            "src": _data_uri(outs[f], FRAME_WIDTH) if f in outs else None,
            "orig": _data_uri(origs[f], FRAME_WIDTH) if f in origs else None,
        })


def order_key(item: Mapping[str, Any]) -> tuple[int, int]:
    """Files with no detections first, then files with low-confidence regions, then the
    rest, then files with nothing to review (failed); manifest order within each."""
    if item["status"] != "ok":
        return (3, item["i"])
    if not sum((item.get("counts") or {}).values()):
        return (0, item["i"])
    if any(r["low"] for fr in item["frames"] for r in fr["regions"]):
        return (1, item["i"])
    return (2, item["i"])


def build_page(
    manifest_path: Path,
    *,
    out_dir: Path | None = None,
    inputs_base: Path | None = None,
    include_originals: bool = False,
    verify_result: VerifyResult | None = None,
    prior: Overrides | None = None,
) -> str:
    """The HTML text of the interactive review page.

    Args:
        manifest_path: the run's ``manifest.json``.
        out_dir: the run's output folder (default: the manifest's folder).
        inputs_base: folder the manifest's relative inputs are relative to (default: cwd).
        include_originals: also embed the UNREDACTED inputs (internal review only).
        verify_result: findings of :func:`redact.review.verify.verify` to list.
        prior: the overrides the run applied, carried into the export so that a second
            review round keeps them (overrides apply to fresh detections every time).

    Raises:
        ManifestError: the manifest cannot be read.
    """
    data = load_manifest(manifest_path, check=False)
    out_dir = out_dir or manifest_path.parent
    settings = data.get("settings") or {}
    thresholds = settings.get("resolved_thresholds") or {}
    files = [
        _file_data(n, data, e, manifest_path.parent, out_dir, inputs_base, include_originals, thresholds)
        for n, e in enumerate(data.get("files", [])) if e["status"] != "skipped"
    ]
    files.sort(key=order_key)
    applied = data.get("overrides")
    page = {
        "schema": PAGE_SCHEMA,
        "manifest": str(manifest_path),
        "manifest_sha256": sha256_file(manifest_path),
        "tool_version": (data.get("tool") or {}).get("version"),
        # Indexes count a run's own detections; once edits were applied, name regions by box.
        "remove_by": "box" if applied else "index",
        "applied": applied,
        "prior": {"reviewer": prior.reviewer, "edits": list(prior.edits)} if prior else None,
        "originals": include_originals,
        "outline_run": settings.get("style") == "outline",
        "files": files,
    }
    report = _summary(data, verify_result) + _attention(data, thresholds, verify_result)
    blob = json.dumps(page, separators=(",", ":")).replace("<", "\\u003c")
    banner = ("<div class='banner'>WARNING: this page contains UNREDACTED ORIGINAL PICTURES (red frames). "
              "Internal review only: do not publish, forward or upload it.</div>" if include_originals else "")
    title = f"redact review · {manifest_path}"
    return _asset("page.html").format(
        title=_e(title), css=_asset("page.css"), js=_asset("sha256.js") + _asset("page.js"), data=blob,
        banner=banner, report=report, manifest=_e(manifest_path), sha=_e(page["manifest_sha256"]),
    )


def prior_overrides(manifest_path: Path, given: Path | None = None) -> tuple[Overrides | None, str | None]:
    """The overrides a run applied, to carry into the next export, and a warning when they
    cannot be found.

    Args:
        manifest_path: the run's ``manifest.json``.
        given: the overrides file named by the reviewer; default: the one the manifest
            records, when it is still there with the recorded SHA-256.

    Raises:
        ConfigError: ``given`` cannot be read or is not valid.
        ManifestError: the manifest cannot be read.
    """
    from redact.review.overrides import load as load_overrides

    if given is not None:
        return load_overrides(given), None
    applied = load_manifest(manifest_path, check=False).get("overrides")
    if not applied:
        return None, None
    recorded = Path(str(applied["file"]))
    if recorded.is_file() and sha256_file(recorded) == applied["sha256"]:
        return load_overrides(recorded), None
    return None, (f"this run applied {applied['edits']} edit(s) from {applied['file']}, which is not here unchanged; "
                  "pass --overrides FILE so that the exported overrides keep them")


def write_page(path: Path, text: str) -> None:
    """Write the page atomically."""
    from redact.io.atomic import write_bytes_atomic

    write_bytes_atomic(path, text.encode("utf-8"))
