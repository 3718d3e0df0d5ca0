"""Video pictures kept as I420 (planar YUV 4:2:0), the encoder's own format.

A decoded H.264 frame is already I420; turning every frame into BGR and back would cost
more than a third of a plain transcode's time at 1080p. Video frames therefore travel through the
pipeline as :class:`Picture` objects in I420, half the bytes of BGR; a frame becomes BGR
only when a detector looks at it (:meth:`Picture.bgr`), and a style is applied to the BGR
pixels of each region only (:func:`redact.render.picture.redact_picture`), so the pixels outside every region reach
the encoder exactly as decoded.

Pictures with an odd width or height have no exact I420 layout and stay BGR.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
FINGERPRINT_ROWS = 7  # see Picture.fingerprint


@dataclass(frozen=True, eq=False)
class Picture:
    """One upright video picture.

    Attributes:
        data: I420 uint8 ``(H * 3 // 2, W)`` (Y plane, then U and V at half size) when
            ``yuv``, else BGR uint8 ``(H, W, 3)``.
        yuv: which of the two ``data`` holds.
    """

    data: Image
    yuv: bool

    @classmethod
    def from_bgr(cls, bgr: Image) -> Picture:
        """A picture from BGR pixels: I420 when both sides are even (BT.601 limited range,
        as the encoder expects), else the BGR array itself."""
        h, w = bgr.shape[:2]
        if w % 2 or h % 2:
            return cls(bgr, False)
        return cls(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), True)

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @property
    def height(self) -> int:
        return int(self.data.shape[0] * 2 // 3) if self.yuv else int(self.data.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def bgr(self) -> Image:
        """The picture as BGR uint8 ``(H, W, 3)`` (a new array when converted)."""
        return cv2.cvtColor(self.data, cv2.COLOR_YUV2BGR_I420) if self.yuv else self.data

    def bgr_in(self, buffer: Image) -> Image:
        """The picture as BGR, converted into ``buffer`` (uint8 ``(H, W, 3)``, reused from
        frame to frame: a fresh 6-25 MB array per frame would cost its page faults every time,
        more than the conversion itself).

        Returns ``buffer``, or the picture's own array when it is BGR already (``buffer``
        is then not touched).
        """
        if not self.yuv:
            return self.data
        if buffer.shape != (self.height, self.width, 3) or buffer.dtype != np.uint8:
            raise ValueError(f"buffer of shape {buffer.shape} does not fit a {self.width}x{self.height} picture")
        cv2.cvtColor(self.data, cv2.COLOR_YUV2BGR_I420, dst=buffer)
        return buffer

    def fingerprint(self) -> int:
        """A CRC-32 of every :data:`FINGERPRINT_ROWS`-th row of the picture's data, to check that
        two decodes of one frame gave the same pixels."""
        return zlib.crc32(np.ascontiguousarray(self.data[::FINGERPRINT_ROWS]).data)

    def rotated(self, k: int) -> Picture:
        """The picture turned ``k`` quarter turns counter-clockwise (as ``np.rot90``)."""
        if k % 4 == 0:
            return self
        if not self.yuv:
            return Picture(np.ascontiguousarray(np.rot90(self.data, k)), False)
        y, u, v = planes(self.data)
        return Picture(pack(np.rot90(y, k), np.rot90(u, k), np.rot90(v, k)), True)


class Scratch:
    """One BGR buffer reused from picture to picture (see :meth:`Picture.bgr_in`): a
    picture's BGR from :meth:`of` is valid until the next call."""

    def __init__(self) -> None:
        self._buffer: Image | None = None

    def of(self, picture: Picture) -> Image:
        """``picture`` as BGR, in the buffer (made anew when the size changes)."""
        shape = (picture.height, picture.width, 3)
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.empty(shape, np.uint8)
        return picture.bgr_in(self._buffer)


def planes(i420: Image) -> tuple[Image, Image, Image]:
    """Views of the Y ``(H, W)``, U and V ``(H/2, W/2)`` planes of an I420 array."""
    h = i420.shape[0] * 2 // 3
    w = i420.shape[1]
    flat = i420.reshape(-1)
    n = h * w
    y = flat[:n].reshape(h, w)
    u = flat[n : n + n // 4].reshape(h // 2, w // 2)
    v = flat[n + n // 4 : n + n // 2].reshape(h // 2, w // 2)
    return y, u, v


def pack(y: Image, u: Image, v: Image) -> Image:
    """One I420 array ``(H * 3 // 2, W)`` from its three planes (H and W even)."""
    h, w = y.shape
    out = np.empty(h * w * 3 // 2, np.uint8)
    n = h * w
    out[:n].reshape(h, w)[:] = y
    out[n : n + n // 4].reshape(h // 2, w // 2)[:] = u
    out[n + n // 4 :].reshape(h // 2, w // 2)[:] = v
    return out.reshape(h * 3 // 2, w)
