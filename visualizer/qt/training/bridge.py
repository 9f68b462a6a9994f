"""Runs a core training session on a worker thread; the GUI drains its events at ~30 Hz.

Only events cross threads (frozen records of numbers and numpy arrays). The worker never waits for the GUI:
it appends to a locked buffer; a QTimer on the GUI thread takes everything out once per frame and emits one
signal per kind, so a fast run costs the event loop one frame's work, not one signal per step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

FRAME_MS = 33
#: the longest frame interval the adaptive rate may reach, and the share of the GUI thread's time that drawing
#: may take before frames are spaced out: the worker needs the GIL for almost all of a small model's step
MAX_FRAME_MS = 200
GUI_BUSY_TARGET = 0.05
#: torch intra-op threads for the worker: with the default (one per core) the worker's threads fight the GUI
#: thread for the cores; measured on 2 cores, 1 thread gave 2.7x the steps/s of 2 with live drawing
WORKER_THREADS = 1


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


@dataclass
class Frame:
    """What arrived since the last frame: every step event and every snapshot, in order."""

    steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    started: object | None = None
    ended: object | None = None


class EventBuffer:
    """Thread-safe hand-over from the worker to the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame = Frame()

    def put(self, event) -> None:
        kind = type(event).__name__
        with self._lock:
            if kind == "StepEvent":
                self._frame.steps.append(event)
            elif kind == "Snapshot":
                self._frame.snapshots.append(event)
            elif kind == "RunStarted":
                self._frame.started = event
            elif kind == "RunEnded":
                self._frame.ended = event

    def drain(self) -> Frame:
        with self._lock:
            frame, self._frame = self._frame, Frame()
        return frame


class TrainingWorker:
    """A plain Python thread iterating a TrainingSession; stopped and joined by ``stop_and_join``."""

    def __init__(self, session, buffer: EventBuffer, threads: int = WORKER_THREADS, record_to=None) -> None:
        self.session = session
        self.buffer = buffer
        self.threads = threads
        self.record_to = record_to  # a folder: the run is recorded there as a run file (core.runs)
        self.run_file = None
        self.record_error = ""
        self._delay = 0.0
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._work, name="training-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def set_delay(self, seconds: float) -> None:
        """Slow training to at most one step per ``seconds`` (0 = full speed)."""
        self._delay = max(0.0, seconds)
        self._wake.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop_and_join(self, timeout: float = 10.0) -> bool:
        self.session.control.stop()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        import torch

        torch.set_num_threads(self.threads)
        control = self.session.control
        next_at = time.perf_counter()
        writer = self._open_recorder()
        for event in self.session.run():
            self.buffer.put(event)
            if writer is not None:
                writer = self._record(writer, event)
            if self._delay and type(event).__name__ == "StepEvent":
                next_at = max(next_at + self._delay, time.perf_counter() - self._delay)
                while not control.stopped and (wait := next_at - time.perf_counter()) > 0:
                    self._wake.wait(min(wait, 0.1))
                    self._wake.clear()
        if writer is not None:
            self._record(writer, None)

    # The run file is written here, on the worker thread (an SQLite connection stays on its thread). A failure
    # to record never stops training: it becomes record_error, which the window shows.
    def _open_recorder(self):
        if self.record_to is None:
            return None
        from visualizer.core.runs.writer import create_run_file

        exp = self.session.experiment
        name = "".join(c if c.isalnum() else "-" for c in (exp.title or exp.data.name)).strip("-").lower() or "run"
        try:
            writer = create_run_file(self.record_to, f"{time.strftime('%Y%m%d-%H%M%S')}-{name}", exp,
                                     base_dir=self.session.base_dir)
        except Exception as exc:  # noqa: BLE001 - any failure: train anyway, say why it was not recorded
            self.record_error = str(exc)
            return None
        self.run_file = writer.path
        return writer

    def _record(self, writer, event):
        """Add one event (None: the run is over: store the weights and close); the writer, or None after a failure."""
        try:
            if event is not None:
                writer.add(event)
                return writer
            if self.session.model is not None:
                writer.add_weights(self.session.model)
            writer.close()
        except Exception as exc:  # noqa: BLE001
            self.record_error = f"the run file {self.run_file} could not be written: {exc}"
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass
        return None


class TrainingBridge(QObject):
    """Owns the worker of the current run; emits ``started``, ``frame`` (a Frame) and ``ended`` on the GUI thread."""

    started = Signal(object)
    frame = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: TrainingWorker | None = None
        self.buffer = EventBuffer()
        self._delay = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)

    @property
    def control(self):
        return self.worker.session.control if self.worker else None

    @property
    def running(self) -> bool:
        """A worker exists and has not finished (it may be paused)."""
        return self.worker is not None and self.worker.is_alive()

    def start(self, session, record_to=None) -> None:
        """Start iterating ``session`` (already prepared or not) on a new worker thread; with ``record_to`` (a
        folder) the run is also recorded into a new run file there."""
        self.shutdown()
        self.buffer = EventBuffer()
        self.worker = TrainingWorker(session, self.buffer, record_to=record_to)
        self.worker.set_delay(self._delay)
        self.worker.start()
        self._load = start_frame_timer(self.timer)

    def set_delay(self, seconds: float) -> None:
        self._delay = seconds
        if self.worker:
            self.worker.set_delay(seconds)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop the run and join its thread; pending events are dropped. True when no thread is left."""
        ok = True
        if self.worker is not None:
            ok = self.worker.stop_and_join(timeout)
            self.worker = None
        self.timer.stop()
        self.buffer.drain()
        return ok

    def _on_tick(self) -> None:
        adapt_frame_rate(self.timer, self._load)
        frame = self.buffer.drain()
        if frame.started is not None:
            self.started.emit(frame.started)
        self.frame.emit(frame)  # also when empty: the views draw what is left of the last snapshot
        if frame.ended is not None:
            self.timer.stop()
            self.ended.emit(frame.ended)
