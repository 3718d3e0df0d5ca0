"""One model's outputs fed to another without leaving the GPU (onnxruntime I/O binding).

A network shipped in two files (CenterFace's head and tail) would otherwise copy the head's
feature maps to the host and back between the two runs; on a GPU they stay in its memory,
and of the tail's outputs only those the decoder reads are copied to the host. On the CPU,
or where either model runs elsewhere, the two runs are plain ``OnnxRunner.run`` calls.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.session import GPU_PROVIDERS, OnnxRunner

log = logging.getLogger("redact")

# Model files whose bound run failed once: they run the plain way for the rest of the process.
_unbound: set[str] = set()


def on_gpu(session: Any) -> bool:
    """Whether an onnxruntime session runs on a GPU provider (CUDA or TensorRT)."""
    return str(session.get_providers()[0]) in GPU_PROVIDERS


def _device_id(session: Any) -> int:
    options = session.get_provider_options()
    provider = str(session.get_providers()[0])
    return int(options.get(provider, {}).get("device_id", 0))


def chain(head: OnnxRunner, tail: OnnxRunner, blob: NDArray[np.float32], *, keep: int) -> list[NDArray[np.float32]]:
    """``tail``'s first ``keep`` outputs for ``head``'s outputs on ``blob`` (NCHW float32).

    ``head``'s outputs are ``tail``'s inputs, in file order. Where both run on the same GPU
    the features stay in its memory (I/O binding); a failed bound run is run again the
    plain way, which has the runners' own fallback to the CPU.
    """
    session = head.session_for((tuple(blob.shape),))
    if on_gpu(session) and head.model.file not in _unbound:
        try:
            bound = _bound(head, tail, session, blob, keep)
        except Exception as exc:  # onnxruntime's own error types are not importable portably
            _unbound.add(head.model.file)
            log.warning("%s: bound GPU run failed (%s); running it without I/O binding from now on",
                        head.model.name, exc)
        else:
            if bound is not None:
                return bound
    return tail.run(*head.run(blob))[:keep]


def _bound(
    head: OnnxRunner, tail: OnnxRunner, session: Any, blob: NDArray[np.float32], keep: int
) -> list[NDArray[np.float32]] | None:
    """The chained run with the features on the GPU; ``None`` where ``tail`` is not on the same GPU."""
    device = _device_id(session)
    io = session.io_binding()
    io.bind_cpu_input(session.get_inputs()[0].name, np.ascontiguousarray(blob))
    for out in session.get_outputs():
        io.bind_output(out.name, "cuda", device)
    session.run_with_iobinding(io)
    features = io.get_outputs()
    second = tail.session_for(tuple(tuple(f.shape()) for f in features))
    if not on_gpu(second) or _device_id(second) != device:
        return None
    io2 = second.io_binding()
    for inp, value in zip(second.get_inputs(), features, strict=True):
        io2.bind_ortvalue_input(inp.name, value)
    for i, out in enumerate(second.get_outputs()):
        # What the decoder does not read (CenterFace's landmarks) stays on the GPU.
        io2.bind_output(out.name, "cpu" if i < keep else "cuda", 0 if i < keep else device)
    second.run_with_iobinding(io2)
    head.ran_on.add(str(session.get_providers()[0]))
    tail.ran_on.add(str(second.get_providers()[0]))
    return [v.numpy() for v in io2.get_outputs()[:keep]]
