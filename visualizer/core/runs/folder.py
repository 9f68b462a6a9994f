"""The folder `visualizer run` writes: the run file first, then metrics.csv, summary.json, experiment.toml and
model.safetensors, exports derived from it (``write_run_exports`` writes them for any run file)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.core import experiment as experiment_file
from visualizer.core import strict_json
from visualizer.core.errors import VisualizerError
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.schema import RUN_FILE
from visualizer.core.runs.writer import create_run_file
from visualizer.core.training.events import RunEnded, RunStarted, StepEvent
from visualizer.core.training.history import History

METRICS_COLUMNS = ("step", "epoch", "train_loss", "val_loss", "train_acc", "val_acc", "lr", "wall_s")
REGRESSION_COLUMNS = ("train_r2", "val_r2")
#: snapshots a run recorded headless keeps, evenly spaced in steps, for replay, export and the landscape's path
RUN_FILE_SNAPSHOTS = 200


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


def measures_csv(measures) -> str:
    """measures.csv: step, name, layer, value: one row per measure of the lab (sharpness, training health)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "name", "layer", "value"])
    w.writerows((step, name, layer, _cell(value)) for step, name, layer, value in measures.table())
    return buf.getvalue()


def _best(steps: np.ndarray, values: np.ndarray, lower_is_better: bool) -> dict | None:
    ok = ~np.isnan(values)
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    pick = idx[np.argmin(values[ok])] if lower_is_better else idx[np.argmax(values[ok])]
    return {"step": int(steps[pick]), "value": float(values[pick])}


def _last(steps: np.ndarray, values: np.ndarray) -> tuple[float | None, int | None]:
    """The last measured value of a series and the step it was measured at (None, None: never measured)."""
    idx = np.flatnonzero(~np.isnan(values))
    return (float(values[idx[-1]]), int(steps[idx[-1]])) if len(idx) else (None, None)


def _final(history: History, metric: str, ended: RunEnded) -> dict:
    """The last value of each figure, the step each was measured at, and a note when they are older than the
    run's last step (a run that diverged, or stopped, between two evaluations)."""
    name = "acc" if metric == "accuracy" else "r2"
    series = {"train_loss": history.eval_train_loss, "val_loss": history.val_loss,
              f"train_{name}": history.train_metric, f"val_{name}": history.val_metric}
    steps = int(ended.step)
    final: dict = {"step": steps}
    measured: dict = {}
    for key, values in series.items():
        final[key], measured[key] = _last(history.eval_steps, values)
    final["last_batch_loss"] = float(history.train_loss[-1]) if len(history) else None
    measured["last_batch_loss"] = int(history.steps[-1]) if len(history) else None
    final["measured_at_step"] = measured
    evaluated = [s for k, s in measured.items() if k != "last_batch_loss" and s is not None]
    if evaluated and max(evaluated) < steps:
        how = {"diverged": "diverged", "stopped": "was stopped", "failed": "failed"}.get(ended.reason, "ended")
        final["note"] = (f"The run {how} at step {steps}; its train and validation figures are from step "
                         f"{max(evaluated)}, the last evaluation before that.")
    return final


def summary(history: History, started: RunStarted, ended: RunEnded, dataset, exp) -> dict:
    """Final and best metrics, sizes, speed and device of a run, as a dict for ``strict_json.dumps`` (which writes
    a non-finite number, such as a diverged run's last batch loss, as null and names it). ``final`` says at which
    step each figure was measured."""
    metric = started.metric
    steps = int(ended.step)
    train_wall = float(history.wall_s[-1] - history.wall_s[0]) if len(history) > 1 else 0.0
    return {
        "title": exp.title,
        "status": ended.reason,
        "message": ended.message,
        "task": started.task,
        "metric": metric,
        "final": _final(history, metric, ended),
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
        "torch_threads": started.threads or None,  # None: a run file from before threads were recorded
        "threads_note": started.threads_note,
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


def write_run_exports(reader: RunReader, out: Path, dataset=None) -> dict:
    """Write metrics.csv, summary.json, experiment.toml and model.safetensors into ``out``, derived from a run file
    (any run file: `visualizer run`'s, the window's); returns the summary as written (strict JSON). ``dataset``
    (default: the run's, loaded again) gives the summary its sizes. A run that stored no weights exports its last
    snapshot's."""
    from safetensors.torch import save

    ds = reader.dataset() if dataset is None else dataset
    exp, history = reader.experiment, reader.history()
    started, ended = reader.started, reader.ended
    if started is None or not len(history):
        raise VisualizerError(f"{reader.path}: the run recorded no steps; nothing to export")
    if ended is None:  # killed, or still being written: the run so far
        last = int(history.steps[-1])
        ended = RunEnded(last, "unfinished", f"The run file has no end (killed, or still training); exported up "
                         f"to step {last}.", float(history.wall_s[-1]))
    weights = reader.weights()
    if weights is None:
        weights = reader.model(ds).state_dict()
    out.mkdir(parents=True, exist_ok=True)
    experiment_file.atomic_write_text(out / "metrics.csv", metrics_csv(history, started.task))
    measures = reader.measures()
    if len(measures):
        experiment_file.atomic_write_text(out / "measures.csv", measures_csv(measures))
    info = strict_json.clean(summary(history, started, ended, ds, exp))
    experiment_file.atomic_write_text(out / "summary.json", strict_json.dumps(info, indent=2) + "\n")
    experiment_file.save(exp, out / "experiment.toml")
    tensors = {k: v.detach().cpu().contiguous() for k, v in weights.items()}
    payload = save(tensors, metadata={"experiment": experiment_file.dumps(exp, "json")})
    experiment_file.atomic_write_bytes(out / "model.safetensors", payload)
    return info


@dataclass
class HeadlessRun:
    """What train_to_dir leaves behind: the session (its model and data), the run file, how it started and ended,
    and the summary of the folder's files (None when the run failed before its first step)."""

    session: object
    run_file: Path
    started: RunStarted
    ended: RunEnded
    summary: dict | None


def train_to_dir(exp, out: Path, dataset=None, base_dir: Path | None = None, on_event=None,
                 **session_options) -> HeadlessRun:
    """Train ``exp`` headless as `visualizer run` does: record the run file ``out/run.sqlite`` (run-2.sqlite…
    when taken), then derive the folder's files from it. ``base_dir`` is the experiment file's folder (a relative
    CSV path is taken from there); ``on_event`` sees every event as it comes (a progress bar). The folder's files
    are not written when the run fails before its first step; the run file says why.
    """
    from visualizer.core.training.session import TrainingSession

    session_options.setdefault("snapshot_target", RUN_FILE_SNAPSHOTS)
    session = TrainingSession(exp, base_dir, dataset=dataset, **session_options)
    started = session.prepare()
    ended, steps = None, 0
    with create_run_file(out, RUN_FILE, exp, started, base_dir) as writer:
        for event in session.run():
            writer.add(event)
            if on_event is not None:
                on_event(event)
            if isinstance(event, RunEnded):
                ended = event
            steps += isinstance(event, StepEvent)
        writer.add_weights(session.model)
    info = None
    if steps:
        with RunReader(writer.path) as reader:
            info = write_run_exports(reader, out, session.dataset)
    return HeadlessRun(session, writer.path, started, ended, info)
