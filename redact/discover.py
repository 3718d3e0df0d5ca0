"""Turn the command line's inputs into jobs: walk folders, classify files, map outputs.

Outputs mirror the input tree: folder input ``D`` with ``D/x/y.jpg`` gives ``OUT/x/y.jpg``;
a file input ``F`` gives ``OUT/<name of F>``. Nothing is ever mapped outside ``OUT``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from redact.errors import ConfigError, MediaError
from redact.io.atomic import TMP_MARKER
from redact.io.image import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".ts", ".mts", ".m2ts", ".3gp", ".3g2"})
# Extensions TypeScript source files have too: such a file that is text is not media.
SOURCE_TOO = frozenset({".ts", ".mts"})
# Media we recognise but do not handle: failing them loudly beats skipping them silently.
UNSUPPORTED_MEDIA = frozenset(
    {
        ".gif", ".heic", ".heif", ".jp2", ".j2k", ".jxl", ".svg", ".psd", ".raw", ".cr2", ".cr3",
        ".nef", ".arw", ".dng", ".orf", ".rw2", ".ico", ".mpg", ".mpeg", ".flv", ".wmv", ".asf",
        ".ogv", ".vob", ".rm", ".rmvb", ".f4v",
    }
)

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image"),
    (b"\x89PNG\r\n\x1a\n", 0, "image"),
    (b"II*\x00", 0, "image"),
    (b"MM\x00*", 0, "image"),
    (b"BM", 0, "image"),
    (b"ftyp", 4, "video"),
    (b"\x1a\x45\xdf\xa3", 0, "video"),
)


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes.

    Attributes:
        root: index of the command-line input it came from.
        src: the input file.
        rel: its path relative to the input root, with '/' separators.
        dst: the output file (inside the output folder).
        kind: ``"image"``, ``"video"``, or None for files that are not media.
        problem: a reason this file cannot be processed (it becomes a failed entry), or None.
        out: the output folder ``dst`` must stay inside.
    """

    root: int
    src: Path
    rel: str
    dst: Path
    kind: str | None
    problem: str | None = None
    out: Path = Path(".")

    def checked_dst(self) -> Path:
        """``dst`` after making its folder, refusing any path that resolves outside ``out``.

        Raises:
            MediaError: a symlink in the output tree would lead the write elsewhere.
        """
        self.dst.parent.mkdir(parents=True, exist_ok=True)
        out_real = self.out.resolve()
        if self.dst.is_symlink() or not _inside(self.dst.parent.resolve(), out_real):
            raise MediaError(
                f"output {self.dst} leads outside {self.out} through a symlink; remove the link"
            )
        return self.dst


def sniff_kind(path: Path) -> str | None:
    """Guess ``image``/``video`` from the first bytes (for files with unknown extensions)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "image"  # an AVIF picture in the MP4 family's box format
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI "):
        return "image" if head[8:12] == b"WEBP" else "video"
    return None


def _by_extension(path: Path) -> tuple[str | None, str | None] | None:
    """(kind, problem) for a media extension; None for any other."""
    ext = path.suffix.lower()
    if ext in IMAGE_EXTENSIONS:
        return "image", None
    if ext in VIDEO_EXTENSIONS:
        return "video", None
    if ext in UNSUPPORTED_MEDIA:
        return "image" if ext in {".gif", ".heic", ".heif", ".jp2", ".j2k", ".jxl"} else "video", (
            f"unsupported format {ext}; convert it to a supported one (images: JPEG, PNG, WebP, TIFF, BMP, AVIF; "
            "video: MP4, MOV, MKV, AVI, WebM, MPEG-TS, 3GP)"
        )
    return None


def classify(path: Path) -> tuple[str | None, str | None]:
    """(kind, problem) for one file, by extension first and content second."""
    if path.suffix.lower() in SOURCE_TOO and _text(path):
        return None, None
    return _by_extension(path) or (sniff_kind(path), None)


def _text(path: Path) -> bool:
    """Whether a file begins as UTF-8 text (a source file); a video's first bytes are not."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut by the 4096-byte read
    return True


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # unreadable: reading it says why


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def plan(
    inputs: list[Path], out: Path, *, follow_symlinks: bool = False, extra_outputs: list[Path] | None = None
) -> list[Job]:
    """List every job for a run, in a stable order.

    Raises:
        ConfigError: a missing input, ``out`` equal to or inside an input folder, an extra
            output (the manifest) inside an input folder, or two inputs mapping to one output.
    """
    if not inputs:
        raise ConfigError("no inputs given; pass files or folders to redact")
    out_real = out.resolve()
    jobs: list[Job] = []
    for i, given in enumerate(inputs):
        if not given.exists() and not given.is_symlink():
            raise ConfigError(f"input {given} does not exist")
        real = given.resolve()
        if given.is_dir():
            if _inside(out_real, real):
                raise ConfigError(
                    f"--out {out} is inside the input folder {given}; choose an output folder outside it"
                )
            for extra in extra_outputs or []:
                if _inside(extra.resolve(), real):
                    raise ConfigError(f"{extra} is inside the input folder {given}; write it elsewhere")
            jobs.extend(_walk(i, given, real, out, follow_symlinks))
        else:
            rel = given.name
            jobs.append(_job(i, given, rel, out, real.parent, follow_symlinks=True))
    seen: dict[Path, Job] = {}
    for job in jobs:
        key = job.dst.resolve() if job.dst.parent.exists() else job.dst.absolute()
        if key in seen:
            raise ConfigError(
                f"{seen[key].src} and {job.src} would both be written to {job.dst}; run them separately"
            )
        if job.kind is not None and job.src.exists() and key == job.src.resolve():
            raise ConfigError(f"output {job.dst} would overwrite its input; choose another --out")
        seen[key] = job
    return jobs


def _walk(index: int, given: Path, real_root: Path, out: Path, follow: bool) -> Iterator[Job]:
    visited: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(given, followlinks=follow):
        here = Path(dirpath)
        real_here = here.resolve()
        if real_here in visited:  # symlink loop
            dirnames[:] = []
            continue
        visited.add(real_here)
        dirnames.sort()
        if not follow:
            # Symlinked folders are not entered: they may lead anywhere.
            dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in sorted(filenames):
            if TMP_MARKER in name:
                continue
            path = here / name
            rel = path.relative_to(given).as_posix()
            yield _job(index, path, rel, out, real_root, follow_symlinks=follow)


def _job(index: int, src: Path, rel: str, out: Path, real_root: Path, *, follow_symlinks: bool) -> Job:
    dst = out / rel
    if src.is_symlink():
        if not src.exists():
            return Job(index, src, rel, dst, "image", "broken symlink: its target does not exist", out)
        if not follow_symlinks and not _inside(src.resolve(), real_root):
            reason = "symlink leads outside the input folder; pass --follow-symlinks to redact it"
            return Job(index, src, rel, dst, (_by_extension(src) or ("image", None))[0], reason, out)
    if not _regular(src):
        # A pipe, socket or device: reading it may block for ever or never end. Named like
        # media it fails (someone meant it to be redacted); else it is left out.
        kind = (_by_extension(src) or (None, None))[0]
        reason = "not a regular file (a pipe, socket or device); nothing was read: copy it into a file to redact it"
        return Job(index, src, rel, dst, kind, reason, out)
    kind, problem = classify(src)
    return Job(index, src, rel, dst, kind, problem, out)
