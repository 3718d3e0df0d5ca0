"""How a tracked object's box moves and grows while nobody sees it: the motion model of
:mod:`redact.video.track`.

A :class:`Track` fits its velocity on its recent observations and predicts where its box is
on a later frame, grown for the time it went unseen; a :class:`Gap` fills the frames
between two observations. Boxes are xyxy float pixels of the upright frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from redact.types import Label

# Predicted boxes grow by this fraction of their size per unobserved frame, up to MAX_GROWTH,
# because the object may speed up, turn or change size while nobody looks.
GROWTH_PER_FRAME = 0.04
MAX_GROWTH = 2.0
# While a track's direction is unknown (before its first detection, or after a single one), a
# small object — a distant plate, a face in a passing car — can move about its own size per
# frame: its box grows by its size on every side per frame, up to MAX_SMALL_GROWTH. (Per frame,
# not per second: at 25 fps the same growth per 40 ms is also what covers a face the detectors
# miss on the next frames of a pan; see docs/performance.md.)
SMALL_SIDE = 48.0  # px; boxes whose shorter side is below this count as small
# ... except a vehicle's window zone (label occupant), however thin the picture's edge or a
# plate below cuts it: it is part of a vehicle, which moves a fraction of its own width per
# frame even at road speed, where a face or a plate can cross its own size in one frame.
NEVER_SMALL = frozenset({Label.OCCUPANT.value})
SMALL_GROWTH_PER_FRAME = 2.0
MAX_SMALL_GROWTH = 11.0
VELOCITY_HISTORY = 6  # observations the velocity is fitted on
# What a redacted prediction may grow is bounded by what the track was seen to do: per side,
# SPEED_SLACK of the distance its observed velocity covers while unseen (the object may speed
# up or turn), its observed change of size per frame, and MIN_GROWTH_PER_FRAME of its size per
# unseen frame; never more than the growth above. A parked car's plate predicted for half a
# second stays its own size instead of doubling over the frame.
SPEED_SLACK = 0.5
MIN_GROWTH_PER_FRAME = 0.01


def is_small(box: NDArray[np.float64], label: str = "") -> bool:
    """Whether a box (xyxy) of ``label`` is small: its shorter side under :data:`SMALL_SIDE`
    (never for the labels of :data:`NEVER_SMALL`)."""
    return label not in NEVER_SMALL and bool(min(box[2] - box[0], box[3] - box[1]) < SMALL_SIDE)


def blind_growth(box: NDArray[np.float64], frames: int, label: str = "") -> float:
    """Growth factor for a box of ``label`` ``frames`` frames away from where it was seen,
    direction unknown."""
    if is_small(box, label):
        return min(MAX_SMALL_GROWTH, 1.0 + SMALL_GROWTH_PER_FRAME * frames)
    return min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * frames)


def grow_blind(box: NDArray[np.float64], frames: int, label: str = "") -> NDArray[np.float64]:
    """``box`` (of ``label``) grown as far as an object seen there could have moved in
    ``frames`` frames while its direction is unknown."""
    return grow(box, blind_growth(box, frames, label))


def grow(box: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    """``box`` (xyxy) scaled by ``factor`` about its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


@dataclass
class Gap:
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
        return grow(box, min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * unseen))


@dataclass
class Track:
    """One object followed from frame to frame: where it was last seen, its fitted velocity
    and its recent sizes, from which it predicts its box on later frames."""

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
    # Looking back (redact.video.lookback): the frames before first_index where the detectors
    # found it again, index -> (pts, box), and the earliest frame that settled (None: not
    # looked back; frames before it were not looked at).
    before: dict[int, tuple[float, NDArray[np.float64]]] = field(default_factory=dict)
    looked: int | None = None

    def predict(self, index: int, pts: float, *, wide: bool = True) -> NDArray[np.float64]:
        """Where the box probably is at ``pts``, grown for the frames it was not seen.

        ``wide``: grown as far as the object could have gone (where to look for it); else
        bounded by what the track was seen to do (what to redact; see :func:`bounded`).
        """
        moved = self.moved(pts)
        unseen = max(0, index - self.last_index)
        if len(self.history) < 2:  # seen once: no idea where it is heading
            grown = grow(moved, blind_growth(self.box, unseen, self.label))
            if wide or is_small(self.box, self.label):
                return grown
        else:
            grown = grow(moved, min(MAX_GROWTH, 1.0 + GROWTH_PER_FRAME * unseen))
            if wide:
                return grown
        return bounded(moved, grown, self.velocity, self.size_rate(), unseen, abs(pts - self.last_pts))

    def moved(self, pts: float) -> NDArray[np.float64]:
        """The last observed box moved along the track's velocity to ``pts``, not grown."""
        return self.carried(self.box, self.last_pts, pts)

    def carried(self, box: NDArray[np.float64], seen_pts: float, pts: float) -> NDArray[np.float64]:
        """``box`` (xyxy), where the track was at ``seen_pts``, moved along its velocity to
        ``pts`` (earlier or later), not grown."""
        dx, dy = self.velocity * (pts - seen_pts)
        return box + np.array([dx, dy, dx, dy])

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


def bounded(
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
