from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.io.yuv import Picture
from redact.types import Detections
from redact.video.follow import FOLLOW_MEMORY, FOLLOW_SIDE, Follower, follow_picture, match
from redact.video.motion import blind_growth, grow
from redact.video.track import IouTracker

W, H = 320, 240


def scene(seed: int = 0) -> np.ndarray:
    """A plain grey picture with a few soft shapes (little texture away from the object)."""
    img = np.full((H, W), 100, np.uint8)
    cv2.rectangle(img, (10, 10), (60, 40), 140, -1)
    cv2.circle(img, (260, 190), 25, 70, -1)
    return img


def face(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (20, 16), dtype=np.uint8)


def with_face(x: int, y: int, patch: np.ndarray | None = None) -> np.ndarray:
    img = scene()
    p = face() if patch is None else patch
    img[y : y + p.shape[0], x : x + p.shape[1]] = p
    return img


def box(x: int, y: int) -> np.ndarray:
    return np.array([x, y, x + 16, y + 20], np.float64)


def test_follow_picture_is_the_luma_scaled_down_to_the_longest_side() -> None:
    bgr = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), dtype=np.uint8)
    luma = follow_picture(Picture.from_bgr(bgr))
    assert luma.dtype == np.uint8 and luma.shape == (540, FOLLOW_SIDE)
    small = np.zeros((240, 320, 3), np.uint8)
    small[..., 1] = 200
    luma = follow_picture(Picture.from_bgr(small))
    assert luma.shape == (240, 320)
    assert abs(int(luma.mean()) - int(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())) <= 2


def test_a_textured_patch_is_found_where_it_moved() -> None:
    seen, target = with_face(100, 100), with_face(107, 96)
    moved = match(seen, target, box(100, 100), box(100, 100))
    assert moved is not None
    assert moved.tolist() == box(107, 96).tolist()


def test_no_match_for_a_plain_patch_a_look_alike_the_border_or_a_vanished_object() -> None:
    plain = scene()
    assert match(plain, plain, box(150, 150), box(150, 150)) is None  # nothing to tell it by
    twins = with_face(110, 100)
    twins[100:120, 90:106] = face()  # the same face twice within reach
    assert match(with_face(100, 100), twins, box(100, 100), box(100, 100)) is None
    assert match(with_face(0, 100), with_face(3, 100), np.array([-12.0, 100, 4, 120]), box(0, 100)) is None  # 4 px left
    assert match(with_face(100, 100), scene(), box(100, 100), box(100, 100)) is None


def test_the_follower_follows_forwards_and_backwards_frame_by_frame() -> None:
    follower = Follower(keep=8)
    path = [(60 + 6 * i, 80 + 2 * i) for i in range(6)]  # moves 6 px a frame: beyond one frame's
    for i, (x, y) in enumerate(path):
        follower.add(i, with_face(x, y), W)
    assert follower.locate(3, box(*path[2]), 2, 5).tolist() == box(*path[5]).tolist()
    assert follower.locate(3, box(*path[2]), 2, 0).tolist() == box(*path[0]).tolist()
    assert follower.locate(3, box(*path[2]), 2, 2).tolist() == box(*path[2]).tolist()
    assert follower.locate(3, box(*path[2]), 2, 9) is None  # not (yet) seen


def test_the_follower_scales_boxes_and_forgets_old_pictures() -> None:
    follower = Follower(keep=3)
    for i in range(5):
        big = cv2.resize(with_face(100 + 4 * i, 100), (2 * W, 2 * H), interpolation=cv2.INTER_NEAREST)
        follower.add(i, big[::2, ::2].copy(), 2 * W)  # kept at half the source's size
    at = follower.locate(7, 2 * box(100 + 4 * 3, 100), 3, 4)
    assert at is not None and at.tolist() == (2 * box(100 + 4 * 4, 100)).tolist()
    assert follower.locate(7, 2 * box(100, 100), 0, 4) is None  # frame 0 is gone


def test_an_object_that_vanishes_is_not_followed_past_it() -> None:
    follower = Follower(keep=8)
    for i, img in enumerate([with_face(100, 100), with_face(104, 100), scene(), with_face(112, 100)]):
        follower.add(i, img, W)
    assert follower.locate(0, box(100, 100), 0, 1) is not None
    assert follower.locate(0, box(100, 100), 0, 3) is None


def one(b: np.ndarray, score: float = 0.9) -> Detections:
    return Detections.from_arrays([b.tolist()], [score], "face")


def test_a_track_seen_once_is_redacted_where_its_pixels_went_not_grown_blindly() -> None:
    seen = box(100, 100)
    there = box(130, 90)
    tracker = IouTracker(gap=1.0, pad=3, locate=lambda track, b, frame, index: there.copy())
    tracker.update(0, 0.0, one(seen))
    out = tracker.update(2, 0.08, Detections.empty())
    got = out.xyxy[0]
    assert np.allclose(got, grow(there, 1.08), atol=1e-3)
    blind = IouTracker(gap=1.0, pad=3)
    blind.update(0, 0.0, one(seen))
    guess = blind.update(2, 0.08, Detections.empty()).xyxy[0]
    assert np.allclose(guess, grow(seen, blind_growth(seen, 2)), atol=1e-3)


def test_a_track_seen_once_grows_blindly_where_its_pixels_are_not_found() -> None:
    seen = box(100, 100)
    tracker = IouTracker(gap=1.0, pad=3, locate=lambda track, b, frame, index: None)
    tracker.update(0, 0.0, one(seen))
    out = tracker.update(2, 0.08, Detections.empty())
    assert np.allclose(out.xyxy[0], grow(seen, blind_growth(seen, 2)), atol=1e-3)


def test_backfill_covers_where_a_new_tracks_pixels_were() -> None:
    calls: list[tuple[int, int]] = []

    def locate(track: int, b: np.ndarray, frame: int, index: int) -> np.ndarray:
        calls.append((frame, index))
        return b + np.array([-5.0 * (frame - index), 0, -5.0 * (frame - index), 0])

    tracker = IouTracker(gap=1.0, pad=3, lookahead=3, locate=locate)
    for i in range(3):
        tracker.update(i, i * 0.04, Detections.empty())
    tracker.update(3, 0.12, one(box(100, 100)))
    back = tracker.backfill(1, 0.04)
    assert (3, 1) in calls
    assert np.allclose(back.xyxy[0], grow(box(90, 100), 1.08), atol=1e-3)


def test_a_large_track_seen_once_keeps_its_own_box_as_well() -> None:
    seen = np.array([100.0, 100.0, 200.0, 220.0])
    there = seen + np.array([30.0, 0, 30.0, 0])
    tracker = IouTracker(gap=1.0, pad=3, locate=lambda track, b, frame, index: there.copy())
    tracker.update(0, 0.0, one(seen))
    got = tracker.update(1, 0.04, Detections.empty()).xyxy[0]
    assert got[0] <= seen[0] + 1e-6 and got[2] >= there[2] - 1e-6
    assert got[2] - got[0] < 1.2 * (there[2] - seen[0])


@pytest.mark.parametrize("frames", [1, 4])
def test_a_track_seen_twice_is_not_followed(frames: int) -> None:
    asked: list[int] = []

    def locate(track: int, b: np.ndarray, frame: int, index: int) -> np.ndarray:
        asked.append(index)
        return b

    tracker = IouTracker(gap=1.0, pad=3, locate=locate)
    tracker.update(0, 0.0, one(box(100, 100)))
    tracker.update(1, 0.04, one(box(102, 100)))
    tracker.update(1 + frames, 0.04 * (1 + frames), Detections.empty())
    assert asked == []


def test_the_follower_keeps_at_most_its_memory_of_pictures() -> None:
    follower = Follower(keep=1000)
    for i in range(60):
        big = np.full((540, 960), 100, np.uint8)
        big[100:120, 100 + i : 116 + i] = face()
        follower.add(i, big, 960)
    most = FOLLOW_MEMORY // big.nbytes
    assert most < 60
    assert follower.locate(0, box(159, 100), 59, 60 - most) is not None
    assert follower.locate(0, box(159, 100), 59, 59 - most) is None  # no longer kept


def test_an_object_cut_by_the_border_is_looked_for_by_the_part_in_the_picture() -> None:
    p = face()
    seen, target = scene(), scene()
    seen[100:120, 0:10] = p[:, 6:]  # 6 of its 16 columns beyond the left edge
    target[100:120, 0:14] = p[:, 2:]  # 2 beyond it, a frame later
    moved = match(seen, target, np.array([-6.0, 100, 10, 120]), np.array([-6.0, 100, 10, 120]))
    assert moved is not None and moved.tolist() == [-2.0, 100, 14, 120]



def test_a_frame_not_seen_yet_is_looked_in_once_it_comes() -> None:
    follower = Follower(keep=8)
    follower.add(0, with_face(100, 100), W)
    assert follower.locate(0, box(100, 100), 0, 1) is None
    follower.add(1, with_face(104, 100), W)
    found = follower.locate(0, box(100, 100), 0, 1)
    assert found is not None and found.tolist() == box(104, 100).tolist()
