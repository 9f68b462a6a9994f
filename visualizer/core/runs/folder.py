"""The folder `visualizer run` writes: metrics.csv, summary.json, experiment.toml, model.safetensors."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.core import experiment as experiment_file
from visualizer.core.model.weights import save_weights
from visualizer.core.training.events import RunEnded, RunStarted
from visualizer.core.training.history import History

METRICS_COLUMNS = ("step", "epoch", "train_loss", "val_loss", "train_acc", "val_acc", "lr", "wall_s")
REGRESSION_COLUMNS = ("train_r2", "val_r2")


def _cell(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def metrics_csv(history: History, task: str) -> str:
    """One row per step; validation and accuracy (or R²) cells are filled on evaluation steps only."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    regression = task == "regression"
    w.writerow(METRICS_COLUMNS + (REGRESSION_COLUMNS if regression else ()))
    eval_index = {int(s): i for i, s in enumerate(history.eval_steps)}
    vl, tm, vm = history.val_loss, history.train_metric, history.val_metric
    for step, epoch, loss, lr, wall in zip(history.steps, history.epochs, history.train_loss,
                                          history.lr, history.wall_s):
        i = eval_index.get(int(step))
        val = _cell(vl[i]) if i is not None else ""
        metric = (_cell(tm[i]), _cell(vm[i])) if i is not None else ("", "")
        acc = ("", "") if regression else metric
        row = [int(step), int(epoch), _cell(loss), val, *acc, _cell(lr), f"{wall:.6f}"]
        if regression:
            row += list(metric)
        w.writerow(row)
    return buf.getvalue()


def _best(steps: np.ndarray, values: np.ndarray, lower_is_better: bool) -> dict | None:
    ok = ~np.isnan(values)
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    pick = idx[np.argmin(values[ok])] if lower_is_better else idx[np.argmax(values[ok])]
    return {"step": int(steps[pick]), "value": float(values[pick])}


def _last(values: np.ndarray) -> float | None:
    ok = values[~np.isnan(values)]
    return float(ok[-1]) if len(ok) else None


def summary(history: History, started: RunStarted, ended: RunEnded, dataset, exp) -> dict:
    """Final and best metrics, sizes, speed and device of a run, as a JSON-ready dict."""
    metric = started.metric
    steps = int(ended.step)
    train_wall = float(history.wall_s[-1] - history.wall_s[0]) if len(history) > 1 else 0.0
    return {
        "title": exp.title,
        "status": ended.reason,
        "message": ended.message,
        "task": started.task,
        "metric": metric,
        "final": {
            "step": steps,
            "train_loss": _last(history.eval_train_loss),
            "val_loss": _last(history.val_loss),
            f"train_{'acc' if metric == 'accuracy' else 'r2'}": _last(history.train_metric),
            f"val_{'acc' if metric == 'accuracy' else 'r2'}": _last(history.val_metric),
            "last_batch_loss": float(history.train_loss[-1]) if len(history) else None,
        },
        "best": {
            "val_loss": _best(history.eval_steps, history.val_loss, True),
            f"val_{'acc' if metric == 'accuracy' else 'r2'}": _best(history.eval_steps, history.val_metric, False),
        },
        "parameters": started.n_params,
        "steps": steps,
        "epochs": int(history.epochs[-1]) if len(history) else 0,
        "steps_per_epoch": started.steps_per_epoch,
        "steps_per_s": steps / train_wall if train_wall > 0 else None,
        "wall_s": ended.wall_s,
        "device": started.device,
        "device_message": started.device_message,
        "data": {
            "name": exp.data.name,
            "n_train": int(len(dataset.X_train)),
            "n_val": int(len(dataset.X_val)),
            "n_features": started.n_features,
            "n_classes": started.n_classes,
            "feature_names": list(started.feature_names),
            "class_names": list(started.class_names),
        },
    }


def write_run_files(out: Path, exp, history: History, started: RunStarted, ended: RunEnded,
                    dataset, model) -> dict:
    """Write metrics.csv, summary.json, experiment.toml and model.safetensors into ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    experiment_file.atomic_write_text(out / "metrics.csv", metrics_csv(history, started.task))
    info = summary(history, started, ended, dataset, exp)
    experiment_file.atomic_write_text(out / "summary.json", json.dumps(info, indent=2) + "\n")
    experiment_file.save(exp, out / "experiment.toml")
    save_weights(model, out / "model.safetensors", metadata={"experiment": experiment_file.dumps(exp, "json")})
    return info


@dataclass
class HeadlessRun:
    """What train_to_dir leaves behind: the session (its model and data), every step, the last snapshot."""

    session: object
    history: History
    started: RunStarted
    ended: RunEnded
    last_snapshot: object | None
    summary: dict | None


def train_to_dir(exp, out: Path | None, dataset=None, base_dir: Path | None = None, on_event=None,
                 **session_options) -> HeadlessRun:
    """Train ``exp`` headless and, when ``out`` is given, write its run folder (as `visualizer run` does).

    ``on_event`` sees every event as it comes (a progress bar); nothing is written when the run fails before its
    first step.
    """
    from visualizer.core.training.events import Snapshot, StepEvent
    from visualizer.core.training.session import TrainingSession

    session = TrainingSession(exp, base_dir, dataset=dataset, **session_options)
    started = session.prepare()
    history, last_snapshot, ended = History(), None, None
    for event in session.run():
        if on_event is not None:
            on_event(event)
        if isinstance(event, StepEvent):
            history.append(event)
        elif isinstance(event, Snapshot):
            last_snapshot = event
        elif isinstance(event, RunEnded):
            ended = event
    summary = None
    if out is not None and len(history):
        summary = write_run_files(out, exp, history, started, ended, session.dataset, session.model)
    return HeadlessRun(session, history, started, ended, last_snapshot, summary)
