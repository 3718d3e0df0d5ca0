"""Choice of onnxruntime execution providers (TensorRT, CUDA, CPU) and the fallback between them."""

from __future__ import annotations

import logging
from typing import Any

import onnxruntime
import pytest

from redact.detect import MODELS
from redact.detect import session as session_mod

ALL = [session_mod.TENSORRT, session_mod.CUDA, session_mod.CPU]


def _names(wanted: list[Any]) -> list[str]:
    return [w if isinstance(w, str) else w[0] for w in wanted]


def test_tensorrt_first_only_when_installed(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ALL)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(session_mod, "tensorrt_present", lambda: True)
    wanted = session_mod.providers()
    assert _names(wanted) == ALL
    trt = dict(wanted[0][1])  # type: ignore[arg-type]
    assert trt["trt_fp16_enable"] == "False"  # float32 unless reduced precision is shown to keep the boxes
    assert trt["trt_engine_cache_path"] == str(tmp_path / "redact" / "tensorrt")
    # onnxruntime-gpu lists TensorRT whether or not TensorRT is installed.
    monkeypatch.setattr(session_mod, "tensorrt_present", lambda: False)
    assert _names(session_mod.providers()) == [session_mod.CUDA, session_mod.CPU]
    # Without CUDA, TensorRT is not asked for either.
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [session_mod.TENSORRT, session_mod.CPU])
    monkeypatch.setattr(session_mod, "tensorrt_present", lambda: True)
    assert session_mod.providers() == [session_mod.CPU]


def test_tensorrt_present_is_a_bool_without_tensorrt() -> None:
    assert isinstance(session_mod.tensorrt_present(), bool)


@pytest.mark.slow
def test_session_falls_back_provider_by_provider(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = onnxruntime.InferenceSession
    asked: list[list[str]] = []

    def fake(path: str, sess_options: Any = None, providers: Any = None) -> Any:
        names = _names(list(providers))
        asked.append(names)
        if names[0] != session_mod.CPU:
            raise RuntimeError(f"{names[0]} is not usable here")
        return real(path, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(onnxruntime, "InferenceSession", fake)
    monkeypatch.setattr(session_mod, "providers", lambda: [(session_mod.TENSORRT, {}), (session_mod.CUDA, {}),
                                                           session_mod.CPU])
    with caplog.at_level(logging.WARNING, logger="redact"):
        sess = session_mod.create_session(MODELS["centerface"].verified_path(), threads=1)
    assert sess.get_providers()[0] == session_mod.CPU
    assert asked == [ALL, ALL[1:], ALL[2:]]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2 and "falling back to CUDAExecutionProvider" in warned[0]
