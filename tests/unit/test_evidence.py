"""Large regions need a second opinion: headlights are not faces, a bright panel is not a plate."""

from __future__ import annotations

import numpy as np

from redact.detect.evidence import (
    FACE_LARGE_SIDE,
    LARGE_PLATE_PX,
    PLATE_LARGE_SIDE,
    RULES,
    LargeRule,
    TallRule,
    confirm,
    fit_large_plates,
)
from redact.detect.tiles import Tile
from redact.render.regions import build
from redact.types import Detections

W, H = 1000, 1000  # a picture of 1e6 px: a 300x300 box is 9 %


def _dets(boxes: list[list[float]], scores: list[float], label: str) -> Detections:
    return Detections.from_arrays(
        np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32), label, "detector"
    )


FACE_RULE = LargeRule("centerface", ("retinaface",), match="iou", overlap=0.3, witness_floor=0.2, share=0.05, sure=0.8)
PLATE_RULE = LargeRule("yolo_plate", ("text_plate",), match="iou", overlap=0.2, witness_floor=0.15, share=0.04)
TALL_RULE = TallRule("yolo_plate", ("text_plate",), match="inside", overlap=0.5, witness_floor=0.15)


def test_a_large_face_one_network_alone_sees_is_dropped_small_ones_stay() -> None:
    faces = _dets([[100, 100, 400, 400], [600, 600, 640, 640]], [0.5, 0.5], "face")
    kept = confirm({"centerface": faces}, {"centerface": faces, "retinaface": Detections.empty()}, W, H,
                   rules=[FACE_RULE])
    np.testing.assert_array_equal(kept["centerface"].xyxy, faces.xyxy[1:])


def test_a_face_filling_a_small_picture_needs_no_witness_a_headlight_sized_one_does() -> None:
    # The shipped face rules: in a 280x140 picture a 93x115 face is over a quarter of it, but
    # smaller in pixels than the headlight pairs the rule is for (a 500x300 box in a 1280x720 frame).
    shipped = [r for r in RULES if r.detector in ("centerface", "retinaface")]
    assert shipped and all(isinstance(r, LargeRule) and r.min_side == FACE_LARGE_SIDE for r in shipped)
    alone = {"retinaface": Detections.empty()}
    face = _dets([[90, 20, 183, 135]], [0.77], "face")
    kept = confirm({"centerface": face}, {"centerface": face, **alone}, 280, 140, rules=shipped)
    assert len(kept["centerface"]) == 1
    lights = _dets([[400, 250, 900, 550]], [0.7], "face")
    kept = confirm({"centerface": lights}, {"centerface": lights, **alone}, 1280, 720, rules=shipped)
    assert len(kept["centerface"]) == 0


def test_a_large_face_both_networks_see_stays() -> None:
    faces = _dets([[100, 100, 400, 400]], [0.5], "face")
    other = _dets([[110, 90, 410, 390]], [0.3], "face")
    kept = confirm({"centerface": faces}, {"centerface": faces, "retinaface": other}, W, H, rules=[FACE_RULE])
    assert len(kept["centerface"]) == 1


def test_a_witness_must_score_its_floor_and_overlap_enough() -> None:
    faces = _dets([[100, 100, 400, 400]], [0.5], "face")
    faint = _dets([[100, 100, 400, 400]], [0.1], "face")  # under the witness floor
    beside = _dets([[380, 100, 680, 400]], [0.9], "face")  # a different object
    for witness in (faint, beside):
        kept = confirm({"centerface": faces}, {"centerface": faces, "retinaface": witness}, W, H,
                       rules=[FACE_RULE])
        assert len(kept["centerface"]) == 0


def test_a_sure_large_box_needs_no_witness() -> None:
    faces = _dets([[100, 100, 400, 400]], [0.85], "face")
    kept = confirm({"centerface": faces}, {"centerface": faces, "retinaface": Detections.empty()}, W, H,
                   rules=[FACE_RULE])
    assert len(kept["centerface"]) == 1


def test_no_witness_detector_running_means_no_rule() -> None:
    """A preset or option without the witness never loses boxes for want of it (fail closed)."""
    faces = _dets([[100, 100, 400, 400]], [0.5], "face")
    kept = confirm({"centerface": faces}, {"centerface": faces}, W, H, rules=[FACE_RULE])
    assert len(kept["centerface"]) == 1


def test_a_large_plate_needs_characters_on_it() -> None:
    panel = _dets([[100, 0, 400, 300]], [0.76], "plate")  # a plain white door panel
    plate = _dets([[500, 500, 900, 700]], [0.6], "plate")  # a zoomed plate crop
    text = _dets([[540, 560, 860, 650]], [0.8], "plate")  # its characters
    both = Detections.concat([panel, plate])
    kept = confirm({"yolo_plate": both}, {"yolo_plate": both, "text_plate": text}, W, H, rules=[PLATE_RULE])
    np.testing.assert_array_equal(kept["yolo_plate"].xyxy, plate.xyxy)


def test_other_detectors_pass_untouched_and_inputs_are_not_changed() -> None:
    faces = _dets([[100, 100, 400, 400]], [0.5], "face")
    plates = _dets([[0, 0, 900, 900]], [0.9], "plate")
    judged = {"centerface": faces, "text_plate": plates}
    kept = confirm(judged, {**judged, "retinaface": Detections.empty()}, W, H, rules=[FACE_RULE])
    assert kept["text_plate"] is plates and len(judged["centerface"]) == 1


def test_the_shipped_rules_name_real_detectors() -> None:
    from redact.detect import DETECTORS

    for rule in RULES:
        assert rule.detector in DETECTORS and all(w in DETECTORS for w in rule.witnesses)
        assert rule.match in ("iou", "inside")
        assert 0 < rule.share < 1 if isinstance(rule, LargeRule) else rule.ratio >= 1
    assert {r.detector for r in RULES if isinstance(r, TallRule)} == {"yolo_plate", "vehicle_plate"}


def test_a_plate_box_taller_than_wide_needs_characters_inside() -> None:
    sign = _dets([[100, 100, 160, 200]], [0.7], "plate")  # a sign post's panel, 60x100
    plate = _dets([[300, 300, 360, 330]], [0.4], "plate")  # plate-shaped: never judged
    two_line = _dets([[500, 500, 560, 570]], [0.5], "plate")  # a two-line motorcycle plate
    lines = _dets([[505, 505, 555, 530], [505, 535, 555, 565], [102, 102, 158, 120]], [0.4, 0.3, 0.1], "plate")
    boxes = Detections.concat([sign, plate, two_line])
    kept = confirm({"yolo_plate": boxes}, {"yolo_plate": boxes, "text_plate": lines}, W, H, rules=[TALL_RULE])
    # The sign's only text candidate scores under the witness floor.
    np.testing.assert_array_equal(kept["yolo_plate"].xyxy, boxes.xyxy[1:])


def test_a_tall_box_the_border_cuts_is_not_judged_by_its_shape() -> None:
    # Half a plate at the right edge is as tall as it is wide, or taller.
    edge = _dets([[W - 30, 400, W, 470], [0, 600, 25, 660], [400, 0, 420, 40]], [0.5, 0.5, 0.5], "plate")
    kept = confirm({"yolo_plate": edge}, {"yolo_plate": edge, "text_plate": Detections.empty()}, W, H,
                   rules=[TALL_RULE])
    assert len(kept["yolo_plate"]) == 3
    # Without the text detector running, no box is judged at all.
    sign = _dets([[100, 100, 160, 200]], [0.7], "plate")
    assert len(confirm({"yolo_plate": sign}, {"yolo_plate": sign}, W, H, rules=[TALL_RULE])["yolo_plate"]) == 1


def test_a_large_plate_is_narrowed_to_where_network_and_characters_agree() -> None:
    # The network boxes the plate and its holder; the text detector the characters.
    merged = _dets([[80, 60, 520, 340], [700, 700, 740, 715]], [0.8, 0.6], "plate")
    network = _dets([[80, 60, 520, 340]], [0.8], "plate")
    text = _dets([[100, 150, 500, 300], [160, 110, 440, 150], [705, 700, 740, 715]], [0.8, 0.3, 0.5], "plate")
    out = fit_large_plates(merged, network, text)
    # Both lines of characters kept (the union of the text boxes in the plate); the small plate is untouched.
    assert out.xyxy.tolist() == [[100, 110, 500, 300], [700, 700, 740, 715]]
    assert merged.xyxy[0].tolist() == [80, 60, 520, 340]  # the input is left as it was


def test_a_large_plate_is_not_narrowed_past_a_character_an_unsure_text_box_missed() -> None:
    # A night plate in a dashboard's second frame: the text detector's box, near the
    # threshold, ends before the last character (1097-1106 px); the network's box holds it.
    merged = _dets([[1000, 839, 1110, 908]], [0.83], "plate")
    unsure = _dets([[1010, 854, 1095, 892]], [0.30], "plate")
    out = fit_large_plates(merged, merged, unsure, least=0.3).xyxy[0]
    assert out.tolist() == [1000, 854, 1110, 892]  # half a line's height beside the text, within the network's box
    region = build(Detections.from_arrays(out[None], [0.83], "plate"), 1920, 1080, padding=0.15).boxes[0]
    assert region[0] <= 1010 and region[2] >= 1106
    # A sure text box is taken at its word.
    sure = unsure.replace(score=np.array([0.6], np.float32))
    assert fit_large_plates(merged, merged, sure, least=0.3).xyxy.tolist() == [[1010, 854, 1095, 892]]


def test_a_large_plate_is_not_narrowed_where_a_tile_cut_its_characters() -> None:
    # A zoomed crop's plate "7AHN739" across the seam of a 1920x1080 screenshot's two text
    # tiles (0-1040 and 880-1920): the right tile's text box starts a character inside its
    # edge, the left tile saw no text; the network's box holds the whole plate.
    merged = _dets([[779, 805, 1190, 1051]], [0.83], "plate")
    cut = _dets([[850, 895, 1162, 1018]], [0.71], "plate")
    tiles = [Tile(0, 0, 1040, 1080), Tile(880, 0, 1920, 1080)]
    out = fit_large_plates(merged, merged, cut, least=0.3, text_tiles=tiles, size=(1920, 1080))
    assert out.xyxy.tolist() == [[779, 895, 1162, 1018]]  # the cut side left as the network saw it
    # The same text further from the seam than a line's height narrows as before.
    away = _dets([[1200, 895, 1400, 1018]], [0.71], "plate")
    wide = _dets([[1170, 805, 1430, 1051]], [0.83], "plate")
    assert fit_large_plates(wide, wide, away, least=0.3, text_tiles=tiles, size=(1920, 1080)).xyxy.tolist() == [
        [1200, 895, 1400, 1018]]
    # Without the tiles the cut text narrows the plate past "7A".
    assert fit_large_plates(merged, merged, cut, least=0.3).xyxy.tolist() == [[850, 895, 1162, 1018]]


def test_a_large_plate_keeps_its_box_without_both_opinions_or_when_agreement_cuts_characters() -> None:
    merged = _dets([[80, 60, 520, 340]], [0.8], "plate")
    network = _dets([[80, 60, 520, 340]], [0.8], "plate")
    text = _dets([[100, 150, 500, 300]], [0.8], "plate")
    none = _dets([], [], "plate")
    assert fit_large_plates(merged, network, none).xyxy.tolist() == merged.xyxy.tolist()
    assert fit_large_plates(merged, none, text).xyxy.tolist() == merged.xyxy.tolist()
    # A network box that cuts through the characters decides nothing.
    narrow = _dets([[80, 60, 300, 340]], [0.8], "plate")
    assert fit_large_plates(merged, narrow, text).xyxy.tolist() == merged.xyxy.tolist()
    # Text found on only part of the characters (under 0.75 of the plate's width) decides nothing:
    # one group of a US plate, or "4X4 - WP" of "VW 4X4 - WP" without its first group.
    part = _dets([[120, 150, 330, 300]], [0.8], "plate")
    assert fit_large_plates(merged, network, part).xyxy.tolist() == merged.xyxy.tolist()
    most = _dets([[200, 150, 500, 300]], [0.8], "plate")  # 0.68 of the width
    assert fit_large_plates(merged, network, most).xyxy.tolist() == merged.xyxy.tolist()
    # Small plates and other labels are never changed.
    small = _dets([[80, 60, 80 + 2 * LARGE_PLATE_PX, 60 + LARGE_PLATE_PX - 1]], [0.8], "plate")
    assert fit_large_plates(small, network, text).xyxy.tolist() == small.xyxy.tolist()
    face = _dets([[80, 60, 520, 340]], [0.8], "face")
    assert fit_large_plates(face, network, text).xyxy.tolist() == face.xyxy.tolist()


def test_a_two_line_plate_keeps_the_line_only_the_network_sees() -> None:
    # A zoomed two-line plate, "B 311" over "ALY": the text detector finds the upper line
    # only; the network boxes the whole plate (unsure) and the lower line (passing).
    merged = _dets([[1454, 88, 1663, 305]], [0.46], "plate")
    network = _dets([[1454, 88, 1663, 305], [1455, 198, 1654, 300]], [0.32, 0.46], "plate")
    text = _dets([[1494, 97, 1671, 192]], [0.82], "plate")
    assert fit_large_plates(merged, network, text, least=0.3).xyxy.tolist() == merged.xyxy.tolist()
    # Network boxes under the threshold decide nothing: the plate is narrowed as before.
    weak = network.replace(score=np.array([0.25, 0.2], np.float32))
    assert fit_large_plates(merged, weak, text, least=0.3).xyxy.tolist() == [[1494, 97, 1663, 192]]


def test_a_sure_plate_box_under_a_tenth_of_the_picture_needs_no_characters() -> None:
    # A 1280x720 frame: an unsure box over 4 % of it needs characters, a sure one under a
    # tenth does not; a box filling a third of the picture needs characters however sure the
    # network is (a plain door panel).
    plate = _dets([[400, 300, 700, 420]], [0.77], "plate")  # 3.9 %: not large
    large = _dets([[400, 300, 720, 440]], [0.77], "plate")  # 4.9 %
    unsure = _dets([[400, 300, 720, 440]], [0.6], "plate")
    panel = _dets([[0, 0, 800, 400]], [0.9], "plate")  # 35 %
    plate_rules = [r for r in RULES if isinstance(r, LargeRule) and r.detector == "yolo_plate"]
    for dets, stays in ((plate, True), (large, True), (unsure, False), (panel, False)):
        found = {"yolo_plate": dets, "text_plate": Detections.empty()}
        kept = confirm({"yolo_plate": dets}, found, 1280, 720, rules=plate_rules)
        assert len(kept["yolo_plate"]) == int(stays)


def test_a_plate_filling_a_small_crop_is_kept_unsure_a_panel_there_is_not() -> None:
    # An enforcement camera's 320x288 crop: its plate fills 3-5 % of it, and on a streaked or
    # smaller copy the network is unsure of it and the text detector sees nothing: a box under
    # PLATE_LARGE_SIDE px is never judged as large. A box filling a third of the crop is.
    plate_rules = [r for r in RULES if isinstance(r, LargeRule) and r.detector == "yolo_plate"]
    assert plate_rules and all(r.min_side == PLATE_LARGE_SIDE for r in plate_rules)
    unsure = _dets([[133, 131, 210, 190]], [0.4], "plate")  # 5 %, 59 px high
    panel = _dets([[0, 0, 200, 150]], [0.9], "plate")  # 33 %
    for dets, stays in ((unsure, True), (panel, False)):
        found = {"yolo_plate": dets, "text_plate": Detections.empty()}
        kept = confirm({"yolo_plate": dets}, found, 320, 288, rules=plate_rules)
        assert len(kept["yolo_plate"]) == int(stays)


def test_a_large_face_needs_a_witness_near_a_faces_score() -> None:
    # The shipped face rules: on a car's rear at night RetinaFace boxed half the frame (0.71)
    # and CenterFace had a faint box there (0.20); real faces that large get 0.40 or more.
    shipped = [r for r in RULES if r.detector in ("centerface", "retinaface")]
    rear = _dets([[659, 129, 1148, 689]], [0.71], "face")
    for faint, kept_count in ((0.20, 0), (0.40, 1)):
        other = _dets([[767, 159, 1109, 621]], [faint], "face")
        kept = confirm({"retinaface": rear}, {"retinaface": rear, "centerface": other}, 1280, 720, rules=shipped)
        assert len(kept["retinaface"]) == kept_count


def test_a_large_text_box_a_panel_look_sees_stays() -> None:
    # A dashboard's zoomed crop of a 20-px night plate, enlarged 5x: DBNet's box on all of its
    # characters scores 0.65 (under the 0.7 a large text box needs on its own word), the
    # plate network sees nothing at the picture's size and only the look at the panel shrunk
    # back boxes the plate. That look is a witness; a faint one, or one elsewhere, is not.
    shipped = [r for r in RULES if r.detector == "text_plate"]
    text = _dets([[1426, 140, 1762, 274]], [0.65], "plate")
    for panel, kept_count in (([[1434, 141, 1749, 285]], 1), ([[100, 600, 400, 700]], 0)):
        for score, faint in ((0.69, False), (0.1, True)):
            seen = _dets(panel, [score], "plate")
            found = {"text_plate": text, "yolo_plate": Detections.empty(), "panel_plate": seen}
            kept = confirm({"text_plate": text}, found, 1920, 1080, rules=shipped)
            assert len(kept["text_plate"]) == (0 if faint else kept_count)
