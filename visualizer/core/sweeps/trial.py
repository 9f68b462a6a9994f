"""One trial of a sweep: a normal headless run (what `visualizer run` records) in a temporary folder, returned as
the bytes of its files and one row of figures. It runs wherever a backend puts it (this process, a worker process,
a Ray node): nothing is shared but what it returns, so a cluster needs no shared file system."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: a trial's figures, in sweep.csv's order after the swept fields and the seed
MEASURES = ("status", "final_train_loss", "final_val_loss", "final_train_metric", "final_val_metric",
            "best_train_loss", "best_val_loss", "best_val_metric", "steps_to_target", "diverged_step", "steps",
            "wall_s", "message")
#: the statuses of a trial: trained to the end, loss became NaN/inf, could not train (bad data, a crash)
STATUSES = ("done", "diverged", "failed")


@dataclass(frozen=True)
class TrialTask:
    """What a worker needs to run one trial: the trial's id, its experiment (the mapping of an experiment file),
    the experiment file's folder (for a CSV data set), torch threads, the target loss (None: not measured) and
    the data set, loaded once by the sweep for the trials that share it (None: the trial loads it). A worker
    given its data set never imports scikit-learn: about a second of a new worker's start on 2 cores."""

    id: str
    experiment: dict
    base_dir: str = ""
    threads: int = 1
    target_loss: float | None = None
    dataset: object = None


@dataclass(frozen=True)
class TrialOutcome:
    """A finished trial: its id, its figures by MEASURES name, and its run folder's files by name (run.sqlite,
    summary.json, metrics.csv, experiment.toml, model.safetensors) as bytes."""

    id: str
    figures: dict
    files: dict = field(default_factory=dict)
    pid: int = 0  # the process that ran it (a test kills a Ray worker by it)


def _last(values: np.ndarray) -> float | None:
    ok = values[~np.isnan(values)]
    return float(ok[-1]) if len(ok) else None


def _best(values: np.ndarray, lowest: bool) -> float | None:
    ok = values[~np.isnan(values)]
    return None if not len(ok) else float(ok.min() if lowest else ok.max())


def steps_to_target(history, target: float | None) -> int | None:
    """The first evaluation step at which the validation loss (the training loss when the run has no validation
    set) is at or below ``target``; None when it never is or no target is set."""
    if target is None or not len(history.eval_steps):
        return None
    losses = history.val_loss if not np.isnan(history.val_loss).all() else history.eval_train_loss
    hit = np.flatnonzero(losses <= target)
    return int(history.eval_steps[hit[0]]) if len(hit) else None


def figures_of(history, ended, target: float | None) -> dict:
    """The row of a trial from its history and end: final and best losses and metric, steps to the target loss,
    the divergence step."""
    status = {"diverged": "diverged", "failed": "failed"}.get(ended.reason, "done")
    return {
        "status": status,
        "final_train_loss": _last(history.eval_train_loss),
        "final_val_loss": _last(history.val_loss),
        "final_train_metric": _last(history.train_metric),
        "final_val_metric": _last(history.val_metric),
        "best_train_loss": _best(history.eval_train_loss, True),
        "best_val_loss": _best(history.val_loss, True),
        "best_val_metric": _best(history.val_metric, False),
        "steps_to_target": steps_to_target(history, target),
        "diverged_step": int(ended.step) if status == "diverged" else None,
        "steps": int(ended.step),
        "wall_s": round(float(ended.wall_s), 3),
        "message": "" if status == "done" else ended.message,
    }


def failed(task_id: str, message: str) -> TrialOutcome:
    """The outcome of a trial that could not train at all."""
    figures = dict.fromkeys(MEASURES)
    figures.update(status="failed", message=message)
    return TrialOutcome(task_id, figures, {}, os.getpid())


def run_trial(task: TrialTask) -> TrialOutcome:
    """Train one trial headless, as `visualizer run` does, and return its figures and its folder's files."""
    from visualizer.core import experiment as experiment_file
    from visualizer.core.data.sets import load_dataset
    from visualizer.core.errors import VisualizerError
    from visualizer.core.runs.folder import train_to_dir
    from visualizer.core.runs.reader import RunReader

    base = Path(task.base_dir) if task.base_dir else None
    try:
        exp = experiment_file.from_dict(task.experiment)
        dataset = task.dataset if task.dataset is not None else load_dataset(exp.data, base)
        exp = experiment_file.resolve(exp, dataset)
    except VisualizerError as exc:
        return failed(task.id, str(exc))
    try:
        with tempfile.TemporaryDirectory(prefix="visualizer-trial-") as tmp:
            run = train_to_dir(exp, Path(tmp), dataset, base, threads=task.threads)
            with RunReader(run.run_file) as reader:
                history = reader.history()
            figures = figures_of(history, run.ended, task.target_loss)
            files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}
    except Exception as exc:  # (a full temporary disk ...): this trial failed, the sweep goes on
        return failed(task.id, str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}")
    return TrialOutcome(task.id, figures, files, os.getpid())


def finite(value) -> float | None:
    """A figure as a float, None for a blank or non-finite one."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
