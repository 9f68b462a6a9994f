"""Loss registry: each loss with the tasks it fits, its formula as text, and what it does as functions: the width of
the network's output, the batch loss, its batched form for loss surfaces, probabilities and predicted classes.

Adding a loss is one entry in ``LOSSES``; nothing else in the package asks a loss for its name."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


def task_kind(task: str, n_classes: int) -> str:
    """The loss-compatibility kind of a data set: 'binary', 'multiclass' or 'regression'."""
    if task == "regression":
        return REGRESSION
    return BINARY if n_classes == 2 else MULTICLASS


def _log_cosh(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = pred - target
    # log(cosh(x)) = x + softplus(-2x) - log 2, stable for large |x|
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean()


def _huber(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.huber_loss(pred, target, delta=1.0)


# --- what a loss does, as functions its registry entry carries ------------------------------------------------
BatchLoss = Callable[[torch.Tensor, torch.Tensor, str], torch.Tensor]
# Outputs are the network's raw outputs (n, k) or, on a loss surface, one set per grid point (g, n, k); targets
# are class indices (int64) or values (float32). Probabilities and predictions work on any leading dimensions.


def _one_per_class(task: str, n_classes: int) -> int:
    return 1 if task == "regression" else n_classes


def _one_logit(task: str, n_classes: int) -> int:
    return 1


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    return F.cross_entropy(outputs, targets)


def _cross_entropy_grid(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    lse = torch.logsumexp(outputs, dim=2)
    picked = outputs.gather(2, targets.view(1, -1, 1).expand(outputs.shape[0], -1, 1)).squeeze(2)
    return (lse - picked).mean(dim=1)


def _log_loss(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(outputs[:, 0], targets.to(outputs.dtype))


def _log_loss_grid(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    z = outputs[:, :, 0]
    return F.binary_cross_entropy_with_logits(z, targets.to(z.dtype).expand_as(z), reduction="none").mean(dim=1)


def _cross_entropy_curvature(outputs, targets, task: str):
    """∂L/∂z and z-space products v ↦ ∂²L/∂z² v of the mean cross-entropy of numpy logits (n, k): (p − onehot)/n
    and p ⊙ (v − Σ p v)/n, p = softmax(z)."""
    import numpy as np

    n, k = outputs.shape
    ones = np.ones((k, 1), outputs.dtype)  # (row sums as a product with ones: numpy's sums of short rows are slow)
    top = outputs[:, :1]
    for j in range(1, k):  # (the same for short rows)
        top = np.maximum(top, outputs[:, j:j + 1])
    e = np.exp(outputs - top)
    p = e / (e @ ones)
    grad = p.copy()
    grad[np.arange(n), np.asarray(targets).astype(np.int64)] -= 1.0
    p_n = p / n
    return grad / n, lambda v: p_n * (v - (p * v) @ ones)


def _squared_error_curvature(outputs, targets, task: str):
    """The same for the mean squared error of one regression output: 2(z − y)/n and 2v/n; None on classes (there
    it compares softmax probabilities, not written out)."""
    if task != "regression" or outputs.shape[1] != 1:
        return None
    n = len(outputs)
    return 2.0 * (outputs - targets.reshape(-1, 1).astype(outputs.dtype)) / n, lambda v: 2.0 * v / n


def _softmax(outputs: torch.Tensor) -> torch.Tensor:
    return torch.softmax(outputs, dim=-1)


def _argmax(outputs: torch.Tensor) -> torch.Tensor:
    return outputs.argmax(dim=-1)


def _sigmoid_two_columns(outputs: torch.Tensor) -> torch.Tensor:
    p1 = torch.sigmoid(outputs[..., 0])
    return torch.stack([1.0 - p1, p1], dim=-1)


def _positive_logit(outputs: torch.Tensor) -> torch.Tensor:
    return (outputs[..., 0] > 0).long()


def elementwise(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> BatchLoss:
    """A batch loss from an elementwise one (prediction and target of the same shape): on values for regression,
    on softmax probabilities against one-hot targets for classes."""
    def batch_loss(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
        if task == "regression":
            return fn(outputs[:, 0], targets)
        probs = torch.softmax(outputs, dim=1)
        onehot = F.one_hot(targets, outputs.shape[1]).to(outputs.dtype)
        return fn(probs, onehot)

    return batch_loss


def each_grid_point(batch_loss: BatchLoss) -> BatchLoss:
    """The grid form of a batch loss: the batch loss at each grid point in turn (cheap next to the forward pass)."""
    def grid_loss(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
        return torch.stack([batch_loss(out, targets, task) for out in outputs])

    return grid_loss


@dataclass(frozen=True)
class LossInfo:
    """A registered loss: its label, formula and the tasks it fits, and as functions what it does: the width of
    the network's last layer, the mean loss of a batch, the same for many weight settings at once (a loss
    surface's grid points), and how raw outputs become class probabilities and predicted classes."""

    name: str
    label: str
    formula: str
    description: str
    tasks: frozenset[str]
    #: (task, n_classes) -> width of the network's last layer
    output_size: Callable[[str, int], int]
    #: (outputs (n, k), targets, task) -> mean loss of the batch
    batch_loss: BatchLoss
    #: (outputs (g, n, k), targets, task) -> (g,) mean loss at each grid point; default: batch_loss per point
    grid_loss: BatchLoss | None = None
    #: outputs (..., k) -> class probabilities (..., classes)
    probabilities: Callable[[torch.Tensor], torch.Tensor] = _softmax
    #: outputs (..., k) -> predicted class indices (...)
    predict_classes: Callable[[torch.Tensor], torch.Tensor] = _argmax
    #: (numpy outputs (n, k), numpy targets, task) -> (∂L/∂z, v ↦ ∂²L/∂z² v), or None where not written out: what
    #: the lab's R-operator products of a plain MLP need (core.lab.mlp_hessian); None: autograd's products
    output_curvature: Callable | None = None

    def __post_init__(self) -> None:
        if self.grid_loss is None:
            object.__setattr__(self, "grid_loss", each_grid_point(self.batch_loss))

    def fits(self, kind: str) -> bool:
        return kind in self.tasks

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
        """Mean loss of a batch: outputs are the network's raw outputs, targets class indices or values."""
        return self.batch_loss(outputs, targets, task)


_CLASSES = frozenset({BINARY, MULTICLASS})
_ANY = frozenset({BINARY, MULTICLASS, REGRESSION})


def _elementwise_loss(name: str, label: str, formula: str, description: str,
                      fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], output_curvature=None) -> LossInfo:
    return LossInfo(name, label, formula, description, _ANY, _one_per_class, elementwise(fn),
                    output_curvature=output_curvature)


LOSSES: dict[str, LossInfo] = {
    info.name: info
    for info in (
        LossInfo(
            "cross_entropy", "Cross-entropy", "L = −(1/n) Σᵢ log softmax(zᵢ)[yᵢ]",
            "Multi-class cross-entropy from the logits: the negative log-probability of the true class.",
            _CLASSES, _one_per_class, _cross_entropy, _cross_entropy_grid,
            output_curvature=_cross_entropy_curvature,
        ),
        LossInfo(
            "log_loss", "Log loss (binary)", "L = −(1/n) Σᵢ [yᵢ log σ(zᵢ) + (1−yᵢ) log(1−σ(zᵢ))]",
            "Binary cross-entropy from one logit per sample; two-class data sets only.",
            frozenset({BINARY}), _one_logit, _log_loss, _log_loss_grid, _sigmoid_two_columns, _positive_logit,
        ),
        _elementwise_loss(
            "mse", "Mean squared error", "L = (1/n) Σᵢ (ŷᵢ − yᵢ)²",
            "Squared error; on classes it compares softmax probabilities with one-hot targets.", F.mse_loss,
            output_curvature=_squared_error_curvature,
        ),
        _elementwise_loss(
            "l1", "Mean absolute error (L1)", "L = (1/n) Σᵢ |ŷᵢ − yᵢ|",
            "Absolute error: less sensitive to outliers than squared error.", F.l1_loss,
        ),
        _elementwise_loss(
            "huber", "Huber (δ = 1)", "L = (1/n) Σᵢ { ½r² if |r| ≤ 1; |r| − ½ otherwise },  r = ŷᵢ − yᵢ",
            "Squared near zero, absolute far away: robust regression loss.", _huber,
        ),
        _elementwise_loss(
            "log_cosh", "Log-cosh", "L = (1/n) Σᵢ log cosh(ŷᵢ − yᵢ)",
            "Smooth like squared error near zero, grows like absolute error far away.", _log_cosh,
        ),
    )
}


def losses_for(task: str, n_classes: int) -> list[str]:
    """Names of the losses that fit a data set, in registry order (for the GUI's loss list)."""
    kind = task_kind(task, n_classes)
    return [name for name, info in LOSSES.items() if info.fits(kind)]


def default_loss(task: str, n_classes: int) -> str:
    """The loss a new experiment on this data set starts with."""
    return "mse" if task == "regression" else "cross_entropy"
