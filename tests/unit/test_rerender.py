"""Re-rendering: the configuration read back from a manifest's settings."""

from __future__ import annotations

from redact.config import RedactConfig
from redact.io.encode import PRESET_LOOKAHEAD
from redact.review.rerender import LEGACY_SETTINGS, config_from_manifest


def test_settings_of_a_current_manifest_come_back_as_they_were() -> None:
    run = RedactConfig.from_mapping({"lookahead": 12, "keyframe_seconds": 2.0, "glance": True, "crf": 20})
    settings = {**run.as_dict(), "resolved_thresholds": {"face": 0.35, "plate": 0.4}}  # a non-option key
    assert config_from_manifest({"settings": settings}) == run


def test_options_an_older_run_did_not_have_mean_what_it_did() -> None:
    settings = RedactConfig().as_dict()
    for key in LEGACY_SETTINGS:
        del settings[key]
    config = config_from_manifest({"settings": settings})
    # Full detection on every frame, and every preset's own look-ahead (no cap below it).
    assert config.keyframe_seconds == 0.0 and config.glance is False and config.watch is False
    assert config.lookahead >= max(max(t.values()) for t in PRESET_LOOKAHEAD.values())
    assert config.crf == RedactConfig().crf  # the rest as recorded
