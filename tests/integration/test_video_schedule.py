"""Keyframe schedule end to end with fake detectors: who runs when, and backfill to the previous keyframe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redact import RedactConfig, redact_path
from redact.review.report import build_report
from redact.types import Detections
from tests.helpers import MarkerDetectors
from tests.videos import Box, default_objects, make_clip, probe, still


class Recording(MarkerDetectors):
    """Marker detectors that note the mean pixel of every picture they get (which frame it was)."""

    def __init__(self, blind: bool = False) -> None:
        super().__init__()
        self.blind = blind
        self.seen: list[np.ndarray] = []

    def detect(self, image: np.ndarray, *, rois=None) -> Detections:
        if rois is None:
            self.seen.append(image.copy())  # the pipeline reuses its picture buffer
        found = super().detect(image, rois=rois)
        return Detections.empty() if self.blind else found


def covered(image: np.ndarray, box: Box) -> bool:
    x, y, w, h = box
    return bool(image[y : y + h, x : x + w].max() < 60)


def test_keyframes_look_at_what_changed_and_at_the_whole_frame_every_fourth(tmp_path: Path) -> None:
    """A camera that stands still: keyframes look at the moving objects' surroundings only,
    the first and every fourth after it at the whole frame; with --no-watch, the glance looks
    at what moved."""
    make_clip(tmp_path / "in" / "s.mp4", frames=18, fps=25, size=(480, 360), background=still())
    full, glance = Recording(), Recording()
    cfg = RedactConfig(keyframe_seconds=0.2, watch=False)  # 5 frames at 25 fps
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    looks = _looks(result)
    assert [looks[i] for i in (0, 5, 10, 15, 17)] == ["full", "changed", "changed", "changed", "full"]
    assert len(full.seen) == 2  # whole-frame passes on frames 0 and 17 (the fourth keyframe after it)
    images = probe(tmp_path / "in" / "s.mp4")["images"]
    firsts = [int(np.argmin([np.abs(im.astype(int) - s.astype(int)).mean() for im in images])) for s in full.seen]
    assert firsts == [0, 17]
    # Every other frame between keyframes (1, 3, 6, 8, 11, 13, 16) glances, at windows only.
    assert glance.calls == 7 and not glance.seen
    assert full.calls == 18  # windows around the tracks (and what moved) on every other frame
    for i, img in enumerate(probe(tmp_path / "out" / "s.mp4")["images"]):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"


def _shots(i: int) -> tuple[list[Box], list[Box]]:
    """A face in the first shot (frames 0-6), a plate elsewhere in the second."""
    return ([(40, 40, 40, 40)], []) if i < 7 else ([], [(300, 250, 60, 20)])


def _overlaps(region: dict, box: Box) -> bool:
    x, y, w, h = region["box"]
    bx, by, bw, bh = box
    return x < bx + bw and bx < x + w and y < by + bh and by < y + h


def test_a_cut_ends_every_track_and_gets_a_whole_frame_pass(tmp_path: Path) -> None:
    """A cut at frame 7: its frame is looked at whole, marked in the sidecar and the manifest
    with the track it ended, and no box of one shot reaches into the other, either way."""
    before, after = still(0), still(1)
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360), objects=_shots,
              background=lambda i, w, h: (before if i < 7 else after)(i, w, h))
    full, glance = Recording(), Recording()
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2), detectors=full,
                         glance=glance)
    assert result.exit_code == 0, result.files
    entry = result.files[0]
    lines = _lines(result)
    assert [i for i, line in enumerate(lines) if line.get("cut")] == [7]
    assert [lines[i]["look"] for i in (0, 5, 7, 10)] == ["full", "changed", "full", "changed"]
    assert len(full.seen) == 2  # whole frames: 0 and 7, the cut
    assert [(c["frame"], c["tracks"]) for c in entry["cuts"]] == [(7, [0])]
    for i, line in enumerate(lines):
        if i >= 7:
            assert not any(_overlaps(r, (40, 40, 40, 40)) for r in line["regions"]), f"frame {i}: shot 1's face"
        else:
            assert not any(_overlaps(r, (300, 250, 60, 20)) for r in line["regions"]), f"frame {i}: shot 2's plate"
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    for i, img in enumerate(images):
        faces, plates = _shots(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"
    report = build_report(Path(result.manifest_path), inputs_base=tmp_path)
    assert "Cuts that ended tracks: check the new shot's first frames (1)" in report
    assert "s.mp4</a> frame 7 (0.28 s): a cut ended track #0" in report


def _lines(result) -> list[dict]:  # type: ignore[no-untyped-def]
    import json

    entry = result.files[0]
    side = Path(result.manifest_path).parent / entry["frames"]["file"]
    return [json.loads(line) for line in side.read_text().splitlines()]


def _looks(result) -> list[str]:  # type: ignore[no-untyped-def]
    import json

    entry = result.files[0]
    side = Path(result.manifest_path).parent / entry["frames"]["file"]
    return [json.loads(line)["look"] for line in side.read_text().splitlines()]


def test_glance_off_and_detect_every(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360))
    full, glance = Recording(), Recording()
    cfg = RedactConfig(keyframe_seconds=0.2, detect_every=2, glance=False, watch=False)  # keyframes every 6
    redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert (len(full.seen), glance.calls) == (3, 0)  # whole frames: 0, 6 and the last, 11
    assert full.calls == 3 + 4  # close looks on the even frames between: 2, 4, 8, 10


def _late(start: int):  # type: ignore[no-untyped-def]
    """Objects of the default clip that only appear at frame ``start``."""

    def objects(i: int) -> tuple[list[Box], list[Box]]:
        return default_objects(i) if i >= start else ([], [])

    return objects


@pytest.mark.parametrize("start", [6, 9])
@pytest.mark.parametrize("camera", ["moving", "still"])
def test_new_track_is_backfilled_to_the_previous_keyframe(tmp_path: Path, start: int, camera: str) -> None:
    """The glance never sees the (moving) objects; the keyframe at 10 finds them and covers back
    to 6 (with a still camera, looking only at what changed since the keyframe at 5)."""
    make_clip(tmp_path / "in" / "late.mp4", frames=20, fps=25, size=(480, 360), objects=_late(start),
              background=still() if camera == "still" else None)
    full, glance = Recording(), Recording(blind=True)
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)  # pad 0: only the keyframe reach can cover
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "late.mp4")["images"]
    for i in range(start, 20):
        faces, plates = default_objects(i)
        assert all(covered(images[i], b) for b in faces + plates), f"frame {i} not covered"
    if camera == "still":
        assert _looks(result)[10] == "changed"


def test_fast_object_seen_only_on_keyframes_is_covered_between(tmp_path: Path) -> None:
    """Boxes 30 px apart on consecutive keyframes (no overlap) still form one track, interpolated between."""

    def fast(i: int) -> tuple[list[Box], list[Box]]:
        return [(5 + 6 * i, 20, 20, 20)], [(5 + 6 * i, 80, 30, 12)]

    make_clip(tmp_path / "in" / "fast.mp4", frames=16, size=(200, 120), fps=25, objects=fast)
    full, glance = Recording(), Recording(blind=True)
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "fast.mp4")["images"]
    for i, img in enumerate(images):
        faces, plates = fast(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"
    assert [t["label"] for t in result.files[0]["tracks"]] == ["face", "plate"]


def _sources(result, frame: int) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(label, source) of every region the frames sidecar lists for ``frame``."""
    import json

    entry = result.files[0]
    side = Path(result.manifest_path).parent / entry["frames"]["file"]
    for line in side.read_text().splitlines():
        rec = json.loads(line)
        if rec["frame"] == frame:
            return {(r["label"], r["source"]) for r in rec["regions"]}
    raise AssertionError(f"frame {frame} not in the sidecar")


def test_tracks_are_looked_at_closely_between_keyframes(tmp_path: Path) -> None:
    """The glance is blind, yet every frame's boxes come from the detectors: the full set
    looks at windows around the live tracks."""
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360))
    full, glance = Recording(), Recording(blind=True)
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2), detectors=full,
                         glance=glance)
    assert result.exit_code == 0, result.files
    for i in range(12):
        assert {("face", "detector"), ("plate", "detector")} <= _sources(result, i), i


class Shy(MarkerDetectors):
    """Sees the markers only when looking closely: a whole-frame look reports them as
    suspects (under the threshold), a look at windows finds them."""

    def detect(self, image: np.ndarray, *, rois=None) -> Detections:
        return Detections.empty() if rois is None else super().detect(image, rois=rois)

    def look(self, image: np.ndarray, *, ratio: float, rois=None) -> tuple[Detections, Detections]:
        if rois is not None:
            return super().detect(image, rois=rois), Detections.empty()
        return Detections.empty(), super().detect(image)


def test_keyframe_suspects_get_a_close_look_and_are_covered(tmp_path: Path) -> None:
    """Objects under the threshold on every keyframe are found by the close looks between
    and redacted on every frame, the keyframes included (backfill and tracking)."""
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360), background=still())
    glance = Recording(blind=True)
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2, track_pad=0),
                         detectors=Shy(), glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    for i, img in enumerate(images):
        faces, plates = default_objects(i)
        assert all(covered(img, b) for b in faces + plates), f"frame {i} not covered"
    assert ("face", "detector") in _sources(result, 1)


def test_windows_covering_most_of_the_frame_get_a_full_pass(tmp_path: Path) -> None:
    """On a small frame the windows around two objects cover most of it: whole-frame passes."""
    make_clip(tmp_path / "in" / "s.mp4", frames=8, fps=25, size=(160, 120))
    full, glance = Recording(), Recording()
    redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2), detectors=full, glance=glance)
    assert len(full.seen) == 8


def test_detectors_on_a_gpu_look_at_every_whole_frame(tmp_path: Path) -> None:
    """A full pass costs about what the close looks cost on a GPU: no keyframe schedule there."""

    class OnGpu(Recording):
        accelerated = True

    make_clip(tmp_path / "in" / "s.mp4", frames=10, fps=25, size=(480, 360))
    full, glance = OnGpu(), Recording()
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2), detectors=full,
                         glance=glance)
    assert result.exit_code == 0, result.files
    assert (len(full.seen), glance.calls) == (10, 0)
    assert result.files[0]["looks"] == {"full": 10, "changed": 0, "glance": 0, "focus": 0, "none": 0}


def test_looks_are_recorded_per_frame_and_counted(tmp_path: Path) -> None:
    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360), background=still())
    result = redact_path(tmp_path / "in", tmp_path / "out",
                         RedactConfig(keyframe_seconds=0.2, detect_every=2, watch=False),
                         detectors=Recording(), glance=Recording())
    # keyframes every 6 frames (a multiple of --detect-every 2) and the last; odd frames: tracker only
    first = ["full", "none", "glance", "none", "focus", "none"]
    assert _looks(result) == first + ["changed", "none", "glance", "none", "focus", "changed"]
    assert result.files[0]["looks"] == {"full": 1, "changed": 2, "glance": 2, "focus": 2, "none": 5}


def test_a_live_track_is_continued_by_weaker_evidence_between_keyframes(tmp_path: Path) -> None:
    """In the windows around a track, a candidate under the threshold (but over half of it)
    continues the track; it does not start one where no track is expected."""

    class Faint(MarkerDetectors):
        def look(self, image: np.ndarray, *, ratio: float, rois=None) -> tuple[Detections, Detections]:
            if rois is None:
                return super().look(image, ratio=ratio)
            return Detections.empty(), self.detect(image, rois=rois)  # seen only under the threshold

    make_clip(tmp_path / "in" / "s.mp4", frames=12, fps=25, size=(480, 360))
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2, glance=False),
                         detectors=Faint(), glance=Recording(blind=True))
    assert result.exit_code == 0, result.files
    for i in range(12):
        assert {("face", "detector"), ("plate", "detector")} <= _sources(result, i), i


def test_a_still_empty_scene_is_looked_at_in_full_every_fourth_keyframe_only(tmp_path: Path) -> None:
    """Nothing moves and nothing is there: the keyframes between whole ones look at nothing,
    the glance never runs, and no region is written."""
    make_clip(tmp_path / "in" / "s.mp4", frames=26, fps=25, size=(480, 360), background=still(),
              objects=lambda i: ([], []))
    full, glance = Recording(), Recording()
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2), detectors=full,
                         glance=glance)
    assert result.exit_code == 0, result.files
    looks = _looks(result)
    keyframes = [looks[i] for i in (0, 5, 10, 15, 20, 25)]
    assert keyframes == ["full", "changed", "changed", "changed", "full", "changed"]
    assert glance.calls == 0 and len(full.seen) == 2
    assert result.files[0]["counts"] == {"face": 0, "plate": 0, "occupant": 0}


def _between(i: int) -> tuple[list[Box], list[Box]]:
    """A face in view on frames 6-8 only and a plate on 11-13, both between two keyframes
    (every 5 frames at 0.2 s), moving 4 px a frame."""
    faces = [(200 + 4 * i, 150, 20, 20)] if 6 <= i <= 8 else []
    plates = [(60 + 4 * i, 250, 30, 12)] if 11 <= i <= 13 else []
    return faces, plates


@pytest.mark.parametrize("watch", [True, False])
def test_an_object_in_view_only_between_keyframes_is_redacted_on_every_frame(tmp_path: Path, watch: bool) -> None:
    """Objects that appear after one keyframe and are gone before the next, never suspects and
    unseen by the glance: by default the full detectors look at what changed on every frame
    and redact them wherever they are in view; --no-watch leaves them exposed."""
    make_clip(tmp_path / "in" / "s.mp4", frames=16, fps=25, size=(480, 360), background=still(),
              objects=_between)
    full, glance = Recording(), Recording(blind=True)
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0, watch=watch)
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=glance)
    assert result.exit_code == 0, result.files
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    shown = [(i, b) for i in range(16) for b in sum(_between(i), [])]
    exposed = [i for i, b in shown if not covered(images[i], b)]
    if watch:
        assert exposed == []
        looks = _looks(result)
        assert all(look == "changed" for look in looks[1:]), looks  # keyframes and the frames between
        assert len(full.seen) == 1 and glance.calls == 0  # the whole frame on frame 0 only
        assert ("face", "detector") in _sources(result, 7) and ("plate", "detector") in _sources(result, 12)
    else:
        assert exposed == [6, 7, 8, 11, 12, 13]


def test_watching_looks_only_at_what_changed_since_the_last_look(tmp_path: Path) -> None:
    """A face comes into view at frame 2 and then stands still: it is looked at closely while
    it changes the picture and, found, through its track; nothing else is looked at."""

    def arrives(i: int) -> tuple[list[Box], list[Box]]:
        return ([(300, 200, 24, 24)] if i >= 2 else []), []

    class Windows(Recording):
        def __init__(self) -> None:
            super().__init__()
            self.windows: list[list[tuple[int, int, int, int]]] = []

        def detect(self, image: np.ndarray, *, rois=None) -> Detections:
            self.windows.append([] if rois is None else [(t.x0, t.y0, t.x1, t.y1) for t in rois])
            return super().detect(image, rois=rois)

    make_clip(tmp_path / "in" / "s.mp4", frames=9, fps=25, size=(480, 360), background=still(), objects=arrives)
    full = Windows()
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(keyframe_seconds=0.2, track_pad=0),
                         detectors=full, glance=Recording(blind=True))
    assert result.exit_code == 0, result.files
    assert full.windows[1] == []  # frame 1: nothing changed, nothing tracked
    assert full.windows[2] and all(x0 <= 300 and y0 <= 200 and x1 >= 324 and y1 >= 224
                                   for x0, y0, x1, y1 in full.windows[2])
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    assert all(covered(images[i], arrives(i)[0][0]) for i in range(2, 9))


class Vehicles(MarkerDetectors):
    """Marker detectors whose cyan blobs are vehicles' window zones (label ``occupant``),
    splittable like a real set: :meth:`only` gives the occupant detector alone, which
    notes the windows it is shown on every call (``None``: the whole picture)."""

    def __init__(self) -> None:
        super().__init__()
        self.thresholds = {"face": 0.5, "plate": 0.5, "occupant": 0.5}
        self.detectors = [type("Named", (), {"name": n})() for n in ("faces", "occupants")]
        self.alone: Vehicles | None = None
        self.windows: list[object] = []

    def only(self, names, *, heads=False):  # type: ignore[no-untyped-def]
        assert tuple(names) == ("occupants",)
        self.alone = Vehicles()
        return self.alone

    def detect(self, image: np.ndarray, *, rois=None) -> Detections:
        self.windows.append(rois)
        found = super().detect(image, rois=rois)
        return found.replace(label=np.array(["occupant" if lbl == "plate" else lbl for lbl in found.label], object))


def _zones(top: int):  # type: ignore[no-untyped-def]
    def objects(i: int) -> tuple[list[Box], list[Box]]:
        return [], [(100 + 2 * i, top, 120, 60)]
    return objects


@pytest.mark.parametrize(("top", "whole"), [(0, True), (150, False)])
def test_an_occupant_zone_at_the_border_is_followed_in_the_whole_picture(tmp_path: Path, top: int, whole: bool) -> None:
    """Between keyframes a vehicle's window zone is followed by the occupant detector alone,
    in a window around it; one at the picture's border (a car half out of view, boxed
    differently in a window than in the whole picture) in the whole picture."""
    make_clip(tmp_path / "in" / "s.mp4", frames=10, fps=25, size=(480, 360), background=still(), objects=_zones(top))
    full = Vehicles()
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=Recording(blind=True))
    assert result.exit_code == 0, result.files
    assert full.alone is not None and full.alone.windows, "the occupant detector alone never ran"
    assert all((w is None) == whole for w in full.alone.windows), full.alone.windows
    assert isinstance(full.alone.plates_given, Detections)  # the frame's plates, for zones to end above
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    assert all(covered(images[i], _zones(top)(i)[1][0]) for i in range(10))


def test_a_zone_both_looks_find_between_keyframes_is_one_track(tmp_path: Path) -> None:
    """Between keyframes the whole set looks at what changed and the occupant detector alone
    at the zones it follows: where their windows overlap, both find the same zone, which is
    one object (a second copy would start a track of its own, seen once)."""
    make_clip(tmp_path / "in" / "s.mp4", frames=10, fps=25, size=(480, 360), background=still(), objects=_zones(150))
    full = Vehicles()
    cfg = RedactConfig(keyframe_seconds=0.2, track_pad=0)
    result = redact_path(tmp_path / "in", tmp_path / "out", cfg, detectors=full, glance=Recording(blind=True))
    assert result.exit_code == 0, result.files
    assert full.alone is not None and full.alone.windows, "the occupant detector alone never ran"
    lines = _lines(result)
    assert any(line["look"] == "changed" for line in lines[1:5])  # the whole set looked between keyframes too
    tracks = {r["track"] for line in lines for r in line["regions"] if r["label"] == "occupant"}
    assert len(tracks) == 1, tracks


def _panned(seen_on: int) -> tuple:  # type: ignore[type-arg]
    """A pan (6 px a frame to the left) across a textured scene with a textured 24-px object in
    it, ringed in the face marker's colour on frame ``seen_on`` only (elsewhere in a grey of the
    same luma, which the marker detectors do not see); and the object's box on frame i."""
    rng = np.random.default_rng(5)
    scene = np.repeat(np.repeat(rng.integers(40, 200, (60, 120, 3), dtype=np.uint8), 8, 0), 8, 1)
    inner = np.repeat(np.repeat(rng.integers(0, 256, (5, 5, 1), dtype=np.uint8), 4, 0), 4, 1)[:18, :18]

    def box(i: int) -> Box:
        return (300 - 6 * i, 150, 24, 24)

    def background(i: int, width: int, height: int) -> np.ndarray:
        img = scene[:height, 6 * i : 6 * i + width].copy()
        x, y, w, h = box(i)
        img[y : y + h, x : x + w] = (255, 0, 255) if i == seen_on else (105, 105, 105)
        img[y + 3 : y + h - 3, x + 3 : x + w - 3] = inner
        return img

    return background, box


def test_an_object_seen_once_is_redacted_where_its_pixels_go_not_grown_blindly(tmp_path: Path) -> None:
    """Detected on frame 6 only while the camera pans: on the frames it is padded back and
    carried on, its region follows it at about its size (blind growth would be 3x-11x)."""
    background, box = _panned(6)
    make_clip(tmp_path / "in" / "s.mp4", frames=14, fps=25, size=(480, 360), objects=lambda i: ([], []),
              background=background)
    result = redact_path(tmp_path / "in", tmp_path / "out", RedactConfig(), detectors=MarkerDetectors(),
                         glance=MarkerDetectors())
    assert result.exit_code == 0, result.files
    lines = _lines(result)
    images = probe(tmp_path / "out" / "s.mp4")["images"]
    around = [i for i, line in enumerate(lines) if any(_overlaps(r, box(i)) for r in line["regions"])]
    assert {3, 4, 5, 6, 7, 8, 9} <= set(around)
    _, _, w, h = next(r["box"] for r in lines[6]["regions"] if _overlaps(r, box(6)))  # a whole head, padded
    for i in around:
        assert covered(images[i], box(i)), f"frame {i} not covered"
        for r in (r for r in lines[i]["regions"] if _overlaps(r, box(i))):
            assert r["box"][2] <= 1.3 * w and r["box"][3] <= 1.3 * h, f"frame {i}: {r['box']} grown blindly"
