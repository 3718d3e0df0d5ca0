"""How each video frame is looked at: the keyframe schedule, close looks, cuts and the tracker.

Detection follows a :class:`Schedule`. The configured detector set (``--quality``) runs on
*keyframes* (every ``keyframe_seconds``, 1 s by default, and on the last frame) and, on the
frames between, looks closely (full resolution, every pass of the set) only at windows:
around every part of the picture that changed since it last looked there (*watching*, the
default), every live track where it is predicted, and every *suspect* of the last keyframe
(a candidate scoring from half the threshold up to it, so an object near the threshold gets
the chances full detection would give it). Without watching, a cheap single-scale *glance*,
every other frame between keyframes, finds large newcomers instead.

Most footage comes from cameras that stand still, where most of the picture is the same
pixels from one look to the next, and the detectors would find in them what they found
before. A :class:`~redact.video.change.ChangeMap` remembers what each part of the picture looked
like when last looked at: a keyframe looks at the parts that changed since the previous
keyframe (and around tracks and suspects; ``CHANGED``), the first and every
:data:`WHOLE_EVERY`-th keyframe after a whole one at the whole picture (``FULL``); a frame
between keyframes (``CHANGED`` too), or the glance, looks at what changed since any look
there. An object that comes into view changes the picture where it appears, so watching
looks at it closely from its first frame, as full detection would. Wherever the windows
would cover most of the picture (a moving camera, a cut), the whole picture gets the pass
instead. With
``keyframe_seconds`` 0, or when the detectors run on a GPU (where a full pass costs about what
the windows cost), every frame gets a full pass. A track born at frame ``t`` may have been in
view since the previous keyframe (which looked at everything that changed since the one
before): the full detectors look for it again on the frames back to there
(:mod:`redact.video.lookback`), and it is redacted where they find it and for the pad before.
The look-ahead holds two keyframe intervals of frames back (then the track's motion is known
when its first frames are backfilled).

Every frame is compared with the one before it for a cut (:class:`~redact.video.change.CutDetector`,
on the thumbnail the reader thread makes of each frame): the first frame of a new shot ends
every track and gets a full pass on the whole picture, whatever the schedule says, and is
marked in the sidecar (``cut``) and the manifest (``cuts``).

Watching leaves one gap: an object already in view that full detection finds on a later
frame although its pixels stayed within the change level of what the detectors last saw
there (and it was no suspect) waits for the next whole-picture keyframe. Without watching,
an object too small for the glance (under about 10-15 px at 640 px, i.e. faces under ~40 px
and plates under ~60 px wide in 1080p) that is not even a suspect on a keyframe and shows up
only between two keyframes is not found. ``bench/schedule.py`` and ``bench/montage.py``
measure both against full detection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from redact.detect import MERGE_CONTAIN, MERGE_IOU
from redact.detect.merge import merge_detections
from redact.detect.plate_anchors import cut_by_border
from redact.detect.tiles import Tile, tiles_xyxy, windows_around
from redact.geometry import centres_inside
from redact.io.video import DecodedFrame
from redact.io.yuv import Scratch
from redact.types import Detections, Frame, Label
from redact.video.change import ChangeMap, CutDetector, cut_picture, thumbnail
from redact.video.change import windows as change_windows
from redact.video.follow import Follower, follow_picture
from redact.video.lookback import LookBack, closely
from redact.video.motion import grow_blind
from redact.video.track import make_tracker
from redact.video.windowed import merged_windows, occupant_only, one_zone_each, vehicle_below, widen_faces

if TYPE_CHECKING:
    from redact.video.job import VideoContext

# Between keyframes the full detectors look closely at windows around live tracks and
# *suspects*: candidates of the last keyframe scoring from SUSPECT_RATIO times the threshold
# up to it (an object near the threshold gets a second chance on every frame, as it would
# with full detection on every frame). Each window is the box grown by FOCUS_MARGIN of its
# longer side (at least FOCUS_MIN_MARGIN px) on every side; when the windows cover more than
# FOCUS_MAX_AREA of the frame, the frame gets a full pass instead.
SUSPECT_RATIO = 0.5
MAX_SUSPECTS = 16
FOCUS_MARGIN = 0.5
FOCUS_MIN_MARGIN = 32
FOCUS_MAX_AREA = 0.5
FALLBACK_FPS = 25  # for the keyframe interval when a stream declares no rate
FULL = "full"
CHANGED = "changed"
GLANCE = "glance"
FOCUS = "focus"
NONE = "none"
LOOKS = (FULL, CHANGED, GLANCE, FOCUS, NONE)  # how a frame was looked at (sidecar "look")
# A keyframe's full detectors look at the parts of the picture that changed since the last
# keyframe and around tracks and suspects (CHANGED); every WHOLE_EVERY-th keyframe, and any
# whose windows would cover more than FOCUS_MAX_AREA of it, looks at the whole picture (FULL).
WHOLE_EVERY = 4
# The glance runs on every GLANCE_EVERY-th frame between keyframes, the close looks on every
# frame: a large newcomer found a frame late is still redacted from the previous keyframe on
# (backfill), so the glance only has to catch objects that come and go between two keyframes.
GLANCE_EVERY = 2
# The glance looks at a cell of the change map (32 x 32 px) only when at least GLANCE_LEAST of
# its 64 thumbnail pixels changed: the smallest object the glance finds (~12 px at 640 px,
# 36 px in 1080p) moves several times that many, while single specks of noise or flicker
# would each cost a window. Keyframes look at every changed cell.
GLANCE_LEAST = 8


@dataclass(frozen=True)
class Schedule:
    """Which detection each video frame gets.

    Attributes:
        keyframe: frames between full passes (>= 1); frame ``i`` is a keyframe when
            ``i % keyframe == 0``. A multiple of ``every``.
        every: only frames with ``i % every == 0`` get any detection (``--detect-every``).
        glance: whether frames between keyframes get the glance (on every
            :data:`GLANCE_EVERY`-th of them); the others get close looks only.
        lookahead: frames held back before rendering (the tracker's look-ahead).
        watch: whether frames between keyframes get close looks at every part of the
            picture that changed since the full detectors last looked at it as well
            (``CHANGED``; then no glance).
    """

    keyframe: int
    every: int
    glance: bool
    lookahead: int
    watch: bool = False

    def kind(self, index: int, last: bool = False) -> str | None:
        """``FULL``, ``CHANGED`` (close looks at what changed, tracks and suspects),
        ``GLANCE`` (glance and close looks), ``FOCUS`` (close looks) or ``None`` (tracker
        only) for frame ``index``.

        The last frame is always a keyframe, so nothing after the final keyframe goes unseen
        by the full detectors.
        """
        if index % self.keyframe == 0 or last:
            return FULL
        if index % self.every:
            return None
        if self.watch:
            return CHANGED
        if self.glance and ((index % self.keyframe) // self.every) % GLANCE_EVERY == 1:
            return GLANCE
        return FOCUS


@dataclass(frozen=True)
class Read:
    """A decoded frame with what the change maps and the cut detector take of it (made on the
    reader's thread, which waits on the detectors most of the time anyway)."""

    frame: DecodedFrame
    thumb: NDArray[np.int16]  # change.thumbnail
    small: NDArray[np.uint8]  # change.cut_picture
    luma: NDArray[np.uint8]  # follow.follow_picture

    @classmethod
    def of(cls, decoded: DecodedFrame) -> Read:
        thumb = thumbnail(decoded.picture)
        return cls(decoded, thumb, cut_picture(thumb), follow_picture(decoded.picture))


def plan_schedule(
    *, keyframe_seconds: float, every: int, glance: bool, pad: int, fps: Fraction | None, watch: bool = False
) -> Schedule:
    """The schedule for a video at ``fps`` frames per second.

    The keyframe interval is ``keyframe_seconds`` of frames rounded up to a multiple of
    ``every``; the look-ahead is two intervals, and never less than ``pad``. Held frames keep
    their detections only (the writer decodes the pictures again), so neither depends on
    the picture size.
    """
    rate = float(fps) if fps else FALLBACK_FPS
    k = max(1, round(keyframe_seconds * rate)) if keyframe_seconds > 0 else 1
    k = math.ceil(k / every) * every
    watch = watch and k > every
    return Schedule(
        keyframe=k, every=every, glance=glance and k > every and not watch, lookahead=max(pad, 2 * k), watch=watch
    )


class Looker:
    """Looks at the frames of one video in order, as its :class:`Schedule` says, and tracks
    what the detectors find: the tracker's boxes for every frame, how each frame was looked
    at, and where the shots cut.

    Args:
        ctx: the run's settings and detector sets (a :class:`~redact.video.job.VideoContext`).
        rate: the stream's frame rate (None: undeclared).
        start: the index of the first frame it is given (a segment's lead-in keyframe).
        first_track: the id of the first track.
    """

    def __init__(self, ctx: VideoContext, rate: Fraction | None, *, start: int = 0, first_track: int = 0) -> None:
        cfg = ctx.config
        self.ctx = ctx
        # On a GPU a full pass costs about what the close looks cost there (and their changing
        # window sizes cost more: see redact.detect.session), so every frame gets one.
        keyframe_seconds = 0.0 if getattr(ctx.detectors, "accelerated", False) else cfg.keyframe_seconds
        self.schedule = plan_schedule(
            keyframe_seconds=keyframe_seconds, every=cfg.detect_every, glance=cfg.glance, pad=cfg.track_pad,
            fps=rate, watch=cfg.watch,
        )
        # The pictures held back, where objects seen once are followed by their pixels (as
        # many as the tracker holds frames back, and the one being looked at).
        self.follower = Follower()
        # Live tracks get a close look on every detection frame between keyframes, so they are
        # carried for --track-gap as with full detection, not to the next keyframe regardless.
        self.tracker = make_tracker(
            gap=cfg.track_gap, pad=cfg.track_pad, detect_every=self.schedule.every,
            lookahead=self.schedule.lookahead, first_id=first_track, locate=self.follower.locate,
        )
        self.follower.keep = self.tracker.lookahead + 2
        self.last_full = start  # index of the latest frame the full detectors ran on
        self.looks = dict.fromkeys(LOOKS, 0)  # frames per kind of look
        self.change = ChangeMap()  # what the glance and full detectors last saw, per cell
        self.key_change = ChangeMap()  # what the full detectors last saw, per cell
        self.cut_detector = CutDetector()
        self.cuts: list[dict[str, Any]] = []  # first frames of new shots, and the tracks each ended
        self.since_whole = 0  # keyframes since the last one on the whole picture
        self.suspects = Detections.empty()  # near-threshold candidates of the last keyframe
        self.suspects_at = 0
        # The occupant detector alone, for vehicles' window zones between keyframes (None: not running).
        self.by_vehicle = occupant_only(ctx.detectors)
        # The BGR picture the detectors take, one buffer reused from frame to frame (read only
        # while a frame, or a held one looked at again, is detected).
        self.scratch = Scratch()
        # With a keyframe schedule, a track found after a keyframe is looked for again on the
        # frames back to it (see redact.video.lookback); without one every frame had a full pass.
        self.back = (
            LookBack(
                # A new track reaches back to the last full look: a keyframe interval, or the pad.
                max(self.schedule.keyframe, cfg.track_pad) + 1,
                window=(FOCUS_MARGIN, FOCUS_MIN_MARGIN), whole=FOCUS_MAX_AREA, scratch=self.scratch,
            )
            if self.schedule.keyframe > self.schedule.every else None
        )
        self.look_again = closely(ctx.detectors, SUSPECT_RATIO)

    @property
    def lookahead(self) -> int:
        """Frames to hold back before their boxes are final (tracks backfill into them)."""
        return int(self.tracker.lookahead)

    def look(self, read: Read, after: Read | None) -> tuple[Detections, str, bool]:
        """Detect on ``read`` as the schedule says and update the tracker.

        ``after`` is the next frame (None: ``read`` is the last), which tells a cut from a
        flash. Returns the tracker's boxes, how the frame was looked at (one of
        :data:`LOOKS`) and whether it is the first frame of a new shot.
        """
        cut = self.cut_detector.check(read.small, after.small if after is not None else None)
        self.follower.add(read.frame.index, read.luma, read.frame.picture.width)
        if self.back is not None:
            self.back.add(read.frame)
        dets, look = self._look(read, last=after is None, cut=cut)
        self.looks[look] += 1
        if self.back is not None:
            self.back.search(self.tracker, read.frame.index, self.look_again)
        return dets, look, cut

    def backfill(self, index: int, pts: float) -> Detections:
        """Boxes of tracks born later that reach back to frame ``index`` (see the tracker)."""
        return self.tracker.backfill(index, pts)

    def _look(self, read: Read, *, last: bool, cut: bool = False) -> tuple[Detections, str]:
        """Detect on a frame as the schedule says and update the tracker; returns the
        tracker's boxes and how the frame was looked at (one of :data:`LOOKS`).

        The first frame of a new shot (``cut``) ends every track and gets a full pass on the
        whole frame, whatever the schedule says.
        """
        decoded = read.frame
        if cut:
            ended = self.tracker.cut(decoded.index)
            self.cuts.append({"frame": decoded.index, "pts": round(decoded.pts, 6), "tracks": ended})
            self.suspects = Detections.empty()  # the last shot's
        kind = FULL if cut else self.schedule.kind(decoded.index, last)
        if kind is None:
            return self.tracker.update(decoded.index, decoded.pts, None), NONE
        f = Frame(decoded.index, decoded.pts, self.scratch.of(decoded.picture))
        h, w = f.image.shape[:2]
        full = self.ctx.detectors
        if self.schedule.keyframe == self.schedule.every:  # no keyframe schedule: always in full
            dets = full.detect(f.image)
            out = self.tracker.update(f.index, f.pts, dets, reach=f.index - self.last_full)
            self.last_full = f.index
            return out, FULL
        expected = self.tracker.active(f.index, f.pts)
        # Between keyframes an occupant track (a vehicle's windows) is followed by the vehicle
        # network alone, in windows of its own: its zones are large, and the face and plate
        # networks run where faces and plates are tracked or suspected.
        by_vehicle = self.by_vehicle if kind != FULL else None
        is_occ = expected.label == Label.OCCUPANT.value
        rois = self._focus(f, expected[~is_occ] if by_vehicle is not None else expected)
        occ_rois: list[Tile] | None = []
        if by_vehicle is not None:
            # A vehicle or person cut by the picture's edge is boxed differently in an enlarged
            # window than in the whole picture, and its window zone or head with it: look at
            # the whole (a head region may be a person's, where no face was found).
            heads = getattr(by_vehicle, "person_heads", None) is not None
            is_face = expected.label == Label.FACE.value
            at_edge = bool(cut_by_border(vehicle_below(expected.xyxy[is_occ]), w, h).any()) or (
                heads and bool(cut_by_border(expected.xyxy[is_face], w, h).any())
            )
            if at_edge:
                occ_rois = None
            elif is_occ.any():
                occ_rois = self._focus(f, expected[is_occ], suspects=False)
        thumb = read.thumb if kind == FULL else None
        cells = None
        if thumb is not None and self.since_whole + 1 < WHOLE_EVERY and not cut:
            cells = self.key_change.changed(thumb)
            rois = merged_windows(change_windows(cells, w, h) + rois, w, h)
        watching = kind == CHANGED  # between keyframes, with Schedule.watch
        if watching:
            # Whatever changed since the full detectors last looked at it: a newcomer is
            # looked at closely from its first frame, as full detection would. (Keyframes
            # still look at all that changed since the last keyframe, for its suspects.)
            thumb = read.thumb
            cells = self.change.changed(thumb)
            rois = merged_windows(change_windows(cells, w, h) + rois, w, h)
        if sum(t.width * t.height for t in rois) > FOCUS_MAX_AREA * w * h:
            # So much to look at closely that a full pass costs about the same.
            kind, cells = FULL, None
            thumb = read.thumb
        elif kind == FULL and cells is not None:
            kind = CHANGED
        if kind == FULL:
            dets, suspects = full.look(f.image, ratio=SUSPECT_RATIO)
            weak = None
            self.since_whole = 0
        else:
            dets, weak = full.look(f.image, ratio=SUSPECT_RATIO, rois=rois)
            dets, weak = widen_faces(dets, w, h), widen_faces(weak, w, h)
            if by_vehicle is not None and (occ_rois is None or occ_rois):
                # The plates found in this frame's windows end the zones above them.
                plates = dets[dets.label == Label.PLATE.value]
                vdets, vweak = by_vehicle.look(f.image, ratio=SUSPECT_RATIO, rois=occ_rois, plates=plates)
                # Where both looks' windows overlap, both find the same window zone.
                dets = one_zone_each(Detections.concat([dets, vdets]))
                weak = one_zone_each(Detections.concat([weak, vweak]))
            if kind == GLANCE:
                dets = Detections.concat([dets, self._glance(read, f.image)])
                dets = merge_detections(dets, iou=MERGE_IOU, contain=MERGE_CONTAIN)
            suspects = weak
            # A live track may be continued by weaker evidence where it is expected (full
            # detection on every frame would likely have seen it at full score), never started.
            weak = weak[np.asarray(centres_inside(weak.xyxy, expected.xyxy).any(axis=0), bool)]
        if thumb is None or (watching and kind == CHANGED):  # between keyframes
            if thumb is not None:
                self.change.looked(thumb, cells)
            out = self.tracker.update(
                f.index, f.pts, dets, reach=f.index - self.last_full, weak=weak, windowed=kind != FULL
            )
            return out, kind
        if kind == CHANGED:
            self.since_whole += 1
            # The last keyframe's suspects where nothing changed are suspects still.
            kept = np.asarray(~centres_inside(self.suspects.xyxy, tiles_xyxy(rois)).any(axis=0), bool)
            suspects = Detections.concat([suspects, self.suspects[kept]])
        order = np.argsort(-suspects.score, kind="stable")[:MAX_SUSPECTS]
        self.suspects, self.suspects_at = suspects[order], f.index
        self.key_change.looked(thumb, cells)
        self.change.looked(thumb, cells)
        # New tracks are covered back to the last keyframe, which looked at every part of the
        # picture that changed since the one before it.
        out = self.tracker.update(
            f.index, f.pts, dets, reach=f.index - self.last_full, weak=weak, windowed=kind != FULL
        )
        self.last_full = f.index
        return out, kind

    def _glance(self, read: Read, image: NDArray[np.uint8]) -> Detections:
        """The glance, on the parts of the picture that changed since the last glance or full
        pass looked at them (the rest would show it what it saw then); on the whole picture
        when most of it changed."""
        w, h = read.frame.picture.width, read.frame.picture.height
        thumb = read.thumb
        cells = self.change.changed(thumb, least=GLANCE_LEAST)
        self.change.looked(thumb, cells)
        wins = change_windows(cells, w, h)
        if not wins:
            return Detections.empty()
        whole = sum(t.width * t.height for t in wins) > FOCUS_MAX_AREA * w * h
        return self.ctx.glance.detect(image, rois=None if whole else wins)

    def _focus(self, f: Frame, expected: Detections, *, suspects: bool = True) -> list[Tile]:
        """Windows the full detectors look at between keyframes: around every live track
        (``expected``: where it is predicted) and, with ``suspects``, every suspect of the
        last keyframe (grown as far as it could have moved since)."""
        h, w = f.image.shape[:2]
        boxes: list[NDArray[np.float64]] = [expected.xyxy.astype(np.float64)]
        since = f.index - self.suspects_at
        looked_for = self.suspects if suspects else Detections.empty()
        for box, label in zip(looked_for.xyxy.astype(np.float64), looked_for.label, strict=True):
            boxes.append(grow_blind(box, since, str(label))[None])
        return windows_around(np.concatenate(boxes), w, h, margin=FOCUS_MARGIN, min_margin=FOCUS_MIN_MARGIN)
