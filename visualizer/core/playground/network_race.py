"""Optimizer race on a real network: the same initial weights and the same batches for each optimizer, their
trajectories drawn on one shared plane (PCA of all of them) over the loss surface of that plane.

The plane's origin is the common initial weights θ₀, which every path starts from, so the surface is exact there
(its value at (0, 0) is the initial training loss); its axes are the top two principal directions of all the
snapshots of all the paths stacked and centred on their mean, which spread the paths as widely as any plane can.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from visualizer.core.data.images import dataset_image_shape
from visualizer.core.data.sets import Dataset, load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import CORE_HYPER, Experiment, resolve
from visualizer.core.landscape.planes import PlaneInputs, make_plane, plane_grid
from visualizer.core.landscape.surface import LossSurface, loss_surface
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model, flat_parameters, output_size
from visualizer.core.model.optimizers import OPTIMIZERS, optimizer_info, resolve_hyperparams, with_defaults
from visualizer.core.training.events import RunEnded, Snapshot, StepEvent

MAX_ENTRIES = 6
#: snapshots per path when ``snapshot_every_steps`` is not given
TARGET_SNAPSHOTS = 150
#: the surface's span reaches this fraction of the paths' extent beyond them on every side


@dataclass(frozen=True)
class RaceEntry:
    """One contestant: an optimizer of the registry and its hyper-parameters (missing ones take the registry's
    defaults); ``label`` names it in legends (default: the optimizer's label and learning rate)."""

    optimizer: str
    hyper: Mapping[str, float] = field(default_factory=dict)
    label: str = ""

    def resolved(self) -> dict[str, float]:
        """Every hyper-parameter the optimizer reads, checked against its range (ExperimentError otherwise)."""
        return resolve_hyperparams(self.optimizer, with_defaults(self.optimizer, self.hyper))

    def title(self) -> str:
        if self.label:
            return self.label
        return f"{optimizer_info(self.optimizer).label}, α={self.resolved()['lr']:g}"


@dataclass(frozen=True)
class RaceProgress:
    """Where the race is: ``stage`` 'training' (entry ``entry`` of ``n_entries``, its step of total), 'parallel'
    (``done`` of ``total`` entries trained on another backend, all at once) or 'surface' (grid rows done of
    total)."""

    stage: str
    entry: int
    n_entries: int
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Of the whole race, counting the surface as one more entry."""
        part = self.done / max(self.total, 1)
        if self.stage == "parallel":
            return min(1.0, self.done / (self.n_entries + 1))
        index = self.n_entries if self.stage == "surface" else self.entry
        return min(1.0, (index + part) / (self.n_entries + 1))


@dataclass(frozen=True, eq=False)
class RaceRun:
    """One entry's training: flattened weights at the snapshot steps (T, P), the loss of every step's batch (step
    0: the whole training set before any update), and the per-epoch running training and validation losses."""

    entry: RaceEntry
    label: str
    steps_per_epoch: int
    snapshot_steps: np.ndarray
    trajectory: np.ndarray
    steps: np.ndarray
    losses: np.ndarray
    eval_steps: np.ndarray
    eval_losses: np.ndarray
    val_losses: np.ndarray
    reason: str
    message: str


@dataclass(frozen=True, eq=False)
class RaceResult:
    """The race drawn on the shared plane center + α·d1 + β·d2: per run its path (T_i, 2) and distances from the
    plane (T_i,), the explained variance ratio of d1 and d2, and the training loss on the grid alphas × betas."""

    runs: tuple[RaceRun, ...]
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    explained: np.ndarray
    paths: tuple[np.ndarray, ...]
    distances: tuple[np.ndarray, ...]
    surface: LossSurface

    @property
    def entries(self) -> tuple[RaceEntry, ...]:
        return tuple(run.entry for run in self.runs)

    @property
    def alphas(self) -> np.ndarray:
        return self.surface.alphas

    @property
    def betas(self) -> np.ndarray:
        return self.surface.betas

    @property
    def loss(self) -> np.ndarray:
        return self.surface.loss


def check_entries(entries: Sequence[RaceEntry]) -> None:
    """Raise VisualizerError unless there are 1 to MAX_ENTRIES entries of known optimizers with valid values."""
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise VisualizerError(f"a race needs 1 to {MAX_ENTRIES} optimizers; got {len(entries)}")
    for entry in entries:
        if entry.optimizer not in OPTIMIZERS:
            optimizer_info(entry.optimizer)  # raises with the allowed names
        entry.resolved()


def entry_experiment(experiment: Experiment, entry: RaceEntry) -> Experiment:
    """The experiment with the entry's optimizer and all its hyper-parameters (the entry's over the registry's
    defaults); everything else (schedule, batch size, epochs, seed) unchanged, so that every entry draws the same
    batches."""
    values = entry.resolved()
    core = {k: values.get(k) for k in CORE_HYPER}  # None where the optimizer reads no such value
    extra = tuple(sorted((k, v) for k, v in values.items() if k not in CORE_HYPER))
    return replace(experiment, train=replace(experiment.train, optimizer=entry.optimizer, hyper=extra, **core))


def race_network(experiment: Experiment, entries: Sequence[RaceEntry], base_dir: Path | None = None,
                 control=None, snapshot_every_steps: int | None = None, resolution: int = 41,
                 dataset: Dataset | None = None, backend: str = "serial", workers: int = 0,
                 address: str | None = None) -> Iterator[RaceProgress | RaceRun | RaceResult]:
    """Train a copy of one initial network per entry on the same batches, then build the shared plane; yields
    RaceProgress now and then, a RaceRun per entry as it ends (in the entries' order), and the RaceResult last.
    Stopping ``control`` (train.RunControl) ends the generator at the next step without a result.

    ``backend``: 'serial' trains the entries here one after another (with progress at every few steps);
    'local' trains them in parallel in worker processes and 'ray' as Ray tasks (core.sweeps.backends; progress
    as each entry ends). The runs are the same numbers on every backend: each entry trains from the same initial
    weights with its own seeded batches."""
    from visualizer.core.sweeps.backends import BACKENDS
    from visualizer.core.training.session import RunControl

    check_entries(entries)
    if resolution < 3:
        raise VisualizerError(f"the surface needs a resolution of at least 3; got {resolution}")
    if backend not in BACKENDS:
        raise VisualizerError(f"backend: {backend!r} is not known; allowed: {', '.join(BACKENDS)}")
    control = control or RunControl()
    ds = dataset if dataset is not None else load_dataset(experiment.data, base_dir)
    experiment = resolve(experiment, ds)
    loss_info = LOSSES[experiment.train.loss]
    torch.manual_seed(experiment.train.seed)
    initial = build_model(experiment.model, ds.n_features, output_size(loss_info, ds), dataset_image_shape(ds))
    theta0 = flat_parameters(initial).detach().cpu().numpy().astype(np.float32)
    runs: list[RaceRun] = []
    models: list[torch.nn.Module] = []
    n = len(entries)
    if backend == "serial":
        for index, entry in enumerate(entries):
            trained = yield from _train_entry(experiment, entry, initial, ds, base_dir, control,
                                              snapshot_every_steps, index, n)
            if trained is None:
                return
            runs.append(trained[0])
            models.append(trained[1])
            yield trained[0]
    else:
        trained = yield from _train_elsewhere(experiment, entries, initial, ds, base_dir, control,
                                              snapshot_every_steps, backend, workers, address)
        if trained is None:
            return
        for run, model in trained:
            runs.append(run)
            models.append(model)
    yield from _shared_plane(runs, theta0, models[0], loss_info, ds, resolution, control)


def _train_entry(experiment: Experiment, entry: RaceEntry, initial: torch.nn.Module, ds: Dataset,
                 base_dir: Path | None, control, snapshot_every_steps: int | None, index: int, n: int):
    """Train one entry from a copy of ``initial``, yielding RaceProgress; returns (RaceRun, trained model), or
    None when it was stopped (a failure raises VisualizerError)."""
    from visualizer.core.training.session import TrainingSession

    exp = entry_experiment(experiment, entry)
    session = TrainingSession(exp, base_dir, control=control, dataset=ds, model=copy.deepcopy(initial),
                              snapshot_every_steps=1, snapshot_interval_s=0.0)
    started = session.prepare()
    total = started.total_steps
    every = snapshot_every_steps or max(1, math.ceil(total / TARGET_SNAPSHOTS))
    session.snapshot_every_steps = every
    report = max(1, total // 50)
    snaps, snap_steps, steps, losses, ev_steps, ev_losses, val_losses = [], [], [], [], [], [], []
    ended = None
    yield RaceProgress("training", index, n, 0, total)
    for event in session.run():
        if isinstance(event, StepEvent):
            steps.append(event.step)
            losses.append(event.train_loss)
            if event.eval_train_loss is not None:
                ev_steps.append(event.step)
                ev_losses.append(event.eval_train_loss)
                val_losses.append(np.nan if event.val_loss is None else event.val_loss)
            if event.step % report == 0:
                yield RaceProgress("training", index, n, event.step, total)
        elif isinstance(event, Snapshot):
            if np.all(np.isfinite(event.params)) and (not snap_steps or snap_steps[-1] != event.step):
                snaps.append(event.params.astype(np.float32))
                snap_steps.append(event.step)
        elif isinstance(event, RunEnded):
            ended = event
    if ended is None or ended.reason == "stopped" or control.stopped:
        return None
    if ended.reason == "failed":
        raise VisualizerError(f"{entry.title()}: {ended.message}")
    run = RaceRun(entry, entry.title(), started.steps_per_epoch, np.asarray(snap_steps, np.int64), np.stack(snaps),
                  np.asarray(steps, np.int64), np.asarray(losses, np.float64),
                  np.asarray(ev_steps, np.int64), np.asarray(ev_losses, np.float64),
                  np.asarray(val_losses, np.float64), ended.reason, ended.message)
    return run, session.model


def train_entry_task(job: tuple, task: tuple[int, RaceEntry]) -> tuple:
    """One entry trained in a worker process or a Ray task (module-level: pickled by name): (RaceRun, the trained
    model pickled)."""
    import pickle

    from visualizer.core.training.session import RunControl

    experiment, initial, ds, base_dir, snapshot_every_steps, n = job
    index, entry = task
    steps = _train_entry(experiment, entry, pickle.loads(initial), ds, base_dir, RunControl(), snapshot_every_steps,
                         index, n)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            run, model = done.value
            return run, pickle.dumps(model)


def _train_elsewhere(experiment, entries, initial, ds, base_dir, control, snapshot_every_steps, backend, workers,
                     address):
    """Every entry on ``backend`` at once; yields RaceProgress and each RaceRun in the entries' order as soon as it
    and the ones before it are back; returns the (run, model) pairs, or None when stopped."""
    import pickle
    from functools import partial

    from visualizer.core.sweeps.backends import run_tasks

    n = len(entries)
    # the networks go as plain pickles (bytes): multiprocessing would hand torch tensors over in shared memory,
    # which leaves a thread serving them behind in this process
    fn = partial(train_entry_task, (experiment, pickle.dumps(initial), ds, base_dir, snapshot_every_steps, n))
    done: dict[int, tuple] = {}
    shown = 0
    yield RaceProgress("parallel", 0, n, 0, n)
    for (index, _entry), result in run_tasks(fn, list(enumerate(entries)), backend, workers, address,
                                             work_here=False, stopped=lambda: control.stopped):
        done[index] = result
        yield RaceProgress("parallel", 0, n, len(done), n)
        while shown in done:
            yield done[shown][0]
            shown += 1
    if control.stopped or len(done) < n:
        return None
    return [(done[i][0], pickle.loads(done[i][1])) for i in range(n)]


def _shared_plane(runs: list[RaceRun], theta0: np.ndarray, model: torch.nn.Module, loss_info, ds: Dataset,
                  resolution: int, control) -> Iterator[RaceProgress | RaceResult]:
    """PCA of all snapshots stacked, the plane through θ₀, the paths projected and the surface over them.
    Diverged runs (whose weights blow up) are projected but shape neither the plane nor its span, unless every
    run diverged."""
    basis = [i for i, run in enumerate(runs) if run.reason == "completed"] or list(range(len(runs)))
    stacked = np.concatenate([runs[i].trajectory for i in basis])
    plane = make_plane("pca", PlaneInputs(model, theta0, stacked))
    d1, d2, explained = plane.d1, plane.d2, plane.extra["explained_variance"]
    paths, distances = [], []
    for run in runs:
        points, dist = plane.points(run.trajectory)
        paths.append(points)
        distances.append(dist)
    alphas, betas = plane_grid(plane, np.concatenate([paths[i] for i in basis]), None, resolution)
    model = copy.deepcopy(model).cpu().eval()  # batch norm (if any) uses the first entry's running statistics
    X, y = ds.X_train, ds.y_train
    rows, block = [], max(1, resolution // 10)
    for start in range(0, resolution, block):
        if control.stopped:
            return
        yield RaceProgress("surface", len(runs), len(runs), start, resolution)
        part = loss_surface(model, loss_info, X, y, theta0, d1, d2, alphas, betas[start:start + block])
        rows.append(part.loss)
    surface = LossSurface(alphas, betas, np.concatenate(rows))
    yield RaceProgress("surface", len(runs), len(runs), resolution, resolution)
    yield RaceResult(tuple(runs), theta0, d1, d2, np.asarray(explained), tuple(paths), tuple(distances), surface)


def run_race(experiment: Experiment, entries: Sequence[RaceEntry], base_dir: Path | None = None,
             **kwargs) -> RaceResult:
    """The whole race at once (scripts and tests): the RaceResult of ``race_network``."""
    result = None
    for item in race_network(experiment, entries, base_dir, **kwargs):
        if isinstance(item, RaceResult):
            result = item
    if result is None:
        raise VisualizerError("the race was stopped before it finished")
    return result
