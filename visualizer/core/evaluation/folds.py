"""Cross-validation: scikit-learn's splitters, a fresh network per fold, every fold recorded for replay."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn import metrics as skm
from sklearn import model_selection as ms

from visualizer.core import experiment as experiment_file
from visualizer.core.data.sets import RawData, dataset_from_split, raw_arrays
from visualizer.core.data.tensors import as_targets
from visualizer.core.errors import VisualizerError, choices
from visualizer.core.model import predict
from visualizer.core.training.events import RunEnded, Snapshot, StepEvent
from visualizer.core.training.history import History
from visualizer.core.training.session import RunControl, TrainingSession

METHODS = {
    "holdout": "Hold-out: one split, the validation fraction held out",
    "kfold": "k-fold: k folds, each held out once",
    "stratified": "Stratified k-fold: k folds with the class proportions of the whole set",
    "loo": "Leave-one-out: one fold per sample",
    "shuffle": "Repeated random sub-sampling: independent random splits",
}
#: leave-one-out trains one network per sample: above this many samples it needs an explicit confirmation
LOO_CONFIRM_ABOVE = 300
CLASS_METRICS = ("loss", "accuracy", "precision", "recall", "f1")
REGRESSION_METRICS = ("loss", "r2", "mse")
#: what one fold's figures mean with a single validation sample (leave-one-out): its loss, and whether it was right
#: (accuracy 0 or 1) or its squared error; macro precision, recall and F1 (capped at 1/k) and R² need many samples,
#: so leave-one-out reports them pooled over all the folds' predictions
PER_SAMPLE_METRICS = {"classification": ("loss", "accuracy"), "regression": ("loss", "mse")}
#: the settings each method uses: a summary reports these and no others
METHOD_SETTINGS = {"holdout": ("val_fraction", "seed"), "kfold": ("k", "repeats", "seed"),
                   "stratified": ("k", "repeats", "seed"), "loo": (), "shuffle": ("repeats", "val_fraction", "seed")}


@dataclass(frozen=True)
class EvalSpec:
    """How to split: the method, k (folds), repeats (kfold, stratified, shuffle), the held-out fraction
    (holdout, shuffle) and the seed of the shuffling."""

    method: str = "kfold"
    k: int = 5
    repeats: int = 1
    val_fraction: float = 0.2
    seed: int = 0


@dataclass(frozen=True)
class FoldProgress:
    """Where a cross-validation run is: fold (1-based) of n_folds, and the step of that fold's training."""

    fold: int
    n_folds: int
    step: int
    total_steps: int


@dataclass(frozen=True)
class FoldResult:
    """One fold, recorded: its split, its curves, its decision boundary over time, its predictions and metrics."""

    fold: int
    train_idx: np.ndarray
    val_idx: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    eval_steps: np.ndarray
    val_loss: np.ndarray
    train_metric: np.ndarray
    val_metric: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    metrics: dict
    status: str
    boundaries: tuple = field(default=())  # (step, BoundaryGrid) at the recorded snapshots, 2-D classes only
    confusion: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_val(self) -> int:
        return len(self.val_idx)


def _fail(key: str, message: str) -> VisualizerError:
    return VisualizerError(f"{key}: {message}")


def check_request(spec: EvalSpec, y: np.ndarray, task: str, confirm: bool = False) -> None:
    """Refuse splits that cannot work, with one message naming the setting, the value and what is allowed."""
    n = len(y)
    if spec.method not in METHODS:
        raise _fail("method", f"{spec.method!r} is not known; allowed: {choices(METHODS)}")
    if spec.method in ("kfold", "stratified"):
        if not 2 <= spec.k <= 20:
            raise _fail("k", f"{spec.k} is out of range; allowed: 2 to 20")
        if spec.k > n:
            raise _fail("k", f"{spec.k} folds for {n} samples; allowed: at most {n}")
    if spec.method == "stratified":
        if task != "classification":
            raise _fail("method", "'stratified' needs classes; this data set is a regression: use 'kfold'")
        smallest = int(np.bincount(y.astype(np.int64)).min())
        if spec.k > smallest:
            raise _fail("k", f"{spec.k} folds but the smallest class has {smallest} samples; "
                             f"allowed: at most {smallest} for stratified k-fold")
    if spec.method in ("holdout", "shuffle") and not 0.0 < spec.val_fraction <= 0.9:
        raise _fail("val_fraction", f"{spec.val_fraction:g} is out of range; allowed: above 0 up to 0.9")
    if not 1 <= spec.repeats <= 100:
        raise _fail("repeats", f"{spec.repeats} is out of range; allowed: 1 to 100")
    if spec.method == "loo" and n > LOO_CONFIRM_ABOVE and not confirm:
        raise _fail("method", f"leave-one-out on {n} samples trains {n} networks; confirm it (--yes) or use "
                              "'kfold'")


def splitter(spec: EvalSpec, task: str):
    """The scikit-learn splitter for a spec (shuffled with its seed)."""
    if spec.method == "holdout":
        cls = ms.StratifiedShuffleSplit if task == "classification" else ms.ShuffleSplit
        return cls(n_splits=1, test_size=spec.val_fraction, random_state=spec.seed)
    if spec.method == "shuffle":
        return ms.ShuffleSplit(n_splits=spec.repeats, test_size=spec.val_fraction, random_state=spec.seed)
    if spec.method == "loo":
        return ms.LeaveOneOut()
    if spec.method == "stratified":
        if spec.repeats > 1:
            return ms.RepeatedStratifiedKFold(n_splits=spec.k, n_repeats=spec.repeats, random_state=spec.seed)
        return ms.StratifiedKFold(n_splits=spec.k, shuffle=True, random_state=spec.seed)
    if spec.repeats > 1:
        return ms.RepeatedKFold(n_splits=spec.k, n_repeats=spec.repeats, random_state=spec.seed)
    return ms.KFold(n_splits=spec.k, shuffle=True, random_state=spec.seed)


def make_splits(spec: EvalSpec, raw: RawData) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, validation indices) of every fold."""
    return [(tr, va) for tr, va in splitter(spec, raw.task).split(raw.X, raw.y)]


def fold_metrics(task: str, y_true: np.ndarray, y_pred: np.ndarray, loss: float, n_classes: int) -> dict:
    """Loss plus accuracy, macro precision, recall and F1 (classes) or R² and MSE (regression), by sklearn; a
    network that diverged (predictions not finite) has no R² and an MSE that is not finite."""
    if task == "classification":
        labels = list(range(n_classes))
        return {
            "loss": loss,
            "accuracy": float(skm.accuracy_score(y_true, y_pred)),
            "precision": float(skm.precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
            "recall": float(skm.recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
            "f1": float(skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        }
    if not np.isfinite(y_pred).all():
        with np.errstate(all="ignore"):
            mse = float(np.mean((np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64)) ** 2))
        return {"loss": loss, "r2": math.nan, "mse": mse}
    r2 = float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")
    return {"loss": loss, "r2": r2, "mse": float(skm.mean_squared_error(y_true, y_pred))}


def metric_names(task: str) -> tuple[str, ...]:
    return CLASS_METRICS if task == "classification" else REGRESSION_METRICS


def fold_metric_names(task: str, method: str) -> tuple[str, ...]:
    """The metrics that mean something fold by fold: all of them, except for leave-one-out, whose folds hold one
    validation sample each (PER_SAMPLE_METRICS; the others are pooled over the folds)."""
    return PER_SAMPLE_METRICS[task] if method == "loo" else metric_names(task)


def method_settings(spec: EvalSpec) -> dict:
    """The settings of ``spec`` that its method uses (leave-one-out uses none: no k, no seed)."""
    return {name: getattr(spec, name) for name in METHOD_SETTINGS[spec.method]}


def run_folds(exp, spec: EvalSpec, base_dir: Path | None = None, control: RunControl | None = None,
              boundary_resolution: int = 0, confirm: bool = False,
              progress_every: int = 25, threads: int | None = None) -> Iterator[FoldProgress | FoldResult]:
    """Train a fresh network (same experiment, same initial seed) on every fold, yielding progress and results.

    Stop it with ``control.stop()`` (the run then ends after the current step). Raises VisualizerError for
    requests that cannot work, before any training.
    """
    control = control or RunControl()
    raw = raw_arrays(exp.data, base_dir)
    check_request(spec, raw.y, raw.task, confirm)
    splits = make_splits(spec, raw)
    for i, (tr, va) in enumerate(splits, start=1):
        result = None
        for event in _train_fold(exp, raw, i, len(splits), tr, va, base_dir, control, boundary_resolution,
                                 progress_every, threads):
            if isinstance(event, FoldResult):
                result = event
            else:
                yield event
        if result is None:
            return
        yield result


def _train_fold(exp, raw: RawData, i: int, n_folds: int, tr, va, base_dir, control: RunControl,
                boundary_resolution: int, progress_every: int, threads: int | None):
    """Train fold ``i`` (1-based) on its split: progress, then its FoldResult (none when it was stopped)."""
    ds = dataset_from_split(exp.data.name, raw, tr, va)
    fold_exp = experiment_file.resolve(exp, ds)
    steps_per_epoch = -(-len(tr) // (fold_exp.train.batch_size or len(tr)))
    total = steps_per_epoch * fold_exp.train.epochs
    session = TrainingSession(fold_exp, base_dir, control=control, dataset=ds, threads=threads,
                              snapshot_every_steps=max(1, total // 40), snapshot_interval_s=0.0,
                              boundary_resolution=boundary_resolution if _draws_boundary(ds) else 0)
    history, boundaries, ended = History(), [], None
    for event in session.run():
        if isinstance(event, StepEvent):
            history.append(event)
            if event.step % progress_every == 0:
                yield FoldProgress(i, n_folds, event.step, session.total_steps)
        elif isinstance(event, Snapshot) and event.boundary is not None:
            boundaries.append((event.step, event.boundary))
        elif isinstance(event, RunEnded):
            ended = event
    if ended is None or ended.reason == "stopped" or control.stopped:
        return
    if ended.reason == "failed":
        raise VisualizerError(f"fold {i}: {ended.message}")
    yield _result(i, tr, va, ds, session, history, boundaries, ended)


@dataclass(frozen=True)
class FoldTask:
    """One fold to train elsewhere (a worker process, a Ray node): the experiment, the data's folder, the fold's
    number of n_folds and its split, torch threads."""

    experiment: object
    base_dir: str
    fold: int
    n_folds: int
    train_idx: np.ndarray
    val_idx: np.ndarray
    threads: int = 1


def run_fold(task: FoldTask) -> FoldResult:
    """Train one fold as ``run_folds`` does (the backends of core.sweeps run these in parallel)."""
    base = Path(task.base_dir) if task.base_dir else None
    raw = raw_arrays(task.experiment.data, base)
    events = _train_fold(task.experiment, raw, task.fold, task.n_folds, task.train_idx, task.val_idx, base,
                         RunControl(), 0, 10 ** 9, task.threads)
    return [e for e in events if isinstance(e, FoldResult)][0]


def fold_tasks(exp, spec: EvalSpec, base_dir: Path | None = None, confirm: bool = False,
               threads: int = 1) -> list[FoldTask]:
    """The folds of a cross-validation as tasks for a backend; refuses requests that cannot work, as run_folds."""
    raw = raw_arrays(exp.data, base_dir)
    check_request(spec, raw.y, raw.task, confirm)
    splits = make_splits(spec, raw)
    return [FoldTask(exp, str(base_dir or ""), i, len(splits), tr, va, threads)
            for i, (tr, va) in enumerate(splits, start=1)]


def _draws_boundary(ds) -> bool:
    """Whether the data set's predictions are drawn as a decision boundary (the one picture a fold keeps)."""
    return predict.prediction_view(ds.task, ds.n_plane) is predict.PREDICTION_VIEWS["boundary"]


def _result(i, tr, va, ds, session, history: History, boundaries, ended) -> FoldResult:
    X, y = ds.X_val, ds.y_val
    out = predict.outputs(session.model, X)
    loss = float(session.loss(out, as_targets(y, ds.task, out.device), ds.task))
    if ds.task == "classification":
        y_pred = session.loss.predict_classes(out).cpu().numpy()
        confusion = predict.confusion_matrix(y, y_pred, ds.n_classes)
    else:
        y_pred, confusion = out[:, 0].cpu().numpy(), None
    return FoldResult(
        fold=i, train_idx=tr, val_idx=va, steps=history.steps.copy(), train_loss=history.train_loss.copy(),
        eval_steps=history.eval_steps.copy(), val_loss=history.val_loss.copy(),
        train_metric=history.train_metric.copy(), val_metric=history.val_metric.copy(), y_true=y, y_pred=y_pred,
        metrics=fold_metrics(ds.task, y, y_pred, loss, ds.n_classes), status=ended.reason,
        boundaries=tuple(boundaries), confusion=confusion)


def _stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    if not len(a):
        return {"mean": None, "std": None}
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def summarize(results: list[FoldResult], spec: EvalSpec, task: str, n_classes: int) -> dict:
    """Mean and sample standard deviation (ddof=1) over the folds of each metric that means something per fold
    (``fold_metric_names``), and every metric of all the folds' validation predictions pooled (the figures for
    leave-one-out); the method's own settings only; which folds diverged, if any."""
    names = fold_metric_names(task, spec.method)
    y_true = np.concatenate([r.y_true for r in results])
    y_pred = np.concatenate([r.y_pred for r in results])
    losses = np.concatenate([np.full(r.n_val, r.metrics["loss"]) for r in results])
    pooled = fold_metrics(task, y_true, y_pred, float(losses.mean()), n_classes)
    out = {
        "method": spec.method, **method_settings(spec),
        "folds": len(results), "task": task,
        "metrics": {name: _stats([r.metrics[name] for r in results]) for name in names},
        "pooled": pooled,
    }
    diverged = [r.fold for r in results if r.status == "diverged"]
    if diverged:
        out["diverged_folds"] = diverged
    if task == "classification":
        out["confusion_summed"] = sum(r.confusion for r in results).tolist()
    return out


def folds_csv(results: list[FoldResult], task: str, method: str = "kfold") -> str:
    """fold, n_train, n_val, then each metric that means something per fold: one row per fold."""
    names = fold_metric_names(task, method)
    lines = [",".join(("fold", "n_train", "n_val", *names))]
    for r in results:
        lines.append(",".join([str(r.fold), str(r.n_train), str(r.n_val), *(repr(float(r.metrics[m])) for m in names)]))
    return "\n".join(lines) + "\n"


def paired_differences(a: list[FoldResult], b: list[FoldResult], task: str, method: str = "kfold") -> dict:
    """Per-fold differences b − a of each metric (that means something per fold) on the same folds, with their
    mean and standard deviation."""
    if [r.fold for r in a] != [r.fold for r in b] or any(
            not np.array_equal(x.val_idx, y.val_idx) for x, y in zip(a, b)):
        raise VisualizerError("compare: the two runs were not evaluated on the same folds")
    out = {}
    for name in fold_metric_names(task, method):
        diffs = [y.metrics[name] - x.metrics[name] for x, y in zip(a, b)]
        out[name] = {"differences": diffs, **_stats(diffs)}
    return out
