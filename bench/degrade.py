"""Degraded copies of a picture, for measuring how far detection holds beyond the dev sets.

Footage of the same kind from other cameras and other hands differs from the dev frames in
how it was captured and passed on: darker nights, harder compression, softer focus, shake,
other street lighting, a smaller or a larger export, a picture turned askew, stored on its
side or mirrored. ``bench/accuracy.py --degrade NAMES`` scores every
set again on copies degraded in these ways; a figure that falls far on a mild degradation is
one the dev set flatters. Each function takes a BGR uint8 picture and a seeded generator and
returns the degraded picture and where its boxes move (:class:`Moved`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.geometry import affine_hull

Image = NDArray[np.uint8]


class Moved(NamedTuple):
    """Where a box of the original lands on the degraded copy: scaled (``scale``, and its
    x coordinates by ``squeeze`` as well), then shifted (pixels), then, where ``turn`` is
    given (a 2x3 affine matrix, row by row), turned with the picture: the box becomes the
    level box around its four turned corners."""

    scale: float = 1.0
    dx: int = 0
    dy: int = 0
    squeeze: float = 1.0
    turn: tuple[float, float, float, float, float, float] | None = None

    def xyxy(self, boxes: NDArray[np.floating]) -> NDArray[np.float64]:
        """Boxes (xyxy, (N, 4) or (4,)) of the original where they land on the copy."""
        sx, sy = self.scale * self.squeeze, self.scale
        out = np.asarray(boxes, np.float64) * [sx, sy, sx, sy] + [self.dx, self.dy, self.dx, self.dy]
        if self.turn is None:
            return out
        return affine_hull(out, np.asarray(self.turn, np.float64), np.float64).reshape(out.shape)


Degradation = Callable[[Image, np.random.Generator], tuple[Image, Moved]]
# The frames the ``framed`` degradations place a picture in, width x height: a 1080p video
# frame or screenshot, a 1440p one, a 4K frame (also about the size of a phone camera's
# still), a 24-Mpx camera's still.
FRAMES = {"framed": (1920, 1080), "framed1440": (2560, 1440), "framed4k": (3840, 2160), "framed24mp": (6000, 4000)}


def _jpeg(image: Image, quality: int) -> Image:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def night(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Darker (gamma 1.8), sensor noise (sigma 5) and the JPEG of a cheap camera (quality 60)."""
    x = (image.astype(np.float32) / 255.0) ** 1.8 * 255.0 + rng.normal(0.0, 5.0, image.shape)
    return _jpeg(np.clip(x, 0, 255).astype(np.uint8), 60), Moved()


def jpeg(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Re-compressed hard (JPEG quality 30), as screenshots passed through messengers are."""
    return _jpeg(image, 30), Moved()


def blur(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Soft focus or motion (Gaussian, sigma 1.2 px): small plates' strokes run together."""
    return cv2.GaussianBlur(image, (0, 0), 1.2), Moved()


MOTION_PX = 7  # length of the ``motion`` streak, pixels
# Seeds of one draw of the degraded copies (``--draw K`` of the benches) lie this far from the next draw's.
DRAW_STRIDE = 1_000_003


def motion(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Motion blur: a straight streak of :data:`MOTION_PX` px at an angle drawn per picture, as a
    camera shaken on a rough road or a car passing during a night exposure leaves."""
    angle = float(rng.uniform(0.0, np.pi))
    size = MOTION_PX + 2
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2
    dx, dy = np.cos(angle) * (MOTION_PX - 1) / 2, np.sin(angle) * (MOTION_PX - 1) / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT), Moved()


def cast(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """A strong warm cast (red up, blue down), as under sodium street lighting."""
    x = image.astype(np.float32) * np.array([0.55, 0.8, 1.25], np.float32)  # B, G, R
    return np.clip(x, 0, 255).astype(np.uint8), Moved()


def small(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Exported at 0.7 of the size: every object a third smaller."""
    return cv2.resize(image, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA), Moved(0.7)


def large(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Exported at twice the size (a 1080p dashboard recorded as a 4K clip, a 720p frame
    shown at 1440p): every object twice as large, its edges soft (bicubic)."""
    return cv2.resize(image, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), Moved(2.0)


def anamorphic(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Stored in 4:3-wide pixels (HDV, DV widescreen, broadcast recordings: 1440x1080 shown at
    1920x1080): three quarters of the width, every object a quarter narrower as the
    detectors see it."""
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * 0.75)), h), interpolation=cv2.INTER_AREA), Moved(squeeze=0.75)


# ``turned``: the least and largest angle a picture is turned by, degrees (either way).
TURN_DEGREES = (8.0, 20.0)


def _turn(image: Image, degrees: float) -> tuple[Image, Moved]:
    """``image`` turned anticlockwise by ``degrees`` on a canvas that holds all of it (black
    around it), and where its boxes land."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * c + h * s - 1e-6)), int(np.ceil(w * s + h * c - 1e-6))
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out, Moved(turn=tuple(float(v) for v in m.reshape(-1)))  # type: ignore[arg-type]


def turned(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Turned by 8-20 degrees either way (drawn per picture), as a handheld photo of a screen
    or a camera mounted askew shows it; every plate's characters on a slant."""
    degrees = float(rng.uniform(*TURN_DEGREES)) * (1.0 if rng.random() < 0.5 else -1.0)
    return _turn(image, degrees)


def sideways(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Stored a quarter turn clockwise with no orientation tag, as a phone held on its side
    can save it: every face and plate lies on its side."""
    h = image.shape[0]
    m = (0.0, -1.0, float(h), 1.0, 0.0, 0.0)  # (x, y) -> (h - y, x)
    return np.ascontiguousarray(cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)), Moved(turn=m)


def upside_down(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Upside down (a camera mounted under a ceiling or a mirror arm, not flipped back)."""
    h, w = image.shape[:2]
    m = (-1.0, 0.0, float(w), 0.0, -1.0, float(h))  # (x, y) -> (w - x, h - y)
    return np.ascontiguousarray(cv2.rotate(image, cv2.ROTATE_180)), Moved(turn=m)


def mirrored(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
    """Flipped left to right, as a rear-view or reversing camera records and a phone's front
    camera saves: every plate's characters read backwards."""
    w = image.shape[1]
    m = (-1.0, 0.0, float(w), 0.0, 1.0, 0.0)  # (x, y) -> (w - x, y)
    return np.ascontiguousarray(image[:, ::-1]), Moved(turn=m)


def _framed(size: tuple[int, int]) -> Degradation:
    fw, fh = size

    def framed(image: Image, rng: np.random.Generator) -> tuple[Image, Moved]:
        h, w = image.shape[:2]
        if w > fw or h > fh:
            return image, Moved()
        dx, dy = (fw - w) // 2, (fh - h) // 2
        return cv2.copyMakeBorder(image, dy, fh - h - dy, dx, fw - w - dx, cv2.BORDER_REFLECT), Moved(1.0, dx, dy)

    framed.__doc__ = f"""At its own size in the middle of a {fw}x{fh} frame (the rest its mirror image):
    the same objects, the same pixels, in a picture the size of a large video frame or
    still, which the detectors look at differently from a small one (other passes).
    Pictures larger than the frame are left as they are."""
    return framed


DEGRADATIONS: dict[str, Degradation] = {
    "night": night, "jpeg": jpeg, "blur": blur, "motion": motion, "cast": cast, "small": small,
    "large": large, "anamorphic": anamorphic, "turned": turned, "sideways": sideways, "upside-down": upside_down,
    "mirrored": mirrored,
    **{name: _framed(size) for name, size in FRAMES.items()},
}


def parse(names: str) -> list[str]:
    """Comma-separated degradation names, checked; ``"all"`` is every one."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if wanted == ["all"]:
        return list(DEGRADATIONS)
    unknown = [n for n in wanted if n not in DEGRADATIONS]
    if unknown:
        raise ValueError(f"unknown degradation {', '.join(unknown)}; known: {', '.join(DEGRADATIONS)}, all")
    return wanted
