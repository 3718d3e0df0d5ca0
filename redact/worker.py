"""Per-process state of a run: the detector sets and the style, built once and reused for
every file a process redacts, and the dispatch of each file to its job (image or video)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from redact.config import RedactConfig
from redact.discover import Job
from redact.errors import MediaError, RedactError
from redact.executors import one_line
from redact.image import redact_image
from redact.manifest import base_entry
from redact.render import Style, get_style
from redact.review.overrides import Overrides
from redact.types import Detections, FrameCallback

if TYPE_CHECKING:
    from redact.detect.tiles import Tile

log = logging.getLogger("redact")


class Worker:
    """Per-process state: detectors and the style, built once and reused for every file."""

    def __init__(
        self,
        config: RedactConfig,
        threads: int | None,
        detectors: DetectorLike | None = None,
        frames_dir: Path | None = None,
        overrides: Overrides | None = None,
        glance: DetectorLike | None = None,
        stills: DetectorLike | None = None,
    ) -> None:
        self.config = config
        self.threads = threads
        # Reviewer edits, applied to every picture between detection and region building;
        # the video job calls ``self.overrides.apply`` per frame after tracking.
        self.overrides = overrides or Overrides(reviewer="")
        # Where video frame sidecars (JSON Lines) are written, beside the manifest.
        self.frames_dir = frames_dir
        self.detectors = detectors if detectors is not None else make_detectors(config, threads)
        self._glance = glance
        self._stills = stills
        self.style: Style = get_style(config)

    @property
    def glance(self) -> DetectorLike:
        """The fast single-scale detector set for video frames between keyframes (built on first use)."""
        if self._glance is None:
            self._glance = make_detectors(self.config, self.threads, glance=True)
        return self._glance

    @property
    def still_detectors(self) -> DetectorLike:
        """The detector set for stills: the one given, else (built on first use) the same
        detectors as :attr:`detectors`, for pictures of up to
        :data:`~redact.detect.lanes.LANES_MAX_PIXELS` run side by side in lanes where this
        worker has two or more threads on the CPU (:mod:`redact.detect.lanes`: their looks
        finish sooner). Larger stills and video keep :attr:`detectors`, one after another on
        every thread: there two runs' working memory at once would add up (docs/performance.md)."""
        if self._stills is None:
            from redact.detect.lanes import side_by_side

            self._stills = side_by_side(
                self.detectors, lambda threads, lanes: make_detectors(self.config, threads, lanes=lanes),
                self.threads, cpu_only=self.config.device == "cpu",
            )
        return self._stills

    def process(self, job: Job, on_frames: FrameCallback | None = None) -> dict[str, Any]:
        """Redact one file; never raises for a bad file (the entry says failed)."""
        started = time.monotonic()
        entry = base_entry(job)
        try:
            if job.problem:
                raise MediaError(job.problem)
            if job.kind == "image":
                entry.update(redact_image(job, self))
            elif job.kind == "video":
                from redact.video.job import redact_video  # PyAV only when a video comes

                entry.update(redact_video(job, self, on_frames))
            else:
                raise AssertionError(f"unexpected job kind {job.kind!r}")
            entry["status"] = "ok"
        except (RedactError, OSError) as exc:
            entry.update(status="failed", error=one_line(exc), output=None, output_sha256=None)
            # The entry carries the error; the front end reports it (once, not also here).
            log.info("%s: %s", job.rel, entry["error"])
        except Exception as exc:  # a bug must fail this file, not the whole batch
            log.exception("internal error while redacting %s", job.rel)
            entry.update(
                status="failed", output=None, output_sha256=None,
                error=f"internal error ({type(exc).__name__}: {one_line(exc)}); please report it",
            )
        entry["providers"] = self._take_providers()
        entry["seconds"] = round(time.monotonic() - started, 3)
        return entry

    def _take_providers(self) -> list[str]:
        """Where the models ran for the file just done (detector sets without sessions: none)."""
        used: set[str] = set()
        sets = {id(d): d for d in (self.detectors, self._glance, self._stills) if d is not None}
        for dets in sets.values():
            take = getattr(dets, "take_providers", None)
            if take is not None:
                used |= take()
        return sorted(used)

class DetectorLike(Protocol):
    """What the pipeline needs of a detector set (see redact.detect.DetectorSet).

    The picture passed in is only valid during the call: video reuses one buffer for every
    frame, so a detector that keeps pixels must copy them.
    """

    models: list[Any]
    thresholds: dict[str, float]

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections: ...

    def look(
        self, image: NDArray[np.uint8], *, ratio: float, rois: Sequence[Tile] | None = None
    ) -> tuple[Detections, Detections]: ...


def make_detectors(
    config: RedactConfig, threads: int | None = None, *, glance: bool = False, lanes: int = 1
) -> DetectorLike:
    """The detector set the config asks for, or its video glance (see :mod:`redact.video.job`);
    ``lanes``: how many of its detectors run side by side (:mod:`redact.detect.lanes`)."""
    from redact.detect import GLANCE, build_detector_set
    from redact.detect.turns import looking

    detectors = build_detector_set(
        faces=config.faces,
        plates=config.plates,
        occupants=config.occupants,
        person_heads=config.person_heads,
        thresholds=_thresholds(config),
        quality=GLANCE if glance else config.quality,
        threads=threads,
        cpu_only=config.device == "cpu",
        lanes=lanes,
    )
    return looking(detectors, config.orientations)


def _thresholds(config: RedactConfig) -> dict[str, float]:
    values = {"face": config.face_threshold, "plate": config.plate_threshold}
    return {k: v for k, v in values.items() if v is not None}
