"""onnxruntime session factory shared by every detector."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.errors import ModelError

log = logging.getLogger("redact")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
        raise ModelError("onnxruntime is not installed; install redact with its dependencies (make install)") from exc
    return onnxruntime


def providers() -> list[str]:
    """Execution providers to ask for, best first.

    CUDA comes first when the installed onnxruntime build has it (``onnxruntime-gpu``);
    onnxruntime falls back to CPU by itself when no GPU is present at session creation.
    """
    available = _ort().get_available_providers()
    return [CUDA, CPU] if CUDA in available else [CPU]


def create_session(path: Path, *, threads: int | None = None) -> Any:
    """Open an ONNX model for inference.

    Args:
        path: the ``.onnx`` file (already hash-checked by the caller).
        threads: intra-op threads; ``None`` lets onnxruntime use one per physical core.

    Returns:
        An ``onnxruntime.InferenceSession`` with full graph optimisation.

    Raises:
        ModelError: onnxruntime cannot load or initialise the model.
    """
    ort = _ort()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # warnings about unused initializers etc. are noise here
    # Idle intra-op threads sleep instead of spinning: in video the encoder and decoder run
    # beside inference and need those cores.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No CPU arena: it keeps every session's peak (a tiled 1080p pass: ~280 MiB more RSS, measured)
    # for the whole run; plain allocations cost a few per cent of speed.
    opts.enable_cpu_mem_arena = False
    if threads is not None:
        if threads < 1:
            raise ModelError(f"threads must be >= 1, got {threads}")
        opts.intra_op_num_threads = int(threads)
    wanted = providers()
    try:
        session = ort.InferenceSession(str(path), sess_options=opts, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own untyped errors (Fail, InvalidGraph, ...)
        if wanted != [CPU]:
            log.warning("could not start %s on %s (%s); falling back to CPU", path.name, wanted[0], exc)
            try:
                session = ort.InferenceSession(str(path), sess_options=opts, providers=[CPU])
            except Exception as exc2:
                raise ModelError(f"onnxruntime cannot load {path.name}: {exc2}; reinstall redact") from exc2
        else:
            raise ModelError(f"onnxruntime cannot load {path.name}: {exc}; reinstall redact") from exc
    log.debug("loaded %s on %s", path.name, session.get_providers()[0])
    return session


class OnnxRunner:
    """Lazily opened session for one hash-checked model file.

    Not thread-safe by itself: a detector instance is used by one thread at a time.
    """

    def __init__(self, model: ModelFile, *, threads: int | None = None) -> None:
        self.model = model
        self.threads = threads
        self._path = model.verified_path()  # a bad hash fails at build time, not mid-run
        self._session: Any = None  # onnxruntime.InferenceSession once opened
        self._input = ""

    def run(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """Run the model on one NCHW float32 blob and return every output."""
        if self._session is None:
            self._session = create_session(self._path, threads=self.threads)
            self._input = self._session.get_inputs()[0].name
        try:
            return self._session.run(None, {self._input: blob})
        except Exception as exc:  # onnxruntime's own error types are not importable portably
            raise ModelError(f"{self.model.name} failed on an input of shape {blob.shape}: {exc}") from exc
