"""Atomic writes: write to a temp file beside the target, then ``os.replace``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

TMP_MARKER = ".redact-tmp-"
NAME_MAX = 255  # bytes in one file name (ext4, APFS, NTFS in UTF-16 units, most others)


def fit_name(stem: str, tail: str) -> str:
    """``stem + tail`` as one file name of at most :data:`NAME_MAX` bytes.

    A name a file can bear grows past the limit once a temp marker or a suffix is added to
    it; then the stem is cut (at whole characters) and ends in a digest of the whole stem,
    so that two long names that share their start stay apart.
    """
    if len(os.fsencode(stem + tail)) <= NAME_MAX:
        return stem + tail
    digest = "~" + hashlib.sha256(os.fsencode(stem)).hexdigest()[:12]
    room = NAME_MAX - len(os.fsencode(digest + tail))
    cut = stem
    while len(os.fsencode(cut)) > room:
        cut = cut[:-1]
    return cut + digest + tail


def temp_path_for(final: Path) -> Path:
    """A unique hidden temp path in ``final``'s folder that keeps its suffix (for format detection)."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return final.with_name(fit_name(f".{final.stem}", f"{TMP_MARKER}{token}{final.suffix}"))


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``final``, on any error it is removed.

    The temp file is flushed to disk before the rename so a crash never leaves a
    half-written file under the final name.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        # BaseException included: Ctrl-C must not leave partial files behind.
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` atomically."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temp files a killed run left under ``folder``; returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.rglob(f"*{TMP_MARKER}*"):
        if path.is_file() and path.name.startswith("."):
            path.unlink()
            removed.append(path)
    return removed
