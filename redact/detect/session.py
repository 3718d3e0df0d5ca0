"""onnxruntime session factory shared by every detector."""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.errors import ModelError

log = logging.getLogger("redact")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# Pictures change shape from call to call (tiles, video focus windows): cuDNN's default
# exhaustive algorithm search would run again, for seconds, on every new shape.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}
GPU_SHAPES = 16  # sessions kept per model on a GPU, one per input shape (see OnnxRunner)


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
        raise ModelError("onnxruntime is not installed; install redact with its dependencies (make install)") from exc
    return onnxruntime


def providers() -> list[str | tuple[str, dict[str, str]]]:
    """Execution providers to ask for, best first, with their options.

    CUDA comes first when the installed onnxruntime build has it (``onnxruntime-gpu``);
    onnxruntime falls back to CPU by itself when no GPU is present at session creation.
    """
    available = _ort().get_available_providers()
    return [(CUDA, dict(CUDA_OPTIONS)), CPU] if CUDA in available else [CPU]


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
    # With the memory pattern, a run's intermediate tensors come from one planned block (one
    # large allocation per run, handed back to the system at once: see redact.memory) rather
    # than hundreds; the plans are cached per input shape (a few KiB each).
    opts.enable_mem_pattern = True
    if threads is not None:
        if threads < 1:
            raise ModelError(f"threads must be >= 1, got {threads}")
        opts.intra_op_num_threads = int(threads)
    wanted = providers()
    try:
        session = ort.InferenceSession(str(path), sess_options=opts, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own untyped errors (Fail, InvalidGraph, ...)
        if wanted != [CPU]:
            log.warning("could not start %s on %s (%s); falling back to CPU", path.name, CUDA, exc)
            try:
                session = ort.InferenceSession(str(path), sess_options=opts, providers=[CPU])
            except Exception as exc2:
                raise ModelError(f"onnxruntime cannot load {path.name}: {exc2}; reinstall redact") from exc2
        else:
            raise ModelError(f"onnxruntime cannot load {path.name}: {exc}; reinstall redact") from exc
    log.debug("loaded %s on %s", path.name, session.get_providers()[0])
    return session


class OnnxRunner:
    """Lazily opened session(s) for one hash-checked model file.

    On the CPU one session serves every input shape. On a GPU, onnxruntime's CUDA provider
    rebuilds its cuDNN convolution plans whenever a session's input shape differs from the
    previous call's, which cost ~0.4 s per call on an H100 when passes of different sizes
    took turns (measured: 3.1 s per 1080p frame against 0.41 s on 16 CPU cores); there each
    input shape gets a session of its own, the last :data:`GPU_SHAPES` kept.

    Not thread-safe by itself: a detector instance is used by one thread at a time.
    """

    def __init__(self, model: ModelFile, *, threads: int | None = None) -> None:
        self.model = model
        self.threads = threads
        self._path = model.verified_path()  # a bad hash fails at build time, not mid-run
        self._sessions: OrderedDict[tuple[int, ...], Any] = OrderedDict()  # input shape -> session
        self._per_shape: bool | None = None  # known once the first session is open
        self._input = ""

    @property
    def _session(self) -> Any:
        """The most recently used session (``None`` before the first call)."""
        return next(reversed(self._sessions.values())) if self._sessions else None

    def _session_for(self, shape: tuple[int, ...]) -> Any:
        if self._per_shape is False:
            return self._session
        if shape in self._sessions:
            self._sessions.move_to_end(shape)
            return self._sessions[shape]
        session = create_session(self._path, threads=self.threads)
        self._input = session.get_inputs()[0].name
        if self._per_shape is None:
            self._per_shape = session.get_providers()[0] != CPU
        self._sessions[shape] = session
        while len(self._sessions) > GPU_SHAPES:
            self._sessions.popitem(last=False)
        return session

    @property
    def provider(self) -> str:
        """The execution provider the model runs on (opens a session if none is open)."""
        session = self._session if self._sessions else self._session_for(())
        return str(session.get_providers()[0])

    def run(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """Run the model on one NCHW float32 blob and return every output."""
        session = self._session_for(tuple(blob.shape))
        try:
            return session.run(None, {self._input: blob})
        except Exception as exc:  # onnxruntime's own error types are not importable portably
            raise ModelError(f"{self.model.name} failed on an input of shape {blob.shape}: {exc}") from exc
