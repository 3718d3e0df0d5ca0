"""Atomic writes and the names of temp files and sidecars (redact.io.atomic)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from redact.io.atomic import NAME_MAX, TMP_MARKER, fit_name, remove_stale_temps, temp_path_for, write_bytes_atomic
from redact.video.ledger import sidecar_rel


def _bytes(name: str) -> int:
    return len(os.fsencode(name))


def test_a_name_that_fits_is_unchanged() -> None:
    assert fit_name("clip", ".jsonl") == "clip.jsonl"
    assert fit_name("a" * 249, ".jsonl") == "a" * 249 + ".jsonl"  # 255 bytes exactly


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1,
               max_size=300), st.sampled_from([".jsonl", ".redact-tmp-1-abcd.mp4", ""]))
def test_a_long_name_is_cut_to_fit_and_keeps_its_tail(stem: str, tail: str) -> None:
    name = fit_name(stem, tail)
    assert _bytes(name) <= NAME_MAX and name.endswith(tail)
    if _bytes(stem + tail) > NAME_MAX:
        assert name != stem + tail and name[: len(name) - len(tail)] != stem


def test_long_names_that_share_their_start_stay_apart() -> None:
    a, b = "é" * 200 + "x", "é" * 200 + "y"  # 401 bytes each, the same first 400
    assert fit_name(a, ".jsonl") != fit_name(b, ".jsonl")
    assert fit_name(a, ".jsonl") == fit_name(a, ".jsonl")


def test_temp_files_of_the_longest_names_are_written_and_cleaned_up(tmp_path: Path) -> None:
    final = tmp_path / ("a" * 250 + ".jpg")  # a name the folder takes; its temp name would not
    tmp = temp_path_for(final)
    assert _bytes(tmp.name) <= NAME_MAX and tmp.name.startswith(".") and TMP_MARKER in tmp.name
    assert tmp.suffix == ".jpg"
    write_bytes_atomic(final, b"x")
    assert final.read_bytes() == b"x" and [p.name for p in tmp_path.iterdir()] == [final.name]
    tmp.write_bytes(b"left by a killed run")
    assert remove_stale_temps(tmp_path) == [tmp]


def test_a_sidecar_keeps_its_folder_and_fits() -> None:
    assert sidecar_rel("sub/clip.mp4") == "sub/clip.mp4.jsonl"
    long = sidecar_rel("sub/" + "b" * 250 + ".mp4")
    folder, name = long.split("/")
    assert folder == "sub" and _bytes(name) <= NAME_MAX and name.endswith(".jsonl")
