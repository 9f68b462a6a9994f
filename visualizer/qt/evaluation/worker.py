"""Runs core.evaluate.run_folds on a plain thread; the window drains what it produced once per frame."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

THREAD_NAME = "evaluation-worker"


@dataclass(frozen=True)
class EvaluationEnded:
    """The run is over: reason is 'completed', 'stopped' or 'failed' (message says why)."""

    reason: str
    message: str = ""


class EvaluationWorker:
    """Iterates ``run_folds`` on a thread named "evaluation-worker"; FoldProgress, FoldResult and a final
    EvaluationEnded go into a locked list that ``drain`` empties. ``stop_and_join`` stops at the next step."""

    def __init__(self, experiment, spec, base_dir: Path | None, boundary_resolution: int = 0,
                 confirm: bool = False, threads: int = 1) -> None:
        from ...core.train import RunControl

        self.control = RunControl()
        self._args = (experiment, spec, base_dir)
        self._kwargs = {"control": self.control, "boundary_resolution": boundary_resolution, "confirm": confirm}
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

    def stop_and_join(self, timeout: float = 10.0) -> bool:
        """Ask the run to stop after its current step and wait for the thread; True when it has ended."""
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
        from ...core.evaluate import run_folds

        torch.set_num_threads(self._threads)
        try:
            for event in run_folds(*self._args, **self._kwargs):
                self._put(event)
        except VisualizerError as exc:
            self._put(EvaluationEnded("failed", str(exc)))
        except Exception as exc:  # a failed run is a message in the window, never a traceback
            self._put(EvaluationEnded("failed", f"{type(exc).__name__}: {exc}"))
        else:
            self._put(EvaluationEnded("stopped" if self.control.stopped else "completed"))
