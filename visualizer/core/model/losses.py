"""Loss registry: each loss with the tasks it fits, its formula as text, and how outputs become predictions."""

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


@dataclass(frozen=True)
class LossInfo:
    name: str
    label: str
    formula: str
    description: str
    tasks: frozenset[str]
    #: elementwise loss between a prediction and a target of the same shape (regression-style losses),
    #: or None for the losses that read logits and class indices themselves
    pointwise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def fits(self, kind: str) -> bool:
        return kind in self.tasks

    def output_size(self, task: str, n_classes: int) -> int:
        """Width of the network's last layer for this loss on this task."""
        if task == "regression" or self.name == "log_loss":
            return 1
        return n_classes

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
        """Mean loss of a batch: outputs are the network's raw outputs, targets class indices or values."""
        if self.name == "cross_entropy":
            return F.cross_entropy(outputs, targets)
        if self.name == "log_loss":
            return F.binary_cross_entropy_with_logits(outputs[:, 0], targets.to(outputs.dtype))
        assert self.pointwise is not None
        if task == "regression":
            return self.pointwise(outputs[:, 0], targets)
        # classification with a regression-style loss: softmax probabilities against one-hot targets
        probs = torch.softmax(outputs, dim=1)
        onehot = F.one_hot(targets, outputs.shape[1]).to(outputs.dtype)
        return self.pointwise(probs, onehot)

    def probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities (n, k) from raw outputs; for log loss the single logit gives two columns."""
        if self.name == "log_loss":
            p1 = torch.sigmoid(outputs[:, 0])
            return torch.stack([1.0 - p1, p1], dim=1)
        return torch.softmax(outputs, dim=1)

    def predict_classes(self, outputs: torch.Tensor) -> torch.Tensor:
        """Predicted class indices from raw outputs."""
        if self.name == "log_loss":
            return (outputs[:, 0] > 0).long()
        return outputs.argmax(dim=1)


_CLASSES = frozenset({BINARY, MULTICLASS})
_ANY = frozenset({BINARY, MULTICLASS, REGRESSION})

LOSSES: dict[str, LossInfo] = {
    info.name: info
    for info in (
        LossInfo(
            "cross_entropy", "Cross-entropy", "L = −(1/n) Σᵢ log softmax(zᵢ)[yᵢ]",
            "Multi-class cross-entropy from the logits: the negative log-probability of the true class.",
            _CLASSES,
        ),
        LossInfo(
            "log_loss", "Log loss (binary)", "L = −(1/n) Σᵢ [yᵢ log σ(zᵢ) + (1−yᵢ) log(1−σ(zᵢ))]",
            "Binary cross-entropy from one logit per sample; two-class data sets only.",
            frozenset({BINARY}),
        ),
        LossInfo(
            "mse", "Mean squared error", "L = (1/n) Σᵢ (ŷᵢ − yᵢ)²",
            "Squared error; on classes it compares softmax probabilities with one-hot targets.",
            _ANY, F.mse_loss,
        ),
        LossInfo(
            "l1", "Mean absolute error (L1)", "L = (1/n) Σᵢ |ŷᵢ − yᵢ|",
            "Absolute error: less sensitive to outliers than squared error.",
            _ANY, F.l1_loss,
        ),
        LossInfo(
            "huber", "Huber (δ = 1)", "L = (1/n) Σᵢ { ½r² if |r| ≤ 1; |r| − ½ otherwise },  r = ŷᵢ − yᵢ",
            "Squared near zero, absolute far away: robust regression loss.",
            _ANY, _huber,
        ),
        LossInfo(
            "log_cosh", "Log-cosh", "L = (1/n) Σᵢ log cosh(ŷᵢ − yᵢ)",
            "Smooth like squared error near zero, grows like absolute error far away.",
            _ANY, _log_cosh,
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
