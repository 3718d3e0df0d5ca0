"""redact: find faces, licence plates and vehicle occupants in photos and video and redact them
irreversibly.

Public API::

    from redact import redact_path, RedactConfig
    result = redact_path(["photos/"], "out/", RedactConfig(style="fill"))
"""

from __future__ import annotations

__version__ = "0.1.0"

from redact.config import RedactConfig  # noqa: E402
from redact.types import Detections, Frame, Label, MediaInfo, Regions  # noqa: E402


def __getattr__(name: str) -> object:
    # The pipeline pulls in onnxruntime and PyAV; import it only when asked for.
    if name in ("redact_path", "RunResult"):
        from redact import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'redact' has no attribute {name!r}")


__all__ = [
    "Detections",
    "Frame",
    "Label",
    "MediaInfo",
    "RedactConfig",
    "Regions",
    "RunResult",
    "__version__",
    "redact_path",
]
