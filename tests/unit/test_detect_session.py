"""onnxruntime session factory."""

from __future__ import annotations

import pytest

from redact.detect import MODELS, PRESETS
from redact.detect import session as session_mod
from redact.detect.panel_zoom import PANEL
from redact.detect.tiling import run_passes
from redact.errors import ModelError


@pytest.mark.slow
def test_cpu_session_with_threads() -> None:
    sess = session_mod.create_session(MODELS["centerface"].verified_path(), threads=1)
    assert sess.get_providers()[-1] == "CPUExecutionProvider"


def test_cuda_asked_for_only_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: both)
    cuda, cpu = session_mod.providers()
    # Plain float32 convolutions (no TF32): the scores are the CPU's, where thresholds were chosen.
    assert cuda == (
        "CUDAExecutionProvider",
        {"cudnn_conv_algo_search": "HEURISTIC", "use_tf32": "0", "arena_extend_strategy": "kSameAsRequested"},
    )
    assert cpu == "CPUExecutionProvider"
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert session_mod.providers() == ["CPUExecutionProvider"]


def test_bad_threads() -> None:
    with pytest.raises(ModelError, match="threads"):
        session_mod.create_session(MODELS["centerface"].verified_path(), threads=0)


def test_unloadable_file_is_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ModelError, match="cannot load"):
        session_mod.create_session(bad)


class _FakeSession:
    made = 0

    def __init__(self, provider: str) -> None:
        _FakeSession.made += 1
        self.provider = provider
        self.shapes: list[tuple[int, ...]] = []

    def get_inputs(self):  # type: ignore[no-untyped-def]
        class Input:
            name = "x"

        return [Input()]

    def get_providers(self) -> list[str]:
        return [self.provider, "CPUExecutionProvider"]

    def run(self, _names, feeds, _options=None):  # type: ignore[no-untyped-def]
        self.shapes.append(feeds["x"].shape)
        return [feeds["x"]]


@pytest.mark.parametrize(("provider", "sessions"), [("CPUExecutionProvider", 1), ("CUDAExecutionProvider", 3)])
def test_gpu_sessions_are_kept_per_input_shape(monkeypatch: pytest.MonkeyPatch, provider: str, sessions: int) -> None:
    """On a GPU each input shape gets its own session (cuDNN plans are rebuilt whenever a
    session's shape changes); on the CPU one session serves every shape."""
    import numpy as np

    _FakeSession.made = 0
    monkeypatch.setattr(session_mod, "_cpu_sessions", {})
    monkeypatch.setattr(
        session_mod, "create_session", lambda path, threads=None, cpu_only=False: _FakeSession(provider)
    )
    runner = session_mod.OnnxRunner(MODELS["centerface"])
    shapes = [(1, 3, 64, 64), (1, 3, 32, 64), (1, 3, 64, 64), (1, 3, 96, 32), (1, 3, 32, 64)]
    for shape in shapes:
        assert runner.run(np.zeros(shape, np.float32))[0].shape == shape
    assert _FakeSession.made == sessions
    monkeypatch.setattr(session_mod, "GPU_SHAPES", 2)
    runner.run(np.zeros((1, 3, 128, 128), np.float32))  # a fourth shape: the least recently used goes
    assert len(runner._sessions) == (1 if provider.startswith("CPU") else 2)  # noqa: SLF001


@pytest.mark.parametrize(("provider", "shared"), [("CPUExecutionProvider", True), ("CUDAExecutionProvider", False)])
def test_runners_of_one_model_share_a_cpu_session(monkeypatch: pytest.MonkeyPatch, provider: str, shared: bool) -> None:
    """The glance and the keyframe detectors run the same networks: on the CPU they use one
    session per model file and thread count (a second one only holds more weights)."""
    import numpy as np

    _FakeSession.made = 0
    monkeypatch.setattr(session_mod, "_cpu_sessions", {})
    monkeypatch.setattr(
        session_mod, "create_session", lambda path, threads=None, cpu_only=False: _FakeSession(provider)
    )
    x = np.zeros((1, 3, 32, 32), np.float32)
    first, again = session_mod.OnnxRunner(MODELS["centerface"]), session_mod.OnnxRunner(MODELS["centerface"])
    other_threads = session_mod.OnnxRunner(MODELS["centerface"], threads=1)
    other_model = session_mod.OnnxRunner(MODELS["yolo_plate"])
    for runner in (first, again, other_threads, other_model):
        runner.run(x)
    assert (first._session is again._session) is shared  # noqa: SLF001
    assert first._session is not other_threads._session  # noqa: SLF001
    assert first._session is not other_model._session  # noqa: SLF001
    assert _FakeSession.made == (3 if shared else 4)


@pytest.mark.slow
def test_sessions_share_one_arena_and_agree_with_a_session_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    # The shared arena is the CPU provider's; with onnxruntime-gpu on a GPU machine the
    # session would otherwise open on CUDA (TF32 convolutions differ from the CPU's by ~1e-3).
    monkeypatch.setattr(session_mod, "providers", lambda: [session_mod.CPU])
    assert session_mod.shared_arena() and session_mod.shared_arena()  # registered once, idempotent
    path = MODELS["centerface"].verified_path()
    shared = session_mod.create_session(path, threads=1)
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 64, 96)).astype(np.float32)
    name = shared.get_inputs()[0].name
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    own = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    for a, b in zip(shared.run(None, {name: x}), own.run(None, {name: x}), strict=True):
        assert np.allclose(a, b, atol=1e-4)


def test_the_arena_is_shrunk_at_most_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    assert session_mod.shared_arena()
    clock = [1000.0]
    monkeypatch.setattr(session_mod.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(session_mod, "_last_shrink", 0.0)
    trims: list[int] = []
    monkeypatch.setattr(session_mod, "trim_heaps", lambda: trims.append(1) or True)
    first = session_mod._run_options()
    assert first is not None
    assert len(trims) == 1  # malloc's heaps hand their free pages back with the arena
    assert first.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"
    clock[0] += session_mod.ARENA_SHRINK_SECONDS / 2
    assert session_mod._run_options() is None
    clock[0] += session_mod.ARENA_SHRINK_SECONDS
    assert session_mod._run_options() is first
    assert len(trims) == 2
    monkeypatch.setattr(session_mod, "_arena", False)
    clock[0] += 10 * session_mod.ARENA_SHRINK_SECONDS
    assert session_mod._run_options() is None  # no arena, nothing to shrink


@pytest.mark.parametrize("quality", sorted(PRESETS))
def test_one_picture_needs_no_more_gpu_sessions_than_are_kept(quality: str) -> None:
    # On a GPU every input shape has a session of its own and the last GPU_SHAPES are kept:
    # the shapes one picture asks a model for must all fit, or a video would open sessions
    # again on every frame.
    import numpy as np

    sizes = [
        (480, 640),
        (600, 800),
        (720, 1280),
        (1080, 1920),
        (1536, 2048),
        (2160, 3840),
        (3024, 4032),
        (4000, 3000),
        (5000, 7000),
        (300, 4000),
        (4000, 300),
        (97, 131),
    ]
    for name, passes in PRESETS[quality].items():
        if not passes:
            continue  # a network of one fixed input size (the COCO network): one shape
        for h, w in sizes:
            shapes: set[tuple[int, int]] = set()

            def infer(tile: np.ndarray, seen: set[tuple[int, int]] = shapes) -> tuple[np.ndarray, np.ndarray]:
                th, tw = tile.shape[:2]
                seen.add((th + (-th) % 32, tw + (-tw) % 32))  # as each model pads its input
                return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)

            run_passes(infer, np.zeros((h, w, 3), np.uint8), passes)
            # The panel zoom's passes look at panels, only shrinking: a panel no larger than
            # its smallest look is not looked at.
            least = 0 if name == PANEL and max(h, w) <= min(p.fit or 0 for p in passes) else 1
            assert least <= len(shapes) <= session_mod.GPU_SHAPES, (quality, name, (w, h), sorted(shapes))


class _FailingSession(_FakeSession):
    def run(self, _names, feeds, _options=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("CUDA failure 2: out of memory")


def test_a_failed_gpu_run_runs_again_on_the_cpu_and_stays_there(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import numpy as np

    opened: list[bool] = []

    def create(path, threads=None, cpu_only=False):  # type: ignore[no-untyped-def]
        opened.append(cpu_only)
        return _FakeSession("CPUExecutionProvider") if cpu_only else _FailingSession("CUDAExecutionProvider")

    monkeypatch.setattr(session_mod, "_cpu_sessions", {})
    monkeypatch.setattr(session_mod, "create_session", create)
    runner = session_mod.OnnxRunner(MODELS["centerface"])
    x = np.ones((1, 3, 32, 32), np.float32)
    assert np.array_equal(runner.run(x)[0], x)  # the CPU's answer, not an error
    assert runner.provider == "CPUExecutionProvider"
    assert runner.ran_on == {"CPUExecutionProvider"}  # what the manifest records for the file
    assert "failed on the GPU" in caplog.text and "fewer --workers" in caplog.text
    y = np.zeros((1, 3, 64, 32), np.float32)
    assert np.array_equal(runner.run(y)[0], y)  # a new shape: still the CPU session, no GPU one
    assert opened == [False, True]


def test_a_failed_cpu_run_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    monkeypatch.setattr(session_mod, "_cpu_sessions", {})
    monkeypatch.setattr(
        session_mod,
        "create_session",
        lambda path, threads=None, cpu_only=False: _FailingSession("CPUExecutionProvider"),
    )
    with pytest.raises(
        ModelError, match=r"centerface \(centerface_head.onnx\) failed on input of shape .*out of memory"
    ):
        session_mod.OnnxRunner(MODELS["centerface"]).run(np.zeros((1, 3, 32, 32), np.float32))


@pytest.mark.parametrize(("device", "cpu_only"), [("auto", False), ("cpu", True)])
def test_device_cpu_keeps_every_model_off_the_gpu(monkeypatch: pytest.MonkeyPatch, device: str, cpu_only: bool) -> None:
    import numpy as np

    from redact.config import RedactConfig
    from redact.pipeline import make_detectors

    asked: list[bool] = []

    def create(path, threads=None, cpu_only=False):  # type: ignore[no-untyped-def]
        asked.append(cpu_only)
        return _FakeSession("CPUExecutionProvider" if cpu_only else "CUDAExecutionProvider")

    monkeypatch.setattr(session_mod, "_cpu_sessions", {})
    monkeypatch.setattr(session_mod, "create_session", create)
    config = RedactConfig(device=device)
    for glance in (False, True):
        detectors = make_detectors(config, 1, glance=glance)
        for d in detectors.detectors:  # type: ignore[attr-defined]
            if hasattr(d, "vehicles"):  # the vehicle zoom: three networks of its own
                runners = [d.plate._runner, d.text._runner, d.vehicles._runner]  # noqa: SLF001
            elif hasattr(d, "text"):  # the panel zoom: two
                runners = [d.plate._runner, d.text._runner]  # noqa: SLF001
            else:
                runners = [d._coco._runner if hasattr(d, "_coco") else d._runner]  # noqa: SLF001
            for runner in runners:
                runner.run(np.zeros((1, 3, 32, 32), np.float32))
        assert detectors.accelerated is not cpu_only  # type: ignore[attr-defined]
    assert asked and set(asked) == {cpu_only}
