"""Training through the job runner: the session is iterated on the runner's worker thread (which also records the
run file), and the GUI gets each frame's events as a ``Frame``.

Only events cross threads (frozen records of numbers and numpy arrays). The worker never waits for the GUI; the
runner hands everything over once per frame (also an empty frame: the views draw what is left of the last
snapshot), so a fast run costs the event loop one frame's work, not one signal per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from visualizer.core.training.recording import RunFileOpened, RunRecorded, RunRecording
from visualizer.qt.jobs import JobEnded, JobRunner

__all__ = ["THREAD_NAME", "Frame", "RunRecorded", "TrainingBridge", "is_step", "training_job"]

THREAD_NAME = "training-worker"


@dataclass
class Frame:
    """What arrived since the last frame: every step event, every snapshot, the lab's measurements and every weight
    set by hand, in order."""

    steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    started: object | None = None
    ended: object | None = None
    edits: list = field(default_factory=list)


def is_step(event) -> bool:
    """The records a slowed-down run spaces out."""
    return type(event).__name__ == "StepEvent"


def training_job(session, record_to: Path | None):
    """Iterate ``session`` and record it into a new run file in ``record_to`` (None: not recorded). The file is
    written here, on the worker (an SQLite connection stays on its thread); a failure to record never stops
    training: it becomes the RunRecorded's error."""

    def job(put, control) -> None:
        recording = RunRecording(session, record_to)
        if recording.path is not None:
            put(RunFileOpened(recording.path))
        for event in session.run():
            put(event)
            recording.add(event)
        put(recording.close())

    return job


class TrainingBridge(QObject):
    """The current run on a JobRunner: ``started`` (RunStarted), ``frame`` (a Frame, every frame) and ``ended``
    (RunEnded, once the run is over, its run file written) on the GUI thread.

    ``start_in_child`` trains in the training process (core.training.child), the window's way: spawned by ``warm``
    after the first paint and kept between runs; a run whose process dies ends as a failed run naming the signal
    and the step, and a fresh process is warmed for the next. ``start`` iterates a session on a worker thread of this
    process instead (tests, and sessions that cannot cross a process boundary)."""

    started = Signal(object)
    frame = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # threads=None: the session sets its own torch threads in the worker (core.threads' policy)
        self.runner = JobRunner(self, THREAD_NAME, threads=None, every_frame=True)
        self.runner.batch.connect(self._on_batch)
        self.runner.ended.connect(self._on_job_ended)
        self.session = None  # the last in-process run's session: its model is final once the run has ended
        self.run_file: Path | None = None
        self.record_error = ""
        self.in_child = False  # the current (or last) run trains in the training process
        self._run_ended = None
        self._last_step: int | None = None
        self._closed = False  # the window has closed: nothing is warmed any more

    @property
    def control(self):
        """Pause, resume, step, stop and the learning rate of the current run (a RunControl or its stand-in for the
        training process), or None."""
        return self.runner.control

    @property
    def running(self) -> bool:
        """A run was started and has not ended (it may be paused)."""
        return self.runner.running

    @property
    def refusal(self) -> str:
        return self.runner.refusal

    @property
    def frame_ms(self) -> int:
        """The interval the frames come at now (the runner spaces them out while drawing is heavy)."""
        return self.runner.timer.interval()

    @property
    def child_pid(self) -> int | None:
        """The training process's id while it lives, or None."""
        return self.runner.child_pid

    @property
    def ready(self) -> bool:
        """The training process has warmed up: Train starts at once."""
        return self.runner.child_ready

    def warm(self) -> None:
        """Spawn the training process now (after the first paint) so that Train starts at once."""
        from visualizer.core.training.child import serve

        if not self._closed:
            self.runner.warm(serve)

    def start(self, session, record_to: Path | None = None) -> bool:
        """Stop any run, then iterate ``session`` (prepared or not) on a worker thread; with ``record_to`` (a folder)
        the run is recorded into a new run file there. False (``refusal`` says why) while the last run is still
        finishing a step that outlasted the join timeout."""
        self._begin_run(session, in_child=False)
        return self.runner.start("training", training_job(session, record_to), control=session.control,
                                 paced=is_step)

    def start_in_child(self, recipe, record_to: Path | None = None) -> bool:
        """Stop any run, then train ``recipe`` (a core.training.child.SessionRecipe) in the training process, which
        records the run into a new run file in ``record_to`` (None: not recorded)."""
        from visualizer.core.training.child import serve

        self._begin_run(None, in_child=True)
        return self.runner.start_child("training", serve, (recipe, record_to), paused=recipe.paused)

    def set_delay(self, seconds: float) -> None:
        """Slow training to at most one step per ``seconds`` (0 = full speed)."""
        self.runner.set_delay(seconds)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop the run and wait for it; pending events are dropped. The training process stays, warm. True when
        no run is left."""
        return self.runner.shutdown(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop the run and end the training process (a closing window): True when no thread or process is left."""
        self._closed = True
        return self.runner.end_child(timeout)

    def _begin_run(self, session, in_child: bool) -> None:
        self.shutdown()
        self._closed = False
        self.session, self.run_file, self.record_error, self._run_ended = session, None, "", None
        self.in_child, self._last_step = in_child, None

    def _on_batch(self, events: list) -> None:
        frame = Frame()
        for event in events:
            kind = type(event).__name__
            if kind == "StepEvent":
                frame.steps.append(event)
            elif kind == "Snapshot":
                frame.snapshots.append(event)
            elif kind == "WeightEdited":
                frame.edits.append(event)
            elif kind == "Measured":
                frame.measures.append(event)
            elif kind == "RunStarted":
                frame.started = event
            elif kind == "RunEnded":
                frame.ended = self._run_ended = event
            elif isinstance(event, RunFileOpened):
                self.run_file = event.path
            elif isinstance(event, RunRecorded):
                self.run_file, self.record_error = event.path, event.error
        if frame.steps:
            self._last_step = frame.steps[-1].step
        if frame.started is not None:
            self.started.emit(frame.started)
        self.frame.emit(frame)

    def _on_job_ended(self, ended: JobEnded) -> None:
        run_ended = self._run_ended
        if run_ended is None:  # the worker or the process failed outside the session (which reports its own)
            from visualizer.core.training.events import RunEnded

            run_ended = RunEnded(self._last_step or 0, "failed" if ended.reason == "failed" else "stopped",
                                 ended.message, ended.seconds)
        if self.in_child and self.child_pid is None:  # the process died: warm a fresh one for the next Train
            self.warm()
        self.ended.emit(run_ended)
