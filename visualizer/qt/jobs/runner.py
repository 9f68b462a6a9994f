"""The JobRunner: one job at a time off the GUI thread, its records handed over once per frame."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from visualizer.qt.jobs.child import ChildJob, ChildProcess
from visualizer.qt.jobs.frames import FRAME_MS, JOIN_TIMEOUT_S, WORKER_THREADS, adapt_frame_rate, start_frame_timer
from visualizer.qt.jobs.records import JobEnded, Progress
from visualizer.qt.jobs.requests import Requests
from visualizer.qt.jobs.workers import Job, ProcessJob, ThreadJob


class JobRunner(QObject):
    """Runs one job at a time off the GUI thread and hands its records over once per frame: ``batch`` (a list, in
    order; with ``every_frame`` also when empty), ``progress`` (the frame's latest Progress) and ``ended``."""

    batch = Signal(list)
    progress = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None, thread_name: str = "job-worker",
                 threads: int | None = WORKER_THREADS, every_frame: bool = False,
                 join_timeout: float = JOIN_TIMEOUT_S) -> None:
        super().__init__(parent)
        from visualizer.qt.jobs.gc_policy import collect_on_gui_thread

        collect_on_gui_thread()  # its threads never run Python's cyclic collector (a Qt object freed there hangs)
        self.thread_name = thread_name
        self.threads = threads  # torch threads of the worker (None: leave torch alone, e.g. loading a file)
        self.every_frame = every_frame
        self.join_timeout = join_timeout
        self.refusal = ""  # why the last start was refused
        self._job = None
        self._finishing: list = []  # stopped jobs still in a step that outlasted the join timeout
        self._progress_of = None
        self._delay = 0.0
        self._served = None
        self._child: ChildProcess | None = None  # the warm child process of start_child
        self._delivering = False
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)
        self._load = [0.0, 0.0]

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A job was started and its end has not been delivered yet (it may be paused or stopping)."""
        return self._job is not None

    @property
    def kind(self) -> str | None:
        """What the running job does ('training', 'preview', …), or None."""
        return self._job.kind if self._job is not None else None

    @property
    def control(self):
        """The running job's RunControl (pause, step, stop, learning rate), or None."""
        return self._job.control if self._job is not None else None

    @property
    def finishing(self) -> bool:
        """A stopped job is still finishing a step that outlasted the join timeout (``start`` refuses)."""
        self._finishing = [job for job in self._finishing if job.is_alive()]
        return bool(self._finishing)

    # --- starting -------------------------------------------------------------------------------------------
    def start(self, kind: str, job: Job, *, control=None, progress: Callable | None = None,
              paced: Callable | None = None, requests: Requests | None = None) -> bool:
        """Run ``job(put, control)`` on a new worker thread; False (``refusal`` says why) while another job runs
        or finishes. ``control``: a RunControl to use (default: a new one); ``progress(record)`` maps records to a
        Progress; ``paced(record)`` marks the records that ``set_delay`` spaces out."""
        if not self._may_start(kind):
            return False
        if control is None:
            from visualizer.core.training.session import RunControl

            control = RunControl()
        if requests is not None:
            requests.open()
        worker = ThreadJob(kind, job, control, self.thread_name, self.threads, paced, self._delay, requests)
        self._begin(worker, progress)
        return True

    def start_process(self, kind: str, program: str, args: list[str], *, env: dict | None = None,
                      parse: Callable | None = None, progress: Callable | None = None) -> bool:
        """Run a child process: each stdout line is a record (a str); ``parse(line)`` turns a stderr line into a
        record (None: the line is an error message, the last of which a failure shows)."""
        if not self._may_start(kind):
            return False
        self._begin(ProcessJob(kind, self, program, args, env, parse), progress)
        return True

    def warm(self, serve: Callable) -> None:
        """Spawn the child process that ``start_child`` runs jobs in, ahead of time (it imports what it needs while
        nothing waits for it); one that died is replaced. ``serve(commands, events)``: its main (core.training.child).
        """
        if self._child is not None and not self._child.gone.is_set():
            return
        if self._child is not None:
            self._child.end()
        self._child = ChildProcess(serve, self.thread_name)
        self._child.start()

    def start_child(self, kind: str, serve: Callable, request, *, paused: bool = False) -> bool:
        """Run a job in the warm child process (spawned now if there is none): ``request`` goes to ``serve`` with
        ``("run", request, delay)``; ``control`` sends pause, steps, stop and the learning rate to it, ``paused``: how
        the job starts. False (``refusal`` says why) while another job runs."""
        if not self._may_start(kind):
            return False
        self.warm(serve)
        self._begin(ChildJob(kind, self._child, request, paused, self._delay), None)
        return True

    @property
    def child_ready(self) -> bool:
        """The child process is alive and has warmed up: a job started now begins at once."""
        child = self._child
        return child is not None and child.ready.is_set() and not child.gone.is_set()

    @property
    def child_pid(self) -> int | None:
        """The process id of the live child process, or None."""
        child = self._child
        return child.pid if child is not None and not child.gone.is_set() else None

    def serve(self, kind: str, job: Job, requests: Requests, progress: Callable | None = None) -> None:
        """Declare a long-lived job that ``take``s from ``requests``; the first ``submit`` starts it, and it runs
        until cancelled or shut down (which closes ``requests``); a later ``submit`` starts it again."""
        self._served = (kind, job, requests, progress)

    def submit(self, request, key=None) -> bool:
        """Hand a request to the served job (replacing a pending one of ``key``); False when it cannot start."""
        kind, job, requests, progress = self._served
        if self._job is not None and self._job.requests is requests:
            requests.submit(request, key)
            return True
        if not self.start(kind, job, progress=progress, requests=requests):
            return False
        requests.submit(request, key)
        return True

    # --- control --------------------------------------------------------------------------------------------
    def pause(self) -> None:
        if self.control is not None:
            self.control.pause()

    def resume(self) -> None:
        if self.control is not None:
            self.control.resume()

    def step(self, n: int = 1) -> None:
        """Pause after ``n`` more steps (a job that passes its control to a training session)."""
        if self.control is not None:
            self.control.step(n)

    def set_lr(self, lr: float) -> None:
        if self.control is not None:
            self.control.set_lr(lr)

    def set_delay(self, seconds: float) -> None:
        """Space the paced records of this and later jobs at least ``seconds`` apart (0: full speed)."""
        self._delay = max(0.0, seconds)
        if self._job is not None:
            self._job.set_delay(self._delay)

    # --- stopping -------------------------------------------------------------------------------------------
    def cancel(self, timeout: float | None = None) -> None:
        """Stop the job and wait for it; what it produced (ending with its JobEnded) is delivered now. A job
        still in a longer step delivers its end with a later frame."""
        job = self._job
        if job is None:
            return
        job.stop()
        if job.join(self.join_timeout if timeout is None else timeout) and not self._delivering:
            self._deliver()

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop and join the job without delivering anything (a reset, a closing window); True when nothing is
        left running. A job that outlasts ``timeout`` finishes on its own and blocks ``start`` until then."""
        self.timer.stop()
        job, self._job = self._job, None
        if job is None:
            return not self.finishing
        job.stop()
        ended = job.join(self.join_timeout if timeout is None else timeout)
        job.drain()
        if ended:
            job.release()
        else:
            self._finishing.append(job)
        return ended

    def end_child(self, timeout: float | None = None) -> bool:
        """Shut the job down, then end the child process (a closing window); True when nothing is left running."""
        ended = self.shutdown(timeout)
        child, self._child = self._child, None
        if child is not None:
            ended = child.end() and ended
        return ended

    # --- internals ------------------------------------------------------------------------------------------
    def _may_start(self, kind: str) -> bool:
        if self._job is not None:
            self.refusal = f"a {self._job.kind} is still running"
            return False
        if self.finishing:
            self.refusal = (f"the last {self._finishing[0].kind} is still finishing its current step; "
                            f"try again when it has")
            return False
        self.refusal = ""
        return True

    def _begin(self, job, progress) -> None:
        self._job, self._progress_of = job, progress
        job.start()
        self._load = start_frame_timer(self.timer)

    def _on_tick(self) -> None:
        if self._job is None:
            self.timer.stop()
            return
        adapt_frame_rate(self.timer, self._load)
        self._deliver()

    def _deliver(self) -> None:
        job = self._job
        items = job.drain()
        ended = items.pop() if items and isinstance(items[-1], JobEnded) else None
        if ended is not None:
            job.join(self.join_timeout)  # it has put its last record: the thread is returning
            job.release()
            self._job = None
            self.timer.stop()
        progress = None
        for item in reversed(items):
            progress = item if isinstance(item, Progress) else self._progress_of(item) if self._progress_of else None
            if progress is not None:
                break
        items = [item for item in items if not isinstance(item, Progress)]
        self._delivering = True
        try:
            if items or self.every_frame:
                self.batch.emit(items)
            if progress is not None:
                self.progress.emit(progress)
        finally:
            self._delivering = False
        if ended is not None:
            self.ended.emit(ended)
