"""How often `redact verify`'s leak check fails a correct run, and on what.

Usage::

    python bench/leak_check.py [SET ...] [--images N] [--list] [--json PATH]

The first N pictures of each annotated set (default: the dash-cam frames and the dashboard
screenshots, all of them) are redacted by ``redact run`` with its defaults, and ``redact
verify`` checks the run with its leak check. A correct run's outputs hold nothing the run's
detectors found on its inputs, so every leak the check reports there is a false alarm a
reviewer must clear, or a plate or face the run missed. Reported per set: pictures, pictures
failing verify (and those that would fail had each leak been judged on the output alone),
leak problems, the problems of which the detectors find nothing on the input (warnings: the
fills' doing), the other leak warnings, and the seconds the run and verify took. ``--list``
prints every leak problem and downgraded problem.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redact import redact_path  # noqa: E402
from redact.config import RedactConfig  # noqa: E402
from redact.review.verify import verify  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"
SETS = (DEV / "plates-romania-dashcam", DEV / "plates-dashboard")
ONLY_ON_OUTPUT = "nothing of it found on the input"  # the leak check's note on a problem the input does not show


def _pictures(folder: Path, n: int | None) -> list[Path]:
    data = json.loads((folder / "annotations.json").read_text())
    return [folder / im["file"] for im in data["images"][: n or None]]


def score(folder: Path, n: int | None, listing: bool) -> dict[str, Any]:
    """Run and verify the first ``n`` pictures of ``folder``; the counts described above."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        inputs.mkdir()
        for p in _pictures(folder, n):
            os.symlink(p.resolve(), inputs / p.name)
        t0 = time.perf_counter()
        result = redact_path([inputs], Path(tmp) / "out", RedactConfig(follow_symlinks=True))
        t1 = time.perf_counter()
        checked = verify(result.manifest_path)
        t2 = time.perf_counter()
    leaks = [f for f in checked.findings if f.kind == "leak"]
    problems = [f for f in leaks if f.severity == "problem"]
    downgraded = [f for f in leaks if f.severity == "warning" and ONLY_ON_OUTPUT in f.message]
    if listing:
        for f in problems + downgraded:
            print(f"  {f.line()}")
    return {
        "pictures": checked.files,
        "failing": len({f.file for f in checked.problems}),
        "failing_judged_on_the_output_alone": len({f.file for f in checked.problems} | {f.file for f in downgraded}),
        "leak_problems": len(problems),
        "only_on_output": len(downgraded),
        "pictures_only_on_output": len({f.file for f in downgraded}),
        "other_leak_warnings": len(leaks) - len(problems) - len(downgraded),
        "other_problems": len(checked.problems) - len(problems),
        "run_s": round(t1 - t0, 1),
        "verify_s": round(t2 - t1, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", type=Path, default=list(SETS))
    ap.add_argument("--images", type=int, default=None, help="first N pictures of each set (default: all)")
    ap.add_argument("--list", action="store_true", help="print each leak problem and downgraded problem")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "leak_check.json")
    args = ap.parse_args(argv)
    results = {}
    for folder in args.sets:
        if not (folder / "annotations.json").is_file():
            print(f"no annotated set at {folder}", file=sys.stderr)
            return 2
        results[folder.name] = row = score(folder, args.images, args.list)
        print(f"{folder.name}: {json.dumps(row)}", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
