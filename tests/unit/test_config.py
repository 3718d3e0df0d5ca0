from __future__ import annotations

import json

import pytest

from redact.config import RedactConfig, resolve
from redact.errors import ConfigError


def test_defaults() -> None:
    c = RedactConfig()
    assert c.style == "fill" and c.faces and c.plates and not c.keep_metadata
    assert c.fill_bgr == (0, 0, 0)
    assert c.occupants == "windows"  # recall first


@pytest.mark.parametrize(
    "kwargs",
    [{"plates": False}, {"faces": False, "plates": False}, {"occupants": "off"}, {"occupants": "off", "faces": False}],
)
def test_labels_are_independent(kwargs) -> None:
    c = RedactConfig(**kwargs)
    assert c.occupants == kwargs.get("occupants", "windows")
    assert c.plates == kwargs.get("plates", True) and c.faces == kwargs.get("faces", True)


@pytest.mark.parametrize(
    "cli, file, expected",
    [(None, None, "windows"), (None, "people", "people"), ("off", "people", "off"), ("people", None, "people")],
)
def test_occupants_resolution(tmp_path, cli, file, expected) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f'occupants = "{file}"\n' if file else "")
    assert resolve({"occupants": cli}, f).occupants == expected


def test_occupants_in_output_settings() -> None:
    assert RedactConfig(occupants="people").output_settings()["occupants"] == "people"
    assert RedactConfig(occupants="people").settings_hash() != RedactConfig().settings_hash()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"style": "smudge"}, "choose one of"),
        ({"padding": -1.0}, "below the minimum"),
        ({"face_threshold": 1.5}, "above the maximum"),
        ({"fill_color": "red"}, "#RRGGBB"),
        ({"faces": False, "plates": False, "occupants": "off"}, "nothing to redact"),
        ({"occupants": "drivers"}, "choose one of windows, people, off"),
    ],
)
def test_invalid_values(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        RedactConfig(**kwargs)


def test_unknown_option_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="valid options"):
        RedactConfig.from_mapping({"stlye": "fill"})


def test_resolution_order(tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('style = "blur"\npadding = 0.3\njpeg-quality = 80\n')
    c = resolve({"style": "pixelate", "padding": None}, f)
    assert c.style == "pixelate"  # CLI wins
    assert c.padding == 0.3  # file over default
    assert c.jpeg_quality == 80
    assert c.crf == 18  # default


def test_json_config_and_type_errors(tmp_path) -> None:
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"workers": "two"}))
    with pytest.raises(ConfigError, match="--workers"):
        resolve({}, f)


def test_settings_hash_ignores_non_output_options() -> None:
    assert RedactConfig(workers=1).settings_hash() == RedactConfig(workers=4).settings_hash()
    assert RedactConfig(style="blur").settings_hash() != RedactConfig().settings_hash()


def test_option_choices_and_registries_agree() -> None:
    """The option lists are defined in config once; the registries serve exactly them."""
    from redact import config, render
    from redact.detect import PRESETS, QUALITY_PRESETS

    assert tuple(render.STYLES) == config.STYLES
    assert QUALITY_PRESETS == config.QUALITIES and set(config.QUALITIES) <= set(PRESETS)
