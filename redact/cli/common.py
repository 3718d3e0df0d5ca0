"""What every command shares: exit codes, error-to-exit-code mapping, progress bars, the run summary."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

import click

from redact.errors import ConfigError, ManifestError, ModelError, RedactError
from redact.types import LABELS

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted()


def fail(message: str, code: int) -> None:
    click.echo(f"redact: error: {message}", err=True)
    sys.exit(code)


def run_guarded(body: Callable[[], int]) -> None:
    """Run a command body, mapping errors to messages and exit codes."""
    debug = os.environ.get("REDACT_DEBUG") == "1"
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = body()
    except KeyboardInterrupt:
        click.echo("\nredact: interrupted; the manifest records the files finished so far", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (ConfigError, ModelError) as exc:
        if debug:
            raise
        fail(str(exc), EXIT_USAGE)
    except ManifestError as exc:
        if debug:
            raise
        fail(str(exc), EXIT_USAGE)
    except RedactError as exc:
        if debug:
            raise
        fail(str(exc), EXIT_FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code)


class Bars:
    """tqdm bars on stderr: one over files, one per video over frames."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.files_bar: Any = None
        self.frame_bar: Any = None
        self.frame_name: str | None = None

    def start(self, total: int) -> None:
        if self.quiet or total == 0:  # every file already done (a resumed run): no empty bar
            return
        from tqdm import tqdm

        self.files_bar = tqdm(total=total, unit="file", desc="files", file=sys.stderr, dynamic_ncols=True)

    def file(self, done: int, total: int, entry: Mapping[str, Any]) -> None:
        if self.frame_bar is not None:
            self.frame_bar.close()
            self.frame_bar = None
        if self.files_bar is not None:
            self.files_bar.update(1)
            if entry["status"] == "failed":
                self.files_bar.write(f"FAILED {entry['input']}: {entry['error']}", file=sys.stderr)

    def frames(self, name: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if self.frame_bar is None or self.frame_name != name:
            if self.frame_bar is not None:
                self.frame_bar.close()
            self.frame_name = name
            self.frame_bar = tqdm(
                total=total, unit="frame", desc=name[-30:], file=sys.stderr, leave=False,
                dynamic_ncols=True, position=1,
            )
        self.frame_bar.update(done - self.frame_bar.n)

    def close(self) -> None:
        for bar in (self.frame_bar, self.files_bar):
            if bar is not None:
                bar.close()


def print_summary(result: Any) -> None:
    counts = dict.fromkeys(LABELS, 0)
    for e in result.files:
        for k, v in e.get("counts", {}).items():
            counts[k] = counts.get(k, 0) + int(v)
    line = (
        f"{len(result.files)} files: {result.ok} ok, {result.failed} failed, {result.skipped} skipped"
        + (f" ({result.resumed} already done)" if result.resumed else "")
    )
    click.echo(line, err=True)
    click.echo("regions redacted: " + ", ".join(f"{n} {label}" for label, n in counts.items()), err=True)
    for e in result.files:
        if e["status"] == "failed":
            click.echo(f"  FAILED {e['input']}: {e['error']}", err=True)
    for w in result.warnings:
        click.secho(f"WARNING: {w}", fg="yellow", err=True)
    click.echo(f"manifest: {result.manifest_path}", err=True)
    click.echo(f"manifest sha256: {result.manifest_sha256}", err=True)
