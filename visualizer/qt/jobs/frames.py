"""The frame timer every job runner drains its worker with: ~30 Hz, spaced out while drawing is heavy."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QTimer

FRAME_MS = 33
#: the longest frame interval the adaptive rate may reach, and the share of the GUI thread's time that drawing
#: may take before frames are spaced out: the worker needs the GIL for almost all of a small model's step
MAX_FRAME_MS = 200
GUI_BUSY_TARGET = 0.05
#: torch intra-op threads for the worker: with the default (one per core) the worker's threads fight the GUI
#: thread for the cores; measured on 2 cores, 1 thread gave 2.7x the steps/s of 2 with live drawing
WORKER_THREADS = 1
#: how long stopping a job waits for its thread (or process) before it is left to finish on its own
JOIN_TIMEOUT_S = 10.0


def start_frame_timer(timer: QTimer) -> list[float]:
    """Start a frame timer at FRAME_MS; returns the GUI thread's (CPU time, wall time) that adapt_frame_rate uses."""
    timer.start(FRAME_MS)
    return [time.thread_time(), time.perf_counter()]


def adapt_frame_rate(timer: QTimer, load: list[float]) -> None:
    """Space frames out (up to MAX_FRAME_MS) while drawing takes more than GUI_BUSY_TARGET of the GUI thread's
    time since the last frame, and back towards FRAME_MS when it takes less than half that."""
    now, cpu = time.perf_counter(), time.thread_time()
    busy = (cpu - load[0]) / max(now - load[1], 1e-3)
    load[0], load[1] = cpu, now
    interval = timer.interval()
    if busy > GUI_BUSY_TARGET and interval < MAX_FRAME_MS:
        timer.setInterval(min(MAX_FRAME_MS, int(interval * 1.25) + 1))
    elif busy < GUI_BUSY_TARGET / 2 and interval > FRAME_MS:
        timer.setInterval(max(FRAME_MS, int(interval / 1.25)))


class SpreadWork:
    """A frame's drawing in parts, one part a turn of the event loop (a zero-interval timer), so that each turn
    holds the GUI thread a few milliseconds, not the whole frame's: between the parts Qt paints what the last one
    changed and serves the timers and input that came meanwhile. ``start`` finishes a previous frame's parts first;
    ``finish`` runs what is left now (before a run's end is shown, an export); ``drop`` forgets it (a new run)."""

    def __init__(self, parent) -> None:
        self._parts: deque = deque()
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    def start(self, parts) -> None:
        self.finish()
        self._parts.extend(parts)
        if self._parts:
            self._timer.start()

    def extend(self, parts) -> None:
        """Add ``parts`` after those still waiting (none is run now)."""
        self._parts.extend(parts)
        if self._parts and not self._timer.isActive():
            self._timer.start()

    def _next(self) -> None:
        try:
            if self._parts:
                self._parts.popleft()()
        finally:  # (after the part, so that the timers due meanwhile run first; also when it raised)
            if self._parts:
                self._timer.start()

    def finish(self) -> None:
        self._timer.stop()
        while self._parts:
            self._parts.popleft()()

    def drop(self) -> None:
        self._timer.stop()
        self._parts.clear()
