"""A self-contained HTML review report of a run (one file, inline CSS, embedded JPEG thumbnails).

By default only redacted outputs are embedded, and only when their bytes still match the
manifest: an output that changed since the run, or one written with the review-only
``outline`` style, is withheld. ``include_originals=True`` adds the unredacted inputs
under a warning banner (for internal review only).

Region numbers drawn on the thumbnails are each region's 0-based position in the
manifest's list for that picture: the ``index`` a ``remove`` override takes.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.errors import RedactError
from redact.hashing import sha256_file
from redact.manifest import load as load_manifest
from redact.review.verify import VerifyResult, input_path, read_sidecar, recorded_max_pixels, video_frames

THUMB_WIDTH = 640  # pixels; thumbnails are at most this wide
SHEET_FRAMES = 8  # frames on a video contact sheet
SHEET_WIDTH = 320  # pixels per contact-sheet frame
LOW_SCORE_MARGIN = 0.2  # a detector region scoring below threshold + this is "low confidence"
COLORS_BGR = {"face": (40, 40, 230), "plate": (0, 170, 255), "occupant": (200, 120, 0), "manual": (60, 180, 60)}
TRACK_COLORS = {"face": "#e62828", "plate": "#ffaa00", "occupant": "#0078c8"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px;font-family:ui-monospace,monospace}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f0f0f0}.ok{color:#1a7f37}.bad{color:#b00020;font-weight:600}.warn{color:#9a6700}
.banner{background:#b00020;color:#fff;padding:12px 16px;font-weight:700;font-size:16px;margin:12px 0;border-radius:4px}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;margin:6px 0;font-size:13px}
.file{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 14px;margin:12px 0}
.pics{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0}
figcaption{font-size:12px;color:#555}img{border:1px solid #ccc;max-width:100%}
.orig{outline:4px solid #b00020}.sheet{display:flex;flex-wrap:wrap;gap:6px}
.meta{font-size:12px;color:#555}code{font-size:12px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _jpeg_b64(bgr: NDArray[np.uint8], quality: int = 80) -> str:
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RedactError("cannot encode a report thumbnail")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def _img(bgr: NDArray[np.uint8], alt: str, cls: str = "") -> str:
    return (f'<img class="{cls}" alt="{_e(alt)}" width="{bgr.shape[1]}" height="{bgr.shape[0]}" '
            f'src="data:image/jpeg;base64,{_jpeg_b64(bgr)}">')


def annotate(bgr: NDArray[np.uint8], records: Sequence[Mapping[str, Any]], width: int) -> NDArray[np.uint8]:
    """A thumbnail at most ``width`` px wide with numbered region outlines.

    Args:
        bgr: the picture, BGR uint8 (H, W, 3).
        records: manifest region records (box ``[x, y, w, h]`` in the picture's pixels).
        width: maximum thumbnail width in pixels.
    """
    scale = min(1.0, width / bgr.shape[1])
    thumb = cv2.resize(bgr, (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else bgr.copy()
    thumb = np.ascontiguousarray(thumb, dtype=np.uint8)
    for n, rec in enumerate(records):
        x, y, w, h = (float(v) * scale for v in rec["box"])
        key = "manual" if rec.get("source") == "manual" else str(rec["label"])
        color = COLORS_BGR.get(key, (255, 0, 255))
        p1, p2 = (int(x), int(y)), (int(x + w) - 1, int(y + h) - 1)
        cv2.rectangle(thumb, p1, p2, color, 2)
        text = str(n)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        ty = max(th + 3, int(y))
        cv2.rectangle(thumb, (int(x), ty - th - 3), (int(x) + tw + 4, ty), color, -1)
        cv2.putText(thumb, text, (int(x) + 2, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return thumb


def timeline_svg(tracks: Sequence[Mapping[str, Any]], states: Mapping[int, Mapping[int, str]],
                 frame_count: int, width: int = 720, cuts: Sequence[int] = ()) -> str:
    """An inline SVG: one row per track, observed frames solid, predicted frames pale, and a
    dashed line at each cut.

    Args:
        tracks: manifest track records (id, label, first_frame, last_frame, observed, predicted).
        states: per track id, frame index -> ``"detector"`` (observed) or ``"tracker"`` (predicted);
            when a track has none, its whole span is drawn as observed-or-predicted hatch.
        frame_count: frames in the video (x axis).
        width: SVG width in pixels.
        cuts: first frames of new shots.
    """
    row, left = 16, 70
    n = max(1, frame_count)
    sx = (width - left - 10) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * (len(tracks) + 1) + 8}" '
             f'font-size="11" font-family="monospace">',
             '<defs><pattern id="h" width="4" height="4" patternUnits="userSpaceOnUse">'
             '<path d="M0,4 L4,0" stroke="#888"/></pattern></defs>']
    for i, t in enumerate(tracks):
        y = 4 + i * row
        color = TRACK_COLORS.get(str(t["label"]), "#ff00ff")
        parts.append(f'<text x="0" y="{y + 11}">#{int(t["id"])} {_e(t["label"])}</text>')
        st = states.get(int(t["id"]))
        if not st:
            x0 = left + int(t["first_frame"]) * sx
            span = max(1.0, (t["last_frame"] - t["first_frame"] + 1) * sx)
            parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{span:.1f}"'
                         f' height="{row - 4}" fill="url(#h)" stroke="{color}"/>')
            continue
        for start, end, kind in _runs(st):
            fill = color if kind == "detector" else color + "55"
            parts.append(f'<rect x="{left + start * sx:.1f}" y="{y}" width="{max(1.0, (end - start + 1) * sx):.1f}" '
                         f'height="{row - 4}" fill="{fill}"><title>frames {start}-{end}: '
                         f'{"observed" if kind == "detector" else "predicted"}</title></rect>')
    y = 4 + len(tracks) * row
    for c in cuts:
        parts.append(f'<line x1="{left + c * sx:.1f}" y1="0" x2="{left + c * sx:.1f}" y2="{y}" stroke="#333" '
                     f'stroke-dasharray="3,2"><title>cut at frame {int(c)}</title></line>')
    parts.append(f'<line x1="{left}" y1="{y}" x2="{width - 10}" y2="{y}" stroke="#999"/>')
    parts.append(f'<text x="{left}" y="{y + 12}">0</text><text x="{width - 60}" y="{y + 12}">{n - 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(states: Mapping[int, str]) -> list[tuple[int, int, str]]:
    runs: list[tuple[int, int, str]] = []
    for f in sorted(states):
        kind = states[f]
        if runs and runs[-1][1] == f - 1 and runs[-1][2] == kind:
            runs[-1] = (runs[-1][0], f, kind)
        else:
            runs.append((f, f, kind))
    return runs


def build_report(
    manifest_path: Path,
    *,
    out_dir: Path | None = None,
    inputs_base: Path | None = None,
    include_originals: bool = False,
    verify_result: VerifyResult | None = None,
) -> str:
    """The HTML text of a review report.

    Args:
        manifest_path: the run's ``manifest.json``.
        out_dir: the run's output folder (default: the manifest's folder).
        inputs_base: folder the manifest's relative inputs are relative to (default: cwd).
        include_originals: also embed the UNREDACTED inputs (internal review only).
        verify_result: findings of :func:`redact.review.verify.verify` to list.

    Raises:
        ManifestError: the manifest cannot be read.
    """
    data = load_manifest(manifest_path, check=False)
    out_dir = out_dir or manifest_path.parent
    settings = data.get("settings") or {}
    thresholds = settings.get("resolved_thresholds") or {}
    files = data.get("files", [])
    findings = verify_result.findings if verify_result else []
    by_file: dict[str, list[Any]] = {}
    for f in findings:
        by_file.setdefault(f.file or "", []).append(f)
    body: list[str] = []
    body.append(f"<h1>redact review report</h1><div class='meta'>manifest <code>{_e(manifest_path)}</code> · "
                f"sha256 <code>{_e(sha256_file(manifest_path))}</code> · created {_e(data.get('created'))} · "
                f"redact {_e(data.get('tool', {}).get('version'))}</div>")
    if include_originals:
        body.append("<div class='banner'>WARNING: this report contains UNREDACTED ORIGINAL PICTURES "
                    "(red frames). Internal review only: do not publish, forward or upload it.</div>")
    if not data.get("complete", False):
        body.append("<div class='note'>The run did not finish (complete: false).</div>")
    if settings.get("style") == "outline":
        body.append("<div class='banner'>This run used the review-only outline style: its outputs are NOT "
                    "redacted and are withheld from this report.</div>")
    body.append(_summary(data, verify_result))
    body.append(_attention(data, thresholds, verify_result))
    body.append("<h2>Files</h2>")
    for i, entry in enumerate(files):
        body.append(_file_section(i, data, entry, manifest_path.parent, out_dir, inputs_base, include_originals,
                                  by_file.get(str(entry["input"]), []), thresholds))
    title = f"redact review · {manifest_path}"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def _summary(data: Mapping[str, Any], vr: VerifyResult | None) -> str:
    s = data.get("summary", {})
    regions = s.get("regions", {})
    settings = data.get("settings") or {}
    rows = [
        ("files", s.get("files")), ("ok", s.get("ok")), ("failed", s.get("failed")), ("skipped", s.get("skipped")),
        ("images", s.get("images")), ("videos", s.get("videos")), ("frames", s.get("frames")),
        ("face regions", regions.get("face")), ("plate regions", regions.get("plate")),
        ("occupant regions", regions.get("occupant")), ("occupants", settings.get("occupants")),
        ("style", settings.get("style")), ("quality", settings.get("quality")),
        ("thresholds", json.dumps(settings.get("resolved_thresholds"))),
    ]
    ov = data.get("overrides")
    if ov:
        rows.append(("overrides", f"{ov.get('edits')} edits by {ov.get('reviewer')} ({ov.get('file')})"))
    if vr is not None:
        verdict = ("<span class='ok'>passed</span>" if vr.ok else
                   f"<span class='bad'>FAILED: {len(vr.problems)} problem(s)</span>")
        rows.append(("verify", verdict + f" · {vr.regions_checked} regions, {vr.frames_checked} pictures checked"
                     + ("" if vr.leak_checked else " · leak check skipped")))
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{v if k == 'verify' else _e(v)}</td></tr>" for k, v in rows)
    return f"<h2>Summary</h2><table>{cells}</table>"


def _attention(data: Mapping[str, Any], thresholds: Mapping[str, float], vr: VerifyResult | None) -> str:
    files = data.get("files", [])
    out = ["<h2>Needs attention</h2>"]
    failed = [e for e in files if e["status"] == "failed"]
    out.append(f"<h3>Failed files ({len(failed)})</h3>")
    out.append(_list([f"<a href='#f{files.index(e)}'>{_e(e['input'])}</a>: {_e(e.get('error'))}" for e in failed]))
    empty = [e for e in files if e["status"] == "ok" and not sum((e.get("counts") or {}).values())]
    out.append(f"<h3>Files with no detections: the likeliest misses ({len(empty)})</h3>")
    out.append(_list([f"<a href='#f{files.index(e)}'>{_e(e['input'])}</a>" for e in empty]))
    low = []
    for i, e in enumerate(files):
        for n, r in enumerate(e.get("regions", [])):
            score = r.get("score")
            if score is not None and score < float(thresholds.get(r["label"], 0.0)) + LOW_SCORE_MARGIN:
                low.append(f"<a href='#f{i}'>{_e(e['input'])}</a> region {n}: {_e(r['label'])} "
                           f"score {score:.2f} box {r['box']}")
    out.append(f"<h3>Low-confidence regions ({len(low)})</h3>")
    out.append(_list(low))
    ended = [
        f"<a href='#f{i}'>{_e(e['input'])}</a> frame {int(c['frame'])} ({float(c['pts']):.2f} s): "
        f"a cut ended track{'s' if len(c['tracks']) > 1 else ''} {', '.join(f'#{int(t)}' for t in c['tracks'])}"
        for i, e in enumerate(files) for c in (e.get("cuts") or []) if c.get("tracks")
    ]
    out.append(f"<h3>Cuts that ended tracks: check the new shot's first frames ({len(ended)})</h3>")
    out.append(_list(ended))
    if vr is not None:
        out.append(f"<h3>Verify findings ({len(vr.findings)})</h3>")
        out.append(_list([f"<span class='{'bad' if f in vr.problems else 'warn'}'>{_e(f.line())}</span>"
                          for f in vr.findings]))
    else:
        out.append("<p class='meta'>Leak check not run; pass --verify to include it.</p>")
    return "".join(out)


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else "<p class='meta'>none</p>"


def _file_section(i: int, data: Mapping[str, Any], entry: Mapping[str, Any], manifest_dir: Path, out_dir: Path,
                  inputs_base: Path | None, originals: bool, findings: list[Any],
                  thresholds: Mapping[str, float]) -> str:
    name = str(entry["input"])
    status = entry["status"]
    cls = {"ok": "ok", "failed": "bad"}.get(status, "warn")
    parts = [f"<div class='file' id='f{i}'><h3>{_e(name)} <span class='{cls}'>[{_e(status)}]</span></h3>"]
    counts = entry.get("counts") or {}
    parts.append(f"<div class='meta'>{_e(entry['kind'])} · {_e(entry.get('format'))} · "
                 f"{entry.get('width')}x{entry.get('height')} · faces {counts.get('face', 0)} · "
                 f"plates {counts.get('plate', 0)} · occupants {counts.get('occupant', 0)}</div>")
    if entry.get("error"):
        parts.append(f"<div class='note'>{_e(entry['error'])}</div>")
    for w in entry.get("warnings", []):
        parts.append(f"<div class='note'>{_e(w)}</div>")
    for f in findings:
        parts.append(f"<div class='note {'bad' if f.severity == 'problem' else 'warn'}'>{_e(f.line())}</div>")
    if status == "ok":
        try:
            parts.append(_pictures(data, entry, manifest_dir, out_dir, inputs_base, originals))
        except (RedactError, OSError) as exc:
            parts.append(f"<div class='note'>cannot show pictures: {_e(exc)}</div>")
    parts.append(_region_table(entry.get("regions", []), thresholds))
    removed = entry.get("removed") or []
    if removed:
        rows = "".join(f"<tr><td>{r.get('frame', 0)}</td><td>{_e(r['label'])}</td><td>{r['box']}</td>"
                       f"<td>{_e(r.get('reviewer'))}</td><td>{_e(r.get('reason'))}</td></tr>" for r in removed)
        parts.append("<p>Removed by reviewer:</p><table><tr><th>frame</th><th>label</th><th>box</th>"
                     f"<th>reviewer</th><th>reason</th></tr>{rows}</table>")
    parts.append("</div>")
    return "".join(parts)


def _region_table(regions: Sequence[Mapping[str, Any]], thresholds: Mapping[str, float]) -> str:
    if not regions:
        return ""
    rows = []
    for n, r in enumerate(regions):
        score = r.get("score")
        low = score is not None and score < float(thresholds.get(r["label"], 0.0)) + LOW_SCORE_MARGIN
        s = "manual" if score is None else f"{score:.2f}"
        note = f"{r.get('reviewer', '')}: {r.get('reason', '')}" if r.get("source") == "manual" else ""
        rows.append(f"<tr><td>{n}</td><td>{_e(r['label'])}</td><td class='{'warn' if low else ''}'>{s}</td>"
                    f"<td>{r['box']}</td><td>{_e(r['source'])}</td><td>{_e(note)}</td></tr>")
    return ("<table><tr><th>#</th><th>label</th><th>score</th><th>box [x,y,w,h]</th><th>source</th>"
            f"<th>reviewer note</th></tr>{''.join(rows)}</table>")


def withheld_reason(entry: Mapping[str, Any], out_path: Path) -> str | None:
    """Why an output must not be shown as redacted (written with the outline style, missing,
    or no longer the file the manifest hashed), or ``None`` when it may be."""
    if entry.get("redacted") is False:
        return "output withheld: written with the review-only outline style, NOT redacted"
    if not out_path.is_file():
        return f"output {out_path} is missing"
    if sha256_file(out_path) != entry.get("output_sha256"):
        return "output withheld: it no longer matches the manifest's SHA-256 (changed or replaced)"
    return None


def _pictures(data: Mapping[str, Any], entry: Mapping[str, Any], manifest_dir: Path, out_dir: Path,
              inputs_base: Path | None, originals: bool) -> str:
    out_path = out_dir / str(entry["output"])
    withheld = withheld_reason(entry, out_path)
    in_path = input_path(data, entry, inputs_base)
    if entry.get("kind") == "video":
        return _video_pictures(entry, manifest_dir, out_path, in_path, withheld, originals)
    from redact.io.image import read_image

    max_px = recorded_max_pixels(data)
    figs = []
    regions = entry.get("regions", [])
    if withheld:
        figs.append(f"<div class='note bad'>{_e(withheld)}</div>")
    else:
        figs.append(f"<figure>{_img(annotate(read_image(out_path, max_px).bgr, regions, THUMB_WIDTH), 'redacted')}"
                    "<figcaption>redacted output, numbered regions</figcaption></figure>")
    if originals and in_path.is_file() and sha256_file(in_path) == entry.get("input_sha256"):
        orig = annotate(read_image(in_path, max_px).bgr, regions, THUMB_WIDTH)
        figs.append(f"<figure>{_img(orig, 'original', 'orig')}"
                    "<figcaption class='bad'>UNREDACTED ORIGINAL</figcaption></figure>")
    return f"<div class='pics'>{''.join(figs)}</div>"


def _video_pictures(entry: Mapping[str, Any], manifest_dir: Path, out_path: Path, in_path: Path, withheld: str | None,
                    originals: bool) -> str:
    frames = entry.get("frames") or {}
    lines = read_sidecar(manifest_dir / str(frames["file"])) if frames.get("file") else []
    count = int(entry.get("frame_count") or frames.get("count") or len(lines) or 1)
    by_frame = {int(line["frame"]): line.get("regions", []) for line in lines}
    states: dict[int, dict[int, str]] = {}
    for line in lines:
        for r in line.get("regions", []):
            if "track" in r:
                states.setdefault(int(r["track"]), {})[int(line["frame"])] = (
                    "detector" if r["source"] == "detector" else "tracker")
    parts = []
    step = max(1, -(-count // SHEET_FRAMES))  # ceil: the sheet spans the whole clip
    sources = [] if withheld else [(out_path, "redacted", "")]
    if withheld:
        parts.append(f"<div class='note bad'>{_e(withheld)}</div>")
    if originals and in_path.is_file() and sha256_file(in_path) == entry.get("input_sha256"):
        sources.append((in_path, "UNREDACTED ORIGINAL", "orig"))
    for path, caption, cls in sources:
        cells: list[str] = []
        for index, bgr in video_frames(path, step):
            if len(cells) >= SHEET_FRAMES:
                break
            cells.append(f"<figure>{_img(annotate(bgr, by_frame.get(index, []), SHEET_WIDTH), caption, cls)}"
                         f"<figcaption>{_e(caption)} frame {index}</figcaption></figure>")
        parts.append(f"<div class='sheet'>{''.join(cells)}</div>")
    tracks = entry.get("tracks") or []
    cuts = [int(c["frame"]) for c in entry.get("cuts") or []]
    if cuts:
        parts.append(f"<p>Cuts (first frames of new shots): {', '.join(map(str, cuts))}</p>")
    if tracks:
        parts.append("<p>Tracks (solid: observed by a detector; pale: predicted or padded; dashed: cuts):</p>")
        parts.append(timeline_svg(tracks, states, count, cuts=cuts))
    return "".join(parts)


def write_report(path: Path, text: str) -> None:
    """Write the report atomically."""
    from redact.io.atomic import write_bytes_atomic

    write_bytes_atomic(path, text.encode("utf-8"))
