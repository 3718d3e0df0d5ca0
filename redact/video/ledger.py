"""What one video run records of the frames it writes: the frames sidecar, counts per label,
a summary per track, and the first and last timestamps."""

from __future__ import annotations

import json
from typing import Any, TextIO

from redact.io.atomic import fit_name
from redact.manifest import empty_counts


def sidecar_rel(rel: str) -> str:
    """Where a video's frames sidecar goes in the frames folder: its output path (``/``
    separated, relative) plus ``.jsonl``, its name cut to fit where it would be too long."""
    folder, _, name = rel.rpartition("/")
    return (folder + "/" if folder else "") + fit_name(name, ".jsonl")


class Ledger:
    """The record of the frames written, in order."""

    def __init__(self) -> None:
        self.frames = 0
        self.first_pts = 0.0
        self.last_pts = 0.0
        self.counts = empty_counts()
        self.tracks: dict[int, dict[str, Any]] = {}

    def frame(
        self, side: TextIO, index: int, pts: float, look: str, cut: bool, records: list[dict[str, Any]]
    ) -> None:
        """Record frame ``index``: its line in the sidecar ``side`` (how it was looked at,
        whether it starts a new shot, its regions' records) and the counts and tracks its
        regions add to."""
        line: dict[str, Any] = {"frame": index, "pts": round(pts, 6), "look": look}
        if cut:
            line["cut"] = True
        line["regions"] = records
        side.write(json.dumps(line) + "\n")
        for rec in records:
            self.counts[str(rec["label"])] += 1
            self._count_track(rec, index)
        if self.frames == 0:
            self.first_pts = pts
        self.frames += 1
        self.last_pts = pts

    def _count_track(self, rec: dict[str, Any], index: int) -> None:
        tid = rec.get("track")
        if tid is None:
            return
        t = self.tracks.setdefault(
            int(tid),
            {"id": int(tid), "label": rec["label"], "first_frame": index, "last_frame": index,
             "observed": 0, "predicted": 0, "_last": -1},
        )
        if t["_last"] == index:
            return  # one frame counts once even if the track has two boxes in it
        t["_last"] = index
        t["last_frame"] = index
        t["observed" if rec["source"] == "detector" else "predicted"] += 1

    def track_summary(self) -> list[dict[str, Any]]:
        """The manifest's ``tracks``: each track's label, first and last frame, and how many
        frames it was observed in and predicted in."""
        return [{k: v for k, v in t.items() if k != "_last"} for _, t in sorted(self.tracks.items())]
