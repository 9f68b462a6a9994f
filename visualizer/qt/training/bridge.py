"""Training through the job runner: the session is iterated on the runner's worker thread (which also records the
run file), and the GUI gets each frame's events as a ``Frame``.

Only events cross threads (frozen records of numbers and numpy arrays). The worker never waits for the GUI; the
runner hands everything over once per frame (also an empty frame: the views draw what is left of the last
snapshot), so a fast run costs the event loop one frame's work, not one signal per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from visualizer.qt.jobs import JobEnded, JobRunner

THREAD_NAME = "training-worker"


@dataclass
class Frame:
    """What arrived since the last frame: every step event and every snapshot, in order."""

    steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    started: object | None = None
    ended: object | None = None


@dataclass(frozen=True)
class RunRecorded:
    """Where the run file was written (None: it was not), and why not."""

    path: Path | None
    error: str = ""


def is_step(event) -> bool:
    """The records a slowed-down run spaces out."""
    return type(event).__name__ == "StepEvent"


def training_job(session, record_to: Path | None):
    """Iterate ``session`` and record it into a new run file in ``record_to`` (None: not recorded). The file is
    written here, on the worker (an SQLite connection stays on its thread); a failure to record never stops
    training: it becomes the RunRecorded's error."""

    def job(put, control) -> None:
        recorder = _Recorder(session, record_to)
        for event in session.run():
            put(event)
            recorder.add(event)
        recorder.close()
        put(RunRecorded(recorder.path if not recorder.error else None, recorder.error))

    return job


class _Recorder:
    def __init__(self, session, folder: Path | None) -> None:
        self.session, self.writer, self.path, self.error = session, None, None, ""
        if folder is None:
            return
        from visualizer.core.runs.writer import create_run_file, run_file_name

        exp = session.experiment
        name = run_file_name(exp.title or exp.data.name, time.strftime("%Y%m%d-%H%M%S"))
        try:
            self.writer = create_run_file(folder, name, exp,
                                          base_dir=self.session.base_dir)
        except Exception as exc:  # noqa: BLE001 - any failure: train anyway, say why it was not recorded
            self.error = str(exc)
            return
        self.path = self.writer.path

    def add(self, event) -> None:
        if self.writer is not None:
            self._guard(lambda: self.writer.add(event))

    def close(self) -> None:
        """The run is over: store the weights and close the file."""
        if self.writer is not None and self.session.model is not None:
            self._guard(lambda: self.writer.add_weights(self.session.model))
        if self.writer is not None:
            self._guard(self.writer.close)
            self.writer = None

    def _guard(self, write) -> None:
        try:
            write()
        except Exception as exc:  # noqa: BLE001
            self.error = f"the run file {self.path} could not be written: {exc}"
            writer, self.writer = self.writer, None
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass


class TrainingBridge(QObject):
    """The current run on a JobRunner: ``started`` (RunStarted), ``frame`` (a Frame, every frame) and ``ended``
    (RunEnded, once the worker has finished, its run file written) on the GUI thread."""

    started = Signal(object)
    frame = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # threads=None: the session sets its own torch threads in the worker (core.threads' policy)
        self.runner = JobRunner(self, THREAD_NAME, threads=None, every_frame=True)
        self.runner.batch.connect(self._on_batch)
        self.runner.ended.connect(self._on_job_ended)
        self.session = None  # the last run's session: its model is final once the run has ended
        self.run_file: Path | None = None
        self.record_error = ""
        self._run_ended = None

    @property
    def control(self):
        return self.runner.control

    @property
    def running(self) -> bool:
        """A run was started and has not ended (it may be paused)."""
        return self.runner.running

    @property
    def refusal(self) -> str:
        return self.runner.refusal

    def start(self, session, record_to: Path | None = None) -> bool:
        """Stop any run, then iterate ``session`` (prepared or not) on the worker; with ``record_to`` (a folder)
        the run is recorded into a new run file there. False (``refusal`` says why) while the last run is still
        finishing a step that outlasted the join timeout."""
        self.shutdown()
        self.session, self.run_file, self.record_error, self._run_ended = session, None, "", None
        return self.runner.start("training", training_job(session, record_to), control=session.control,
                                 paced=is_step)

    def set_delay(self, seconds: float) -> None:
        """Slow training to at most one step per ``seconds`` (0 = full speed)."""
        self.runner.set_delay(seconds)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop the run and join its thread; pending events are dropped. True when no thread is left."""
        return self.runner.shutdown(timeout)

    def _on_batch(self, events: list) -> None:
        frame = Frame()
        for event in events:
            kind = type(event).__name__
            if kind == "StepEvent":
                frame.steps.append(event)
            elif kind == "Snapshot":
                frame.snapshots.append(event)
            elif kind == "RunStarted":
                frame.started = event
            elif kind == "RunEnded":
                frame.ended = self._run_ended = event
            elif isinstance(event, RunRecorded):
                self.run_file, self.record_error = event.path, event.error
        if frame.started is not None:
            self.started.emit(frame.started)
        self.frame.emit(frame)

    def _on_job_ended(self, ended: JobEnded) -> None:
        run_ended = self._run_ended
        if run_ended is None:  # the worker failed outside the session (which reports its own failures)
            from visualizer.core.training.events import RunEnded

            run_ended = RunEnded(0, "failed" if ended.reason == "failed" else "stopped", ended.message,
                                 ended.seconds)
        self.ended.emit(run_ended)
