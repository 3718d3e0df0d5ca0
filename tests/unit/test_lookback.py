from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from redact.detect.tiles import Tile
from redact.io.video import DecodedFrame
from redact.io.yuv import Picture
from redact.types import Detections
from redact.video.lookback import LookBack, closely
from redact.video.track import IouTracker

W, H = 320, 240
FPS = 25


def face(box: list[float], score: float = 0.9) -> Detections:
    return Detections.from_arrays([box], [score], "face")


class Scene:
    """Frames of a ``W x H`` video whose picture says its index (for the fake detectors), and
    what the detectors find on each: ``truth[index]`` (a list of face boxes)."""

    def __init__(self, truth: dict[int, list[list[float]]]) -> None:
        self.truth = truth
        self.calls: list[tuple[int, Sequence[Tile] | None]] = []

    def frame(self, index: int) -> DecodedFrame:
        image = np.full((H, W, 3), 10 * index, np.uint8)
        return DecodedFrame(index, index / FPS, index, Picture.from_bgr(image))

    def look(self, image: np.ndarray, rois: Sequence[Tile] | None) -> Detections:
        index = round(float(np.median(image[..., 1])) / 10)  # a flat grey survives I420 within a level or two
        self.calls.append((index, rois))
        boxes = self.truth.get(index, [])
        inside = [b for b in boxes if rois is None or any(
            t.x0 <= b[0] and t.y0 <= b[1] and b[2] <= t.x1 and b[3] <= t.y1 for t in rois)]
        return Detections.concat([face(b) for b in inside])


def run(scene: Scene, first: int, reach: int, *, memory: int = 1 << 30) -> tuple[IouTracker, LookBack, int]:
    """Frames 0..first held back, the track found on ``first`` (reaching ``reach`` frames back)
    and looked for again."""
    tracker = IouTracker(gap=0.5, pad=3, lookahead=20)
    back = LookBack(21, window=(0.5, 16), whole=0.5, memory=memory)
    for i in range(first):
        back.add(scene.frame(i))
        tracker.update(i, i / FPS, None)
    back.add(scene.frame(first))
    tracker.update(first, first / FPS, Detections.concat([face(b) for b in scene.truth[first]]), reach=reach)
    return tracker, back, back.search(tracker, first, scene.look)


def boxes(tracker: IouTracker, first: int) -> dict[int, np.ndarray]:
    out = {}
    for i in range(first):
        got = tracker.backfill(i, i / FPS)
        if len(got):
            out[i] = got.xyxy[0]
    return out


def test_a_late_found_face_is_redacted_back_only_as_far_as_the_detectors_find_it() -> None:
    """Found on frame 12, reaching back to the keyframe at 0: the detectors find it again on
    10 and 11, not on 8 and 9; so 10-11 get what they found, 7-9 the pad (the box found on
    10), and nothing before; the look stopped after two misses."""
    truth = {12: [[100, 80, 180, 170]], 11: [[96, 78, 176, 168]], 10: [[92, 76, 172, 166]]}
    scene = Scene(truth)
    tracker, _, looked = run(scene, 12, 12)
    assert looked == 4 and [i for i, _ in scene.calls] == [11, 10, 9, 8]
    got = boxes(tracker, 12)
    assert sorted(got) == [7, 8, 9, 10, 11]
    np.testing.assert_allclose(got[11], truth[11][0])
    np.testing.assert_allclose(got[10], truth[10][0])
    for i in (7, 8, 9):
        np.testing.assert_allclose(got[i], truth[10][0])


def test_a_miss_between_two_sightings_is_covered_between_them() -> None:
    truth = {12: [[100, 80, 160, 150]], 10: [[90, 80, 150, 150]], 9: [[85, 80, 145, 150]]}
    tracker, _, _ = run(Scene(truth), 12, 12)
    got = boxes(tracker, 12)
    assert got[11][0] <= 95 and got[11][2] >= 155  # interpolated between the boxes of 10 and 12, grown
    np.testing.assert_allclose(got[9], truth[9][0])
    assert min(got) == 9 - 3


def test_looks_where_the_track_could_have_been_and_at_the_whole_picture_when_that_is_most_of_it() -> None:
    small = Scene({12: [[150, 110, 170, 130]]})
    run(small, 12, 12)
    rois = small.calls[0][1]
    assert rois is not None and len(rois) == 1
    win = rois[0]
    assert win.x0 < 150 and win.x1 > 170 and (win.x1 - win.x0) * (win.y1 - win.y0) < 0.5 * W * H
    large = Scene({12: [[20, 10, 300, 230]]})
    run(large, 12, 12)
    assert large.calls[0][1] is None


def test_frames_no_longer_held_are_covered_blindly_from_the_earliest_sighting() -> None:
    """With room for 4 pictures only (frames 9-12), frames before 9 were not looked at: their
    box is grown from the earliest sighting, back to the keyframe."""
    truth = {i: [[100 - i, 80, 180 - i, 170]] for i in range(0, 13)}
    per_frame = Picture.from_bgr(np.zeros((H, W, 3), np.uint8)).nbytes
    tracker, _, looked = run(Scene(truth), 12, 12, memory=4 * per_frame)
    assert looked == 3  # 11, 10, 9
    got = boxes(tracker, 12)
    assert sorted(got) == list(range(12))
    np.testing.assert_allclose(got[9], truth[9][0])
    x0, y0, x1, y1 = got[0]
    assert x0 <= truth[9][0][0] and x1 >= truth[9][0][2]  # at least the earliest sighting's box
    assert (x1 - x0) > (truth[9][0][2] - truth[9][0][0])  # grown for the frames it went unseen


def test_a_small_object_gets_its_blind_growth_over_the_pad() -> None:
    """A small object the detectors do not find again may have moved its own size per frame."""
    truth = {12: [[150, 110, 170, 130]]}
    tracker, _, _ = run(Scene(truth), 12, 12)
    got = boxes(tracker, 12)
    assert sorted(got) == [9, 10, 11]
    assert got[9][2] - got[9][0] > 3 * 20


def test_nothing_is_looked_back_at_beyond_a_tracks_reach() -> None:
    """Reaching back the pad only (3 frames): found on all of them, looked at on those only."""
    scene = Scene({i: [[100, 80, 180, 170]] for i in range(13)})
    tracker, _, looked = run(scene, 12, 1)
    assert looked == 3 and sorted(boxes(tracker, 12)) == [9, 10, 11]


def test_a_close_look_takes_suspects_too_and_widens_faces_found_in_windows() -> None:
    class Set:
        def look(
            self, image: np.ndarray, *, ratio: float, rois: Sequence[Tile] | None
        ) -> tuple[Detections, Detections]:
            assert ratio == 0.5
            return face([100, 100, 150, 160]), face([10, 10, 30, 30], score=0.2)

    look = closely(Set(), 0.5)
    image = np.zeros((H, W, 3), np.uint8)
    whole = look(image, None)
    assert len(whole) == 2 and whole.xyxy[0].tolist() == [100, 100, 150, 160]
    x0, y0, x1, y1 = look(image, [Tile(0, 0, W, H)]).xyxy[0]
    assert x0 < 100 and y0 < 100 and x1 > 150 and y1 > 160
