"""What compression measures on a model: loss and accuracy (or R²) on the run's data, size, non-zero parameters,
latency, and the weights of each layer (for the before/after histograms)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from visualizer.core.errors import VisualizerError
from visualizer.core.model import predict

if TYPE_CHECKING:
    from visualizer.core.runs.loaded import LoadedRun


@dataclass(frozen=True)
class Scores:
    """Loss and accuracy (classification) or R² (regression) of a model on one set."""

    loss: float
    metric: float

    def to_dict(self, metric_name: str) -> dict:
        return {"loss": self.loss, metric_name: self.metric}


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


def linear_modules(model: nn.Module) -> list[tuple[str, str, nn.Module]]:
    """(state_dict prefix, display name, module) of each weighted layer (Linear or Conv2d) in order; names as
    Network.linear_layers()."""
    from visualizer.core.model.nets import WEIGHTED, weighted_label

    found = [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHTED)]
    return [(name, weighted_label(k, m, k == len(found) - 1), m) for k, (name, m) in enumerate(found)]


def weight_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """Each Linear layer's weights (a pruned weight as masked) as a flat float32 numpy copy, by display name: what
    a worker hands the GUI thread for before/after histograms (never the module itself)."""
    return {name: m.weight.detach().float().reshape(-1).numpy().copy() for _, name, m in linear_modules(model)}
