"""Redaction styles: fill, blur, pixelate (irreversible) and outline (review only).

Every style takes a BGR uint8 image (H, W, 3) and :class:`Regions` and returns a new
image; the input is never modified. Redacting styles change every pixel inside
every region and no pixel outside.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.config import RedactConfig
from redact.errors import ConfigError
from redact.render.regions import region_mask
from redact.types import Regions

Image = NDArray[np.uint8]

BLUR_MIN_SIGMA = 4.0  # pixels; the floor that keeps small regions unreadable
PIXELATE_MAX_BLOCKS = 6  # at most this many blocks across a region's shorter side
PIXELATE_MIN_BLOCK = 4  # pixels
NOISE_STD = 12.0  # grey levels of noise added after blurring


class Style(Protocol):
    """Draws regions onto a copy of an image."""

    name: str
    redacts: bool

    def apply(self, image: Image, regions: Regions) -> Image: ...


def _ensure_changed(out: Image, original: Image, mask: NDArray[np.bool_]) -> None:
    """Nudge any masked pixel that came out identical to the original (in place)."""
    same = mask & np.all(out == original, axis=-1)
    if same.any():
        px = out[same].astype(np.int16)
        px[:, 0] = np.where(px[:, 0] >= 128, px[:, 0] - 64, px[:, 0] + 64)
        out[same] = px.astype(np.uint8)


def _seed(image: Image, box: NDArray[np.int32]) -> int:
    """A deterministic noise seed from the region's position (same input -> same output)."""
    return zlib.crc32(np.asarray(box, np.int64).tobytes()) ^ (image.shape[0] << 16) ^ image.shape[1]


def _redact_regions(
    image: Image, regions: Regions, patch: Callable[[Image, NDArray[np.int32]], Image]
) -> Image:
    """A copy of ``image`` with each region's masked pixels replaced by ``patch(src, box)``.

    ``patch`` gets the region's original pixels (h, w, 3) and its box and returns the
    replacement (h, w, 3). Pixels that come out unchanged are nudged, so every redacted
    pixel differs from the original (what ``redact verify`` checks).
    """
    out = image.copy()
    for box, shape in zip(regions.boxes, regions.shape, strict=True):
        x1, y1, x2, y2 = (int(v) for v in box)
        src = image[y1:y2, x1:x2]
        m = region_mask(box, str(shape))
        roi = out[y1:y2, x1:x2]
        roi[m] = patch(src, box)[m]
        _ensure_changed(roi, src, m)
    return out


class FillStyle:
    """Solid colour: nothing of the original survives (the publication default)."""

    name = "fill"
    redacts = True

    def __init__(self, color_bgr: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.color = np.array(color_bgr, dtype=np.uint8)

    def apply(self, image: Image, regions: Regions) -> Image:
        return _redact_regions(image, regions, lambda src, box: np.broadcast_to(self.color, src.shape))


class BlurStyle:
    """Irreversible blur: downsample, Gaussian blur scaled to the region with a floor, noise."""

    name = "blur"
    redacts = True

    def apply(self, image: Image, regions: Regions) -> Image:
        def patch(src: Image, box: NDArray[np.int32]) -> Image:
            h, w = src.shape[:2]
            # Throw information away first: at most 8 samples across the shorter side.
            scale = min(1.0, 8.0 / max(1, min(w, h)))
            small = cv2.resize(
                src, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
            )
            up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            sigma = max(BLUR_MIN_SIGMA, 0.2 * min(w, h))
            blurred = cv2.GaussianBlur(up, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
            rng = np.random.default_rng(_seed(image, box))
            noise = np.asarray(rng.normal(0.0, NOISE_STD, blurred.shape), dtype=np.float32)
            return np.clip(blurred.astype(np.float32) + noise, 0, 255).astype(np.uint8)

        return _redact_regions(image, regions, patch)


def mosaic_grid(width: int, height: int) -> tuple[int, int]:
    """Columns and rows of ``pixelate``'s mosaic over a region of this size."""
    block = max(PIXELATE_MIN_BLOCK, int(np.ceil(min(width, height) / PIXELATE_MAX_BLOCKS)))
    return max(1, -(-width // block)), max(1, -(-height // block))


def mosaic_cells(width: int, height: int) -> NDArray[np.intp]:
    """The mosaic cell (index, row by row) each pixel of a region of this size takes its
    colour from: the style's own enlargement applied to the cells' numbers."""
    cols, rows = mosaic_grid(width, height)
    numbers = np.arange(cols * rows, dtype=np.float32).reshape(rows, cols)
    cells = cv2.resize(numbers, (width, height), interpolation=cv2.INTER_NEAREST).reshape(height, width)
    return np.asarray(cells, dtype=np.intp)


class PixelateStyle:
    """Coarse mosaic: block size scaled to the region so at most a few blocks span it."""

    name = "pixelate"
    redacts = True

    def apply(self, image: Image, regions: Regions) -> Image:
        def patch(src: Image, box: NDArray[np.int32]) -> Image:
            h, w = src.shape[:2]
            small = cv2.resize(src, mosaic_grid(w, h), interpolation=cv2.INTER_AREA)
            mosaic: Image = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
            return mosaic

        return _redact_regions(image, regions, patch)


class OutlineStyle:
    """Review only: boxes and labels drawn on an unredacted copy. Never publishable."""

    name = "outline"
    redacts = False
    COLORS = {"face": (0, 0, 255), "plate": (0, 200, 255), "occupant": (255, 120, 0)}

    def apply(self, image: Image, regions: Regions) -> Image:
        out = image.copy()
        thick = max(1, round(min(image.shape[:2]) / 400))
        for i, box in enumerate(regions.boxes):
            x1, y1, x2, y2 = (int(v) for v in box)
            label = str(regions.label[i])
            color = self.COLORS.get(label, (255, 0, 255))
            cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), color, thick)
            score = float(regions.score[i])
            text = label if np.isnan(score) else f"{label} {score:.2f}"
            cv2.putText(
                out, text, (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, color, thick
            )
        return out


STYLES: dict[str, Callable[[RedactConfig], Style]] = {
    "fill": lambda cfg: FillStyle(cfg.fill_bgr),
    "blur": lambda cfg: BlurStyle(),
    "pixelate": lambda cfg: PixelateStyle(),
    "outline": lambda cfg: OutlineStyle(),
}


def get_style(config: RedactConfig) -> Style:
    """The style named by ``config.style``."""
    try:
        factory = STYLES[config.style]
    except KeyError:
        raise ConfigError(f"unknown style {config.style!r}; valid styles: {', '.join(STYLES)}") from None
    return factory(config)
