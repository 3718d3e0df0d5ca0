"""Following an object by its pixels where the detectors lost it after one sighting.

A track seen on one frame only has no known motion: the tracker grows its box blindly
(:func:`redact.video.motion.blind_growth`: a small object by its own size on every side per
frame) forwards for the frames it is carried and backwards for the frames it is padded
before its detection. In a pan across a crowd that paints boxes many times a face's size
over faces the networks find once and then miss. Where the object's own pixels can be
found again, there is no need to guess: :class:`Follower` looks for the patch the object
was seen as, frame by frame, in the frames around, and tells where it went. A match must be
sure (normalised correlation), textured (a plain patch matches anywhere) and unique (a crowd
of faces offers look-alikes): otherwise nothing is said and the tracker grows the box
blindly.

Pictures are luma at most :data:`FOLLOW_SIDE` px on their longer side; boxes are xyxy
source pixels.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.io.yuv import Picture, planes

FOLLOW_SIDE = 960  # pictures are matched at most this long (px), at their own size when smaller
# The pictures kept take at most this many bytes (32 at 1080p, all of a 1-s keyframe schedule's
# look-ahead at 640x360); an object is not followed into a picture no longer kept.
FOLLOW_MEMORY = 16 << 20
MIN_TEMPLATE = 8  # px at that scale: a smaller box is matched with its surroundings up to this
# A match counts when the patch correlates this well with where it is found (TM_CCOEFF_NORMED),
MIN_MATCH = 0.8
# ... better by this much than anywhere else in the search area beyond half the patch's size,
MIN_MARGIN = 0.1
# ... and the patch varies by this many grey levels at least (standard deviation).
MIN_TEXTURE = 6.0
# Per frame the patch is looked for within its own size on every side (and this many px).
STEP_REACH = 1.0
STEP_MIN_REACH = 8


def follow_picture(picture: Picture) -> NDArray[np.uint8]:
    """A picture's luma, scaled to at most :data:`FOLLOW_SIDE` px on its longer side."""
    y = planes(picture.data)[0] if picture.yuv else cv2.cvtColor(picture.data, cv2.COLOR_BGR2GRAY)
    h, w = y.shape
    s = min(1.0, FOLLOW_SIDE / max(h, w))
    if s >= 1.0:
        return np.ascontiguousarray(y)
    return cv2.resize(y, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def match(
    seen: NDArray[np.uint8], target: NDArray[np.uint8], box: NDArray[np.float64], near: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """Where the patch ``box`` of ``seen`` is in ``target``, looked for within ``near``'s
    reach (boxes xyxy in these pictures' pixels); the box moved there, or ``None`` when no
    sure, unique match exists or the patch is too plain to tell."""
    h, w = seen.shape
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    tw, th = max(MIN_TEMPLATE, box[2] - box[0]), max(MIN_TEMPLATE, box[3] - box[1])
    # The part of the object in the picture (an object cut by the border is looked for by it).
    x0, y0 = max(0, round(cx - tw / 2)), max(0, round(cy - th / 2))
    x1, y1 = min(w, round(cx + tw / 2)), min(h, round(cy + th / 2))
    if x1 - x0 < MIN_TEMPLATE or y1 - y0 < MIN_TEMPLATE:
        return None
    patch = seen[y0:y1, x0:x1]
    if float(patch.std()) < MIN_TEXTURE:
        return None
    rx = max(STEP_MIN_REACH, STEP_REACH * (near[2] - near[0]))
    ry = max(STEP_MIN_REACH, STEP_REACH * (near[3] - near[1]))
    # Where the patch would be had the object moved to ``near``, and as far again around.
    px, py = x0 + (near[0] - box[0]), y0 + (near[1] - box[1])
    sx0, sy0 = max(0, round(px - rx)), max(0, round(py - ry))
    sx1, sy1 = min(w, round(px + patch.shape[1] + rx)), min(h, round(py + patch.shape[0] + ry))
    if sx1 - sx0 < patch.shape[1] or sy1 - sy0 < patch.shape[0]:
        return None
    scores = cv2.matchTemplate(target[sy0:sy1, sx0:sx1], patch, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if not np.isfinite(best) or best < MIN_MATCH:
        return None
    others = scores.copy()
    ox0, oy0 = max(0, bx - patch.shape[1] // 2), max(0, by - patch.shape[0] // 2)
    others[oy0 : by + patch.shape[0] // 2 + 1, ox0 : bx + patch.shape[1] // 2 + 1] = -1.0
    if others.size and float(others.max()) > best - MIN_MARGIN:
        return None  # a look-alike nearby: which one it is cannot be told
    dx, dy = sx0 + bx - x0, sy0 + by - y0
    return np.asarray(box, np.float64) + np.array([dx, dy, dx, dy], np.float64)


class Follower:
    """The recent pictures of one video and where tracked objects' pixels went in them.

    Attributes:
        keep: how many recent pictures to keep at most (the tracker's look-ahead and one
            more; at least 2); fewer where they would take more than :data:`FOLLOW_MEMORY`.
    """

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._pictures: OrderedDict[int, NDArray[np.uint8]] = OrderedDict()
        self._scale = 1.0
        self._found: dict[tuple[int, int], NDArray[np.float64] | None] = {}

    def add(self, index: int, picture: NDArray[np.uint8], width: int) -> None:
        """Frame ``index``'s :func:`follow_picture` of a ``width``-px wide source picture."""
        self._scale = picture.shape[1] / max(1, width)
        self._pictures[index] = picture
        most = max(2, min(self.keep, FOLLOW_MEMORY // max(1, picture.nbytes)))
        while len(self._pictures) > most:
            gone, _ = self._pictures.popitem(last=False)
            self._found = {k: v for k, v in self._found.items() if k[1] > gone}

    def locate(self, track: int, box: NDArray[np.float64], seen: int, index: int) -> NDArray[np.float64] | None:
        """Where the object of ``track``, boxed ``box`` (source pixels) on frame ``seen``, is
        on frame ``index`` (earlier or later), followed frame by frame; ``None`` when a
        picture between is not kept or a step finds no sure match."""
        if index == seen:
            return np.asarray(box, np.float64)
        if seen not in self._pictures:
            return None
        s = self._scale
        template = np.asarray(box, np.float64) * s
        step = 1 if index > seen else -1
        at = template
        for i in range(seen + step, index + step, step):
            key = (track, i) if step > 0 else (-1 - track, i)
            if key in self._found:
                found = self._found[key]
            elif (target := self._pictures.get(i)) is None:
                return None  # not kept, or not seen yet: nothing to remember either way
            else:
                found = self._found[key] = match(self._pictures[seen], target, template, at)
            if found is None:
                return None
            at = found
        return at / s
