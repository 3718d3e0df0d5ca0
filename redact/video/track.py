"""Temporal coverage for video: link detections into tracks, carry them through gaps, pad in time.

A tracker only ever adds boxes: its output for a frame holds every raw detection of that
frame (with a track id) plus predicted boxes (``source="tracker"``) for tracks that were
not seen. Boxes are xyxy float pixels of the upright frame.

Temporal padding *before* a track's first detection needs the future, so the caller holds
frames back (a look-ahead of ``pad`` frames) and asks :meth:`Tracker.backfill` for the
boxes of tracks born within the next ``pad`` frames just before it renders a frame.

A video is a sequence of shots: at a cut (:meth:`Tracker.cut`) every track ends. Nothing
is predicted, interpolated or padded across it, in either direction: an object of one shot
is not where another shot shows something else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from redact import geometry
from redact.geometry import centres_inside
from redact.types import Detections, Source
from redact.video.motion import (
    GROWTH_PER_FRAME,
    MAX_GROWTH,
    Gap,
    Track,
    blind_growth,
    bounded,
    grow,
    is_small,
)

MATCH_IOU = 0.1
# A detection whose centre falls in a track's predicted box grown by this per unseen frame (up
# to MAX_SEARCH) may continue the track: with detections far apart in time (video keyframes)
# a moving object's boxes no longer overlap. A wrong match only adds coverage (the gap is
# interpolated between both boxes and the other object starts its own, backfilled track).
SEARCH_PER_FRAME = 0.5
MAX_SEARCH = 6.0
# A track observed on fewer than CONFIRMED frames is carried ONCE_CARRY frames after its
# detection (or the tracker's pad, or the detection interval, when longer), not the whole gap:
# one detection is weak evidence that something is still there.
CONFIRMED = 2
ONCE_CARRY = 3
# A new detection lying at least NESTED of its area inside a larger one of its label on the
# same frame is that object's second box (two networks or passes boxing one face, a head and
# its face), not an object of its own: it takes the larger box's track. As a track of its own
# it would be seen once and, small, grow blindly by its size per frame over the object that
# is already followed.
NESTED = 0.8

# Where the pixels of an object seen once went (see redact.video.follow.Follower.locate):
# (track id, box, frame it was seen on, frame wanted) -> the box there, or None.
Locate = Callable[[int, NDArray[np.float64], int, int], "NDArray[np.float64] | None"]


class Tracker(Protocol):
    """Turns per-frame detections into per-frame boxes with track ids (a superset).

    Attributes:
        lookahead: frames the caller must hold back before rendering so that
            :meth:`backfill` can still add boxes to them.
    """

    lookahead: int

    def update(
        self, index: int, pts: float, detections: Detections | None, *, reach: int | None = None,
        weak: Detections | None = None, windowed: bool = False,
    ) -> Detections:
        """Boxes for frame ``index`` at ``pts`` seconds; ``None`` means the detectors did not run.

        ``windowed``: the detectors looked at windows, not the whole frame. A network draws a
        box in a window a little differently from the whole frame's (scale, context), so a
        track seen on the frame before is also covered where its motion puts it (its last
        box moved, not grown; seen once, its last box) wherever that reaches past the new
        detection.

        ``weak``: candidates under the threshold. Each may continue a track (as its
        observation) but never starts one; one left over where a track of its label is looked
        for (a stronger detection continued that track) is returned as it is, since a network
        scores an object in a window a little differently from the whole frame.

        ``reach``: frames before ``index`` that tracks born here are redacted back to (at least
        the tracker's own pad, at most its look-ahead); a caller that only looked closely some
        frames ago (video keyframes) passes the distance to that look.
        """
        ...

    def active(self, index: int, pts: float) -> Detections:
        """Where every live track probably is at frame ``index`` (predicted, grown boxes);
        changes nothing. Video uses it to look closely where objects are expected."""
        ...

    def backfill(self, index: int, pts: float) -> Detections:
        """Extra boxes for frame ``index``, known only from later frames.

        Covers tracks first seen within the next ``lookahead`` frames (temporal padding) and
        gaps between two observations of a track (interpolated). Call it once per frame,
        in order, just before the frame is rendered.
        """
        ...

    def newborn(self, index: int) -> list[Track]:
        """The tracks born on frame ``index`` whose first frames are backfilled (which
        :mod:`redact.video.lookback` looks for again on those frames)."""
        ...

    def before(self, t: Track, index: int, pts: float) -> NDArray[np.float64] | None:
        """The box redacted for ``t`` on frame ``index``, before its first detection
        (None: nothing there)."""
        ...

    def cut(self, index: int) -> list[int]:
        """A new shot starts at frame ``index`` (call it before that frame's :meth:`update`):
        every live track ends there, and tracks born from ``index`` on are never padded back
        before it. Returns the ids of the tracks it ended."""
        ...


def iou_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), xyxy, in float64; (N, M)."""
    return geometry.iou_matrix(a, b, np.float64)


class IouTracker:
    """IoU association with constant-velocity prediction and time-based expiry.

    Args:
        gap: seconds a track is carried (predicted) after its last detection, once it was
            observed on :data:`CONFIRMED` frames (before, :data:`ONCE_CARRY` frames).
        pad: frames redacted before a track's first detection (via :meth:`backfill`) and, at
            least, after its last one.
        min_carry: frames a track is carried at least, whatever ``gap`` is (use the detection
            interval when detecting every K-th frame).
        lookahead: frames the caller holds back (at least ``pad`` and ``min_carry``); the
            most a new track can be backfilled, and the more of it, the more of a new track's
            motion is known when its first frames are backfilled.
        first_id: the id of the first track (a video split into segments gives each
            segment's tracker ids of its own).
        locate: where a track seen once went on another frame, by its pixels (``None``:
            its box grows blindly there, :func:`~redact.video.motion.blind_growth`).
    """

    def __init__(
        self, *, gap: float, pad: int, min_carry: int = 1, lookahead: int = 0, first_id: int = 0,
        locate: Locate | None = None,
    ) -> None:
        if gap < 0 or pad < 0 or min_carry < 0 or lookahead < 0:
            raise ValueError("gap, pad, min_carry and lookahead must be >= 0")
        self.gap = gap
        self.pad = pad
        self.min_carry = max(min_carry, pad)
        self.lookahead = max(pad, min_carry, lookahead)
        self._tracks: list[Track] = []
        self._born: list[Track] = []  # tracks whose first frame may still need backfill
        self._gaps: list[Gap] = []  # unobserved stretches between two observations
        self._next_id = first_id
        self._shot = 0  # first frame of the current shot: nothing is padded back before it
        self.locate = locate

    def update(
        self, index: int, pts: float, detections: Detections | None, *, reach: int | None = None,
        weak: Detections | None = None, windowed: bool = False,
    ) -> Detections:
        back = min(self.lookahead, max(self.pad, reach or 0), max(0, index - self._shot))
        self._expire(index, pts)
        if detections is None:
            return self._predicted(self._tracks, index, pts, wide=False)
        dets = Detections.concat([detections, weak]) if weak is not None and len(weak) else detections
        strong = np.arange(len(dets)) < len(detections)
        boxes = dets.xyxy.astype(np.float64)
        track_of = np.full(len(dets), -1, np.int64)
        matched: set[int] = set()
        preds = np.array([t.predict(index, pts) for t in self._tracks]).reshape(-1, 4)
        # A wrong velocity must not split a track: the last observed box counts as well.
        stay = np.array([grow(t.box, 1.0) for t in self._tracks]).reshape(-1, 4)
        iou = np.maximum(iou_matrix(preds, boxes), iou_matrix(stay, boxes))
        same = np.array([[t.label == lbl for lbl in dets.label] for t in self._tracks], dtype=bool).reshape(iou.shape)
        # Greedy by IoU, then by "detection centre inside the prediction" for small fast objects.
        search = np.array([
            grow(p, min(MAX_SEARCH, 1.0 + SEARCH_PER_FRAME * max(0, index - t.last_index - 1)))
            for p, t in zip(preds, self._tracks, strict=True)
        ]).reshape(-1, 4)
        inside = centres_inside(boxes, search)
        along: list[tuple[NDArray[np.float64], Track]] = []  # (moved box, track): see ``windowed``
        # Detections over the threshold are matched first; weak ones only continue tracks left over.
        score = np.where(same & ((iou >= MATCH_IOU) | inside), iou + inside * 0.01 + strong[None, :] * 2.0, -1.0)
        while score.size and score.max() >= 0:
            ti, di = np.unravel_index(int(np.argmax(score)), score.shape)
            track = self._tracks[int(ti)]
            if index - track.last_index > 1:
                self._gaps.append(
                    Gap(track.id, track.label, track.score, track.last_index, track.last_pts, track.box,
                         index, pts, boxes[di])
                )
            if windowed and track.last_index == index - 1:
                shifted = track.moved(pts)
                if (shifted[:2] < boxes[di][:2] - 1).any() or (shifted[2:] > boxes[di][2:] + 1).any():
                    along.append((shifted, track))
            track.observe(boxes[di], float(dets.score[di]), index, pts)
            track_of[di] = track.id
            matched.add(int(ti))
            score[ti, :] = -1.0
            score[:, di] = -1.0
        area = geometry.box_area(boxes, np.float64)
        for di in sorted(np.flatnonzero((track_of < 0) & strong), key=lambda i: -area[i]):
            track_of[di] = self._host(int(di), boxes, area, dets.label, track_of)
            if track_of[di] >= 0:
                continue
            t = Track(
                id=self._next_id, label=str(dets.label[di]), box=boxes[di], score=float(dets.score[di]),
                first_index=index, first_pts=pts, first_box=boxes[di], last_index=index, last_pts=pts,
                reach=back,
            )
            t.observe(boxes[di], t.score, index, pts)
            self._next_id += 1
            self._tracks.append(t)
            if back:
                self._born.append(t)
            track_of[di] = t.id
        unseen = [t for i, t in enumerate(self._tracks) if i not in matched and t.last_index != index]
        # A weak candidate left over where a track of its label is looked for is kept as it is.
        near = (same & inside).any(axis=0)
        observed = dets.replace(track_id=track_of)[strong | (track_of >= 0) | near]
        moved = Detections.from_arrays(
            np.array([b for b, _ in along]).reshape(-1, 4), [t.score for _, t in along], [t.label for _, t in along],
            Source.TRACKER.value, [t.id for _, t in along],
        ) if along else Detections.empty()
        return Detections.concat([observed, moved, self._predicted(unseen, index, pts, wide=False)])

    def active(self, index: int, pts: float) -> Detections:
        live = [t for t in self._tracks if self._alive(t, index, pts)]
        return self._predicted(live, index, pts, wide=True)

    def cut(self, index: int) -> list[int]:
        ended = [t.id for t in self._tracks]
        self._tracks = []
        self._shot = index
        return ended

    def backfill(self, index: int, pts: float) -> Detections:
        self._born = [t for t in self._born if t.first_index > index]
        self._gaps = [g for g in self._gaps if g.end_index > index]
        boxes, scores, labels, ids = [], [], [], []
        for g in self._gaps:
            if g.start_index < index:
                boxes.append(g.at(index, pts))
                scores.append(g.score)
                labels.append(g.label)
                ids.append(g.track)
        for t in self._born:
            if t.first_index - index > t.reach:
                continue
            box = self.before(t, index, pts)
            if box is None:
                continue
            boxes.append(box)
            scores.append(t.score)
            labels.append(t.label)
            ids.append(t.id)
        if not boxes:
            return Detections.empty()
        return Detections.from_arrays(np.array(boxes), scores, labels, Source.TRACKER.value, ids)

    def newborn(self, index: int) -> list[Track]:
        """The tracks born on frame ``index`` that reach back before it (see :meth:`backfill`)."""
        return [t for t in self._born if t.first_index == index]

    def before(self, t: Track, index: int, pts: float) -> NDArray[np.float64] | None:
        """The box redacted for ``t`` on frame ``index`` before its first detection (within
        its reach), or None.

        Where the detectors looked back (:mod:`redact.video.lookback`): the box they found
        there; between two of those, the two boxes interpolated; before the earliest, only
        for the tracker's pad, the box found there moved back along the track's motion (a
        small object's grown as far as it could have moved): the detectors looked where it
        could have been and did not find it. Where nobody looked back: the earliest box
        found, grown for the frames it went unseen.
        """
        if index in t.before:
            return t.before[index][1]
        sightings = sorted(t.before)
        first = sightings[0] if sightings else t.first_index
        first_pts, first_box = t.before[first] if sightings else (t.first_pts, t.first_box)
        if t.looked is None or index < t.looked:
            return self._guess(t, first, first_pts, first_box, index, pts)
        if index > first:  # missed between two sightings
            after = min(i for i in [*sightings, t.first_index] if i > index)
            gone = max(i for i in sightings if i < index)
            a_pts, a_box = t.before.get(after, (t.first_pts, t.first_box))
            g_pts, g_box = t.before[gone]
            return Gap(t.id, t.label, t.score, gone, g_pts, g_box, after, a_pts, a_box).at(index, pts)
        if first - index > self.pad:
            return None
        if is_small(first_box, t.label):
            return self._guess(t, first, first_pts, first_box, index, pts)
        # Where its motion says it came from, not grown: it was looked for there and around.
        return t.carried(first_box, first_pts, pts)

    def _guess(
        self, t: Track, seen: int, seen_pts: float, seen_box: NDArray[np.float64], index: int, pts: float
    ) -> NDArray[np.float64]:
        """Where ``t``, boxed ``seen_box`` on frame ``seen``, could have been on the earlier
        frame ``index`` (what to redact there)."""
        ahead = seen - index
        # Once the track has moved on, its direction is known: its path back is covered with
        # the ordinary growth, not the blind one (which would paint up to 11x boxes over every
        # frame back to the previous video keyframe), bounded by its observed motion. A large
        # object seen once grows only by the least growth.
        small = is_small(seen_box, t.label)
        if len(t.history) >= 2:
            factor = min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * ahead)
        else:
            factor = blind_growth(seen_box, ahead, t.label)
        origin = t.carried(seen_box, seen_pts, pts)
        still, moved = grow(seen_box, factor), grow(origin, factor)
        if len(t.history) >= 2 or not small:
            seconds = abs(seen_pts - pts)
            still = bounded(seen_box, still, t.velocity, t.size_rate(), ahead, seconds)
            moved = bounded(origin, moved, t.velocity, t.size_rate(), ahead, seconds)
        # Cover both where it was seen and where its motion says it came from (seen once:
        # where its pixels were, when they can be found).
        box = _union(still, moved)
        if len(t.history) < 2:
            box = self._followed(t.id, seen_box, seen, index, box, small)
        return box

    @staticmethod
    def _host(
        di: int, boxes: NDArray[np.float64], area: NDArray[np.float64], labels: NDArray[np.object_],
        track_of: NDArray[np.int64],
    ) -> int:
        """The track of the largest tracked detection of its label that detection ``di`` is
        nested in (:data:`NESTED`), or -1 (``area``: every box's area)."""
        inside = geometry.inside_share(boxes[di : di + 1], boxes, np.float64)[0]
        hosts = np.flatnonzero((track_of >= 0) & (labels == labels[di]) & (area > area[di]) & (inside >= NESTED))
        return int(track_of[hosts[np.argmax(area[hosts])]]) if len(hosts) else -1

    def _expire(self, index: int, pts: float) -> None:
        self._tracks = [t for t in self._tracks if self._alive(t, index, pts)]

    def _alive(self, t: Track, index: int, pts: float) -> bool:
        if index - t.last_index <= self.min_carry:
            return True
        if t.observed < CONFIRMED:
            return index - t.last_index <= ONCE_CARRY
        return pts - t.last_pts <= self.gap + 1e-9

    def _followed(
        self, track: int, box: NDArray[np.float64], seen: int, index: int, guess: NDArray[np.float64], small: bool
    ) -> NDArray[np.float64]:
        """The box to redact on frame ``index`` for ``track``, boxed ``box`` on frame ``seen``:
        where its pixels went, grown as a track with a known motion grows, instead of
        ``guess`` (for a ``small`` object seen once, its blind growth); with ``guess`` for a
        large one, whose guess is about its own size. ``guess`` alone where its pixels are not
        found."""
        found = self.locate(track, box, seen, index) if self.locate is not None else None
        if found is None:
            return guess
        there = grow(found, min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * abs(index - seen)))
        return there if small else _union(there, guess)

    def _predicted(self, tracks: list[Track], index: int, pts: float, *, wide: bool) -> Detections:
        if not tracks:
            return Detections.empty()
        boxes = []
        for t in tracks:
            box = t.predict(index, pts, wide=wide)
            if not wide and len(t.history) < 2 and index != t.last_index:
                box = self._followed(t.id, t.box, t.last_index, index, box, is_small(t.box, t.label))
            boxes.append(box)
        return Detections.from_arrays(
            np.array(boxes),
            [t.score for t in tracks],
            [t.label for t in tracks],
            Source.TRACKER.value,
            [t.id for t in tracks],
        )


def _union(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The box around two xyxy boxes."""
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def make_tracker(
    *, gap: float, pad: int, detect_every: int = 1, lookahead: int = 0, first_id: int = 0,
    locate: Locate | None = None,
) -> Tracker:
    """The default tracker for a run's settings.

    Args:
        gap: seconds a track is carried after its last detection.
        pad: frames redacted before a track's first detection at least.
        detect_every: frames between two looks (tracks are carried at least this long).
        lookahead: frames the caller holds back (see :class:`IouTracker`).
        first_id: the first track's id.
        locate: where a track seen once went, by its pixels (see :class:`IouTracker`).
    """
    return IouTracker(
        gap=gap, pad=pad, min_carry=detect_every, lookahead=lookahead, first_id=first_id, locate=locate
    )
