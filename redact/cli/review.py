"""The review-loop commands: ``verify``, ``review`` and ``render`` (registered on ``redact.cli.main``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from redact.cli.common import Bars, print_summary, run_guarded


class ManifestPath(click.Path):
    """A manifest file, or the run's output folder holding ``manifest.json``."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        if path.is_dir():
            if not (path / "manifest.json").is_file():
                self.fail(f"{path} is a folder without a manifest.json; pass the run's manifest file", param, ctx)
            return path / "manifest.json"
        return path


MANIFEST = click.argument("manifest", type=ManifestPath())

INPUTS_BASE = click.option(
    "--inputs-base", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder the manifest's relative inputs are relative to. Default: the current folder.",
)

VERIFY_EPILOG = """\b
Examples:
  redact verify out/manifest.json
  redact verify out/
  redact verify out/manifest.json --json > verify.json
  redact verify out/manifest.json --no-leak-check --frames-step 10
  redact verify out/manifest.json --signoff signoff.json

\b
Checks: manifest schema and manifest.json.sha256; every output's SHA-256; every
input still present against its recorded hash; every recorded region really
redacted (output vs input pixels); a leak check re-running the detectors on the
outputs (what scores from half the run's thresholds up to them: warnings); with
--signoff, every file approved by the reviewer. Exit: 0 clean, 1 problems found, 2 manifest unusable.
"""


@click.command("verify", epilog=VERIFY_EPILOG)
@MANIFEST
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The run's output folder. Default: the manifest's folder.")
@INPUTS_BASE
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--leak-check/--no-leak-check", default=True, help="Re-run the detectors on the outputs (slow).")
@click.option("--frames-step", type=click.IntRange(1, None), default=30, show_default=True,
              help="Check every N-th video frame.")
@click.option("--strict", is_flag=True, help="Warnings (weak detections outside regions) fail too.")
@click.option("--signoff", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A reviewer's sign-off (exported by the review page): files it does not approve fail.")
def verify_cmd(manifest: Path, out_dir: Path | None, inputs_base: Path | None, as_json: bool, leak_check: bool,
               frames_step: int, strict: bool, signoff: Path | None) -> None:
    """Check that a run's outputs are the ones recorded and really redacted."""

    def body() -> int:
        from redact.review.verify import verify

        result = verify(manifest, out_dir=out_dir, inputs_base=inputs_base, leak_check=leak_check,
                        frames_step=frames_step, strict=strict, signoff=signoff)
        if as_json:
            click.echo(json.dumps(result.to_dict(), indent=2))
        else:
            for f in result.findings:
                click.echo(f.line())
            click.echo(
                f"{result.files} files, {result.regions_checked} regions, {result.frames_checked} pictures checked"
                + ("" if leak_check else " (leak check skipped)"), err=True,
            )
            verdict = "verify: OK" if result.ok else f"verify: FAILED ({len(result.problems)} problem(s))"
            click.secho(verdict, fg="green" if result.ok else "red", err=True)
        return result.exit_code

    run_guarded(body)


REVIEW_EPILOG = """\b
Examples:
  redact review out/manifest.json --out review.html
  redact review out/manifest.json --out review.html --verify
  redact review out/manifest.json --out report.html --static

\b
The page works offline in a browser: click a region to drop it, drag to
draw a missed one, A approves a file, E exports overrides.json and
signoff.json (? lists every key). Then:
  redact render out/manifest.json --overrides overrides.json
  redact verify out/manifest.json --signoff signoff.json
"""


@click.command("review", epilog=REVIEW_EPILOG)
@MANIFEST
@click.option("--out", "-o", "report", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the HTML review page.")
@click.option("--out-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The run's output folder. Default: the manifest's folder.")
@INPUTS_BASE
@click.option("--include-originals", is_flag=True,
              help="Also embed the UNREDACTED originals (internal review only; the page says so in red).")
@click.option("--verify/--no-verify", "run_verify", default=False,
              help="Run verify (with its leak check) and list its findings in the page.")
@click.option("--overrides", "overrides_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Earlier edits to start from. Default: the file the run applied, when it is still there.")
@click.option("--static", is_flag=True, help="Write the read-only report instead (no editing, no script).")
def review_cmd(manifest: Path, report: Path, out_dir: Path | None, inputs_base: Path | None,
               include_originals: bool, run_verify: bool, overrides_file: Path | None, static: bool) -> None:
    """Write a self-contained HTML review page (edit, approve, export) for a run."""

    def body() -> int:
        from redact.review.page import build_page, prior_overrides
        from redact.review.report import build_report, write_report
        from redact.review.verify import verify

        vr = verify(manifest, out_dir=out_dir, inputs_base=inputs_base) if run_verify else None
        if static:
            text = build_report(manifest, out_dir=out_dir, inputs_base=inputs_base,
                                include_originals=include_originals, verify_result=vr)
        else:
            prior, warning = prior_overrides(manifest, overrides_file)
            if warning:
                click.secho(f"redact: WARNING: {warning}", fg="yellow", err=True)
            text = build_page(manifest, out_dir=out_dir, inputs_base=inputs_base, include_originals=include_originals,
                              verify_result=vr, prior=prior)
        write_report(report, text)
        if include_originals:
            click.secho("redact: WARNING: the page contains UNREDACTED originals; keep it internal.",
                        fg="yellow", err=True)
        click.echo(f"review page: {report}" if not static else f"report: {report}", err=True)
        return 0

    run_guarded(body)


@click.command("render")
@MANIFEST
@click.option("--overrides", "overrides_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Reviewer edits (JSON, schema redact-overrides/1) to apply.")
@INPUTS_BASE
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary; errors only.")
def render_cmd(manifest: Path, overrides_file: Path | None, inputs_base: Path | None, quiet: bool) -> None:
    """Redact a manifest's inputs again with its settings (and --overrides) into its folder."""

    def body() -> int:
        from redact.review.overrides import load as load_overrides
        from redact.review.rerender import rerender

        overrides = load_overrides(overrides_file) if overrides_file else None
        bars = Bars(quiet)
        try:
            result = rerender(manifest, overrides, inputs_base=inputs_base,
                              on_start=bars.start, on_file=bars.file, on_frames=bars.frames)
        finally:
            bars.close()
        if not quiet:
            print_summary(result)
        return int(result.exit_code)

    run_guarded(body)


__all__ = ["render_cmd", "review_cmd", "verify_cmd"]
