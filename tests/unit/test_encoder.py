"""Encoder settings: the look-ahead cap against each preset's own, per codec and container, and
the default cap by picture size."""

from __future__ import annotations

import pytest

from redact.io import encode
from redact.io.encode import PRESET_LOOKAHEAD, EncoderSettings, auto_lookahead


@pytest.mark.parametrize(
    ("codec", "preset", "cap", "used", "params"),
    [
        ("libx264", "medium", 20, 20, {"x264-params": "rc-lookahead=20"}),
        ("libx264", "slow", 20, 20, {"x264-params": "rc-lookahead=20"}),
        ("libx264", "veryfast", 20, 10, {}),  # a preset with less keeps its own
        ("libx264", "faster", 20, 20, {}),  # equal: nothing to pass
        ("libx264", "medium", None, 40, {}),
        ("libx265", "medium", 20, 20, {"x265-params": "log-level=error"}),
        ("libx265", "veryslow", 20, 20, {"x265-params": "log-level=error:rc-lookahead=20"}),
        ("libx265", "ultrafast", 0, 0, {"x265-params": "log-level=error:rc-lookahead=0"}),
    ],
)
def test_lookahead_cap(codec: str, preset: str, cap: int | None, used: int, params: dict[str, str]) -> None:
    s = EncoderSettings(codec, 18, preset, cap)
    assert s.lookahead == used
    assert s.options() == {"crf": "18", "preset": preset, **params}


@pytest.mark.parametrize("codec", ["libvpx-vp9", "mpeg4"])
def test_other_codecs_have_no_lookahead_setting(codec: str) -> None:
    s = EncoderSettings(codec, 18, "medium", 20)
    assert s.lookahead is None
    assert not any("lookahead" in v for v in s.options().values())


def test_webm_keeps_the_cap_when_the_codec_is_forced() -> None:
    forced, warning = EncoderSettings("libx264", 23, "slow", 20).for_container(".webm")
    assert (forced.codec, forced.crf, forced.preset, forced.max_lookahead) == ("libvpx-vp9", 23, "slow", 20)
    assert warning and "VP9" in warning


def test_every_preset_the_cli_offers_has_its_lookahead() -> None:
    from redact.config import VIDEO_PRESETS

    for table in PRESET_LOOKAHEAD.values():
        assert set(table) == set(VIDEO_PRESETS)


@pytest.mark.parametrize(
    ("width", "height", "frames"),
    [
        (1920, 1080, 20),  # the cap redact used at every size before
        (1080, 1920, 20),  # portrait: the same pixels
        (1280, 720, 20),  # never more than AUTO_LOOKAHEAD
        (64, 48, 20),
        (2560, 1440, 11),
        (3840, 2160, 5),  # 20 frames took ~490 MiB here
        (7680, 4320, 1),
        (30000, 20000, 1),  # never 0: the default never turns the look-ahead off
    ],
)
def test_default_lookahead_fits_the_budget(width: int, height: int, frames: int) -> None:
    assert auto_lookahead(width, height) == frames
    if frames > 1:
        assert frames * encode.LOOKAHEAD_BYTES_PER_PIXEL * width * height <= encode.LOOKAHEAD_BUDGET
