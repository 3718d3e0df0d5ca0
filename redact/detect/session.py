"""onnxruntime session factory shared by every detector."""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import ModelFile
from redact.errors import ModelError
from redact.video.memory import trim_heaps

log = logging.getLogger("redact")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
GPU_PROVIDERS = (TENSORRT, CUDA)  # providers whose sessions run on a GPU
# Pictures change shape from call to call (tiles, video focus windows): cuDNN's exhaustive
# algorithm search would run again on every new shape. Convolutions in float32, not TF32, so
# that scores match the CPU's, where the thresholds were chosen (docs/performance.md, GPU).
# Each CUDA arena grows by what is asked, not to the next power of two, to keep less idle.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC", "use_tf32": "0", "arena_extend_strategy": "kSameAsRequested"}
# Sessions kept per model on a GPU, one per input shape (see OnnxRunner). One picture asks a
# model for at most 1 shape (fast), 3 (balanced) or 5 (thorough), so a video frame's shapes
# all stay open; each session holds its own arena, so more would only hold GPU memory.
GPU_SHAPES = 6
# TensorRT in float32 (its default; FP16 is not taken until it is shown to keep the same boxes
# at the chosen thresholds). Building an engine for a new input shape takes seconds, so built
# engines are kept on disk (TENSORRT_CACHE) for the next run.
TENSORRT_OPTIONS = {"trt_fp16_enable": "False", "trt_engine_cache_enable": "True", "trt_timing_cache_enable": "True"}
TENSORRT_LIBRARY = "libnvinfer.so"  # TensorRT's runtime, with or without its major version


def tensorrt_cache() -> Path:
    """Where TensorRT engines are kept: ``$XDG_CACHE_HOME/redact/tensorrt`` (``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "redact" / "tensorrt"


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
        raise ModelError("onnxruntime is not installed; install redact with its dependencies (make install)") from exc
    return onnxruntime


def tensorrt_present() -> bool:
    """Whether TensorRT's runtime library can be loaded (installed beside onnxruntime-gpu,
    which lists the TensorRT provider whether or not TensorRT is installed)."""
    names = [f"{TENSORRT_LIBRARY}.{major}" for major in (10, 11)] + [TENSORRT_LIBRARY]
    spec = importlib.util.find_spec("tensorrt_libs")  # NVIDIA's pip wheels keep it there
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
        names = [str(f) for f in sorted(folder.glob(f"{TENSORRT_LIBRARY}*"))] + names
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def providers() -> list[str | tuple[str, dict[str, str]]]:
    """Execution providers to ask for, best first, with their options.

    CUDA comes first when the installed onnxruntime build has it (``onnxruntime-gpu``),
    after TensorRT when that build has it and TensorRT itself is installed;
    onnxruntime falls back to CPU by itself when no GPU is present at session creation.
    """
    available = _ort().get_available_providers()
    if CUDA not in available:
        return [CPU]
    wanted: list[str | tuple[str, dict[str, str]]] = [(CUDA, dict(CUDA_OPTIONS)), CPU]
    if TENSORRT in available and tensorrt_present():
        options = {**TENSORRT_OPTIONS, "trt_engine_cache_path": str(tensorrt_cache())}
        wanted.insert(0, (TENSORRT, options))
    return wanted


def _name(provider: str | tuple[str, dict[str, str]]) -> str:
    return provider if isinstance(provider, str) else provider[0]


_arena: bool | None = None  # whether the process-wide CPU arena is registered
_arena_lock = threading.Lock()
ARENA_SHRINK_SECONDS = 2.0  # how often the shared arena hands free memory back (see _run_options)
_last_shrink = 0.0
_shrink_options: Any = None
# The shared arena's growth: blocks start at 16 MiB and double (or take what a request
# needs), at most 256 MiB. Blocks exactly as large as each request fit nothing larger, so
# video windows widening from frame to frame would each add a block; doubling blocks leave
# free space that later requests share (docs/performance.md).
ARENA_CONFIG = {
    "arena_extend_strategy": 0,  # kNextPowerOfTwo
    "initial_growth_chunk_size_bytes": 16 << 20,
    "max_power_of_two_extend_bytes": 256 << 20,
}


def shared_arena() -> bool:
    """Register one CPU arena for every onnxruntime session of this process (once).

    Per-session arenas each keep their own peak for the whole run; one shared arena keeps
    only the largest run's, and is faster than no arena, where every run maps fresh memory
    and faults it in (docs/performance.md). How it grows: :data:`ARENA_CONFIG`.

    Returns:
        Whether the shared arena is in place (False where this onnxruntime build lacks the API).
    """
    global _arena
    with _arena_lock:
        if _arena is not None:
            return _arena
        ort = _ort()
        try:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            try:
                cfg = ort.OrtArenaCfg(dict(ARENA_CONFIG))
            except Exception as exc:  # a build that lacks one of the keys: grow by what is asked
                log.debug("onnxruntime arena options %s not taken (%s)", ARENA_CONFIG, exc)
                cfg = ort.OrtArenaCfg({"arena_extend_strategy": 1})
            ort.create_and_register_allocator(info, cfg)
            _arena = True
        except Exception as exc:  # an older or trimmed build; sessions then run without an arena
            log.debug("no shared onnxruntime arena: %s", exc)
            _arena = False
        return _arena


def _run_options() -> Any:
    """Run options for the next run: every :data:`ARENA_SHRINK_SECONDS` (process-wide) one
    run hands the shared arena's free memory back at its end, else ``None``. malloc's heaps
    hand theirs back at the same moment (:func:`redact.video.memory.trim_heaps`).

    The arena keeps what runs asked for; pictures of ever new shapes (video windows) ask for
    sizes its free blocks do not fit, so without shrinking it grows with the video's length.
    Shrinking now and then bounds it by what a few seconds of runs ask for, at the price of
    mapping that memory afresh.
    """
    global _last_shrink, _shrink_options
    if not _arena:
        return None
    now = time.monotonic()
    with _arena_lock:
        if now - _last_shrink < ARENA_SHRINK_SECONDS:
            return None
        _last_shrink = now
        trim_heaps()  # and malloc's free pages with it (redact/video/memory.py)
        if _shrink_options is None:
            _shrink_options = _ort().RunOptions()
            _shrink_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return _shrink_options


def create_session(path: Path, *, threads: int | None = None, cpu_only: bool = False) -> Any:
    """Open an ONNX model for inference.

    Args:
        path: the ``.onnx`` file (already hash-checked by the caller).
        threads: intra-op threads; ``None`` lets onnxruntime use one per physical core.
        cpu_only: open it on the CPU even where a GPU provider is available.

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
    # Every session allocates from one process-wide arena (see shared_arena): what it keeps
    # is the largest single run's working memory, not every session's peak added up, and no
    # run pays page faults for fresh memory. Without the shared arena a session has none.
    shared = shared_arena()
    opts.enable_cpu_mem_arena = shared
    if shared:
        opts.add_session_config_entry("session.use_env_allocators", "1")
    # The memory pattern plans each input shape's tensors as one block: with the shared arena
    # that block would be carved out afresh for every new shape (slower); without an arena it
    # keeps allocations to one per run.
    opts.enable_mem_pattern = not shared
    if threads is not None:
        if threads < 1:
            raise ModelError(f"threads must be >= 1, got {threads}")
        opts.intra_op_num_threads = int(threads)
    wanted: list[Any] = [CPU] if cpu_only else providers()
    # Each try drops the first provider of the last: TensorRT, then CUDA, then the CPU alone.
    tries = [wanted[i:] for i in range(len(wanted))]
    for i, providers_now in enumerate(tries):
        try:
            session = ort.InferenceSession(str(path), sess_options=opts, providers=providers_now)
            break
        except Exception as exc:  # onnxruntime raises its own untyped errors (Fail, InvalidGraph, ...)
            if i == len(tries) - 1:
                raise ModelError(f"onnxruntime cannot load {path.name}: {exc}; reinstall redact") from exc
            nxt = _name(tries[i + 1][0])
            log.warning("could not start %s on %s (%s); falling back to %s", path.name, _name(providers_now[0]),
                        exc, nxt)
    log.debug("loaded %s on %s", path.name, session.get_providers()[0])
    return session


# CPU sessions by (model file, intra-op threads), shared by every runner of this process: the
# video glance runs the same networks as the keyframes' detectors, and a second session would
# hold another copy of the optimised weights. A session's run may be called from several
# threads at once.
_cpu_sessions: dict[tuple[str, int | None], Any] = {}
_cpu_lock = threading.Lock()


class OnnxRunner:
    """Lazily opened session(s) for one hash-checked model file.

    On the CPU one session serves every input shape, and every runner of the same model
    file and threads in this process shares it. On a GPU, onnxruntime's CUDA provider
    rebuilds its cuDNN convolution plans whenever a session's input shape differs from the
    previous call's, which made passes of different sizes slower than the CPU; there each
    input shape gets a session of its own, the last :data:`GPU_SHAPES` kept.

    Not thread-safe by itself: a detector instance is used by one thread at a time.
    """

    def __init__(self, model: ModelFile, *, threads: int | None = None, cpu_only: bool = False) -> None:
        self.model = model
        self.threads = threads
        self._path = model.verified_path()  # a bad hash fails at build time, not mid-run
        self._sessions: OrderedDict[tuple[tuple[int, ...], ...], Any] = OrderedDict()  # input shapes -> session
        self._per_shape: bool | None = None  # known once the first session is open
        self._cpu_only = cpu_only  # asked for, or set once a GPU run failed
        self.ran_on: set[str] = set()  # providers of the runs since take_providers
        self._inputs: list[str] = []

    @property
    def _session(self) -> Any:
        """The most recently used session (``None`` before the first call)."""
        return next(reversed(self._sessions.values())) if self._sessions else None

    def _session_for(self, shape: tuple[tuple[int, ...], ...]) -> Any:
        if self._per_shape is False:
            return self._session
        if shape in self._sessions:
            self._sessions.move_to_end(shape)
            return self._sessions[shape]
        key = (str(self._path), self.threads)
        with _cpu_lock:
            session = _cpu_sessions.get(key) if self._per_shape is None else None
            if session is None:
                session = create_session(self._path, threads=self.threads, cpu_only=self._cpu_only)
                if session.get_providers()[0] == CPU:
                    _cpu_sessions[key] = session
        self._inputs = [i.name for i in session.get_inputs()]
        if self._per_shape is None:
            self._per_shape = session.get_providers()[0] != CPU
        self._sessions[shape] = session
        while len(self._sessions) > GPU_SHAPES:
            self._sessions.popitem(last=False)
        return session

    def session_for(self, shapes: tuple[tuple[int, ...], ...]) -> Any:
        """The session that runs inputs of these shapes (opened when needed); for callers
        that run it themselves (:mod:`redact.detect.binding`)."""
        return self._session_for(shapes)

    @property
    def dynamic_batch(self) -> bool:
        """Whether the model file takes any batch size on its first input (opens a session
        if none is open); a file exported for batches of 1 says so with a fixed 1."""
        session = self._session if self._sessions else self._session_for(())
        return not isinstance(session.get_inputs()[0].shape[0], int)

    @property
    def provider(self) -> str:
        """The execution provider the model runs on (opens a session if none is open)."""
        session = self._session if self._sessions else self._session_for(())
        return str(session.get_providers()[0])

    def metadata(self) -> dict[str, str]:
        """The model file's custom metadata (opens a session if none is open)."""
        session = self._session if self._sessions else self._session_for(())
        return dict(session.get_modelmeta().custom_metadata_map)

    def take_providers(self) -> set[str]:
        """The execution providers of the runs since the last call (then forgotten)."""
        used, self.ran_on = self.ran_on, set()
        return used

    def run(self, *blobs: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """Run the model on its NCHW float32 input(s), in the file's input order; return every output."""
        session = self._session_for(tuple(tuple(b.shape) for b in blobs))
        try:
            outputs = session.run(None, dict(zip(self._inputs, blobs, strict=True)), _run_options())
            self.ran_on.add(str(session.get_providers()[0]))
            return outputs
        except Exception as exc:  # onnxruntime's own error types are not importable portably
            if session.get_providers()[0] == CPU:
                shapes = ", ".join(str(b.shape) for b in blobs)
                raise ModelError(
                    f"{self.model.name} ({self.model.file}) failed on input of shape {shapes}: {exc}"
                ) from exc
            # A failed GPU run (most often out of memory: every image worker process has its
            # own CUDA context and sessions) runs again on the CPU, which finds the same boxes
            # (bench/providers.py); this model stays there for the rest of the process.
            log.warning(
                "%s failed on the GPU (%s); running it on the CPU from now on (with less GPU memory, "
                "use fewer --workers)",
                self.model.name,
                exc,
            )
            self._sessions.clear()
            self._per_shape = None
            self._cpu_only = True
            return self.run(*blobs)
