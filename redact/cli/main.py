"""The command line: the ``redact`` group and its ``run`` command; the review commands join it.

Exit codes, error messages and progress bars live in :mod:`redact.cli.common`.

Exit codes: 0 every file succeeded; 1 some files failed (or, for verify, problems
were found); 2 usage, configuration or installation errors; 130 interrupted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from redact import __version__
from redact.cli.common import Bars, print_summary, run_guarded
from redact.cli.review import render_cmd, review_cmd, verify_cmd
from redact.config import OPTIONS, resolve


def config_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add one click option per config field; every default is None (= not given)."""
    for f in reversed(OPTIONS):
        meta = f.metadata
        flag = "--" + f.name.replace("_", "-")
        ftype = str(f.type)
        kwargs: dict[str, Any] = {"default": None, "help": meta["help"]}
        if ftype.startswith("bool"):
            decl = [f"{flag}/--no-{f.name.replace('_', '-')}"]
            kwargs["default"] = None
        else:
            decl = [flag]
            if meta["choices"]:
                kwargs["type"] = click.Choice(meta["choices"])
            elif ftype.startswith("int"):
                kwargs["type"] = click.IntRange(
                    None if meta["min"] is None else int(meta["min"]),
                    None if meta["max"] is None else int(meta["max"]),
                )
            elif ftype.startswith("float"):
                kwargs["type"] = click.FloatRange(meta["min"], meta["max"])
            else:
                kwargs["type"] = str
        func = click.option(*decl, f.name, **kwargs)(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="redact")
def main() -> None:
    """Find faces, licence plates and vehicle occupants in photos and video and redact them irreversibly.

    \b
    Examples:
      redact run photos/ --out redacted/
      redact run clip.mp4 street.jpg --out out/ --style blur
      redact run footage/ --out out/ --workers 2 --quality thorough
    """
    logging.basicConfig(level=logging.WARNING, format="redact: %(message)s")


RUN_EPILOG = """\b
Examples:
  redact run photos/ --out redacted/            # folder in, mirrored folder out
  redact run a.jpg b.mp4 --out out/             # files land as out/a.jpg, out/b.mp4
  redact run in/ --out out/ --style pixelate --padding 0.25
  redact run in/ --out out/ --no-plates --face-threshold 0.3
  redact run in/ --out review/ --style outline  # review copy, NOT redacted
  redact run /mnt/in --out /mnt/out --executor ray --address HEAD:6379
                                                # on a Ray cluster (docs/distributed.md)

\b
Outputs mirror the input tree; inputs are never modified. The manifest
(OUT/manifest.json, schema redact-manifest/1) lists every file, its SHA-256
before and after, and every redacted region. Rerunning with the same
settings skips finished files. Exit: 0 all ok, 1 some files failed,
2 usage/configuration error, 130 interrupted.
"""


@main.command("run", epilog=RUN_EPILOG)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--manifest", "manifest_path", type=click.Path(path_type=Path), default=None,
    help="Where to write the manifest. Default: OUT/manifest.json.",
)
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="TOML or JSON file of options (command-line options win).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary; errors only.")
@click.option(
    "--overrides", "overrides_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Reviewer edits (JSON, schema redact-overrides/1) to apply: add or remove regions.",
)
@config_options
def run_cmd(
    inputs: tuple[Path, ...],
    out: Path,
    manifest_path: Path | None,
    config_file: Path | None,
    quiet: bool,
    overrides_file: Path | None,
    **options: Any,
) -> None:
    """Redact faces, plates and vehicle occupants in INPUTS (files or folders) into --out."""

    def body() -> int:
        from redact.pipeline import redact_path
        from redact.review.overrides import load as load_overrides

        config = resolve(options, config_file)
        overrides = load_overrides(overrides_file) if overrides_file else None
        if not config.redacts:
            click.secho(
                "redact: WARNING: --style outline draws boxes on UNREDACTED copies for review; "
                "never publish them.",
                fg="yellow", err=True,
            )
        bars = Bars(quiet)
        try:
            result = redact_path(
                list(inputs), out, config, manifest_path=manifest_path,
                on_start=bars.start, on_file=bars.file, on_frames=bars.frames, overrides=overrides,
            )
        finally:
            bars.close()
        if not quiet:
            print_summary(result)
        else:
            for e in result.files:
                if e["status"] == "failed":
                    click.echo(f"FAILED {e['input']}: {e['error']}", err=True)
        return result.exit_code

    run_guarded(body)


main.add_command(verify_cmd)
main.add_command(review_cmd)
main.add_command(render_cmd)

if __name__ == "__main__":
    main()
