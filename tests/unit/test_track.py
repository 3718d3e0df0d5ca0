from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redact.types import Detections
from redact.video.track import IouTracker, iou_matrix


def dets(*boxes: list[float], label: str = "face") -> Detections:
    return Detections.from_arrays(list(boxes), [0.9] * len(boxes), label) if boxes else Detections.empty()


def contains(outer: np.ndarray, inner: list[float]) -> bool:
    return bool(outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3])


box_st = st.tuples(st.floats(0, 300), st.floats(0, 300), st.floats(1, 60), st.floats(1, 60)).map(
    lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(box_st, st.sampled_from(["face", "plate"])), max_size=4), min_size=1, max_size=12),
       st.sets(st.integers(0, 11), max_size=3))
def test_output_is_a_superset_of_the_detections(frames: list[list[tuple[list[float], str]]], cuts: set[int]) -> None:
    tracker = IouTracker(gap=0.5, pad=3)
    for i, items in enumerate(frames):
        if i in cuts:
            tracker.cut(i)
        d = Detections.concat(dets(b, label=lbl) for b, lbl in items)
        out = tracker.update(i, i / 25, d)
        for b, lbl in items:
            hits = [j for j in range(len(out)) if out.label[j] == lbl and np.allclose(out.xyxy[j], b, atol=1e-3)]
            assert hits and all(out.source[j] == "detector" and out.track_id[j] >= 0 for j in hits)


def test_a_track_is_carried_for_the_gap_then_dropped() -> None:
    tracker = IouTracker(gap=0.2, pad=0)
    tracker.update(0, 0.0, dets([10, 10, 30, 30]))
    tracker.update(1, 0.04, dets([13, 10, 33, 30]))
    alive = [len(tracker.update(i, i * 0.04, None)) for i in range(2, 10)]
    # last seen at 0.04 s: carried while pts - 0.04 <= 0.2, i.e. up to frame 6
    assert alive == [1, 1, 1, 1, 1, 0, 0, 0]


def test_predicted_boxes_follow_motion_and_grow() -> None:
    tracker = IouTracker(gap=1.0, pad=0)
    for i in range(4):
        tracker.update(i, i * 0.1, dets([10 + 10 * i, 10, 30 + 10 * i, 30]))
    out = tracker.update(5, 0.5, None)
    assert out.source.tolist() == ["tracker"]
    x1, _, x2, _ = out.xyxy[0]
    assert (x1 + x2) / 2 == pytest.approx(70, abs=1)  # centre moved on at 100 px/s
    assert x2 - x1 > 20  # grew while unobserved
    assert out.track_id[0] == 0


def test_backfill_pads_before_the_first_detection_and_interpolates_gaps() -> None:
    tracker = IouTracker(gap=1.0, pad=3)
    assert tracker.lookahead == 3
    for i in range(3):
        tracker.update(i, i * 0.1, None)
    tracker.update(3, 0.3, dets([50, 10, 70, 30]))
    assert len(tracker.backfill(0, 0.0)) == 1 and contains(tracker.backfill(1, 0.1).xyxy[0], [50, 10, 70, 30])
    tracker.update(4, 0.4, None)
    tracker.update(5, 0.5, dets([60, 10, 80, 30]))
    tracker.backfill(2, 0.2)
    tracker.backfill(3, 0.3)
    mid = tracker.backfill(4, 0.4)
    assert len(mid) == 1 and contains(mid.xyxy[0], [55, 10, 75, 30]) and mid.track_id[0] == 0


def test_labels_never_match_each_other() -> None:
    tracker = IouTracker(gap=0.5, pad=0)
    tracker.update(0, 0.0, dets([10, 10, 30, 30]))
    out = tracker.update(1, 0.04, dets([10, 10, 30, 30], label="plate"))
    assert sorted(out.label.tolist()) == ["face", "plate"] and len(set(out.track_id.tolist())) == 2


def test_iou_matrix() -> None:
    a = np.array([[0, 0, 10, 10.0]])
    b = np.array([[0, 0, 10, 10.0], [5, 0, 15, 10], [20, 20, 30, 30]])
    assert iou_matrix(a, b).tolist() == [[1.0, pytest.approx(1 / 3), 0.0]]


def test_small_fast_object_is_covered_before_its_first_detection() -> None:
    """A distant plate (30x16 px) moving 15 px per frame upwards, first detected at frame 5:
    the frames before it (direction unknown) are covered wherever it could have been."""
    tracker = IouTracker(gap=0.5, pad=4)
    truth = {i: [330.0, 250.0 - 15 * i, 360.0, 266.0 - 15 * i] for i in range(8)}
    for i in range(5):
        tracker.update(i, i / 12.5, None)
    tracker.update(5, 5 / 12.5, dets(truth[5], label="plate"))
    for i in range(1, 5):
        out = tracker.backfill(i, i / 12.5)
        assert len(out) == 1 and contains(out.xyxy[0], truth[i]), f"frame {i} not covered"


def test_object_seen_once_is_predicted_widely_for_small_boxes_only() -> None:
    tracker = IouTracker(gap=0.5, pad=0)
    tracker.update(0, 0.0, dets([100, 100, 130, 116], label="plate"))
    small = tracker.update(1, 0.04, None).xyxy[0]
    assert contains(small, [100, 84, 130, 132])  # a box-height away, either way
    tracker = IouTracker(gap=0.5, pad=0)
    tracker.update(0, 0.0, dets([100, 100, 300, 300]))
    large = tracker.update(1, 0.04, None).xyxy[0]
    assert large[2] - large[0] < 220  # large objects keep the gentle growth


def test_active_predicts_every_live_track_without_changing_anything() -> None:
    tracker = IouTracker(gap=0.2, pad=0)
    for i in range(3):
        tracker.update(i, i * 0.04, dets([10 + 4 * i, 10, 30 + 4 * i, 30]))
    ahead = tracker.active(4, 0.16)
    assert len(ahead) == 1 and ahead.source.tolist() == ["tracker"]
    np.testing.assert_allclose(ahead.xyxy, tracker.active(4, 0.16).xyxy)  # asking twice: same answer
    drawn = tracker.update(4, 0.16, None)  # what is redacted lies within where it is looked for
    assert contains(ahead.xyxy[0], drawn.xyxy[0].tolist()) and drawn.track_id.tolist() == ahead.track_id.tolist()
    assert len(tracker.active(9, 0.36)) == 0  # past the gap: no longer live


def test_weak_candidates_continue_tracks_but_never_start_them() -> None:
    tracker = IouTracker(gap=1.0, pad=0)
    tracker.update(0, 0.0, dets([10, 10, 30, 30]))
    weak = Detections.from_arrays([[12, 10, 32, 30], [200, 200, 220, 220]], [0.2, 0.2], "face")
    out = tracker.update(1, 0.04, Detections.empty(), weak=weak)
    # the weak box next to the track continues it (as an observation); the far one is dropped
    assert out.xyxy.tolist() == [[12, 10, 32, 30]] and out.source.tolist() == ["detector"]
    assert out.track_id.tolist() == [0]
    assert len(tracker.active(2, 0.08)) == 1  # still one track


def test_weak_candidate_beside_a_continued_track_is_kept_without_a_track() -> None:
    tracker = IouTracker(gap=1.0, pad=0)
    tracker.update(0, 0.0, dets([10, 10, 50, 40]))
    # A stronger box continues the track; a weak face lower in the same place (a window's
    # lower score for what the whole frame finds) is redacted too, and starts no track.
    strong = Detections.from_arrays([[10, 10, 50, 38]], [0.6], "face")
    weak = Detections.from_arrays([[22, 24, 42, 50], [22, 24, 42, 50], [300, 300, 320, 320]], [0.2, 0.2, 0.2],
                                  ["face", "plate", "face"])
    out = tracker.update(1, 0.04, strong, weak=weak)
    assert out.xyxy.tolist() == [[10, 10, 50, 38], [22, 24, 42, 50]]  # the plate and the far face are dropped
    assert out.track_id.tolist() == [0, -1]
    assert len(tracker.active(2, 0.08)) == 1


def test_a_cut_ends_every_track_and_nothing_crosses_it() -> None:
    """No prediction, gap fill or padding across a cut, forward or back; the same place in the
    next shot is a new track."""
    tracker = IouTracker(gap=1.0, pad=3, lookahead=6)
    for i in range(3):
        tracker.update(i, i * 0.04, dets([10 + 2 * i, 10, 30 + 2 * i, 30]))
    assert tracker.update(3, 0.12, None).source.tolist() == ["tracker"]  # carried before the cut
    assert tracker.cut(4) == [0]
    assert len(tracker.active(4, 0.16)) == 0
    assert len(tracker.update(4, 0.16, None)) == 0  # no prediction into the new shot
    out = tracker.update(5, 0.20, dets([16, 10, 36, 30]), reach=5)
    assert out.track_id.tolist() == [1]  # not a continuation of track 0: no gap fill over the cut
    for i in range(6, 9):
        tracker.update(i, i * 0.04, None)
    for i in range(0, 4):
        back = tracker.backfill(i, i * 0.04)
        assert 1 not in back.track_id.tolist(), f"frame {i}: a track of the next shot padded back before the cut"
    assert tracker.backfill(4, 0.16).track_id.tolist() == [1]  # the shot's first frame is padded
    assert tracker.cut(9) == [1]


def test_a_track_of_the_new_shot_is_padded_back_to_the_cut_only() -> None:
    tracker = IouTracker(gap=1.0, pad=5, lookahead=10)
    tracker.update(0, 0.0, None)
    tracker.cut(1)
    for i in range(1, 4):
        tracker.update(i, i * 0.04, None)
    tracker.update(4, 0.16, dets([50, 50, 70, 70]), reach=10)
    covered = [i for i in range(4) if len(tracker.backfill(i, i * 0.04))]
    assert covered == [1, 2, 3]


def test_predicted_boxes_grow_only_as_the_track_was_seen_to_move() -> None:
    """A still object of constant size is carried at about its size; one that moves keeps
    being covered where it goes."""
    tracker = IouTracker(gap=1.0, pad=0)
    for i in range(4):
        tracker.update(i, i * 0.04, dets([100, 100, 300, 200]))
    still = tracker.update(16, 16 * 0.04, None).xyxy[0]
    width, height = still[2] - still[0], still[3] - still[1]
    assert width <= 200 * 1.15 and height <= 100 * 1.15  # the old growth made it 1.48x
    assert contains(still, [100, 100, 300, 200])
    tracker = IouTracker(gap=1.0, pad=0)
    truth = {i: [100 + 8 * i, 100, 160 + 8 * i, 160 + 2 * i] for i in range(20)}  # moving, growing taller
    for i in range(6):
        tracker.update(i, i * 0.04, dets(truth[i]))
    for i in range(6, 18):
        out = tracker.update(i, i * 0.04, None).xyxy[0]
        assert contains(out, truth[i]), f"frame {i}"
        assert out[2] - out[0] < 60 * 1.6, f"frame {i}: grew beyond its motion"


def test_a_track_seen_once_is_carried_briefly() -> None:
    tracker = IouTracker(gap=1.0, pad=0)
    tracker.update(0, 0.0, dets([100, 100, 400, 260], label="plate"))
    carried = [len(tracker.update(i, i * 0.04, None)) for i in range(1, 8)]
    assert carried == [1, 1, 1, 0, 0, 0, 0]
    tracker = IouTracker(gap=1.0, pad=5)  # the pad still holds
    tracker.update(0, 0.0, dets([100, 100, 400, 260], label="plate"))
    carried = [len(tracker.update(i, i * 0.04, None)) for i in range(1, 8)]
    assert carried == [1, 1, 1, 1, 1, 0, 0]
    tracker = IouTracker(gap=1.0, pad=0)  # seen twice: the whole gap
    tracker.update(0, 0.0, dets([100, 100, 400, 260], label="plate"))
    tracker.update(1, 0.04, dets([101, 100, 401, 260], label="plate"))
    assert all(len(tracker.update(i, i * 0.04, None)) == 1 for i in range(2, 20))


def test_a_large_box_seen_once_keeps_about_its_size() -> None:
    tracker = IouTracker(gap=1.0, pad=5, lookahead=10)
    for i in range(6):
        tracker.update(i, i * 0.04, None)
    tracker.update(6, 0.24, dets([146, 0, 370, 272], label="plate"))
    back = tracker.backfill(1, 0.04).xyxy[0]
    ahead = tracker.update(9, 0.36, None).xyxy[0]
    for box in (back, ahead):
        assert contains(box, [146, 0, 370, 272]) and box[2] - box[0] <= 224 * 1.1


def test_a_thin_window_zone_seen_once_keeps_about_its_size() -> None:
    """A vehicle's window zone cut thin by the picture's edge (166x37 px) is part of a
    vehicle, not a small fast object: seen once, it is neither padded back nor carried as a
    box grown by its own size per frame (which would black out most of a 768x432 frame)."""
    zone = [122, 348, 288, 385]
    for label, most in (("occupant", 166 * 1.1), ("plate", 166 * 5)):
        tracker = IouTracker(gap=1.0, pad=5, lookahead=10)
        for i in range(6):
            tracker.update(i, i * 0.04, None)
        tracker.update(6, 0.24, dets(zone, label=label))
        back = tracker.backfill(1, 0.04).xyxy[0]
        ahead = tracker.update(9, 0.36, None).xyxy[0]
        for box in (back, ahead):
            assert contains(box, zone)
            assert (box[2] - box[0] <= most) == (label == "occupant")  # a thin plate still grows blindly


def test_a_box_nested_in_a_followed_object_is_that_object() -> None:
    """Two boxes of one face on a frame (a 36x70 box inside a 64x127 one): the inner one
    takes the followed face's track instead of starting one of its own, which, seen once and
    small, would be padded and carried as a box growing by its size per frame."""
    tracker = IouTracker(gap=1.0, pad=5, lookahead=10)
    for i in range(5):
        tracker.update(i, i * 0.04, dets([453.0 + 22 * i, 0, 501.0 + 22 * i, 95]))
    out = tracker.update(5, 0.2, dets([563, 0, 627, 127], [567, 24, 603, 94]))
    assert len(out) == 2 and len(set(out.track_id.tolist())) == 1
    back = tracker.backfill(1, 0.04)
    assert len(back) == 0  # no new track to pad back
    ahead = tracker.update(7, 0.28, None)
    assert len(ahead) == 1 and ahead.xyxy[0][2] - ahead.xyxy[0][0] < 2 * 64
    # Not nested enough, or another label: an object of its own.
    for box, label in (([600, 60, 660, 140], "face"), ([567, 24, 603, 94], "plate")):
        tracker = IouTracker(gap=1.0, pad=5, lookahead=10)
        tracker.update(0, 0.0, dets([563, 0, 627, 127]))
        out = tracker.update(1, 0.04, Detections.concat([dets([563, 0, 627, 127]), dets(box, label=label)]))
        assert len(set(out.track_id.tolist())) == 2


def test_a_track_seen_in_a_window_is_also_covered_where_its_motion_puts_it() -> None:
    """A box drawn in a window differs a little from the whole frame's: a moving track seen
    in a window keeps its moved last box as well, where that reaches past the detection."""
    def box(i: int, h: float = 40.0) -> Detections:
        return Detections.from_arrays([[100 + 10 * i, 100, 160 + 10 * i, 100 + h]], [0.9], "face")

    for windowed in (False, True):
        tr = IouTracker(gap=1.0, pad=0)
        for i in range(3):
            tr.update(i, i / 10, box(i), windowed=windowed)
        out = tr.update(3, 0.3, box(3, h=30), windowed=windowed)  # drawn shorter in the window
        extra = out[out.source == "tracker"]
        if not windowed:
            assert len(extra) == 0
        else:
            assert len(extra) == 1 and extra.track_id[0] == out.track_id[0]
            assert np.allclose(extra.xyxy[0], [130, 100, 190, 140], atol=0.5)  # moved by 10 px, not grown
    # Nothing extra where the detection holds the moved box, or for a track not seen on the frame before;
    # a track seen once (no motion yet) keeps its last box.
    tr = IouTracker(gap=1.0, pad=0)
    for i in range(3):
        tr.update(i, i / 10, box(i), windowed=True)
    assert len(tr.update(3, 0.3, box(3), windowed=True)) == 1
    assert len(tr.update(5, 0.5, box(5, h=30), windowed=True)) == 1
    tr = IouTracker(gap=1.0, pad=0)
    tr.update(0, 0.0, box(0), windowed=True)
    out = tr.update(1, 0.1, box(0, h=30), windowed=True)
    assert len(out) == 2 and np.allclose(out[out.source == "tracker"].xyxy[0], [100, 100, 160, 140])
