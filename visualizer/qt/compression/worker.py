"""One compression job at a time on a plain thread; the tab drains what it produced once per frame.

A job is a function ``job(put, control)``: it calls ``put(record)`` with frozen records (numbers, numpy arrays,
the core's frozen reports) and checks ``control.stopped`` between pieces of work. The worker ends every job with
a ``JobEnded``. ``JobRunner`` (a QObject owned by a tab) starts jobs, drains them with a QTimer and joins the
thread when a job ends, is cancelled, or the window closes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from ..bridge import FRAME_MS, WORKER_THREADS, adapt_frame_rate, start_frame_timer

THREAD_NAME = "compression-worker"

Job = Callable[[Callable[[object], None], object], None]


@dataclass(frozen=True)
class JobEnded:
    """The job is over: reason is 'completed', 'stopped' or 'failed' (message says why); seconds it ran."""

    kind: str
    reason: str
    message: str = ""
    seconds: float = 0.0


class Cancelled(Exception):
    """Raised inside a job (e.g. from a progress callback) to leave it early when asked to stop."""


class CompressionWorker:
    """Runs one job on a thread named "compression-worker"; its records go into a locked list that ``drain``
    empties. ``stop_and_join`` asks the job to stop (``control.stop()``) and waits for the thread."""

    def __init__(self, kind: str, job: Job, threads: int = WORKER_THREADS) -> None:
        from ...core.train import RunControl

        self.kind = kind
        self.control = RunControl()
        self._job = job
        self._threads = threads
        self._lock = threading.Lock()
        self._items: list = []
        self._thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def drain(self) -> list:
        """Everything produced since the last call, in order."""
        with self._lock:
            items, self._items = self._items, []
        return items

    def stop_and_join(self, timeout: float = 30.0) -> bool:
        """Ask the job to stop at its next check and wait for the thread; True when it has ended."""
        self.control.stop()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _put(self, item) -> None:
        with self._lock:
            self._items.append(item)

    def _work(self) -> None:
        import torch

        from ...core.errors import VisualizerError

        torch.set_num_threads(self._threads)
        t0 = time.perf_counter()
        try:
            self._job(self._put, self.control)
        except Cancelled:
            ended = JobEnded(self.kind, "stopped")
        except VisualizerError as exc:
            ended = JobEnded(self.kind, "failed", str(exc))
        except Exception as exc:  # a failed job is a message in the window, never a traceback
            ended = JobEnded(self.kind, "failed", f"{type(exc).__name__}: {exc}")
        else:
            ended = JobEnded(self.kind, "stopped" if self.control.stopped else "completed")
        self._put(JobEnded(ended.kind, ended.reason, ended.message, time.perf_counter() - t0))


class JobRunner(QObject):
    """A tab's job slot: ``items`` (a list per frame) and ``ended`` (JobEnded) are emitted on the GUI thread."""

    items = Signal(list)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: CompressionWorker | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)

    @property
    def running(self) -> bool:
        return self.worker is not None

    @property
    def kind(self) -> str | None:
        """What the running job does ('preview', 'fine-tune', …), or None."""
        return self.worker.kind if self.worker is not None else None

    def start(self, kind: str, job: Job) -> None:
        """Run ``job`` on a new worker thread (the previous job must have ended)."""
        if self.worker is not None:
            raise RuntimeError(f"a {self.worker.kind} job is still running")
        self.worker = CompressionWorker(kind, job)
        self.worker.start()
        self._load = start_frame_timer(self.timer)

    def cancel(self) -> None:
        """Stop the job, join its thread and deliver what it produced (ending with its JobEnded) now."""
        if self.worker is not None:
            self.worker.stop_and_join()
            self._on_tick()

    def shutdown(self) -> None:
        """Stop and join without delivering anything (the window is closing)."""
        self.timer.stop()
        if self.worker is not None:
            self.worker.stop_and_join()
            self.worker.drain()
            self.worker = None

    def _on_tick(self) -> None:
        worker = self.worker
        if worker is None:
            self.timer.stop()
            return
        adapt_frame_rate(self.timer, self._load)
        items = worker.drain()
        ended = next((i for i in items if isinstance(i, JobEnded)), None)
        if ended is not None:
            worker.stop_and_join()
            self.worker = None
            self.timer.stop()
            items = [i for i in items if not isinstance(i, JobEnded)]
        if items:
            self.items.emit(items)
        if ended is not None:
            self.ended.emit(ended)
