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

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from redact import geometry
from redact.geometry import centres_inside
from redact.types import Detections, Source

# Predicted boxes grow by this fraction of their size per unobserved frame, up to MAX_GROWTH,
# because the object may speed up, turn or change size while nobody looks.
GROWTH_PER_FRAME = 0.04
MAX_GROWTH = 2.0
# While a track's direction is unknown (before its first detection, or after a single one), a
# small object — a distant plate, a face in a passing car — can move about its own size in
# 80 ms (a frame at 12.5 fps): its box grows by its size on every side per 80 ms, up to
# MAX_SMALL_GROWTH. Objects move in time, not in frames: at 25 fps that is half its size a frame.
SMALL_SIDE = 48.0  # px; boxes whose shorter side is below this count as small
SMALL_GROWTH_PER_SECOND = 25.0
MAX_SMALL_GROWTH = 11.0
MATCH_IOU = 0.1
# A detection whose centre falls in a track's predicted box grown by this per unseen frame (up
# to MAX_SEARCH) may continue the track: with detections far apart in time (video keyframes)
# a moving object's boxes no longer overlap. A wrong match only adds coverage (the gap is
# interpolated between both boxes and the other object starts its own, backfilled track).
SEARCH_PER_FRAME = 0.5
MAX_SEARCH = 6.0
VELOCITY_HISTORY = 6  # observations the velocity is fitted on
# What a redacted prediction may grow is bounded by what the track was seen to do: per side,
# SPEED_SLACK of the distance its observed velocity covers while unseen (the object may speed
# up or turn), its observed change of size per frame, and MIN_GROWTH_PER_FRAME of its size per
# unseen frame; never more than the growth above. A parked car's plate predicted for half a
# second stays its own size instead of doubling over the frame.
SPEED_SLACK = 0.5
MIN_GROWTH_PER_FRAME = 0.01
# A track observed on fewer than CONFIRMED frames is carried ONCE_CARRY frames after its
# detection (or the tracker's pad, or the detection interval, when longer), not the whole gap:
# one detection is weak evidence that something is still there.
CONFIRMED = 2
ONCE_CARRY = 3


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

    def cut(self, index: int) -> list[int]:
        """A new shot starts at frame ``index`` (call it before that frame's :meth:`update`):
        every live track ends there, and tracks born from ``index`` on are never padded back
        before it. Returns the ids of the tracks it ended."""
        ...


def iou_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), xyxy, in float64; (N, M)."""
    return geometry.iou_matrix(a, b, np.float64)


def _blind_growth(box: NDArray[np.float64], frames: int, seconds: float) -> float:
    """Growth factor for a box ``frames`` frames (``seconds``) away from where it was seen,
    direction unknown."""
    if min(box[2] - box[0], box[3] - box[1]) < SMALL_SIDE:
        return min(MAX_SMALL_GROWTH, 1.0 + SMALL_GROWTH_PER_SECOND * max(0.0, seconds))
    return min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * frames)


def grow_blind(box: NDArray[np.float64], frames: int, seconds: float) -> NDArray[np.float64]:
    """``box`` grown as far as an object seen there could have moved in ``frames`` frames
    (``seconds``) while its direction is unknown."""
    return _grow(box, _blind_growth(box, frames, seconds))


def _grow(box: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


@dataclass
class _Gap:
    """Frames between two observations of a track, filled by linear interpolation."""

    track: int
    label: str
    score: float
    start_index: int
    start_pts: float
    start_box: NDArray[np.float64]
    end_index: int
    end_pts: float
    end_box: NDArray[np.float64]

    def at(self, index: int, pts: float) -> NDArray[np.float64]:
        span = self.end_pts - self.start_pts
        a = (pts - self.start_pts) / span if span > 0 else 0.5
        box = (1 - a) * self.start_box + a * self.end_box
        unseen = min(index - self.start_index, self.end_index - index)
        return _grow(box, min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * unseen))


@dataclass
class _Track:
    id: int
    label: str
    box: NDArray[np.float64]  # last observed xyxy
    score: float
    first_index: int
    first_pts: float
    first_box: NDArray[np.float64]
    last_index: int
    last_pts: float
    reach: int = 0  # frames before first_index that backfill covers
    velocity: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))  # px/s of the centre
    history: list[tuple[float, float, float]] = field(default_factory=list)  # (pts, cx, cy) observed
    sizes: list[tuple[int, float, float]] = field(default_factory=list)  # (index, w, h) observed
    observed: int = 0  # frames it was observed on

    def predict(self, index: int, pts: float, *, wide: bool = True) -> NDArray[np.float64]:
        """Where the box probably is at ``pts``, grown for the frames it was not seen.

        ``wide``: grown as far as the object could have gone (where to look for it); else
        bounded by what the track was seen to do (what to redact; see :func:`_bounded`).
        """
        moved = self.moved(pts)
        unseen = max(0, index - self.last_index)
        if len(self.history) < 2:  # seen once: no idea where it is heading
            grown = _grow(moved, _blind_growth(self.box, unseen, pts - self.last_pts))
            if wide or min(self.box[2] - self.box[0], self.box[3] - self.box[1]) < SMALL_SIDE:
                return grown
        else:
            grown = _grow(moved, min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * unseen))
            if wide:
                return grown
        return _bounded(moved, grown, self.velocity, self.size_rate(), unseen, abs(pts - self.last_pts))

    def moved(self, pts: float) -> NDArray[np.float64]:
        """The last observed box moved along the track's velocity to ``pts``, not grown."""
        shift = self.velocity * (pts - self.last_pts)
        return self.box + np.array([shift[0], shift[1], shift[0], shift[1]])

    def size_rate(self) -> float:
        """The track's observed change of width or height per frame (relative, either way;
        0 until seen on two frames): the net change over its recent observations."""
        if len(self.sizes) < 2:
            return 0.0
        (i0, w0, h0), (i1, w1, h1) = self.sizes[0], self.sizes[-1]
        frames = max(1, i1 - i0)
        return float(max(abs(np.log(max(w1, 1e-3) / max(w0, 1e-3))),
                         abs(np.log(max(h1, 1e-3) / max(h0, 1e-3))))) / frames

    def observe(self, box: NDArray[np.float64], score: float, index: int, pts: float) -> None:
        self.observed += 1
        self.history.append((pts, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        del self.history[:-VELOCITY_HISTORY]
        self.sizes.append((index, float(box[2] - box[0]), float(box[3] - box[1])))
        del self.sizes[:-VELOCITY_HISTORY]
        times = np.array([h[0] for h in self.history])
        if len(times) >= 2 and times[-1] - times[0] > 0:
            # Least-squares slope over recent observations: robust to pixel jitter between
            # frames that are only milliseconds apart (variable frame rate).
            t = times - times.mean()
            centres = np.array([h[1:] for h in self.history])
            self.velocity = (t[:, None] * (centres - centres.mean(axis=0))).sum(axis=0) / max((t * t).sum(), 1e-12)
        self.box, self.score, self.last_index, self.last_pts = box, score, index, pts


def _bounded(
    moved: NDArray[np.float64], grown: NDArray[np.float64], velocity: NDArray[np.float64], rate: float,
    frames: int, seconds: float,
) -> NDArray[np.float64]:
    """``grown`` (xyxy, around ``moved``) shrunk to what the observed motion allows.

    Per side, ``moved`` may grow by :data:`SPEED_SLACK` of the distance ``velocity`` (px/s)
    covers in ``seconds``, plus its observed relative size change ``rate`` per frame and
    :data:`MIN_GROWTH_PER_FRAME` of its size for each of ``frames``; never beyond ``grown``.
    """
    w, h = moved[2] - moved[0], moved[3] - moved[1]
    per_side = (rate + MIN_GROWTH_PER_FRAME) * frames / 2
    mx = SPEED_SLACK * abs(float(velocity[0])) * seconds + w * per_side
    my = SPEED_SLACK * abs(float(velocity[1])) * seconds + h * per_side
    box = moved + np.array([-mx, -my, mx, my])
    return np.concatenate([np.maximum(box[:2], grown[:2]), np.minimum(box[2:], grown[2:])])


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
    """

    def __init__(
        self, *, gap: float, pad: int, min_carry: int = 1, lookahead: int = 0, first_id: int = 0
    ) -> None:
        if gap < 0 or pad < 0 or min_carry < 0 or lookahead < 0:
            raise ValueError("gap, pad, min_carry and lookahead must be >= 0")
        self.gap = gap
        self.pad = pad
        self.min_carry = max(min_carry, pad)
        self.lookahead = max(pad, min_carry, lookahead)
        self._tracks: list[_Track] = []
        self._born: list[_Track] = []  # tracks whose first frame may still need backfill
        self._gaps: list[_Gap] = []  # unobserved stretches between two observations
        self._next_id = first_id
        self._shot = 0  # first frame of the current shot: nothing is padded back before it

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
        stay = np.array([_grow(t.box, 1.0) for t in self._tracks]).reshape(-1, 4)
        iou = np.maximum(iou_matrix(preds, boxes), iou_matrix(stay, boxes))
        same = np.array([[t.label == lbl for lbl in dets.label] for t in self._tracks], dtype=bool).reshape(iou.shape)
        # Greedy by IoU, then by "detection centre inside the prediction" for small fast objects.
        search = np.array([
            _grow(p, min(MAX_SEARCH, 1.0 + SEARCH_PER_FRAME * max(0, index - t.last_index - 1)))
            for p, t in zip(preds, self._tracks, strict=True)
        ]).reshape(-1, 4)
        inside = centres_inside(boxes, search)
        along: list[tuple[NDArray[np.float64], _Track]] = []  # (moved box, track): see ``windowed``
        # Detections over the threshold are matched first; weak ones only continue tracks left over.
        score = np.where(same & ((iou >= MATCH_IOU) | inside), iou + inside * 0.01 + strong[None, :] * 2.0, -1.0)
        while score.size and score.max() >= 0:
            ti, di = np.unravel_index(int(np.argmax(score)), score.shape)
            track = self._tracks[int(ti)]
            if index - track.last_index > 1:
                self._gaps.append(
                    _Gap(track.id, track.label, track.score, track.last_index, track.last_pts, track.box,
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
        for di in np.flatnonzero((track_of < 0) & strong):
            t = _Track(
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
            ahead = t.first_index - index
            if ahead > t.reach:
                continue
            # Once the track has moved on, its direction is known: its path back is covered
            # with the ordinary growth, not the blind one (which would paint up to 11x boxes
            # over every frame back to the previous video keyframe), bounded by its observed
            # motion. A large object seen once grows only by the least growth.
            small = min(t.first_box[2] - t.first_box[0], t.first_box[3] - t.first_box[1]) < SMALL_SIDE
            if len(t.history) >= 2:
                grow = min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * ahead)
            else:
                grow = _blind_growth(t.first_box, ahead, t.first_pts - pts)
            shift = t.velocity * (pts - t.first_pts)
            origin = t.first_box + np.array([shift[0], shift[1], shift[0], shift[1]])
            still, moved = _grow(t.first_box, grow), _grow(origin, grow)
            if len(t.history) >= 2 or not small:
                seconds = abs(t.first_pts - pts)
                still = _bounded(t.first_box, still, t.velocity, t.size_rate(), ahead, seconds)
                moved = _bounded(origin, moved, t.velocity, t.size_rate(), ahead, seconds)
            # Cover both where it was first seen and where its motion says it came from.
            boxes.append(np.concatenate([np.minimum(still[:2], moved[:2]), np.maximum(still[2:], moved[2:])]))
            scores.append(t.score)
            labels.append(t.label)
            ids.append(t.id)
        if not boxes:
            return Detections.empty()
        return Detections.from_arrays(np.array(boxes), scores, labels, Source.TRACKER.value, ids)

    def _expire(self, index: int, pts: float) -> None:
        self._tracks = [t for t in self._tracks if self._alive(t, index, pts)]

    def _alive(self, t: _Track, index: int, pts: float) -> bool:
        if index - t.last_index <= self.min_carry:
            return True
        if t.observed < CONFIRMED:
            return index - t.last_index <= ONCE_CARRY
        return pts - t.last_pts <= self.gap + 1e-9

    def _predicted(self, tracks: list[_Track], index: int, pts: float, *, wide: bool) -> Detections:
        if not tracks:
            return Detections.empty()
        return Detections.from_arrays(
            np.array([t.predict(index, pts, wide=wide) for t in tracks]),
            [t.score for t in tracks],
            [t.label for t in tracks],
            Source.TRACKER.value,
            [t.id for t in tracks],
        )


def make_tracker(
    *, gap: float, pad: int, detect_every: int = 1, lookahead: int = 0, first_id: int = 0
) -> Tracker:
    """The default tracker for a run's settings.

    Args:
        gap: seconds a track is carried after its last detection.
        pad: frames redacted before a track's first detection at least.
        detect_every: frames between two looks (tracks are carried at least this long).
        lookahead: frames the caller holds back (see :class:`IouTracker`).
        first_id: the first track's id.
    """
    return IouTracker(gap=gap, pad=pad, min_carry=detect_every, lookahead=lookahead, first_id=first_id)
