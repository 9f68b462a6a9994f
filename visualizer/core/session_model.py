"""The application's state, Qt-free and evented: the experiment being edited, its file and whether it is saved, the
data set it loaded, the state of its run and the run's history. Panels edit it (through the window, which asks
before a change resets a run); the main window, its views and the tool windows subscribe to its events.

An event is a list of callbacks, called in order on the thread that changed the model (the GUI thread, in the
window): napari's components follow the same pattern with their EventedModel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from visualizer.core.training.history import History

IDLE, RUNNING, PAUSED, FINISHED = "idle", "running", "paused", "finished"
RUN_STATES = (IDLE, RUNNING, PAUSED, FINISHED)


class Event:
    """Callbacks to call when something changed: ``connect``, ``disconnect``, ``emit(*args)``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> Callable:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        for callback in list(self._callbacks):
            callback(*args)


class SessionEvents:
    """What a subscriber can follow: ``experiment`` (the experiment, and which parts changed), ``file`` (path,
    dirty), ``dataset``, ``run_state``, ``run`` (a run began or ended) and ``history`` (new steps)."""

    def __init__(self) -> None:
        for name in ("experiment", "file", "dataset", "run_state", "run", "history"):
            setattr(self, name, Event(name))


class SessionModel:
    """The one place the window's state lives (rule 3 of the architecture: state in the spec, not in widgets)."""

    def __init__(self) -> None:
        self.events = SessionEvents()
        self._experiment = None
        self._path: Path | None = None
        self._base_dir: Path | None = None
        self._dirty = False
        self._dataset = None
        self._run_state = IDLE
        self.history = History()
        self.started = None  # the RunStarted of the current run
        self.ended = None  # its RunEnded
        self.recorded: Path | None = None  # the run file of the last finished run

    # -- the experiment and its file ----------------------------------------------------------------
    @property
    def experiment(self):
        return self._experiment

    @property
    def path(self) -> Path | None:
        """The file the experiment was opened from or saved to (None: not saved anywhere yet)."""
        return self._path

    @property
    def base_dir(self) -> Path | None:
        """The folder relative data paths are resolved against: the file's, or the one it was opened from."""
        return self._base_dir

    @property
    def dirty(self) -> bool:
        """Edited since it was opened or saved."""
        return self._dirty

    def open(self, experiment, path: Path | None, base_dir: Path | None, dirty: bool = False) -> None:
        """A new experiment: from a file (``path``), from a preset or the last session (``path`` None or given)."""
        self._experiment, self._path, self._base_dir, self._dirty = experiment, path, base_dir, dirty
        self.events.experiment.emit(experiment, ("data", "model", "train"))
        self.events.file.emit(path, dirty)

    def edit(self, **parts) -> None:
        """Replace parts of the experiment (``data=``, ``model=``, ``train=``, ``title=``...): it becomes dirty."""
        self._experiment = replace(self._experiment, **parts)
        self._dirty = True
        self.events.experiment.emit(self._experiment, tuple(parts))
        self.events.file.emit(self._path, True)

    def saved(self, path: Path) -> None:
        """The experiment was written to ``path``: that is its file now, and it is clean."""
        self._path, self._base_dir, self._dirty = Path(path), Path(path).parent, False
        self.events.file.emit(self._path, False)

    def title(self) -> str:
        """What the window's title says: the file's name, else the experiment's title; marked when unsaved."""
        exp = self._experiment
        name = self._path.name if self._path else (exp.title if exp is not None else "") or "untitled"
        return f"{name}{' *' if self._dirty else ''}"

    # -- its data -------------------------------------------------------------------------------------
    @property
    def dataset(self):
        """The data set the experiment's data part loaded (None until it has)."""
        return self._dataset

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self.events.dataset.emit(dataset)

    def resolved(self):
        """The experiment with what depends on the data filled in (the 'auto' loss); VisualizerError if it does not
        fit the data (a loss for another task)."""
        from visualizer.core.experiment import resolve

        return resolve(self._experiment, self._dataset)

    def output_size(self) -> int:
        """Width of the network's last layer for the current data and loss ('auto', or an unknown name, counts as
        the data's default loss)."""
        from visualizer.core.model.losses import LOSSES, default_loss
        from visualizer.core.model.nets import output_size

        ds, loss = self._dataset, self._experiment.train.loss
        if loss == "auto" or loss not in LOSSES:
            loss = default_loss(ds.task, ds.n_classes)
        return output_size(LOSSES[loss], ds)

    # -- its run --------------------------------------------------------------------------------------
    @property
    def run_state(self) -> str:
        return self._run_state

    def set_run_state(self, state: str) -> None:
        if state not in RUN_STATES:
            raise ValueError(f"run state {state!r}; allowed: {', '.join(RUN_STATES)}")
        if state != self._run_state:
            self._run_state = state
            self.events.run_state.emit(state)

    def begin_run(self) -> None:
        """A run starts: its history starts empty."""
        self.history, self.started, self.ended = History(), None, None
        self.events.run.emit("begun")

    def run_started(self, started) -> None:
        self.started = started
        self.events.run.emit("started")

    def add_steps(self, steps) -> None:
        """Step events of the run (a frame's worth at a time)."""
        if steps:
            self.history.extend(steps)
            self.events.history.emit(self.history)

    def run_ended(self, ended, recorded: Path | None) -> None:
        self.ended, self.recorded = ended, recorded
        self.set_run_state(FINISHED)
        self.events.run.emit("ended")

    def reset_run(self) -> None:
        """Forget the run (its recorded file stays where it is)."""
        self.history, self.started, self.ended = History(), None, None
        self.set_run_state(IDLE)
        self.events.run.emit("reset")
