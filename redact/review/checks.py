"""What ``redact verify`` finds, and its tests of one picture: whether each recorded region
is redacted (:func:`region_redacted`, :func:`check_regions`) and whether a detector still
finds something outside every region (:func:`find_leaks`).

The per-region test compares output and input pixels inside each recorded region (boxes
``[x, y, w, h]`` in output pixels; ellipses inscribed): see :mod:`redact.review.verify`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.geometry import inside_share, iou_matrix
from redact.render.regions import frame_mask, region_mask
from redact.types import Detections

LOSSY_TOL = 8  # grey levels a lossy re-encode may move a pixel without it counting as changed
CHANGED_MIN = 0.9  # fraction of region pixels that must change clearly
UNIFORM_STD = 6.0  # grey levels; per-channel std below which a region counts as a solid fill
DETAIL_SIGMA = 1.5  # pixels; smoothing before the Laplacian in the detail test
DETAIL_CORR_MAX = 0.5  # Laplacian correlation at or above which detail survived
# pixelate: how the detail inside the mosaic's cells (grey levels about each cell's mean)
# follows the input's there. A mosaic leaves none, only a lossy re-encode's noise; an
# unredacted region all of it (a correlation near 1), however faint.
MOSAIC_CORR_MAX = 0.5
LEAK_INSIDE_MIN = 0.5  # a detection with less of its box inside redacted regions is a leak
LEAK_TOUCH = 0.1  # ...a strong one this much inside only borders a region: likely the fill's edge, a warning
# A problem found on the input too: a detection there with this IoU, or this share of the
# smaller box inside the other.
LEAK_SAME_IOU = 0.3
LEAK_SAME_INSIDE = 0.5


@dataclass(frozen=True)
class Finding:
    """One thing verify found.

    Attributes:
        kind: ``manifest``, ``digest``, ``failed``, ``unredacted``, ``output``, ``input``,
            ``metadata``, ``frames``, ``region``, ``leak``, or with a sign-off ``signoff`` and
            ``approval``.
        message: one line saying what is wrong and what to do.
        severity: ``problem`` (fails verify) or ``warning`` (listed; fails only with strict).
        file: the file entry's ``input`` path, or None for the whole manifest.
        frame: video frame index (0 for a still), or None.
        box: ``[x, y, w, h]`` output pixels, or None.
        label: the region's or detection's label for region and leak findings.
        score: detector score for leak findings.
    """

    kind: str
    message: str
    severity: str = "problem"
    file: str | None = None
    frame: int | None = None
    box: list[int] | None = None
    label: str | None = None
    score: float | None = None

    def line(self) -> str:
        """A human-readable one-liner."""
        where = self.file or "(manifest)"
        if self.frame is not None and self.frame > 0:
            where += f" frame {self.frame}"
        if self.box is not None:
            where += f" box {self.box}"
        return f"{self.severity.upper()} {self.kind}: {where}: {self.message}"


def region_redacted(out_roi: NDArray[np.uint8], in_roi: NDArray[np.uint8], mask: NDArray[np.bool_],
                    *, lossy: bool, cells: NDArray[np.intp] | None = None) -> tuple[bool, str]:
    """Whether one region of an output is redacted relative to the input.

    Args:
        out_roi: output pixels of the region's box, BGR uint8 (h, w, 3).
        in_roi: input pixels of the same box, BGR uint8 (h, w, 3).
        mask: bool (h, w), the pixels of the box that belong to the region (ellipse or rect).
        lossy: the output went through lossy compression (JPEG, WebP, AVIF, video).
        cells: for a ``pixelate`` run, the mosaic cell of each pixel of the box
            (:func:`redact.render.styles.mosaic_cells`): a region whose cells hold no detail
            is redacted however little a lossy re-encode left its colours changed.

    Returns:
        (redacted, a short description of the measurements).
    """
    if not mask.any():
        return True, "empty region"
    diff = np.abs(out_roi.astype(np.int16) - in_roi.astype(np.int16)).max(axis=2)[mask]
    changed = float(np.mean(diff > (LOSSY_TOL if lossy else 0)))
    if changed >= CHANGED_MIN:
        return True, f"{changed:.0%} changed"
    spread = float(out_roi[mask].astype(np.float32).std(axis=0).max())
    if spread <= UNIFORM_STD:
        return True, f"uniform (std {spread:.1f})"
    if cells is not None:
        kept = cell_correlation(out_roi, in_roi, cells, mask)
        if kept < MOSAIC_CORR_MAX:
            return True, f"mosaic (the detail in its cells correlates {kept:.2f} with the input's)"
    corr = detail_correlation(out_roi, in_roi, mask)
    if lossy and corr < DETAIL_CORR_MAX:
        return True, f"detail gone (corr {corr:.2f})"
    return False, f"only {changed:.0%} of pixels changed, detail correlation {corr:.2f}"


def cell_detail(bgr: NDArray[np.uint8], cells: NDArray[np.intp], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Grey levels about their mosaic cell's mean, pixel by pixel over ``mask``, in green and
    red: the style nudges the blue of a pixel that came out unchanged (a cell's own colour)."""
    grey = bgr[:, :, 1:].astype(np.float64).mean(axis=2)[mask]
    cell = cells[mask]
    n = int(cells.max()) + 1
    mean = np.bincount(cell, grey, n) / np.maximum(np.bincount(cell, None, n), 1)
    detail: NDArray[np.float64] = grey - mean[cell]
    return detail


def cell_correlation(out_roi: NDArray[np.uint8], in_roi: NDArray[np.uint8], cells: NDArray[np.intp],
                     mask: NDArray[np.bool_]) -> float:
    """How the detail inside the mosaic's cells of the output follows the input's (Pearson's
    r over ``mask``; 0 where either has none)."""
    return _pearson(cell_detail(out_roi, cells, mask), cell_detail(in_roi, cells, mask), 1e-6)


def _pearson(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]], flat: float) -> float:
    """Pearson's r of two samples; 0 where either's spread is under ``flat``."""
    sa, sb = float(a.std()), float(b.std())
    if sa < flat or sb < flat:
        return 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def _band(bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
    # Laplacian of a slightly smoothed grey picture: the mid-frequency detail that makes a
    # face or plate readable, above the pixel-level noise JPEG compression throws away.
    grey = cv2.GaussianBlur(bgr.mean(axis=2, dtype=np.float32), (0, 0), DETAIL_SIGMA)
    return np.asarray(cv2.Laplacian(grey, cv2.CV_32F), dtype=np.float32)


def detail_correlation(a: NDArray[np.uint8], b: NDArray[np.uint8], mask: NDArray[np.bool_]) -> float:
    """Pearson correlation of the band-passed detail of two BGR patches over ``mask`` (0 when either is flat)."""
    la, lb = _band(a)[mask], _band(b)[mask]
    return _pearson(la, lb, 1e-3) if la.size >= 4 else 0.0


def drawn_over(box: NDArray[np.int32], later: Sequence[Mapping[str, Any]]) -> NDArray[np.bool_]:
    """The pixels of ``box`` (xyxy) that later regions (records) are drawn over."""
    x1, y1, x2, y2 = (int(v) for v in box)
    over = np.zeros((y2 - y1, x2 - x1), bool)
    for rec in later:
        a, b, bw, bh = (int(v) for v in rec["box"])
        c, d = a + bw, b + bh
        if c <= x1 or a >= x2 or d <= y1 or b >= y2:
            continue
        theirs = region_mask(np.array([a, b, c, d], np.int32), str(rec.get("shape", "rect")))
        ox1, oy1, ox2, oy2 = max(a, x1), max(b, y1), min(c, x2), min(d, y2)
        over[oy1 - y1 : oy2 - y1, ox1 - x1 : ox2 - x1] |= theirs[oy1 - b : oy2 - b, ox1 - a : ox2 - a]
    return over


def regions_to_xyxy(records: Sequence[Mapping[str, Any]]) -> NDArray[np.int32]:
    """Manifest region records (box ``[x, y, w, h]``) as int32 xyxy (N, 4)."""
    boxes = np.array([r["box"] for r in records], dtype=np.int64).reshape(-1, 4)
    boxes[:, 2] += boxes[:, 0]
    boxes[:, 3] += boxes[:, 1]
    return boxes.astype(np.int32)


def _records_mask(records: Sequence[Mapping[str, Any]], width: int, height: int) -> NDArray[np.bool_]:
    from redact.types import Regions

    n = len(records)
    regs = Regions(
        boxes=regions_to_xyxy(records),
        label=np.array([r["label"] for r in records], dtype=object).reshape(n),
        score=np.zeros(n, np.float32),
        source=np.array([r["source"] for r in records], dtype=object).reshape(n),
        track_id=np.full(n, -1, np.int64),
        shape=np.array([r.get("shape", "rect") for r in records], dtype=object).reshape(n),
    )
    return frame_mask(regs, width, height)


def region_views(records: Sequence[Mapping[str, Any]], width: int, height: int, style: str | None
                 ) -> Iterator[tuple[Mapping[str, Any], NDArray[np.int32] | None, NDArray[np.bool_],
                                     NDArray[np.intp] | None]]:
    """What the region test looks at, record by record: the record, its box clipped to the
    picture (xyxy; None when it lies outside), the mask of its pixels in that box, and for a
    ``pixelate`` run the mosaic's cells, the mask then leaving out what later regions are
    drawn over (judged with those)."""
    from redact.render.styles import mosaic_cells

    for k, rec in enumerate(records):
        x, y, bw, bh = (int(v) for v in rec["box"])
        x2, y2 = min(width, x + bw), min(height, y + bh)
        if x2 <= x or y2 <= y:
            yield rec, None, np.zeros((0, 0), bool), None
            continue
        box = np.array([x, y, x2, y2], np.int32)
        mask = region_mask(box, str(rec.get("shape", "rect")))
        cells = None
        if style == "pixelate":
            cells = mosaic_cells(x2 - x, y2 - y)
            mask = mask & ~drawn_over(box, records[k + 1:])
        yield rec, box, mask, cells


def check_regions(out: NDArray[np.uint8], inp: NDArray[np.uint8], records: Sequence[Mapping[str, Any]], *,
                  lossy: bool, file: str, frame: int, style: str | None = None) -> list[Finding]:
    """Region findings for one picture (output and input BGR of the same size), redacted
    with ``style`` (the run's; see :func:`region_views`)."""
    findings = []
    h, w = out.shape[:2]
    for rec, box, mask, cells in region_views(records, w, h, style):
        x, y, bw, bh = (int(v) for v in rec["box"])
        if box is None:
            findings.append(Finding("region", f"region lies outside the {w}x{h} output", file=file,
                                    frame=frame, box=[x, y, bw, bh], label=str(rec["label"])))
            continue
        y2, x2 = int(box[3]), int(box[2])
        ok, how = region_redacted(out[y:y2, x:x2], inp[y:y2, x:x2], mask, lossy=lossy, cells=cells)
        if not ok:
            findings.append(Finding("region", f"{rec['label']} region is not redacted: {how}", file=file,
                                    frame=frame, box=[x, y, bw, bh], label=str(rec["label"])))
    return findings


class LeakLook:
    """The leak check's detector: a detector set's detections and its *suspects* (candidates
    from ``ratio`` times each threshold up to it that overlap no detection) as one set of
    boxes. The set's evidence and reading rules apply at its own thresholds, as the run
    applied them: a camera's timestamp the run read as a time of day is no plate here
    either, where a set built at lowered thresholds took a box on it for a sure plate and
    left its text unread."""

    def __init__(self, detectors: Any, ratio: float) -> None:
        self.inner = detectors
        self.ratio = ratio

    def detect(self, image: NDArray[np.uint8], *, rois: Any = None) -> Detections:
        found, suspects = self.inner.look(image, ratio=self.ratio, rois=rois)
        return Detections.concat([found, suspects])

    def __getattr__(self, name: str) -> Any:  # models, lanes, detectors, ...
        if name == "inner":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.inner, name)


def find_leaks(detector: Any, image: NDArray[np.uint8], records: Sequence[Mapping[str, Any]],
               removed: Sequence[Mapping[str, Any]], run_thresholds: Mapping[str, float], *,
               file: str, frame: int, original: NDArray[np.uint8] | None = None) -> list[Finding]:
    """Detections in an output that lie mostly outside its redacted regions.

    A detection at or above the run's threshold for its label, lying (nearly) clear of
    every region, is a problem. A weaker one (the leak check lists candidates under the run's thresholds),
    or one that straddles a region's edge (detectors fire on the border of a solid fill),
    is a warning for the reviewer.
    Detections a reviewer removed on purpose (overlapping a ``removed`` record) are skipped.

    ``original``: the input picture (or frame), when at hand. A problem is then looked for
    on it too, with the same detectors: where they find nothing of its label there, not even
    under the run's threshold, what they saw on the output is the fills' doing (a black box
    beside a badge, a timestamp or a chevron board changes how the networks score it) and it
    is a warning. What the input shows at all (a plate a tracked box slid off, a plate the
    run scored just under its threshold) stays a problem.
    """
    h, w = image.shape[:2]
    dets: Detections = detector.detect(image)
    if not len(dets):
        return []
    mask = _records_mask(list(records), w, h)
    gone = regions_to_xyxy(list(removed)) if removed else np.zeros((0, 4), np.int32)
    findings = []
    for i in range(len(dets)):
        x1, y1, x2, y2 = (int(v) for v in np.round(dets.xyxy[i]))
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 <= x1 or y2 <= y1:
            continue
        inside = float(mask[y1:y2, x1:x2].mean())
        if inside >= LEAK_INSIDE_MIN or _overlaps_any((x1, y1, x2, y2), gone):
            continue
        label, score = str(dets.label[i]), float(dets.score[i])
        strong = score >= float(run_thresholds.get(label, 0.0))
        edge = inside >= LEAK_TOUCH
        note = "; below the run's threshold: check it" if not strong else (
            "; on a region's edge: check it" if edge else "")
        strong = strong and not edge
        findings.append(Finding(
            "leak",
            f"{label} (score {score:.2f}) found outside the redacted regions ({inside:.0%} covered){note}",
            severity="problem" if strong else "warning",
            file=file, frame=frame, box=[x1, y1, x2 - x1, y2 - y1], label=label, score=round(score, 4),
        ))
    if original is not None and any(f.severity == "problem" for f in findings):
        findings = _confirmed_on_input(detector, original, findings)
    return findings


def _confirmed_on_input(detector: Any, original: NDArray[np.uint8], findings: list[Finding]) -> list[Finding]:
    """``findings`` with each problem of which the detectors find nothing on ``original``
    (the same label in the same place, at any score the leak check keeps) made a
    warning."""
    seen: Detections = detector.detect(original)
    out = []
    for f in findings:
        if f.severity == "problem" and f.box is not None and f.label is not None:
            x, y, w, h = f.box
            if not _same_place((x, y, x + w, y + h), seen.xyxy[seen.label == f.label]):
                f = replace(f, severity="warning", message=f"{f.message}; nothing of it found on the input: the "
                            "redaction's fills beside it change how the detectors see it, check it")
        out.append(f)
    return out


def _same_place(box: tuple[int, int, int, int], others: NDArray[np.floating]) -> bool:
    """Whether one of ``others`` (xyxy) overlaps ``box`` (xyxy) by IoU 0.3, or half of the
    smaller of the two lies inside the other (a plate found whole, or its characters)."""
    if not len(others):
        return False
    if _overlaps_any(box, others, LEAK_SAME_IOU):
        return True
    one = np.array([box], np.float64)
    inside = np.maximum(inside_share(one, others, np.float64)[0], inside_share(others, one, np.float64)[:, 0])
    return bool((inside >= LEAK_SAME_INSIDE).any())


def _overlaps_any(box: tuple[int, int, int, int], others: NDArray[Any], iou: float = 0.3) -> bool:
    return bool(len(others)) and bool((iou_matrix(np.array([box]), others, np.float64) >= iou).any())
