"""A trained run loaded back from its folder, and the measurements compression reports on it.

``load_run`` reads what `visualizer run` wrote (experiment.toml and model.safetensors, never a pickle) and rebuilds
the data and the network; ``scores``, ``latencies`` and ``float_bytes`` measure any model against that data.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from visualizer.core import experiment as experiment_file
from visualizer.core.data.sets import Dataset, load_dataset
from visualizer.core.data.tensors import as_inputs, as_targets
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import Experiment
from visualizer.core.model import predict
from visualizer.core.model.losses import LOSSES, LossInfo
from visualizer.core.model.nets import MLP, build_model_for, output_size
from visualizer.core.model.weights import load_weights

WEIGHTS_FILE = "model.safetensors"
EXPERIMENT_FILE = "experiment.toml"


@dataclass(frozen=True)
class Scores:
    """Loss and accuracy (classification) or R² (regression) of a model on one set."""

    loss: float
    metric: float

    def to_dict(self, metric_name: str) -> dict:
        return {"loss": self.loss, metric_name: self.metric}


@dataclass(frozen=True, eq=False)
class LoadedRun:
    """A run folder read back: the resolved experiment, its data, the trained model (eval mode, CPU), its loss."""

    run_dir: Path
    experiment: Experiment
    dataset: Dataset
    model: MLP
    loss_info: LossInfo

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def metric_name(self) -> str:
        """'accuracy' for classification, 'r2' for regression: the key used in reports."""
        return "accuracy" if self.task == "classification" else "r2"

    @property
    def eval_set_name(self) -> str:
        """Which set the reports measure: 'validation', or 'training' when the run holds none out."""
        return "validation" if len(self.dataset.X_val) else "training"

    def eval_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The validation set (the training set if there is none) as tensors."""
        return self.tensors("validation" if len(self.dataset.X_val) else "training")

    def tensors(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        ds = self.dataset
        X, y = (ds.X_val, ds.y_val) if which == "validation" else (ds.X_train, ds.y_train)
        return as_inputs(X), as_targets(y, ds.task)

    def n_outputs(self) -> int:
        return output_size(self.loss_info, self.dataset)


def load_run(run_dir: str | Path, base_dir: str | Path | None = None) -> LoadedRun:
    """Read a folder written by `visualizer run`; ``base_dir`` resolves a CSV data path (default: the folder).

    Raises VisualizerError with a one-line message when the folder, its experiment or its weights are missing or
    do not fit together.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise VisualizerError(f"{run_dir}: no such run folder (give a folder written by `visualizer run`)")
    exp_path, weights_path = run_dir / EXPERIMENT_FILE, run_dir / WEIGHTS_FILE
    if not exp_path.is_file():
        raise VisualizerError(f"{run_dir} has no {EXPERIMENT_FILE}: give a folder written by `visualizer run`")
    if not weights_path.is_file():
        raise VisualizerError(f"{run_dir} has no {WEIGHTS_FILE}: train it with `visualizer run` first")
    exp = experiment_file.load(exp_path)
    dataset = load_dataset(exp.data, Path(base_dir) if base_dir is not None else run_dir)
    exp = experiment_file.resolve(exp, dataset)
    loss = LOSSES[exp.train.loss]
    model = build_model_for(exp.model, dataset, loss)
    weights = load_weights(weights_path)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VisualizerError(f"{weights_path}: the weights do not fit the network of {exp_path.name} "
                              f"({first.rstrip(':')})") from None
    model.eval()
    return LoadedRun(run_dir, exp, dataset, model, loss)


@torch.no_grad()
def scores(model: nn.Module, run: LoadedRun, which: str | None = None) -> Scores:
    """Loss and accuracy (or R²) of ``model`` in evaluation mode on the run's validation set (or ``which``)."""
    X, y = run.eval_tensors() if which is None else run.tensors(which)
    was_training = model.training
    model.eval()
    out = model(X)
    model.train(was_training)
    loss = float(run.loss_info(out, y, run.task))
    if run.task == "classification":
        metric = float((run.loss_info.predict_classes(out) == y).float().mean())
    else:
        metric = predict.r2_score(out[:, 0], y)
    return Scores(loss, metric)


def effective_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state_dict as it acts: a pruned weight under its own name (mask applied), masks and originals left out."""
    out: dict[str, torch.Tensor] = {}
    for key, tensor in model.state_dict().items():
        if key.endswith("_mask"):
            continue
        if key.endswith("_orig"):
            key = key.removesuffix("_orig")
            owner, _, name = key.rpartition(".")
            tensor = getattr(model.get_submodule(owner), name).detach()
        out[key] = tensor
    return out


def float_bytes(model: nn.Module) -> int:
    """Bytes of the model's floating-point parameters and buffers stored densely as float32."""
    return sum(4 * t.numel() for t in effective_state(model).values() if t.is_floating_point())


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(all, not exactly zero) trainable scalars, counting a pruned weight as its masked values."""
    names = {n.removesuffix("_orig") for n, _ in model.named_parameters()}
    state = effective_state(model)
    tensors = [state[n] for n in names]
    return sum(t.numel() for t in tensors), sum(int(torch.count_nonzero(t)) for t in tensors)


@torch.inference_mode()
def latencies(models: Sequence[nn.Module], X: torch.Tensor, repeats: int = 30, inner: int = 5) -> list[float]:
    """Median seconds per forward pass of each model on the batch ``X``, the models alternated repeat by repeat.

    Alternating keeps a slow moment of the machine from favouring one model; each repeat times ``inner`` passes.
    """
    if repeats < 1:
        raise VisualizerError(f"latency repeats: {repeats} is out of range; allowed: 1 or more")
    for m in models:
        m.eval()
        for _ in range(3):  # warm-up: first calls allocate and pick kernels
            m(X)
    times: list[list[float]] = [[] for _ in models]
    clock = time.perf_counter
    for _ in range(repeats):
        for i, m in enumerate(models):
            t0 = clock()
            for _ in range(inner):
                m(X)
            times[i].append((clock() - t0) / inner)
    return [statistics.median(t) for t in times]


def linear_modules(model: nn.Module) -> list[tuple[str, str, nn.Linear]]:
    """(state_dict prefix, display name, module) of each Linear layer in order; names as MLP.linear_layers()."""
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    out = []
    for k, (name, m) in enumerate(found):
        label = "output" if k == len(found) - 1 else f"layer {k + 1}"
        out.append((name, f"{label} ({m.in_features}→{m.out_features})", m))
    return out


def weight_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """Each Linear layer's weights (a pruned weight as masked) as a flat float32 numpy copy, by display name: what
    a worker hands the GUI thread for before/after histograms (never the module itself)."""
    return {name: m.weight.detach().float().reshape(-1).numpy().copy() for _, name, m in linear_modules(model)}
