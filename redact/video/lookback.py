"""Looking back: where a track first found after a keyframe was on the frames before.

Between keyframes the detectors look only at windows (:mod:`redact.video.schedule`), so a
track born on frame ``k`` may have been in view, unfound, since the last keyframe: it is
redacted back to there. Painted blindly, that is its box grown by its motion over every
frame back, and a face walking up to the camera, found late, blacks out half the picture
where the face is not yet. Instead the full detectors look again at the frames held back,
from ``k - 1`` backwards, where the track could have been on each (its backfill box, with
room around it), until they miss it on :data:`MISSES` frames in a row: the frames where
they find it get the box they find, the frames before only the tracker's pad
(:meth:`~redact.video.track.IouTracker.before`). Pictures are held back as the decoder made
them, at most :data:`BACK_MEMORY` bytes of them; frames no longer held get the blind guess,
grown back from the earliest frame found.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.tiles import Tile, windows_around
from redact.geometry import centres_inside
from redact.io.video import DecodedFrame
from redact.io.yuv import Picture, Scratch
from redact.types import Detections, Label
from redact.video.motion import Track
from redact.video.track import Tracker, iou_matrix
from redact.video.windowed import vehicle_below, widen_faces

# Pictures held back for looking again, at most (32 frames at 1080p: a 1-s keyframe interval;
# 8 of 4K). A track found on every frame held is covered blindly before them.
BACK_MEMORY = 96 << 20
# Looking back ends after this many frames in a row where the detectors did not find it
# (one miss may be the network's flicker on a frame where the object is plainly there).
MISSES = 2
# A detection is the track's on an earlier frame when its centre lies in the box the track
# could have filled there, or it overlaps that box by at least this IoU.
MATCH_IOU = 0.1

# The detectors on one BGR picture: the candidates (detections and suspects) in the windows,
# or everywhere when the windows are None.
Look = Callable[[NDArray[np.uint8], Sequence[Tile] | None], Detections]


def closely(detectors: Any, ratio: float) -> Look:
    """A :data:`Look` of a detector set: its detections and suspects (from ``ratio`` times the
    threshold, as a close look between keyframes takes them), faces found in windows widened
    as there (:func:`~redact.video.windowed.widen_faces`)."""

    def look(image: NDArray[np.uint8], rois: Sequence[Tile] | None) -> Detections:
        dets, weak = detectors.look(image, ratio=ratio, rois=rois)
        found = Detections.concat([dets, weak])
        return found if rois is None else widen_faces(found, image.shape[1], image.shape[0])

    return look


class LookBack:
    """The pictures of the frames held back, and looking again at them for new tracks.

    Args:
        keep: frames to hold at most (as far as a new track reaches back, and its own).
        window: what a look at a window adds around the box looked for, as
            ``(margin, min_margin)`` of :func:`~redact.detect.tiles.windows_around`.
        whole: share of the picture above which the windows become one look at it all.
        scratch: the BGR buffer held pictures are converted into for a look (shared with the
            forward looks, which are done when a look back runs).
    """

    def __init__(
        self, keep: int, *, window: tuple[float, int], whole: float, scratch: Scratch | None = None,
        memory: int = BACK_MEMORY,
    ) -> None:
        self.keep = keep
        self.window = window
        self.whole = whole
        self.memory = memory
        self._pictures: OrderedDict[int, tuple[float, Picture]] = OrderedDict()
        self.scratch = scratch if scratch is not None else Scratch()

    def add(self, decoded: DecodedFrame) -> None:
        """Hold frame ``decoded`` back (the oldest goes beyond ``keep`` frames or the memory)."""
        pic = decoded.picture
        self._pictures[decoded.index] = (decoded.pts, pic)
        most = min(self.keep, self.memory // max(1, pic.nbytes))
        while len(self._pictures) > most:
            self._pictures.popitem(last=False)

    def search(self, tracker: Tracker, index: int, look: Look) -> int:
        """Look back from frame ``index`` for the tracks born there; records what is found in
        them (see :meth:`~redact.video.track.IouTracker.before`) and returns the frames looked at."""
        open_ = {t.id: t for t in tracker.newborn(index)}
        misses = dict.fromkeys(open_, 0)
        looked = 0
        j = index - 1
        while open_:
            for t in [t for t in open_.values() if j < t.first_index - t.reach]:
                t.looked = t.first_index - t.reach  # the whole reach is settled
                del open_[t.id]
            held = self._pictures.get(j)
            if held is None or not open_:
                for t in open_.values():
                    t.looked = j + 1  # not held: frames from here back were not looked at
                break
            pts, pic = held
            tracks = list(open_.values())
            where = [tracker.before(t, j, pts) for t in tracks]
            found = look(self.scratch.of(pic), self._windows(tracks, where, pic))
            looked += 1
            for t, area in zip(tracks, where, strict=True):
                if area is None:
                    continue
                box = _match(t, area, found)
                if box is not None:
                    t.before[j] = (pts, box)
                    misses[t.id] = 0
                    continue
                misses[t.id] += 1
                if misses[t.id] >= MISSES:
                    t.looked = t.first_index - t.reach
                    del open_[t.id]
            j -= 1
        return looked

    def _windows(self, tracks: list[Track], where: list[NDArray[np.float64] | None], pic: Picture) -> list[Tile] | None:
        """Windows around where each track could be (None: the whole picture)."""
        boxes = [
            vehicle_below(box[None])[0] if t.label == Label.OCCUPANT.value else box
            for t, box in zip(tracks, where, strict=True)
            if box is not None
        ]
        w, h = pic.width, pic.height
        margin, least = self.window
        wins = windows_around(np.array(boxes).reshape(-1, 4), w, h, margin=margin, min_margin=least)
        return None if sum(t.width * t.height for t in wins) > self.whole * w * h else wins


def _match(t: Track, area: NDArray[np.float64], found: Detections) -> NDArray[np.float64] | None:
    """The candidate of ``t``'s label in ``found`` that is ``t`` where it could be (``area``):
    its centre inside, or overlapping it; the one overlapping the box it was found in next
    the most."""
    same = found[found.label == t.label]
    if not len(same):
        return None
    boxes = same.xyxy.astype(np.float64)
    ok = centres_inside(boxes, area[None])[0] | (iou_matrix(area[None], boxes)[0] >= MATCH_IOU)
    if not ok.any():
        return None
    nxt = t.before[min(t.before)][1] if t.before else t.first_box
    overlap = iou_matrix(nxt[None], boxes)[0]
    return boxes[int(np.argmax(np.where(ok, overlap, -1.0)))]
