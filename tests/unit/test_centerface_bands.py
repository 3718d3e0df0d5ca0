"""CenterFace's head run band by band: the same numbers as on the whole picture, less memory."""

from __future__ import annotations

import numpy as np
import pytest

import redact.detect.centerface as cf
from redact.detect import MODELS
from redact.detect.blobs import pad_to_multiple, to_blob
from redact.detect.session import CPU
from tests.helpers import SAMPLES


@pytest.mark.parametrize(("height", "width"), [(1088, 1024), (2176, 1024), (1088, 1920), (608, 1024), (4000, 4000)])
def test_bands_cover_the_picture_in_equal_inputs(height: int, width: int) -> None:
    rows = cf.bands(height, width)
    assert len(rows) > 1
    assert rows[0][0] == 0 and rows[-1][1] == height
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:], strict=False))  # contiguous, no overlap
    assert all(start % 8 == 0 for start, _ in rows)  # the head's output stride
    inputs = [min(height, end + cf.HALO) - max(0, start - cf.HALO) for start, end in rows]
    assert len(set(inputs[:-1])) == 1 and 0 <= inputs[-1] - inputs[0] < 8 * len(rows)  # the last takes the rest
    # At most about BAND_PIXELS of its own (the last band takes up to 8 rows per band more),
    # unless that would be fewer than ~128 rows (the halo would outweigh the band).
    own = max(-(-cf.BAND_PIXELS // width), 128) + 8 * len(rows)
    assert all(end - start <= own for start, end in rows)
    assert min(inputs) >= 120


@pytest.mark.parametrize(("height", "width"), [(384, 640), (256, 1024), (32, 32), (96, 4000)])
def test_small_pictures_run_whole(height: int, width: int) -> None:
    assert cf.bands(height, width) == [(0, height)]


@pytest.fixture(scope="module")
def detector() -> cf.CenterFace:
    return cf.CenterFace(MODELS["centerface"])


def _blob(height: int, width: int) -> np.ndarray:
    # A picture with structure at every scale (gradients, edges, noise), padded as infer pads it.
    rng = np.random.default_rng(height * 7 + width)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack(
        [(xx * 255 // max(1, width - 1)), (yy * 255 // max(1, height - 1)), ((xx // 16 + yy // 16) % 2) * 255], -1
    )
    img = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    return to_blob(pad_to_multiple(img, 32), rgb=True)


@pytest.mark.slow
@pytest.mark.parametrize(("height", "width"), [(1080, 1024), (600, 1000), (1080, 1920)])
def test_banded_outputs_are_the_whole_pictures_bit_for_bit(
    detector: cf.CenterFace, monkeypatch: pytest.MonkeyPatch, height: int, width: int
) -> None:
    blob = _blob(height, width)
    assert len(cf.bands(*blob.shape[2:])) > 1
    banded = detector.network(blob)
    monkeypatch.setattr(cf, "BAND_PIXELS", 10**12)
    whole = detector.network(blob)
    assert [o.shape for o in banded] == [o.shape for o in whole]
    for a, b in zip(banded, whole, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_a_halo_too_narrow_would_change_them(detector: cf.CenterFace, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above can see a seam: with half the halo the bands' padding reaches the output.
    blob = _blob(1080, 1024)
    banded_ok = detector.network(blob)
    monkeypatch.setattr(cf, "HALO", 8)
    banded_short = detector.network(blob)
    assert not all(np.array_equal(a, b) for a, b in zip(banded_ok, banded_short, strict=True))


@pytest.mark.slow
def test_infer_finds_the_same_face_banded(detector: cf.CenterFace, monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    path = SAMPLES / "astronaut.jpg"
    img = cv2.resize(cv2.imread(str(path)), (1024, 1080))
    xyxy, score = detector.infer(img)
    monkeypatch.setattr(cf, "BAND_PIXELS", 10**12)
    whole_xyxy, whole_score = detector.infer(img)
    assert len(score) >= 1 and score.max() > 0.5  # the astronaut's face
    assert np.array_equal(xyxy, whole_xyxy) and np.array_equal(score, whole_score)


class _Runner:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.shapes: list[tuple[int, ...]] = []

    def run(self, *blobs: np.ndarray) -> list[np.ndarray]:
        self.shapes.append(blobs[0].shape)
        n, _, h, w = blobs[0].shape
        return [np.zeros((n, 24, h // 4, w // 4), np.float32), np.zeros((n, 32, h // 8, w // 8), np.float32)]

    def take_providers(self) -> set[str]:
        return {self.provider}

    def session_for(self, shapes: object) -> object:
        # Not an onnxruntime session: redact.detect.binding.chain runs head then tail plainly.
        return type("Plain", (), {"get_providers": lambda _self: [CPU]})()


@pytest.mark.parametrize(("provider", "runs"), [(CPU, len(cf.bands(1088, 1024))), ("CUDAExecutionProvider", 1)])
def test_bands_only_on_the_cpu(monkeypatch: pytest.MonkeyPatch, provider: str, runs: int) -> None:
    # On a GPU the picture's memory is the device's: the head runs once, on the whole picture.
    det = cf.CenterFace(MODELS["centerface"])
    head, tail = _Runner(provider), _Runner(provider)
    monkeypatch.setattr(det, "_runner", head)
    monkeypatch.setattr(det, "_tail", tail)
    det.network(np.zeros((1, 3, 1088, 1024), np.float32))
    assert len(head.shapes) == runs and (provider != CPU or runs > 1)
    assert len(tail.shapes) == 1 and tail.shapes[0] == (1, 24, 272, 256)  # the joined stride-4 features
    assert det.take_providers() == {provider}
