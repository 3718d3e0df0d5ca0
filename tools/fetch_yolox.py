"""Copy the YOLOX-Nano COCO detector into ``redact/models`` from its upstream git repository.

The file is taken unchanged from Kazuhito00/YOLOX-ONNX-TFLite-Sample (Apache-2.0) at a
pinned commit: YOLOX-Nano with Megvii's COCO weights (Megvii-BaseDetection/YOLOX,
Apache-2.0), exported by YOLOX's ``tools/export_onnx.py`` without the box decoding in
the graph. Run it with any Python 3.11 that has git on its path::

    python tools/fetch_yolox.py [--repo CLONE_OR_GIT_DIR] [--out redact/models]

Without ``--repo`` the repository is cloned (blobs on demand) into a temporary folder.
The copy is checked against the pinned SHA-256 (the one in ``redact/models/NOTICE.md``
and ``redact/detect/yolox.py``) and, where onnxruntime is installed, its input and
output shapes are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_URL = "https://github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample"
COMMIT = "3d4f1119d0694200671c08069ecb847aa0d8495a"
MEMBER = "model/yolox_nano.onnx"
FILE = "yolox_nano.onnx"
SHA256 = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14"


def git_show(git_dir: Path, commit: str, member: str) -> bytes:
    """The bytes of ``member`` at ``commit`` in a clone or bare git directory."""
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{member}"], check=True, capture_output=True
    ).stdout


def locate_git_dir(repo: Path) -> Path:
    """A clone's ``.git`` folder, or ``repo`` itself when it is a bare git directory."""
    return repo / ".git" if (repo / ".git").exists() else repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, help="a local clone or bare git dir of the upstream repository")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "redact" / "models")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.repo is None:
            clone = Path(tmp) / "upstream"
            subprocess.run(
                ["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", REPO_URL, str(clone)], check=True
            )
            git_dir = locate_git_dir(clone)
        else:
            git_dir = locate_git_dir(args.repo)
        data = git_show(git_dir, COMMIT, MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"{MEMBER} at {COMMIT} has SHA-256 {digest}, expected {SHA256}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / FILE
    target.write_bytes(data)
    print(f"{target}  {len(data)} bytes  sha256 {digest}")
    try:
        import onnxruntime
    except ImportError:
        return 0
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    for i in session.get_inputs():
        print(f"input  {i.name} {i.shape} {i.type}")
    for o in session.get_outputs():
        print(f"output {o.name} {o.shape} {o.type}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
