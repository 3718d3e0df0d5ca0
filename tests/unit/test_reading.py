"""The recogniser's check on text boxes: which readings cannot be a plate, CTC decoding,
crops, which boxes get read, and the real network on drawn text."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redact.detect import build_detector_set
from redact.detect.reading import (
    HEIGHT,
    MAX_WIDTH,
    READER_MODEL,
    Reading,
    TextReader,
    crops_of,
    ctc_decode,
    plate_tokens,
    token_spans,
    too_few_characters,
    veto_reason,
)
from redact.types import Detections
from tests.helpers import GivenReadings


@pytest.mark.parametrize(
    "text",
    ["2014-05-13", "07:25:13", "2014-05-1206:33:20", "11:05 PM", "camera 41", "Truck Rental", "GoPenske.com",
     "REDLIGHTSFLASH", "CHEVROLET", "INTELLIGENT"],
)
def test_confident_readings_no_plate_carries_are_vetoed(text: str) -> None:
    assert veto_reason(Reading(text, 0.95)) is not None


@pytest.mark.parametrize(
    "text",
    ["B 123 ABC", "B320WTW", "CC=2881", "LM-169AM", "1049338", "WA 56660", "TR 05RBG", "GERNA", "TEXAS", "EXIT 79B",
     "4B3:9376", "京A12345", "B 12"],
)
def test_plate_like_readings_pass_the_veto(text: str) -> None:
    assert veto_reason(Reading(text, 0.95)) is None
    assert not too_few_characters(Reading(text, 0.95))


def test_an_unsure_reading_never_vetoes() -> None:
    assert veto_reason(Reading("2014-05-13", 0.6)) is None
    assert veto_reason(Reading("2014-05-13", 0.6), min_confidence=0.5) is not None


def test_ctc_decode_collapses_repeats_and_blanks() -> None:
    chars = ["A", "B", "1"]
    # columns: A A blank A B 1 1 (space is the class after the list)
    cls = [1, 1, 0, 1, 2, 3, 3, 4]
    probs = np.full((len(cls), 5), 0.01, np.float32)
    probs[np.arange(len(cls)), cls] = 0.9
    probs[1, 1] = 0.7
    reading = ctc_decode(probs, chars)
    assert reading.text == "AAB1 "
    assert reading.confidence == pytest.approx(0.9)
    assert reading.columns == (0, 3, 4, 5, 7) and reading.width == len(cls)  # where each was read
    assert ctc_decode(np.eye(5, dtype=np.float32)[[0, 0, 0]], chars) == Reading("", 0.0, (), 3)


def test_crops_are_resized_to_the_network_height() -> None:
    image = np.zeros((100, 400, 3), np.uint8)
    boxes = np.array([[10, 10, 110, 30], [0, 50, 20, 90], [-5, 0, 400, 10]], np.float32)
    crops = crops_of(image, boxes)
    assert [c.shape[:2] for c in crops] == [(3, HEIGHT)] * 3
    assert [c.shape[2] for c in crops] == [240, HEIGHT // 2, MAX_WIDTH]
    assert crops[0].max() == pytest.approx(-1.0)  # black is -1 after normalisation


class _Shapes:
    """A recogniser session that records the batches it is given and reads nothing."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, ...]] = []

    def metadata(self) -> dict[str, str]:
        return {"character": "A\nB"}

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        self.batches.append(batch.shape)
        probs = np.zeros((batch.shape[0], max(1, batch.shape[3] // 8), 4), np.float32)
        probs[..., 0] = 1.0
        return [probs]


def test_crops_of_one_width_are_read_together_and_none_padded() -> None:
    reader = TextReader(threads=1)
    reader._runner = runner = _Shapes()  # type: ignore[assignment]
    image = np.zeros((100, 400, 3), np.uint8)
    boxes = np.array([[10, 10, 110, 30], [0, 50, 20, 90], [200, 10, 300, 30], [-5, 0, 400, 10]], np.float32)
    readings = reader.read(image, boxes)
    assert len(readings) == 4 and all(r.text == "" for r in readings)
    expected = [(2, 3, HEIGHT, 240), (1, 3, HEIGHT, HEIGHT // 2), (1, 3, HEIGHT, MAX_WIDTH)]
    assert sorted(runner.batches) == sorted(expected)


def test_only_text_no_plate_network_saw_is_read_and_only_non_plates_dropped() -> None:
    date, plate, seen = (0, 0, 100, 20), (200, 200, 300, 230), (400, 400, 500, 430)
    reader = GivenReadings({date: Reading("2014-05-13", 0.97), plate: Reading("B 123 ABC", 0.97)})
    text = Detections.from_arrays([date, plate, seen], [0.6, 0.6, 0.6], "plate")
    yolo = Detections.from_arrays([[395, 395, 505, 435]], [0.2], "plate")
    kept = reader.veto(np.zeros((500, 600, 3), np.uint8), text, [yolo, Detections.empty()])
    assert sorted(reader.read_boxes) == [date, plate]
    assert [tuple(int(v) for v in b) for b in kept.xyxy] == [plate, seen]


def test_a_line_no_plate_network_saw_must_read_as_characters() -> None:
    floor, plate, small, faint, held = (
        (0, 0, 200, 60), (0, 100, 200, 160), (300, 0, 360, 20), (300, 100, 360, 120), (300, 300, 500, 360)
    )
    reader = GivenReadings({floor: Reading("N", 0.79), plate: Reading("B320WTW", 0.99), small: Reading("", 0.0),
                     faint: Reading("B3ZW", 0.2)})
    text = Detections.from_arrays([floor, plate, small, faint, held], [0.8] * 5, "plate")
    yolo = Detections.from_arrays([[290, 290, 510, 370]], [0.2], "plate")
    kept = reader.veto(np.zeros((500, 600, 3), np.uint8), text, [yolo])
    assert held not in reader.read_boxes  # a plate network holds it: never read, never dropped
    # An unsure reading with characters stays: a person may read what the network half reads.
    assert [tuple(int(v) for v in b) for b in kept.xyxy] == [plate, faint, held]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Plate: B 320 WTW", ["B 320 WTW"]),
        ("Plate read: B320WTW   confidence 97%", ["B320WTW"]),
        ("violation 2025-210729 | camera 52 | AB-123-CD", ["AB-123-CD"]),
        ("627 WWI", ["627 WWI"]),
        ("M AB 1234 entered 08:14:03", ["M AB 1234"]),
        ("violation 2025-210729", []),  # digits only: an id, a date
        ("violation 2025-779650 I| camera 95", []),  # the separator bar read as I beside it
        ("management | violation 2025-779650 I", []),  # ... or alone where the line ends
        ("violation 7 | plate I 320 WTW | camera 52", ["I 320 WTW"]),
        ("management | violation 2025-854096 I camera 54", []),  # ... or before the next label
        ("management I violation 2025-507411 I camera 79", []),  # every bar read as I
        ("L 123 I", ["L 123 I"]),  # no bar in the line: a plate's letter
        ("plate B320WTW l| camera 52", ["B320WTW"]),
        ("2025-12-01 08:14:03", []),
        ("camera 52, lane 2", []),
        ("A1 MOTORWAY", []),  # a word, and too few characters besides it
        ("COMPLEX COMERCIAL", []),
        ("CP-676-SX 2025-12-01 08:14:03", ["CP-676-SX 2025-12-01"]),  # the date beside it goes too
        ("L 592VBI2025-12-0108:14:03", ["L 592VBI2025"]),  # the space before the date dropped
        ("DYV19732025-12-0108:14:03", ["DYV1973"]),  # and read as one group
        ("8 SAA 09252025-12-01 08:21:03 cam 58", ["8 SAA 0925"]),  # the plate's digits glued to the date
        ("Plate read: 8QHc925 confidence 97%", ["8QHc925"]),  # a capital read in lower case
        ("Plateread:J793zSZconfidence97%", ["J793zSZ"]),  # and the spaces lost
        ("Plate read: 7vzF918", ["7vzF918"]),
        ("VIN 1HGCM82633A004352", []),  # more characters than a plate and a date carry
        ("SU8URBAN", []),  # one digit: a maker's name misread
    ],
)
def test_plate_tokens_in_a_line(text: str, tokens: list[str]) -> None:
    assert [text[a:b] for a, b in plate_tokens(text)] == tokens


def test_token_spans_run_over_their_characters_columns() -> None:
    text = "Plate: B 320 WTW"
    reading = Reading(text, 0.9, columns=tuple(range(2, 2 + 3 * len(text), 3)), width=60)
    # "B" is character 7 (column 23), the last "W" character 15 (column 47)
    # ":" (character 5, column 17) is read before it; nothing after it
    assert token_spans(reading) == [pytest.approx(((17 + 1) / 60, (47 + 1 + 4 + 8) / 60))]
    assert token_spans(Reading(text, 0.9)) == [(0.0, 1.0)]  # columns not known: the whole line
    assert token_spans(Reading("camera 52", 0.9, (0, 3, 6, 9, 12, 15, 21, 24, 27), 30)) == []


def test_lines_are_read_for_a_plate_and_give_boxes_only_over_it() -> None:
    # A caption printing the plate, a caption without one, and a caption a plate network's
    # box holds: lines are read wherever they are.
    caption, header, held = (0, 10, 600, 50), (0, 100, 600, 140), (0, 200, 600, 240)
    text = "Plate: B 320 WTW"
    reader = GivenReadings({
        caption: Reading(text, 0.95, columns=tuple(range(2, 2 + 4 * len(text), 4)), width=75),
        header: Reading("Intelligent traffic management | camera 52", 0.97),
        held: Reading("B320WTW", 0.6),
    })
    found = Detections.from_arrays([caption, header, held], [0.7, 0.6, 0.5], "plate")
    yolo = Detections.from_arrays([[0, 190, 600, 250]], [0.5], "plate")
    image = np.zeros((300, 700, 3), np.uint8)
    assert len(reader.veto(image, found, [yolo])) == 0 and reader.read_boxes == []  # lines are not plates
    kept = reader.plates_in_lines(image, found)
    assert sorted(reader.read_boxes) == [caption, header, held]
    assert len(kept) == 2 and list(kept.score) == pytest.approx([0.7, 0.5])
    # "B" is read in column 30, the last "W" in 62, the ":" before them in 22: the box runs
    # from column 23 to 75 of 75 (4 columns past the "W", and 8 more over nothing read)
    np.testing.assert_allclose(kept.xyxy[0], [600 * 23 / 75, 10, 600, 50], rtol=1e-5)
    np.testing.assert_allclose(kept.xyxy[1], held)  # no columns known: the whole line


def test_without_a_reader_lines_are_no_plates() -> None:
    from redact.detect import DetectorSet

    class Lines:
        name, label, threshold = "text_plate", "plate", 0.3

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            return Detections.from_arrays([(0, 10, 600, 50), (0, 100, 120, 130)], [0.7, 0.7], "plate")

    ds = DetectorSet(detectors=[Lines()], models=[], thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25},  # type: ignore[list-item]
                     quality="thorough", reader=None)
    found = ds.per_detector(np.zeros((300, 700, 3), np.uint8))
    np.testing.assert_allclose(found["text_plate"].xyxy, [[0, 100, 120, 130]])


def test_thorough_reads_only_lines() -> None:
    from redact.detect import DetectorSet
    from redact.detect.reading import LINE_PLATES

    line, word = (0, 10, 600, 50), (0, 100, 120, 130)

    class Text:
        name, label, threshold = "text_plate", "plate", 0.3

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            return Detections.from_arrays([line, word], [0.7, 0.7], "plate")

    reader = GivenReadings({line: Reading("Plate: B 320 WTW", 0.95), word: Reading("SALE", 0.99)})
    ds = DetectorSet(detectors=[Text()], models=[], thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25},  # type: ignore[list-item]
                     quality="thorough", reader=reader)
    found = ds.per_detector(np.zeros((300, 700, 3), np.uint8))
    assert reader.read_boxes == [line]  # the word is kept unread, as thorough keeps every line
    np.testing.assert_allclose(found["text_plate"].xyxy, [word])
    np.testing.assert_allclose(found[LINE_PLATES].xyxy, [line])  # no columns known: the whole line


@pytest.mark.parametrize("text", ["", "N-", "8", "QD", "厂", "中证", "欢京UN", "京A1", "..::"])
def test_too_few_latin_letters_or_digits(text: str) -> None:
    assert too_few_characters(Reading(text, 0.9))


@pytest.mark.parametrize("text", ["B 32", "京A1B", "F99", "mC7"])
def test_three_latin_letters_or_digits_are_enough(text: str) -> None:
    assert not too_few_characters(Reading(text, 0.3))


def test_balanced_reads_text_and_thorough_reads_only_lines() -> None:
    balanced = build_detector_set(faces=False)
    assert balanced.reader is not None and balanced.models[-1] == READER_MODEL
    assert balanced.only(["yolo_plate"]).reader is None
    assert balanced.only(["yolo_plate", "text_plate"]).models[-1] == READER_MODEL
    thorough = build_detector_set(faces=False, quality="thorough")  # reads lines, vets no text
    assert thorough.reader is not None and thorough.models[-1] == READER_MODEL
    assert build_detector_set(plates=False).reader is None


def _drawn(text: str) -> np.ndarray:
    image = np.full((60, 360, 3), 235, np.uint8)
    cv2.putText(image, text, (8, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 2, cv2.LINE_AA)
    return image


@pytest.mark.slow
def test_real_network_reads_drawn_text() -> None:
    reader = TextReader(threads=1)
    plate, date = _drawn("B 123 XYZ"), _drawn("2014-05-13")
    image = np.concatenate([plate, date], axis=0)
    got = reader.read(image, np.array([[0, 0, 360, 60], [0, 60, 360, 120]], np.float32))
    assert got[0].text.replace(" ", "") == "B123XYZ" and got[0].confidence > 0.8
    assert got[1].text == "2014-05-13" and veto_reason(got[1]) is not None
    assert veto_reason(got[0]) is None


@pytest.mark.slow
def test_real_network_finds_the_plate_a_caption_prints() -> None:
    image = np.full((100, 900, 3), 30, np.uint8)
    cv2.putText(image, "Plate read: B 123 XYZ  camera 41", (8, 62), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (235, 235, 235), 2,
                cv2.LINE_AA)
    (x0, _), (x1, _) = _text_extent("Plate read: ", 8), _text_extent("Plate read: B 123 XYZ", 8)
    reader = TextReader(threads=1)
    kept = reader.plates_in_lines(image, Detections.from_arrays([[0, 20, 900, 80]], [0.7], "plate"))
    assert len(kept) == 1
    bx0, _, bx1, _ = kept.xyxy[0]
    assert bx0 <= x0 + 4 and bx1 >= x1 - 2  # over the whole plate string
    assert bx0 >= x0 - 60 and bx1 <= x1 + 60  # and not over the caption around it


@pytest.mark.slow
def test_a_line_reads_the_same_beside_a_longer_one() -> None:
    """A dashboard's list of reads beside a long caption: padded to the caption's width, the
    list's line lost its spaces and its plate (glued to the date) was not found."""
    from PIL import Image, ImageDraw, ImageFont

    pil = Image.new("RGB", (1600, 160), (30, 30, 30))
    draw = ImageDraw.Draw(pil)
    short, caption = "1  GCH 4840   2025-12-01 08:14:03   cam 50", "Plate read: B 320 WTW   confidence 97%   camera 52"
    small, large = ImageFont.load_default(size=14), ImageFont.load_default(size=38)
    draw.text((10, 20), short, font=small, fill=(230, 230, 230))
    draw.text((10, 90), caption + "   lane 2 northbound   2025-12-01", font=large, fill=(230, 230, 230))
    x0, y0, x1, y1 = draw.textbbox((10, 20), short, font=small)
    plate = draw.textbbox((10, 20), "1  ", font=small)[2], draw.textbbox((10, 20), "1  GCH 4840", font=small)[2]
    wide = draw.textbbox((10, 90), caption + "   lane 2 northbound   2025-12-01", font=large)
    image = cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)
    lines = Detections.from_arrays(
        [[x0 - 2, y0 - 4, x1 + 2, y1 + 4], [wide[0] - 2, wide[1] - 4, wide[2] + 2, wide[3] + 4]], [0.6, 0.6], "plate"
    )
    reader = TextReader(threads=1)
    alone = reader.read(image, lines.xyxy[:1], max_width=48 * HEIGHT)[0]
    beside = reader.read(image, lines.xyxy, max_width=48 * HEIGHT)[0]
    assert beside == alone
    kept = reader.plates_in_lines(image, lines)
    over = kept.xyxy[(kept.xyxy[:, 1] < y1) & (kept.xyxy[:, 0] <= plate[0] + 2) & (kept.xyxy[:, 2] >= plate[1] - 2)]
    assert len(over) == 1  # the list's plate string, whole


def _text_extent(text: str, x: int) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.2, 2)
    return x + w, h


def test_text_only_a_candidate_under_the_threshold_holds_is_read() -> None:
    # A bus's destination board the plate network scores 0.2 is read like text nothing holds,
    # and dropped for what it reads; under a box passing the threshold it is never read.
    from redact.detect import DetectorSet

    board = (100, 100, 300, 140)

    class Fixed:
        def __init__(self, name: str, score: float) -> None:
            self.name, self.label, self.threshold, self.score = name, "plate", 0.3, score

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            box = (95, 95, 305, 145) if self.name == "yolo_plate" else board
            return Detections.from_arrays([box], [self.score], "plate")

    for plate_score, read in ((0.2, True), (0.5, False)):
        reader = GivenReadings({board: Reading("AUTOGARA RAHOVA TERMINAL", 0.97)})
        ds = DetectorSet(detectors=[Fixed("yolo_plate", plate_score), Fixed("text_plate", 0.6)],  # type: ignore[list-item]
                         models=[], thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25}, quality="balanced",
                         reader=reader)
        found = ds.per_detector(np.zeros((300, 400, 3), np.uint8), ratio=0.5)
        assert (reader.read_boxes == [board]) == read
        assert len(found["text_plate"]) == (0 if read else 1)


def test_text_only_a_box_the_evidence_rules_drop_holds_is_read() -> None:
    # A truck's back the plate network boxes whole (over a tenth of the picture, with no text
    # box of its size to confirm it) holds its lettering for no plate: the lettering is read
    # and dropped for what it reads. A plate-sized box around the same text holds it.
    from redact.detect import DetectorSet

    lettering = (400, 200, 640, 260)

    class Fixed:
        def __init__(self, name: str, box: tuple[int, int, int, int]) -> None:
            self.name, self.label, self.threshold, self.box = name, "plate", 0.3, box

        def detect(self, image, *, rois=None, floor=None) -> Detections:  # noqa: ANN001
            return Detections.from_arrays([self.box], [0.41 if self.name == "yolo_plate" else 0.7], "plate")

    for plate_box, read in (((200, 100, 900, 700), True), ((390, 190, 650, 270), False)):
        reader = GivenReadings({lettering: Reading("Truck Rental", 0.97)})
        ds = DetectorSet(detectors=[Fixed("yolo_plate", plate_box), Fixed("text_plate", lettering)],  # type: ignore[list-item]
                         models=[], thresholds={"face": 0.35, "plate": 0.3, "occupant": 0.25}, quality="balanced",
                         reader=reader)
        found = ds.per_detector(np.zeros((720, 1280, 3), np.uint8), ratio=0.5)
        assert (lettering in reader.read_boxes) == read
        assert len(found["text_plate"]) == (0 if read else 1)


def test_a_plate_shaped_piece_of_a_line_must_hold_a_plates_characters() -> None:
    # A header seen whole at one scale and in pieces at another: a piece that surely reads as
    # digits only ("5-210729", alone it might be an all-digit plate) is dropped, as the line's
    # stretches would be; a piece holding a plate's characters, or read unsure, stays; so
    # does a piece a plate network holds, and the same digits beside the line.
    line = (20, 20, 1200, 50)
    digits, plate, unsure, held = (300, 22, 420, 48), (450, 22, 570, 48), (600, 22, 720, 48), (900, 22, 1000, 48)
    beside = (300, 100, 420, 130)
    reader = GivenReadings({digits: Reading("5-210729", 0.99), plate: Reading("B320WTW", 0.99),
                            unsure: Reading("5-21O729", 0.5), beside: Reading("5-210729", 0.99)})
    text = Detections.from_arrays([line, digits, plate, unsure, held, beside], [0.6] * 6, "plate")
    yolo = Detections.from_arrays([[895, 18, 1005, 52]], [0.5], "plate")
    kept = reader.veto(np.zeros((500, 1300, 3), np.uint8), text, [yolo])
    assert held not in reader.read_boxes
    assert [tuple(int(v) for v in b) for b in kept.xyxy] == [plate, unsure, held, beside]


def test_a_two_line_plates_short_line_stays_with_the_line_it_lies_on() -> None:
    # "KA" over "5678" and "京A" over "12345": the upper line reads as too few Latin
    # characters on its own; stacked on a line that stays it is the plate's too. Alone, or on
    # a line that is dropped (a date), it is dropped.
    line, upper = (100, 130, 200, 160), (120, 98, 170, 128)
    chinese_line, chinese_upper = (300, 130, 420, 160), (320, 98, 380, 128)
    date, on_date = (500, 130, 640, 160), (540, 98, 590, 128)
    alone = (700, 98, 750, 128)
    held, held_upper = (100, 330, 200, 360), (120, 298, 170, 328)
    reader = GivenReadings({
        line: Reading("5678", 0.99), upper: Reading("KA", 0.99), chinese_line: Reading("12345", 0.99),
        chinese_upper: Reading("京A", 0.95), date: Reading("2014-05-13", 0.99), on_date: Reading("AB", 0.99),
        alone: Reading("KA", 0.99), held_upper: Reading("BC", 0.99),
    })
    text = Detections.from_arrays(
        [line, upper, chinese_line, chinese_upper, date, on_date, alone, held, held_upper], [0.6] * 9, "plate"
    )
    yolo = Detections.from_arrays([[95, 325, 205, 365]], [0.5], "plate")
    kept = reader.veto(np.zeros((500, 800, 3), np.uint8), text, [yolo])
    assert [tuple(int(v) for v in b) for b in kept.xyxy] == [
        line, upper, chinese_line, chinese_upper, held, held_upper
    ]
