"""A job on a plain thread: it puts frozen records into a locked list that the GUI thread drains once per frame.

A job is a function ``job(put, control)``: it calls ``put(record)`` with frozen records (numbers, numpy arrays, the
core's frozen reports and events) and checks ``control.stopped`` between pieces of work. The worker ends every
job with a ``JobEnded``; a failure becomes its message, never a traceback. Used by the compression and the
cross-validation windows (the training run has its own worker in bridge.py, which can also slow a run down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from visualizer.qt.training.bridge import WORKER_THREADS

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


class JobWorker:
    """Runs one job on a thread named ``thread_name``; its records go into a locked list that ``drain`` empties.
    ``stop_and_join`` asks the job to stop (``control.stop()``) and waits for the thread."""

    def __init__(self, kind: str, job: Job, thread_name: str, threads: int = WORKER_THREADS) -> None:
        from visualizer.core.training.session import RunControl

        self.kind = kind
        self.control = RunControl()
        self._job = job
        self._threads = threads
        self._lock = threading.Lock()
        self._items: list = []
        self._thread = threading.Thread(target=self._work, name=thread_name, daemon=True)

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

        from visualizer.core.errors import VisualizerError

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
