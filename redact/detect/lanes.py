"""The first looks of a detector set, one detector after another or side by side.

On the CPU a set's networks share the cores. Run one after another, each on every core,
part of each run leaves cores idle (its small layers, the Python between layers, resizing
and decoding boxes). Run side by side, each network on one core in its own *lane*, those
gaps fill with another network's work: a picture's looks finish sooner for the same
results (docs/performance.md, "Detectors side by side").

The vehicle zoom looks inside the vehicles the occupant detector found, so the occupant
detector goes first and the zoom last, taking its vehicles when they are there.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redact.detect.base import Detector
from redact.detect.occupants import OccupantFinds, Occupants
from redact.detect.tiles import Tile
from redact.detect.vehicle_zoom import VehicleZoom
from redact.types import Detections

# At most this many detectors side by side: with more, a picture's few long runs (CenterFace,
# the plate network, the text detector) would each get fewer cores than they can use.
MAX_LANES = 2


# Stills up to this many pixels run their detectors side by side: a 1280x720 frame's looks
# finish sooner; a 1080p screenshot's no sooner (CenterFace's enlarged pass alone fills a
# lane), and a large still's would hold two large tiles' working memory at once
# (docs/performance.md, "Detectors side by side").
LANES_MAX_PIXELS = 1_500_000


def split_threads(threads: int | None, *, on_gpu: bool) -> tuple[int | None, int]:
    """(intra-op threads per model, lanes) for a worker given ``threads`` inference threads
    (``None``: the machine's cores): the threads shared out among up to :data:`MAX_LANES`
    lanes. On a GPU one lane and the threads as given: the GPU runs one network at a time."""
    cores = threads or _cores()
    lanes = 1 if on_gpu else min(MAX_LANES, cores)
    return (threads, 1) if lanes < 2 else (cores // lanes, lanes)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Lanes:
    """A few threads a detector set's detectors run in side by side (made on first use, and
    again in a process forked after that)."""

    def __init__(self, count: int) -> None:
        if count < 2:
            raise ValueError(f"side by side takes 2 or more lanes, got {count}")
        self.count = count
        self._pool: cf.ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def pool(self) -> cf.ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = cf.ThreadPoolExecutor(self.count, thread_name_prefix="redact-lane")
                self._pid = os.getpid()
            return self._pool


Floor = Callable[[Detector], "float | None"]


def _vehicles(zoom: VehicleZoom, found: dict[str, Detections]) -> Any:
    """The vehicles the occupant detector found that score the zoom's own vehicle threshold
    (the occupant detector keeps weaker candidates too); ``None`` where it did not run, and
    the zoom then finds them itself."""
    occ = next((f for f in found.values() if isinstance(f, OccupantFinds)), None)
    return None if occ is None else occ.sure_vehicles(zoom.vehicles.threshold)


def first_looks(
    detectors: Sequence[Detector],
    image: NDArray[np.uint8],
    rois: Sequence[Tile] | None,
    floor: Floor,
    lanes: Lanes | None,
) -> dict[str, Detections]:
    """Every detector's boxes for the picture, by name in the set's order (the vehicle zooms
    after the rest), each detector run once: in ``lanes`` side by side, else one after another."""
    firsts = [d for d in detectors if not isinstance(d, VehicleZoom)]
    zooms = [d for d in detectors if isinstance(d, VehicleZoom)]
    if lanes is None:
        found = {d.name: d.detect(image, rois=rois, floor=floor(d)) for d in firsts}
        for z in zooms:
            found[z.name] = z.detect(image, rois=rois, floor=floor(z), vehicles=_vehicles(z, found))
        return found
    pool = lanes.pool()
    # Queued in this order: the occupant detector first (the zooms wait for it), the zooms
    # last, so a zoom starts only once the occupant detector has (no lane waits on a queue).
    queue = sorted(firsts, key=lambda d: not isinstance(d, Occupants))
    futures = {d.name: pool.submit(d.detect, image, rois=rois, floor=floor(d)) for d in queue}
    occupants = [futures[d.name] for d in firsts if isinstance(d, Occupants)]

    def zoom(z: VehicleZoom) -> Detections:
        seen = {str(i): f.result() for i, f in enumerate(occupants)}
        return z.detect(image, rois=rois, floor=floor(z), vehicles=_vehicles(z, seen))

    for z in zooms:
        futures[z.name] = pool.submit(zoom, z)
    # Every run ends before this returns, a failed one too: the picture may be a buffer the
    # caller reuses, and a detector runs in one thread at a time.
    cf.wait(futures.values())
    return {d.name: futures[d.name].result() for d in [*firsts, *zooms]}


class BySize:
    """Detectors for pictures of any size: those of up to :data:`LANES_MAX_PIXELS` go to
    ``small()`` (a set run side by side, built on first use), larger ones to ``whole``."""

    def __init__(self, whole: Any, small: Callable[[], Any]) -> None:
        self.whole = whole
        self._make_small = small
        self._small: Any = None

    def for_picture(self, image: NDArray[np.uint8]) -> Any:
        """The set that looks at this picture."""
        if image.shape[0] * image.shape[1] > LANES_MAX_PIXELS:
            return self.whole
        if self._small is None:
            self._small = self._make_small()
        return self._small

    def detect(self, image: NDArray[np.uint8], *, rois: Sequence[Tile] | None = None) -> Detections:
        return self.for_picture(image).detect(image, rois=rois)  # type: ignore[no-any-return]

    def take_providers(self) -> set[str]:
        """Where either set's models ran since the last call (see ``DetectorSet.take_providers``)."""
        sets = [self.whole] if self._small is None else [self.whole, self._small]
        return set().union(*(d.take_providers() for d in sets if hasattr(d, "take_providers")))


def side_by_side(whole: Any, make: Callable[[int | None, int], Any], threads: int | None, *, cpu_only: bool) -> Any:
    """``whole`` (a set run one after another on ``threads``) where no lanes apply (one thread,
    or a GPU), else a :class:`BySize` whose small pictures go to ``make(threads per model, lanes)``."""
    from redact.detect.session import CPU, providers

    per_model, lanes = split_threads(threads, on_gpu=not cpu_only and providers()[0] != CPU)
    return whole if lanes == 1 else BySize(whole, lambda: make(per_model, lanes))
