"""Does `redact verify` pass a correct run, and fail one whose outputs are the originals?

Usage::

    python bench/verify_styles.py [--set DIR] [--images N] [--styles fill,blur,pixelate] [--json PATH]

The first N pictures of a plate set (default: the dash-cam frames) are redacted by ``redact
run`` in each style three ways: as JPEG (as they are), as AVIF (saved at quality 90) and as
one MP4 clip of them (2 frames a second, H.264 4:2:0). ``redact verify`` (without its leak
check: this is about the per-region test) then checks each run; reported per style and form:
the regions checked and how many it calls unredacted. Each run is checked again with its
outputs replaced by the originals re-encoded (JPEG and AVIF at quality 70): every region
there should be reported.

For ``pixelate`` the correlation of the detail inside the mosaic's cells with the input's
(``redact.review.checks.cell_correlation``) is reported too, over the pictures' regions: the
largest on the redacted outputs and the smallest on the re-encoded originals.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redact import redact_path  # noqa: E402
from redact.config import RedactConfig  # noqa: E402
from redact.review.checks import cell_correlation, region_views  # noqa: E402
from redact.review.verify import verify  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"


def _pictures(folder: Path, n: int) -> list[Path]:
    data = json.loads((folder / "annotations.json").read_text())
    return [folder / im["file"] for im in data["images"][:n]]


def _inputs(pictures: list[Path], work: Path) -> dict[str, Path]:
    """Folders of the same pictures as JPEG, AVIF and one MP4 clip."""
    forms = {"jpeg": work / "jpeg", "avif": work / "avif", "mp4": work / "mp4"}
    for f in forms.values():
        f.mkdir(parents=True)
    for p in pictures:
        shutil.copyfile(p, forms["jpeg"] / p.name)
        Image.open(p).convert("RGB").save(forms["avif"] / (p.stem + ".avif"), quality=90)
    first = Image.open(pictures[0]).convert("RGB")
    with av.open(str(forms["mp4"] / "clip.mp4"), "w") as c:
        s = c.add_stream("libx264", rate=2)
        s.width, s.height, s.pix_fmt = first.width, first.height, "yuv420p"
        for p in pictures:
            arr = np.asarray(Image.open(p).convert("RGB").resize(first.size))
            for packet in s.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return forms


def _bgr(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))[:, :, ::-1]


def _cell_correlations(manifest: Path, inputs: Path, outputs: Path) -> list[float]:
    """Per region of the pictures (not video): how the detail in the mosaic's cells of the
    output follows the input's."""
    found = []
    for entry in json.loads(manifest.read_text())["files"]:
        if entry.get("kind") != "image" or entry["status"] != "ok":
            continue
        out, inp = _bgr(outputs / entry["output"]), _bgr(inputs / entry["input"])
        h, w = out.shape[:2]
        for _, box, mask, cells in region_views(entry["regions"], w, h, "pixelate"):
            if box is not None and cells is not None and mask.sum() >= 4:
                x, y, x2, y2 = (int(v) for v in box)
                found.append(cell_correlation(out[y:y2, x:x2], inp[y:y2, x:x2], cells, mask))
    return found


def _originals(inputs: Path, outputs: Path) -> None:
    """Replace a run's outputs by its inputs re-encoded at quality 70 (video: copied)."""
    for src in inputs.iterdir():
        dst = outputs / src.name
        if src.suffix.lower() in (".jpg", ".avif"):
            Image.open(src).convert("RGB").save(dst, quality=70)
        else:
            shutil.copyfile(src, dst)


def _reported(manifest: Path) -> tuple[int, int]:
    res = verify(manifest, leak_check=False, frames_step=1)
    return res.regions_checked, sum(1 for f in res.problems if f.kind == "region")


def run(pictures: list[Path], styles: Sequence[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        forms = _inputs(pictures, work / "in")
        for style in styles:
            for form, folder in forms.items():
                out = work / f"out-{style}-{form}"
                result = redact_path([folder], out, RedactConfig(style=style))
                manifest = result.manifest_path
                checked, reported = _reported(manifest)
                row: dict[str, Any] = {"regions": checked, "reported": reported}
                if style == "pixelate" and form != "mp4":
                    row["cell_corr_max"] = round(max(_cell_correlations(manifest, folder, out), default=0.0), 3)
                _originals(folder, out)
                checked, reported = _reported(manifest)
                row["originals_reported"] = f"{reported} of {checked}"
                if style == "pixelate" and form != "mp4":
                    kept = _cell_correlations(manifest, folder, out)
                    row["originals_cell_corr_min"] = round(min(kept, default=1.0), 3)
                results[f"{style} {form}"] = row
                print(f"{style:9s} {form:5s} {json.dumps(row)}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=DEV / "plates-romania-dashcam")
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--styles", default="fill,blur,pixelate")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "verify_styles.json")
    args = ap.parse_args(argv)
    if not (args.set / "annotations.json").is_file():
        print(f"no annotated set at {args.set}", file=sys.stderr)
        return 2
    res = run(_pictures(args.set, args.images), [s for s in args.styles.split(",") if s])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
