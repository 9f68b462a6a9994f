"""Sharpness: the top eigenvalue of the training loss's Hessian, and the threshold it meets at the edge of stability.

Gradient descent at learning rate η is stable on a quadratic only while the sharpness λ₁(H) < 2/η; Cohen et al. 2021
("Gradient descent on neural networks typically occurs at the edge of stability") saw full-batch training raise the
sharpness (progressive sharpening) until it reaches 2/η and hover there. Heavy-ball momentum μ moves the threshold to
(2 + 2μ)/η, Nesterov's to (2 + 2μ)/(η(1 + 2μ)).

For Adam, Cohen et al. 2022 ("Adaptive gradient methods at the edge of stability") write the update as
θₜ₊₁ = θₜ − η Pₜ⁻¹ mₜ with mₜ the (un-corrected) first moment and the preconditioner
Pₜ = (1 − β₁ᵗ) · [diag(√(vₜ / (1 − β₂ᵗ))) + ε I] (torch's Adam and AdamW step, bias corrections included), and
track the preconditioned sharpness λ₁(Pₜ⁻¹ H) = λ₁(Pₜ^{-1/2} H Pₜ^{-1/2}) against the threshold
(2 + 2β₁) / ((1 − β₁) η), which is 38/η at β₁ = 0.9. RMSprop is the β₁ = 0 case without bias correction:
P = diag(√v) + ε I, threshold 2/η.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from visualizer.core.lab.hessian import LossHessian, NumpyOperator, numpy_operator, top_eigen
from visualizer.core.lab.measures import PRECONDITIONED, SHARPNESS, THRESHOLD
from visualizer.core.lab.mlp_hessian import mlp_hessian, mlp_layers

#: the most training samples a measurement uses: a fixed, seeded subset of a larger training set
MAX_SAMPLES = 2048


def adam_threshold(lr: float, beta1: float) -> float:
    """(2 + 2β₁) / ((1 − β₁) η): Adam's stability threshold (38/η at β₁ = 0.9)."""
    return (2 + 2 * beta1) / ((1 - beta1) * lr)


def threshold(optimizer: str, lr: float, hypers: dict) -> float:
    """The sharpness at which ``optimizer`` at learning rate ``lr`` stops being stable on a quadratic (NaN when
    no such formula is known, e.g. Adagrad)."""
    if lr <= 0:
        return math.nan
    if optimizer in ("gd", "sgd", "rmsprop"):
        return 2.0 / lr
    if optimizer == "momentum":
        return (2 + 2 * hypers.get("momentum", 0.0)) / lr
    if optimizer == "nesterov":
        mu = hypers.get("momentum", 0.0)
        return (2 + 2 * mu) / (lr * (1 + 2 * mu))
    if optimizer in ("adam", "adamw"):
        return adam_threshold(lr, hypers.get("beta1", 0.9))
    return math.nan


def preconditioner(optimizer: torch.optim.Optimizer, kind: str) -> torch.Tensor | None:
    """The diagonal of Adam's (or RMSprop's) preconditioner P (flat float64, in parameter order; see the module's
    text), None before the first step. In numpy: it is taken in the training loop at every measured step, where
    torch's small-tensor calls cost 90 µs against numpy's 20."""
    parts = []
    key = "exp_avg_sq" if kind == "adam" else "square_avg"
    for group in optimizer.param_groups:
        states = [optimizer.state.get(p, {}) for p in group["params"]]
        if not states or any(key not in state for state in states):
            return None
        sq = np.concatenate([state[key].detach().cpu().numpy().reshape(-1) for state in states]).astype(np.float64)
        if kind == "adam":  # every parameter of a group has taken the same number of steps
            beta1, beta2 = group["betas"]
            t = float(states[0]["step"])
            parts.append((1 - beta1 ** t) * (np.sqrt(sq / (1 - beta2 ** t)) + group["eps"]))
        else:
            parts.append(np.sqrt(sq) + group["eps"])
    return torch.from_numpy(np.concatenate(parts))


def measurement_batch(X: torch.Tensor, y: torch.Tensor, max_samples: int = MAX_SAMPLES, seed: int = 0):
    """The fixed batch the sharpness is measured on: the whole training set, or a seeded subset of ``max_samples``."""
    if len(X) <= max_samples:
        return X, y
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(int(seed)))[:max_samples].to(X.device)
    return X[idx], y[idx]


@dataclass(frozen=True)
class SharpnessReading:
    """One measurement: the (preconditioned) sharpness, its threshold and the Hessian-vector products it took."""

    name: str
    value: float
    threshold: float
    products: int

    def measures(self) -> tuple[tuple[str, str, float], ...]:
        return ((self.name, "", self.value), (THRESHOLD, "", self.threshold))


#: every this many measurements, the warm start is mixed with a random vector (EXPLORE of its norm), so that an
#: eigenvalue that has grown past the tracked one is found (a warm start alone would keep to the old direction)
EXPLORE_EVERY, EXPLORE = 10, 0.3


class SharpnessMeter:
    """Measures the sharpness of one training run again and again, each time warm-started from the previous
    eigenvector: one Hessian-vector product while it is still an eigenvector within ``tol``, a few Lanczos steps
    otherwise, and every EXPLORE_EVERY-th time a search beyond it."""

    def __init__(self, optimizer_name: str, hypers: dict, loss_info, X: torch.Tensor, y: torch.Tensor,
                 max_samples: int = MAX_SAMPLES, tol: float = 1e-4, seed: int = 0) -> None:
        self.optimizer_name, self.hypers, self.loss_info = optimizer_name, dict(hypers), loss_info
        self.X, self.y = measurement_batch(X, y, max_samples, seed)
        self.kind = {"adam": "adam", "adamw": "adam", "rmsprop": "rmsprop"}.get(optimizer_name)
        self.name = PRECONDITIONED if self.kind else SHARPNESS
        self.tol, self.seed = tol, seed
        self._warm: np.ndarray | None = None
        self._count = 0

    def __getstate__(self) -> dict:
        """Pickled (for the lab's measuring process) with its loss by name: a registered loss's functions may be
        local ones, which do not pickle."""
        state = dict(self.__dict__)
        state["loss_info"] = self.loss_info.name
        state.pop("_layers_of", None)  # (the model it was walked for stays here)
        state["X"], state["y"] = self.X.cpu().numpy(), self.y.cpu().numpy()  # (numpy pickles several times faster)
        return state

    def __setstate__(self, state: dict) -> None:
        from visualizer.core.model.losses import LOSSES

        state = dict(state)
        state["loss_info"] = LOSSES[state["loss_info"]]
        state["X"], state["y"] = torch.from_numpy(state["X"]), torch.from_numpy(state["y"])
        self.__dict__.update(state)

    def _layers(self, model: torch.nn.Module):
        """``mlp_layers(model)``, kept for the next measurement of the same model (walking its modules costs about
        0.1 ms, a tenth of a small model's measurement)."""
        kept = self.__dict__.get("_layers_of")
        if kept is None or kept[0] is not model:
            kept = self._layers_of = (model, mlp_layers(model))
        return kept[1]

    def state(self) -> tuple:
        """What the next measurement goes on from: the warm start and the count (the lab's measuring process and
        the training loop hand it to each other)."""
        return self._warm, self._count

    def set_state(self, state: tuple) -> None:
        self._warm, self._count = state

    def scale(self, optimizer: torch.optim.Optimizer | None) -> torch.Tensor | None:
        """P^(-1/2) of an adaptive method's preconditioner now (a copy: the optimizer may step on), None for a
        plain one; raises LookupError before an adaptive method's first step (its preconditioner does not exist)."""
        if self.kind is None:
            return None
        p = preconditioner(optimizer, self.kind) if optimizer is not None else None
        if p is None:
            raise LookupError("no preconditioner before the first step")
        return torch.from_numpy(1.0 / np.sqrt(p.numpy()))

    def measure(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                lr: float) -> SharpnessReading | None:
        """The reading at the model's current weights (None: an adaptive method before its first step, whose
        preconditioner does not exist yet)."""
        try:
            scale = self.scale(optimizer)
        except LookupError:
            return None
        return self.measure_scaled(model, scale, lr)

    def measure_scaled(self, model: torch.nn.Module, scale: torch.Tensor | None, lr: float) -> SharpnessReading:
        """The reading at the model's weights with the preconditioner's ``scale`` (from ``scale()``): ``measure``
        split so that the scale is taken at the step and the products done elsewhere (core.lab.worker)."""
        layers = self._layers(model)
        hvp = ((mlp_hessian(model, self.loss_info, self.X, self.y, layers) if layers is not None else None)
               or LossHessian(model, self.loss_info, self.X, self.y))
        op = numpy_operator(hvp)
        if scale is not None:
            s, product = scale.numpy(), op.numpy_product
            op = NumpyOperator(lambda v: s * product(s * v))
        self._count += 1
        explore = EXPLORE if self._count % EXPLORE_EVERY == 0 else 0.0
        eig = top_eigen(op, hvp.n, warm=self._warm, tol=self.tol, seed=self.seed + self._count, explore=explore)
        self._warm = eig.vector
        return SharpnessReading(self.name, eig.value, threshold(self.optimizer_name, lr, self.hypers),
                                eig.products)
