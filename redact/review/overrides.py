"""Reviewer overrides: add missed regions, remove false detections or whole tracks.

An overrides file (schema ``redact/schema/overrides-1.schema.json``) looks like::

    {
      "schema": "redact-overrides/1",
      "reviewer": "J. Doe",
      "edits": [
        {"op": "add", "file": "street/car.png", "box": [10, 20, 40, 40], "label": "face",
         "reason": "face in the window, missed"},
        {"op": "add", "file": "clip.mp4", "frames": [0, 120], "box": [5, 5, 60, 20],
         "label": "plate", "reason": "plate behind the fence"},
        {"op": "remove", "file": "astronaut.jpg", "box": [300, 200, 30, 30], "reason": "a poster"},
        {"op": "remove", "file": "clip.mp4", "frame": 12, "index": 1, "reason": "a clock face"},
        {"op": "remove_track", "file": "clip.mp4", "track": 3, "reason": "a statue"}
      ]
    }

Boxes are ``[x, y, w, h]`` in output pixels (top-left origin), as in the manifest. A
``remove`` names a detection either by ``index`` (its position in the picture's list of
detections, which is the manifest's region list of a run without overrides) or by
``box`` (the detection overlapping it most, IoU >= :data:`MATCH_IOU` or held whole by the
box, is removed; the region box from the manifest, a face grown to its head and padded,
matches). The whole file is applied to fresh
detections on every run, so a second review round edits the same file, never stacks
a new one on an edited manifest.

The pipeline calls :meth:`Overrides.apply` once per picture (a still, or a video frame
after tracking) between detection and :func:`redact.render.regions.build`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from redact.errors import ConfigError
from redact.geometry import inside_share, iou_matrix
from redact.hashing import sha256_bytes
from redact.types import Detections, Source

SCHEMA_ID = "redact-overrides/1"
MATCH_IOU = 0.3
# A remove box that holds at least this share of a detection names it whatever the IoU
# (a region is the detection grown to a whole head and padded: much larger than it).
MATCH_HELD = 0.9


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The overrides JSON Schema shipped in the package."""
    text = resources.files("redact.schema").joinpath("overrides-1.schema.json").read_text("utf-8")
    return dict(json.loads(text))


@dataclass(frozen=True)
class Applied:
    """The result of applying overrides to one picture's detections.

    Attributes:
        dets: detections to redact: the kept ones first, then the manual ones in edit order.
        manual: ``{"reviewer", "reason"}`` per manual detection, in the order they appear.
        removed: manifest records of removed detections (label, score, box ``[x, y, w, h]``
            of the detection before padding, source, track, frame, reviewer, reason).
        warnings: edits that matched nothing here.
    """

    dets: Detections
    manual: tuple[dict[str, str], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()

    def annotate(self, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add reviewer and reason to the manual region records (from ``Regions.to_records``).

        Manual boxes are clipped to the picture before regions are built, so none is
        dropped there and the n-th manual record belongs to the n-th manual edit.
        """
        notes = iter(self.manual)
        out = []
        for rec in records:
            rec = dict(rec)
            if rec.get("source") == Source.MANUAL.value:
                rec.update(next(notes))
            out.append(rec)
        return out


@dataclass(frozen=True)
class Overrides:
    """A parsed overrides file. Picklable, so worker processes get a copy.

    Attributes:
        reviewer: who made the edits.
        edits: the validated edit objects, in file order.
        path: where it was read from ("" when built in memory).
        sha256: hex SHA-256 of the file's bytes (part of the run's settings identity).
    """

    reviewer: str
    edits: tuple[dict[str, Any], ...] = ()
    path: str = ""
    sha256: str = ""
    _by_file: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = {}
        for i, e in enumerate(self.edits):
            index.setdefault(str(e["file"]), []).append(i)
        object.__setattr__(self, "_by_file", index)

    @classmethod
    def from_data(cls, data: Any, *, path: str = "", sha256: str = "") -> Overrides:
        """Validate parsed JSON.

        Raises:
            ConfigError: naming the first offending edit.
        """
        from redact.manifest import first_schema_error

        problem = first_schema_error(schema(), data)
        if problem:
            raise ConfigError(
                f"overrides {path or '(data)'} do not match {SCHEMA_ID} at {problem}; "
                "see redact/review/overrides.py for the format"
            )
        for i, e in enumerate(data["edits"]):
            if "box" in e and (e["box"][2] == 0 or e["box"][3] == 0):
                raise ConfigError(f"overrides edit {i}: box {e['box']} has no area; give [x, y, w, h] with w, h > 0")
            if "frames" in e and e["frames"][0] > e["frames"][1]:
                raise ConfigError(f"overrides edit {i}: frames {e['frames']} run backwards; give [first, last]")
        if not sha256:
            sha256 = sha256_bytes(json.dumps(data, sort_keys=True).encode())
        return cls(reviewer=str(data["reviewer"]), edits=tuple(data["edits"]), path=path, sha256=sha256)

    def record(self) -> dict[str, Any]:
        """The manifest's top-level ``overrides`` block."""
        return {"file": self.path, "sha256": self.sha256, "reviewer": self.reviewer, "edits": len(self.edits)}

    def check_files(self, known: Iterable[tuple[int, str]]) -> None:
        """Fail when an edit names a file the run does not have (an add would silently not happen).

        Args:
            known: ``(root, input path)`` of every file in the run.

        Raises:
            ConfigError: listing the unknown files.
        """
        pairs = set(known)
        rels = {rel for _, rel in pairs}
        missing = []
        for i, e in enumerate(self.edits):
            ok = (int(e["root"]), e["file"]) in pairs if "root" in e else e["file"] in rels
            if not ok:
                missing.append(f"edit {i} ({e['op']} {e['file']!r})")
        if missing:
            raise ConfigError(
                f"overrides {self.path or ''} name files this run does not have: {', '.join(missing)}; "
                "use the `input` path from the manifest"
            )

    def apply(self, rel: str, frame: int, dets: Detections, width: int, height: int, *, root: int = 0) -> Applied:
        """Apply the edits for one picture.

        Args:
            rel: the file's input path relative to its root ('/' separators).
            frame: 0-based frame index (0 for a still image).
            dets: that picture's detections (after tracking for video), xyxy pixels.
            width: picture width in pixels.
            height: picture height in pixels.
            root: index of the file's input root.

        Returns:
            The detections to redact and the bookkeeping for the manifest.
        """
        mine = [
            (i, self.edits[i]) for i in self._by_file.get(rel, ())
            if int(self.edits[i].get("root", root)) == root
        ]
        if not mine:
            return Applied(dets)
        keep = np.ones(len(dets), dtype=bool)
        reasons: dict[int, tuple[int, dict[str, Any]]] = {}
        warnings: list[str] = []
        for i, e in mine:
            if e["op"] == "remove" and int(e.get("frame", 0)) == frame:
                hit = self._match(dets, e)
                if hit is None:
                    warnings.append(f"override {i} (remove at frame {frame}) matched no detection")
                else:
                    keep[hit] = False
                    reasons.setdefault(hit, (i, e))
            elif e["op"] == "remove_track":
                for j in np.flatnonzero(dets.track_id == int(e["track"])):
                    keep[j] = False
                    reasons.setdefault(int(j), (i, e))
        removed = []
        for j in np.flatnonzero(~keep):
            i, e = reasons[int(j)]
            x1, y1, x2, y2 = (float(v) for v in dets.xyxy[j])
            score = float(dets.score[j])
            rec: dict[str, Any] = {
                "label": str(dets.label[j]),
                "score": None if np.isnan(score) else round(score, 4),
                "box": [int(np.floor(x1)), int(np.floor(y1)), int(np.ceil(x2 - x1)), int(np.ceil(y2 - y1))],
                "source": str(dets.source[j]),
                "frame": frame,
                "edit": i,
                "reviewer": self.reviewer,
                "reason": str(e["reason"]),
            }
            if dets.track_id[j] >= 0:
                rec["track"] = int(dets.track_id[j])
            removed.append(rec)
        boxes, labels, manual = [], [], []
        for i, e in mine:
            if e["op"] != "add":
                continue
            first, last = e.get("frames", (0, 2**62))
            if not first <= frame <= last:
                continue
            x, y, w, h = (int(v) for v in e["box"])
            box = [max(0, x), max(0, y), min(width, x + w), min(height, y + h)]
            if box[2] <= box[0] or box[3] <= box[1]:
                warnings.append(f"override {i} (add) box {e['box']} lies outside the {width}x{height} picture")
                continue
            boxes.append(box)
            labels.append(str(e["label"]))
            manual.append({"reviewer": self.reviewer, "reason": str(e["reason"])})
        added = (
            Detections.from_arrays(boxes, [np.nan] * len(boxes), labels, Source.MANUAL.value)
            if boxes else Detections.empty()
        )
        return Applied(Detections.concat([dets[keep], added]), tuple(manual), tuple(removed), tuple(warnings))

    @staticmethod
    def _match(dets: Detections, edit: Mapping[str, Any]) -> int | None:
        """Index of the detection an edit names, or None."""
        if "index" in edit:
            k = int(edit["index"])
            return k if k < len(dets) else None
        if not len(dets):
            return None
        x, y, w, h = (float(v) for v in edit["box"])
        box = np.array([[x, y, x + w, y + h]])
        iou = iou_matrix(dets.xyxy, box, np.float64)[:, 0]
        held = inside_share(dets.xyxy, box, np.float64)[:, 0]
        fit = np.where((iou >= MATCH_IOU) | (held >= MATCH_HELD), iou, -1.0)
        best = int(np.argmax(fit))
        return best if fit[best] >= 0 else None


def load(path: Path) -> Overrides:
    """Read and validate an overrides file.

    Raises:
        ConfigError: unreadable, not JSON, or not matching the schema.
    """
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read overrides file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(blob)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"overrides file {path} is not valid JSON: {exc}") from None
    return Overrides.from_data(data, path=str(path), sha256=sha256_bytes(blob))
