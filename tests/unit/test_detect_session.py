"""onnxruntime session factory."""

from __future__ import annotations

import pytest

from redact.detect import MODELS
from redact.detect import session as session_mod
from redact.errors import ModelError


def test_cpu_session_with_threads() -> None:
    sess = session_mod.create_session(MODELS["centerface"].verified_path(), threads=1)
    assert sess.get_providers()[-1] == "CPUExecutionProvider"


def test_cuda_asked_for_only_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: both)
    assert session_mod.providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
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
