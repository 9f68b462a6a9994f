"""Each loss against its formula, written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from visualizer.core.model.losses import LOSSES, losses_for


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(7, 3, generator=g), torch.tensor([0, 2, 1, 1, 0, 2, 2])


def test_cross_entropy_formula():
    z, y = _data()
    zn = z.double().numpy()
    expected = np.mean([-(zn[i, y[i]] - math.log(np.exp(zn[i]).sum())) for i in range(len(y))])
    assert float(LOSSES["cross_entropy"](z, y, "classification")) == pytest.approx(expected, rel=1e-6)


def test_log_loss_formula():
    z = torch.tensor([[2.0], [-1.0], [0.3], [-4.0]])
    y = torch.tensor([1, 0, 0, 1])
    s = 1 / (1 + np.exp(-z[:, 0].double().numpy()))
    yy = y.double().numpy()
    expected = -np.mean(yy * np.log(s) + (1 - yy) * np.log(1 - s))
    assert float(LOSSES["log_loss"](z, y, "classification")) == pytest.approx(expected, rel=1e-6)
    probs = LOSSES["log_loss"].probabilities(z)
    assert torch.allclose(probs[:, 1], torch.sigmoid(z[:, 0])) and torch.allclose(probs.sum(1), torch.ones(4))
    assert LOSSES["log_loss"].predict_classes(z).tolist() == [1, 0, 1, 0]


PRED = np.array([0.5, -2.0, 3.0, 0.1, 10.0])
TARGET = np.array([0.0, 1.0, 2.5, 0.1, -1.0])
R = PRED - TARGET


@pytest.mark.parametrize("name, expected", [
    ("mse", np.mean(R ** 2)),
    ("l1", np.mean(np.abs(R))),
    ("huber", np.mean([0.5 * r * r if abs(r) <= 1 else abs(r) - 0.5 for r in R])),
    ("log_cosh", np.mean(np.log(np.cosh(R)))),
])
def test_regression_losses_formula(name, expected):
    pred = torch.tensor(PRED, dtype=torch.float64)[:, None]
    value = LOSSES[name](pred, torch.tensor(TARGET, dtype=torch.float64), "regression")
    assert float(value) == pytest.approx(expected, rel=1e-9)


def test_log_cosh_is_stable_for_large_errors():
    value = LOSSES["log_cosh"](torch.tensor([[1000.0]]), torch.tensor([0.0]), "regression")
    assert float(value) == pytest.approx(1000.0 - math.log(2.0), rel=1e-6)


def test_squared_loss_on_classes_uses_probabilities_and_one_hot():
    z, y = _data()
    p = torch.softmax(z, 1).numpy()
    onehot = np.eye(3)[y.numpy()]
    expected = np.mean((p - onehot) ** 2)
    assert float(LOSSES["mse"](z, y, "classification")) == pytest.approx(expected, rel=1e-5)


def test_which_losses_fit():
    assert losses_for("regression", 0) == ["mse", "l1", "huber", "log_cosh"]
    assert "log_loss" in losses_for("classification", 2)
    assert "log_loss" not in losses_for("classification", 3)
    assert LOSSES["log_loss"].output_size("classification", 2) == 1
    assert LOSSES["cross_entropy"].output_size("classification", 5) == 5
    assert LOSSES["mse"].output_size("regression", 0) == 1
