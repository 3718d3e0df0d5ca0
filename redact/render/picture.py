"""Redaction applied to a video :class:`~redact.io.yuv.Picture`, in I420 where it can be.

Converting a whole frame to BGR and back would cost more than a third of a plain transcode's
time at 1080p, so only the pixels of each region are converted, redacted and written back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from redact.geometry import any_overlap
from redact.io.yuv import Picture, pack, planes
from redact.render.regions import region_mask
from redact.types import Regions

if TYPE_CHECKING:
    from redact.render.styles import Style


def _even_box(box: NDArray[np.int32], w: int, h: int) -> tuple[int, int, int, int]:
    """``box`` grown to even corners (whole chroma samples), within the picture."""
    x1, y1, x2, y2 = (int(c) for c in box)
    return x1 - x1 % 2, y1 - y1 % 2, min(w, x2 + x2 % 2), min(h, y2 + y2 % 2)


def redact_picture(style: Style, picture: Picture, regions: Regions, *, in_place: bool = False) -> Picture:
    """``style`` applied to ``regions`` of ``picture``; the input is not modified unless
    ``in_place`` (for a picture nothing else holds, such as the writer's own decode: no copy of
    the whole frame where no two regions overlap; overlapping regions are each redacted from
    the picture as it came, on a copy).

    A redacting style changes the pixels inside its regions and nothing else (see
    :mod:`redact.render.styles`), so on an I420 picture each region is converted to BGR, redacted
    and converted back on its own: luma is written where the region's mask is, chroma
    wherever a chroma sample touches it (a sample shared with pixels outside is redacted
    too, never left). Other styles (outline) draw on the whole picture in BGR.
    """
    if not picture.yuv:
        return Picture(style.apply(picture.data, regions), False)
    if not style.redacts:
        return Picture.from_bgr(style.apply(picture.bgr(), regions))
    if not len(regions):
        return picture  # nothing to draw: no copy of the whole frame
    w, h = picture.width, picture.height
    boxes = [_even_box(regions.boxes[i], w, h) for i in range(len(regions))]
    out = picture.data if in_place and not any_overlap(np.array(boxes).reshape(-1, 4)) else picture.data.copy()
    src_y, src_u, src_v = planes(picture.data)
    dst_y, dst_u, dst_v = planes(out)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        cy, cx = slice(y1 // 2, y2 // 2), slice(x1 // 2, x2 // 2)
        crop = pack(src_y[y1:y2, x1:x2], src_u[cy, cx], src_v[cy, cx])
        bgr = cv2.cvtColor(crop, cv2.COLOR_YUV2BGR_I420)
        local = regions.subset([i], offset=(x1, y1))
        done = cv2.cvtColor(style.apply(bgr, local), cv2.COLOR_BGR2YUV_I420)
        new_y, new_u, new_v = planes(done)
        mask = np.zeros((y2 - y1, x2 - x1), bool)
        bx1, by1, bx2, by2 = (int(c) for c in local.boxes[0])
        mask[by1:by2, bx1:bx2] = region_mask(local.boxes[0], str(local.shape[0]))
        chroma = mask.reshape((y2 - y1) // 2, 2, (x2 - x1) // 2, 2).any(axis=(1, 3))
        dst_y[y1:y2, x1:x2][mask] = new_y[mask]
        dst_u[cy, cx][chroma] = new_u[chroma]
        dst_v[cy, cx][chroma] = new_v[chroma]
    return Picture(out, True)
