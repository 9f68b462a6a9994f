"""One compression job at a time (see visualizer.qt.jobs): ``JobRunner``, a QObject owned by a tab, starts jobs,
drains them with a QTimer and joins the thread when a job ends, is cancelled, or the window closes."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from visualizer.qt.jobs import Cancelled, Job, JobEnded, JobWorker  # noqa: F401  (Cancelled, JobEnded: used by the tabs)
from visualizer.qt.training.bridge import FRAME_MS, adapt_frame_rate, start_frame_timer

THREAD_NAME = "compression-worker"


class JobRunner(QObject):
    """A tab's job slot: ``items`` (a list per frame) and ``ended`` (JobEnded) are emitted on the GUI thread."""

    items = Signal(list)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: JobWorker | None = None
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
        self.worker = JobWorker(kind, job, THREAD_NAME)
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
