"""Regularisation as its own choice (TensorFlow Playground's none, L1, L2 with a rate): a penalty on the weights
added to the training loss, apart from an optimizer's decoupled weight decay, which changes the update instead.

The penalty covers the weights of the linear (and convolution) layers, the parameters of two or more dimensions:
biases and batch-normalisation scales stay free, as in Playground. Adding a kind is one entry in REGULARIZATIONS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from visualizer.core.errors import ExperimentError, choices, shown
from visualizer.core.model.hyperparams import HyperParam

#: the largest regularisation rate the experiment file accepts (Playground offers up to 10)
MAX_RATE = 10.0
DEFAULT_RATE = 0.001
#: the rate as a setting, for the training panel's field
RATE = HyperParam("regularization_rate", "Rate", DEFAULT_RATE, 0.0, MAX_RATE, True,
                  "λ: how much the penalty weighs against the data loss.")


@dataclass(frozen=True)
class Regularization:
    """A registered penalty: its label, its formula (λ is the rate), and the sum it takes over the weights
    (None for none)."""

    name: str
    label: str
    formula: str
    description: str
    total: Callable[[torch.Tensor], torch.Tensor] | None


REGULARIZATIONS: dict[str, Regularization] = {r.name: r for r in (
    Regularization("none", "None", "", "No penalty: the loss is the data loss.", None),
    Regularization("l1", "L1", "λ·Σ|w|", "The sum of the weights' sizes: drives many weights to exactly zero "
                   "(sparse networks).", lambda w: w.abs().sum()),
    Regularization("l2", "L2", "λ/2·Σw²", "Half the sum of the squared weights: keeps all weights small.",
                   lambda w: 0.5 * (w * w).sum()),
)}


def penalized(model: torch.nn.Module) -> list[torch.Tensor]:
    """The parameters a penalty covers: the layers' weights (two or more dimensions), not biases or scales."""
    return [p for p in model.parameters() if p.dim() >= 2]


def penalty(name: str, rate: float, weights: Iterable[torch.Tensor]) -> torch.Tensor | None:
    """rate x the registered sum over ``weights`` (a tensor that backpropagates), or None for none or rate 0."""
    total = REGULARIZATIONS[name].total
    if total is None or rate == 0:
        return None
    return rate * sum(total(w) for w in weights)


def formula(name: str, rate: float) -> str:
    """The penalty as the loss formula shows it: '+ λ·Σ|w| (λ = 0.001)', or '' for none."""
    reg = REGULARIZATIONS[name]
    return f" + {reg.formula} (λ = {rate:g})" if reg.total is not None else ""


def parse(table: dict) -> dict:
    """``train.regularization`` (a registered name, default none) and ``train.regularization_rate`` (0 to
    MAX_RATE, default DEFAULT_RATE) of an experiment file's [train] table; ExperimentError naming the key."""
    name = table.get("regularization", "none")
    if not isinstance(name, str) or name not in REGULARIZATIONS:
        raise ExperimentError("train.regularization", f"{shown(name)} is not known; allowed: "
                              f"{choices(REGULARIZATIONS)}")
    rate = table.get("regularization_rate", DEFAULT_RATE)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= MAX_RATE:
        raise ExperimentError("train.regularization_rate", f"{shown(rate)} is not allowed; use a number from 0 "
                              f"to {MAX_RATE:g}")
    return {"regularization": name, "regularization_rate": float(rate)}
