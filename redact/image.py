"""Redact one still image: decode, detect, apply the reviewer's edits, render, encode."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Protocol

from redact.hashing import sha256_bytes
from redact.io.atomic import write_bytes_atomic
from redact.io.image import encode_image, read_image
from redact.manifest import count_regions
from redact.render import regions as region_mod

if TYPE_CHECKING:
    from redact.config import RedactConfig
    from redact.discover import Job
    from redact.render.styles import Style
    from redact.review.overrides import Overrides


class ImageContext(Protocol):
    """What the image job takes from the process that runs it (a :class:`~redact.worker.Worker`
    is one): the run's settings, its detector set for stills, style and reviewer edits."""

    config: RedactConfig
    style: Style
    overrides: Overrides

    @property
    def still_detectors(self) -> Any: ...


def redact_image(job: Job, ctx: ImageContext) -> dict[str, Any]:
    """Redact one image file into ``job.dst``.

    Returns:
        The manifest entry fields for the file (see the schema's ``file`` object).

    Raises:
        MediaError: the input cannot be decoded.
    """
    cfg = ctx.config
    data = job.src.read_bytes()
    input_sha = sha256_bytes(data)
    image = read_image(io.BytesIO(data), cfg.max_pixels)  # hashed and decoded from one read
    found = ctx.still_detectors.detect(image.bgr)
    edits = ctx.overrides.apply(job.rel, 0, found, image.width, image.height, root=job.root)
    dets = edits.dets
    regs = region_mod.build(dets, image.width, image.height, padding=cfg.padding, face_shape=cfg.shape)
    redacted = ctx.style.apply(image.bgr, regs)
    blob = encode_image(image, redacted, quality=cfg.jpeg_quality, keep_metadata=cfg.keep_metadata)
    write_bytes_atomic(job.checked_dst(), blob)
    records = edits.annotate(regs.to_records())
    kept_out = list(image.metadata_notes) if cfg.keep_metadata else []  # what kept metadata leaves out
    return {
        "format": image.format,
        "input_sha256": input_sha,
        "output_sha256": sha256_bytes(blob),
        "width": image.width,
        "height": image.height,
        "regions": records,
        "counts": count_regions(records),
        "warnings": list(image.warnings) + kept_out + list(edits.warnings),
        "redacted": ctx.style.redacts,
        "removed": list(edits.removed),
    }
