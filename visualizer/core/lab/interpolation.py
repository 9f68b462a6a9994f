"""The loss between two runs: along the straight line θ(t) = θ_A + t·(θ_B − θ_A) from one run's final weights to
another's (linear mode connectivity), and the barrier on it.

The barrier is Entezari et al.'s (2022) definition, the one Frankle et al. (2020) use with the midpoint's endpoints:
the largest excess of the loss on the line over the straight interpolation of the two end losses,
max over t in [0, 1] of L(θ(t)) − ((1 − t)·L(θ_A) + t·L(θ_B)); 0 when the two minima are linearly connected (and
for a run with itself), positive when a ridge separates them. Losses are the data loss of the network in evaluation
mode on the whole training and validation sets (what the run file's final validation loss is), without the
regularisation penalty. Every floating tensor of the networks' state (parameters, and batch normalisation's running
statistics) is interpolated; counters are run A's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: grid points on [0, 1] and how far beyond each end the line is drawn, as a share of it
POINTS, EXTEND = 41, 0.25


@dataclass(frozen=True)
class LinePoint:
    """One point of the line measured: its index among ``total``, t and the two losses."""

    index: int
    total: int
    t: float
    train_loss: float
    val_loss: float | None


@dataclass(frozen=True)
class Interpolation:
    """The losses along the line (``t`` sorted, with 0 and 1 exactly), the barriers (training and validation) and
    where they are, and the distance ‖θ_B − θ_A‖."""

    t: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray | None
    train_barrier: float
    train_barrier_t: float
    val_barrier: float | None
    val_barrier_t: float | None
    distance: float
    run_a: str = ""
    run_b: str = ""

    def end_losses(self, which: str = "train") -> tuple[float, float]:
        """(L(θ_A), L(θ_B)) of the training or validation loss."""
        values = self.train_loss if which == "train" else self.val_loss
        return float(values[self.t == 0.0][0]), float(values[self.t == 1.0][0])

    def summary(self) -> dict:
        """The numbers, for a JSON file and the command's message."""
        return {"run_a": self.run_a, "run_b": self.run_b, "distance": self.distance,
                "train_barrier": self.train_barrier, "train_barrier_t": self.train_barrier_t,
                "val_barrier": self.val_barrier, "val_barrier_t": self.val_barrier_t,
                "train_loss_a": self.end_losses("train")[0], "train_loss_b": self.end_losses("train")[1],
                **({"val_loss_a": self.end_losses("val")[0], "val_loss_b": self.end_losses("val")[1]}
                   if self.val_loss is not None else {}),
                "definition": "max over t in [0, 1] of L(t) - ((1 - t) L(0) + t L(1))"}

    def csv_text(self) -> str:
        """t, train_loss, val_loss (empty without a validation set), one row per point."""
        rows = ["t,train_loss,val_loss"]
        for i, t in enumerate(self.t):
            val = "" if self.val_loss is None else repr(float(self.val_loss[i]))
            rows.append(f"{float(t)!r},{float(self.train_loss[i])!r},{val}")
        return "\n".join(rows) + "\n"


def read_csv(path) -> Interpolation:
    """The loss between two runs saved by ``visualizer barrier --out`` or the window's Export… (barrier.csv), as it
    was: the losses read back exactly, the barriers found on them again; the runs' names and the distance from the
    barrier.json beside it (NaN without one). A file of another form is a VisualizerError saying what is wrong."""
    import json
    from pathlib import Path

    from visualizer.core.errors import VisualizerError
    from visualizer.core.lab.export_csv import read_curve

    path = Path(path)
    columns = read_curve(path, ("t", "train_loss", "val_loss"), "loss between two runs (barrier.csv)",
                         optional=("val_loss",))
    t, train, val = columns["t"], columns["train_loss"], columns["val_loss"]
    if not (np.any(t == 0.0) and np.any(t == 1.0) and np.all(np.diff(t) > 0)):
        raise VisualizerError(f"{path}: its t must increase and hold 0 and 1 (the two runs)")
    info = {}
    beside = path.with_suffix(".json")
    if beside.is_file():
        try:
            info = json.loads(beside.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
    info = info if isinstance(info, dict) else {}
    height, at = barrier(t, train)
    val_height, val_at = barrier(t, val) if val is not None else (None, None)
    distance = info.get("distance")
    return Interpolation(t, train, val, height, at, val_height, val_at,
                         float(distance) if isinstance(distance, (int, float)) else math.nan,
                         str(info.get("run_a") or ""), str(info.get("run_b") or ""))


def line_grid(points: int = POINTS, extend: float = EXTEND) -> np.ndarray:
    """``points`` values of t evenly over [0, 1] (0 and 1 exact), continued at the same spacing up to ``extend``
    beyond each end."""
    from visualizer.core.errors import VisualizerError

    if not 3 <= points <= 1001:
        raise VisualizerError(f"--points: {points} is out of range; allowed: 3 to 1001")
    if not (math.isfinite(extend) and 0 <= extend <= 1):
        raise VisualizerError(f"--extend: {extend:g} is out of range; allowed: 0 to 1")
    step = 1.0 / (points - 1)
    outer = np.arange(1, int(math.floor(extend / step + 1e-9)) + 1) * step
    return np.concatenate([-outer[::-1], np.linspace(0.0, 1.0, points), 1.0 + outer])


def barrier(t: np.ndarray, loss: np.ndarray) -> tuple[float, float]:
    """(height, t) of the barrier of ``loss`` along ``t`` (which holds 0 and 1): the largest L(t) − ((1 − t) L(0) +
    t L(1)) over t in [0, 1]."""
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    la, lb = loss[t == 0.0][0], loss[t == 1.0][0]
    inside = (t >= 0) & (t <= 1)
    excess = loss[inside] - (la + t[inside] * (lb - la))  # (exactly L(0) all along when L(1) = L(0))
    k = int(np.argmax(excess))
    return float(excess[k]), float(t[inside][k])


# -- comparing two runs ---------------------------------------------------------------------------------------
_MODEL_FIELDS = ("hidden", "activation", "batch_norm", "layers")
_DATA_FIELDS = ("name", "samples", "noise", "classes", "path", "target", "val_fraction", "seed", "features")


def check_same_architecture(a, b, name_a: str = "run A", name_b: str = "run B") -> None:
    """Refuse two runs (LoadedRun) whose networks or data differ, naming the first field that does: weights can only
    be mixed between the same network, and the loss is measured on one data set."""
    from visualizer.core.errors import VisualizerError

    for group, names in (("model", _MODEL_FIELDS), ("data", _DATA_FIELDS)):
        spec_a, spec_b = getattr(a.experiment, group), getattr(b.experiment, group)
        for field in names:
            va, vb = getattr(spec_a, field), getattr(spec_b, field)
            if va != vb:
                what = "networks differ" if group == "model" else "data sets differ"
                raise VisualizerError(f"{group}.{field}: {name_a} has {va!r}, {name_b} has {vb!r}; the two runs' "
                                      f"{what}, so their weights cannot be compared on one line")
    if a.experiment.train.loss != b.experiment.train.loss:
        raise VisualizerError(f"train.loss: {name_a} has {a.experiment.train.loss!r}, {name_b} has "
                              f"{b.experiment.train.loss!r}; the line is measured with one loss")
    shapes_a = {k: tuple(v.shape) for k, v in a.model.state_dict().items()}
    shapes_b = {k: tuple(v.shape) for k, v in b.model.state_dict().items()}
    if shapes_a != shapes_b:
        key = next(k for k in sorted(set(shapes_a) | set(shapes_b)) if shapes_a.get(k) != shapes_b.get(k))
        raise VisualizerError(f"model: the weights {key} have shape {shapes_a.get(key)} in {name_a} and "
                              f"{shapes_b.get(key)} in {name_b}; the networks differ")


def state_at(state_a: dict, state_b: dict, t: float) -> dict:
    """The network state at θ_A + t·(θ_B − θ_A): computed in float64 and rounded once, so that t = 0 and t = 1 give
    each run's own weights bit for bit (and a run with itself, its weights at every t)."""
    out = {}
    for key, va in state_a.items():
        vb = state_b[key]
        if va.is_floating_point():
            a64 = va.double()
            out[key] = (a64 + t * (vb.double() - a64)).to(va.dtype)
        else:
            out[key] = va.clone()
    return out


def line_losses(run_a, run_b, points: int = POINTS, extend: float = EXTEND) -> Iterator[LinePoint | Interpolation]:
    """Measure the losses along the line from ``run_a``'s final weights to ``run_b``'s (two LoadedRun of the same
    network and data); yields a LinePoint per t, the Interpolation last. The data set is run A's."""
    import copy

    import torch

    check_same_architecture(run_a, run_b)
    ts = line_grid(points, extend)
    model = copy.deepcopy(run_a.model).eval()
    state_a = {k: v.detach().clone() for k, v in run_a.model.state_dict().items()}
    state_b = {k: v.detach().clone() for k, v in run_b.model.state_dict().items()}
    X, y = run_a.tensors("training")
    has_val = len(run_a.dataset.X_val) > 0
    Xv, yv = run_a.tensors("validation") if has_val else (None, None)
    task, loss = run_a.task, run_a.loss_info
    train, val = [], []
    with torch.no_grad():
        for i, t in enumerate(ts):
            model.load_state_dict(state_at(state_a, state_b, float(t)))
            train.append(float(loss(model(X), y, task)))
            val.append(float(loss(model(Xv), yv, task)) if has_val else None)
            yield LinePoint(i, len(ts), float(t), train[-1], val[-1])
    train_arr = np.asarray(train)
    val_arr = np.asarray(val, float) if has_val else None
    tb, tt = barrier(ts, train_arr)
    vb, vt = barrier(ts, val_arr) if has_val else (None, None)
    flat = [(state_b[k].double() - v.double()).reshape(-1) for k, v in state_a.items()
            if k in dict(run_a.model.named_parameters())]
    distance = float(torch.cat(flat).norm()) if flat else 0.0
    yield Interpolation(ts, train_arr, val_arr, tb, tt, vb, vt, distance, str(run_a.path), str(run_b.path))


def interpolate(path_a: str | Path, path_b: str | Path, points: int = POINTS,
                extend: float = EXTEND) -> Interpolation:
    """The Interpolation between two runs given as run files or their folders."""
    from visualizer.core.runs.loaded import load_run

    result = None
    for event in line_losses(load_run(path_a), load_run(path_b), points, extend):
        result = event
    return result
