"""Threads and bounded queues of the video pipeline, and how each stage stops.

Every wait on a queue polls a shared stop flag, so one stage failing or the run being
interrupted ends the others promptly; a stage that dies hands its exception to the thread
that joins it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

from redact.errors import MediaError

POLL = 0.1  # seconds between checks of the stop flag while blocked on a queue
END = object()  # the last item a stage puts on its queue


class Stopped(Exception):
    """The pipeline is shutting down; a stage leaves quietly."""


class Stage(threading.Thread):
    """A daemon thread that records the exception it died of."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except Stopped:
            pass
        except BaseException as exc:  # handed to the main thread, which re-raises it
            self.error = exc


def put(q: queue.Queue[Any], item: object, stop: threading.Event, other: Stage | None = None) -> None:
    """Put ``item`` on ``q``, waiting for room; raises :class:`Stopped` once ``stop`` is set,
    and the consumer ``other``'s error if it died (nobody would make room)."""
    while True:
        if stop.is_set():
            raise Stopped
        try:
            q.put(item, timeout=POLL)
            return
        except queue.Full:
            if other is not None and not other.is_alive():
                raise other.error or MediaError("a video stage stopped unexpectedly") from None


def get(q: queue.Queue[Any], stop: threading.Event, other: Stage | None = None) -> Any:
    """The next item of ``q``; raises :class:`Stopped` once ``stop`` is set, and the producer
    ``other``'s error if it died without saying so."""
    while True:
        if stop.is_set():
            raise Stopped
        try:
            return q.get(timeout=POLL)
        except queue.Empty:
            if other is not None and not other.is_alive() and q.empty():
                raise other.error or MediaError("a video stage stopped unexpectedly") from None


def drain(q: queue.Queue[Any]) -> None:
    """Empty ``q`` without waiting (so a blocked producer can see the stop flag)."""
    with contextlib.suppress(queue.Empty):
        while True:
            q.get_nowait()
