"""The Detector protocol and shared helpers for ONNX models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from redact.detect.tiles import Tile
from redact.errors import ModelError
from redact.hashing import sha256_file
from redact.types import Detections


@runtime_checkable
class Detector(Protocol):
    """Finds objects of one label in a picture.

    ``detect`` takes a BGR uint8 image (H, W, 3) and returns every candidate at or
    above ``threshold`` (or ``floor``, when lower) in source-image pixels (xyxy), looking
    only inside ``rois`` (source-pixel windows) when given.
    """

    name: str
    label: str
    threshold: float

    def detect(
        self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None, floor: float | None = None
    ) -> Detections: ...


class WrappedSet:
    """A detector set that looks at each picture otherwise (turned, field by field, with
    square pixels) through an inner set: subclasses give ``detect`` and ``look``; anything
    else is the inner set's, and :meth:`only` wraps the inner set's part the same way.

    Args:
        inner: the detector set.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def wrap(self, inner: Any) -> Any:
        """Another set wrapped as this one is (subclasses with settings of their own pass them on)."""
        return type(self)(inner)

    def only(self, names: Sequence[str], **kwargs: Any) -> Any:
        part = self.inner.only(names, **kwargs)
        return None if part is None else self.wrap(part)


@dataclass(frozen=True)
class ModelFile:
    """A weight file shipped in ``redact/models`` and its expected SHA-256.

    ``tail``: the rest of the network in a second file, where a network ships cut in two
    (CenterFace: its first layers run band by band on large pictures, see
    :mod:`redact.detect.centerface`); ``None`` for a whole network.
    """

    name: str
    label: str
    file: str
    sha256: str
    licence: str
    origin: str
    tail: ModelFile | None = None

    def files(self) -> tuple[ModelFile, ...]:
        """This file and its tail's files, in the order the network runs them."""
        return (self,) if self.tail is None else (self, *self.tail.files())

    def path(self) -> Path:
        return Path(str(resources.files("redact.models").joinpath(self.file)))

    def verified_path(self) -> Path:
        """The file's path after checking its SHA-256 (cached per process).

        Raises:
            ModelError: the file is missing or its hash differs from the NOTICE.
        """
        return _verify(self.path(), self.sha256, self.name)


@cache
def _verify(path: Path, expected: str, name: str) -> Path:
    if not path.is_file():
        raise ModelError(
            f"model file for {name!r} is missing at {path}; reinstall redact (make install) "
            "so the package's models/ folder is complete"
        )
    digest = sha256_file(path)
    if digest != expected:
        raise ModelError(
            f"model file {path.name} for {name!r} has SHA-256 {digest}, expected {expected}; "
            "the file is corrupt or was replaced: reinstall redact"
        )
    return path
