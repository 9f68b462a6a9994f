"""The lab on a finished run: the sharpness at its snapshots, and the Hessian spectrum at its weights (what
`visualizer sharpness` and `visualizer spectrum` compute from a run file)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import hyper_values
from visualizer.core.lab.hessian import LossHessian, top_eigen
from visualizer.core.lab.sharpness import MAX_SAMPLES, measurement_batch, threshold
from visualizer.core.lab.spectrum import Spectrum, hessian_spectrum

#: the optimizers whose threshold applies to the raw Hessian's sharpness (the adaptive ones precondition it)
PLAIN = ("gd", "sgd", "momentum", "nesterov")


@dataclass(frozen=True)
class SharpnessAlongRun:
    """The sharpness at the chosen snapshots: steps, values, the threshold at each (NaN: none applies) and a note
    (why a threshold is missing)."""

    steps: np.ndarray
    values: np.ndarray
    thresholds: np.ndarray
    note: str = ""

    def measures(self):
        from visualizer.core.lab.measures import SHARPNESS, THRESHOLD, Measures

        return Measures([row for s, v, t in zip(self.steps, self.values, self.thresholds)
                         for row in ((int(s), SHARPNESS, "", float(v)), (int(s), THRESHOLD, "", float(t)))])


def _load(model: torch.nn.Module, flat: np.ndarray) -> None:
    torch.nn.utils.vector_to_parameters(torch.as_tensor(np.asarray(flat), dtype=torch.float32),
                                        list(model.parameters()))


def _training_batch(run, max_samples: int):
    X, y = run.tensors("training")
    return measurement_batch(X, y, max_samples, run.experiment.train.seed)


def sharpness_along_run(reader, run, every: int = 1, max_samples: int = MAX_SAMPLES,
                        progress=None) -> SharpnessAlongRun:
    """The top Hessian eigenvalue at the run's snapshots at least ``every`` steps apart (each warm-started from the
    last), on the training set (or a seeded subset of ``max_samples``). Adam's preconditioner is not in the
    snapshots: for an adaptive optimizer this is the raw Hessian's sharpness, without a threshold."""
    if every < 1:
        raise VisualizerError(f"--every: {every} is out of range; allowed: 1 or more")
    traj = reader.trajectory()
    if not len(traj):
        raise VisualizerError(f"{reader.path}: the run recorded no snapshots, so no weights to measure at")
    keep, last = [], None
    for i, step in enumerate(traj.steps):
        if last is None or step - last >= every:
            keep.append(i)
            last = step
    tr = run.experiment.train
    hypers = hyper_values(tr)
    X, y = _training_batch(run, max_samples)
    history = reader.history()
    model, warm = run.model, None
    steps, values, limits = [], [], []
    for n, i in enumerate(keep):
        _load(model, traj.params[i])
        hvp = LossHessian(model, run.loss_info, X, y)
        eig = top_eigen(hvp, hvp.n, warm=warm, tol=1e-5, seed=tr.seed)
        warm = eig.vector
        j = int(np.searchsorted(history.steps, traj.steps[i]))
        lr = float(history.lr[min(j, len(history) - 1)]) if len(history) else math.nan
        steps.append(int(traj.steps[i]))
        values.append(eig.value)
        limits.append(threshold(tr.optimizer, lr, hypers) if tr.optimizer in PLAIN else math.nan)
        if progress is not None:
            progress(n + 1, len(keep))
    note = "" if tr.optimizer in PLAIN else (
        f"{tr.optimizer} preconditions its steps: this is the raw Hessian's sharpness, which has no threshold; "
        "train with `visualizer run --sharpness-every N` for the preconditioned sharpness and its threshold")
    return SharpnessAlongRun(np.asarray(steps), np.asarray(values), np.asarray(limits), note)


def spectrum_of_run(reader, run, step: int | None = None, k: int = 5, probes: int = 4, lanczos_steps: int = 40,
                    max_samples: int = MAX_SAMPLES) -> tuple[int, Spectrum]:
    """(step, spectrum) of the Hessian at the run's final weights, or at its snapshot at or before ``step``."""
    if step is not None:
        snap = reader.snapshot_at(step)
        if snap is None:
            raise VisualizerError(f"--step {step}: the run has no snapshot at or before it")
        _load(run.model, snap.params)
        at = snap.step
    else:
        at = int(reader.history().steps[-1]) if len(reader.history()) else 0
    X, y = _training_batch(run, max_samples)
    hvp = LossHessian(run.model, run.loss_info, X, y)
    return at, hessian_spectrum(hvp, hvp.n, k=k, probes=probes, steps=lanczos_steps, seed=run.experiment.train.seed)
