"""Pictures as network inputs: resized, sharpened, padded to a stride and laid out as NCHW
float32 blobs. Used by the face, plate and text networks and by the resize/tile passes
(:mod:`redact.detect.tiling`)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray


def resized_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The (width, height) :func:`resize` gives a picture of this size."""
    if factor == 1.0:
        return width, height
    return max(1, round(width * factor)), max(1, round(height * factor))


def resize(image: NDArray[np.uint8], factor: float, *, sharp: bool = False) -> NDArray[np.uint8]:
    """Resize a BGR uint8 picture by ``factor`` (area filter down; linear up, or bicubic
    when ``sharp``)."""
    if factor == 1.0:
        return image
    h, w = image.shape[:2]
    size = resized_size(w, h, factor)
    up = cv2.INTER_CUBIC if sharp else cv2.INTER_LINEAR
    interp = cv2.INTER_AREA if factor < 1.0 else up
    return cv2.resize(image, size, interpolation=interp)


UNSHARP_SIGMA = 2.0  # px of the pass's (resized) picture


def unsharp(image: NDArray[np.uint8], amount: float) -> NDArray[np.uint8]:
    """``image`` sharpened by an unsharp mask: ``(1 + amount) * image - amount * blur``,
    the blur Gaussian of :data:`UNSHARP_SIGMA` px, saturated to 0..255."""
    soft = cv2.GaussianBlur(image, (0, 0), UNSHARP_SIGMA)
    return cv2.addWeighted(image, 1.0 + amount, soft, -amount, 0.0)


# The luma between these percentiles of a picture is stretched over 0..255; a picture whose
# range there is under MIN_RANGE grey levels is flat and left as it is.
STRETCH_PERCENTILES = (1.0, 99.0)
MIN_RANGE = 8.0
# Before the stretch, the picture's lightness is equalised over a 4x4 grid of tiles (CLAHE,
# clip limit 2): a dim plate on a dark night crop or frame stands out from its own
# surroundings, not only from the picture's darkest and brightest pixels.
CLAHE_CLIP = 2.0
CLAHE_GRID = (4, 4)


def stretched(picture: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``picture`` (BGR uint8) with its luma's :data:`STRETCH_PERCENTILES` mapped to 0 and
    255, every channel by the same curve; a flat picture as it is (a copy either way)."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    lo, hi = grey_percentiles(grey, STRETCH_PERCENTILES)
    if hi - lo < MIN_RANGE:
        return picture.copy()
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return cv2.LUT(np.ascontiguousarray(picture), lut.astype(np.uint8))


def grey_percentiles(grey: NDArray[np.uint8], qs: Sequence[float]) -> list[float]:
    """``np.percentile(grey, qs)`` (linear interpolation) of a uint8 picture, from its
    histogram: a 4K frame's in a few milliseconds rather than tens."""
    below = np.cumsum(np.bincount(grey.ravel(), minlength=256))  # pixels at or below each level
    n = int(below[-1])
    out = []
    for q in qs:
        pos = q / 100.0 * (n - 1)
        k = int(np.floor(pos))
        v0, v1 = np.searchsorted(below, [k, min(k + 1, n - 1)], side="right")
        out.append(float(v0) + (pos - k) * float(v1 - v0))
    return out


def lifted(picture: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``picture`` (BGR uint8) with its lightness equalised locally (CLAHE on the L of Lab,
    :data:`CLAHE_CLIP` over :data:`CLAHE_GRID` tiles), then :func:`stretched`: a
    dashboard's panel as its shrunk look sees it, a night frame as the lifted plate pass
    does."""
    lab = cv2.cvtColor(np.ascontiguousarray(picture), cv2.COLOR_BGR2LAB)
    lab[..., 0] = cv2.createCLAHE(CLAHE_CLIP, CLAHE_GRID).apply(np.ascontiguousarray(lab[..., 0]))
    return stretched(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR))


def is_grey(image: NDArray[np.uint8]) -> bool:
    """Whether a BGR picture has the same value in every channel (greyscale footage)."""
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


def pad_to_multiple(image: NDArray[np.uint8], multiple: int, value: int = 0) -> NDArray[np.uint8]:
    """Pad a picture on the right and bottom so both sides are multiples of ``multiple``.

    Boxes found in the padded picture are in the same pixels as the original (the origin
    does not move); clip them to the original size afterwards.
    """
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return image
    return cv2.copyMakeBorder(image, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(value, value, value))


def to_blob(
    image: NDArray[np.uint8], *, rgb: bool, scale: float = 1.0, mean: Sequence[float] = (0.0, 0.0, 0.0)
) -> NDArray[np.float32]:
    """A BGR uint8 picture (h, w, 3) as a network input: NCHW float32 ``(1, 3, h, w)``, each
    channel ``(pixel - mean[c]) * scale`` in float32, in RGB order when ``rgb`` (``mean`` is
    in the output's channel order).

    OpenCV splits the picture into planes and each plane is converted in one contiguous pass:
    numpy's transpose-and-cast reads across the channels with a stride and is about 3x slower
    (the same values, bit for bit).
    """
    h, w = image.shape[:2]
    planes = cv2.split(image)
    blob = np.empty((1, 3, h, w), np.float32)
    for c, plane in enumerate(reversed(planes) if rgb else planes):
        out = blob[0, c]
        if mean[c]:
            np.subtract(plane, np.float32(mean[c]), out=out, dtype=np.float32)
        else:
            out[...] = plane
        if scale != 1.0:
            out *= np.float32(scale)
    return blob
