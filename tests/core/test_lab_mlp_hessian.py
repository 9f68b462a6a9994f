"""The R-operator's Hessian-vector products of a plain MLP (core.lab.mlp_hessian) against autograd's double
backward (core.lab.hessian.LossHessian): the same products to float rounding for every activation and both losses
it writes out, and None (autograd then) for every network or loss it does not."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from visualizer.core.lab.hessian import LossHessian, dense_hessian
from visualizer.core.lab.mlp_hessian import mlp_hessian
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import MLP


def _data(regression: bool, n: int = 120, classes: int = 3, dtype=torch.float64):
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(n, 3, generator=gen, dtype=dtype)
    y = torch.randn(n, generator=gen, dtype=dtype) if regression else torch.randint(0, classes, (n,), generator=gen)
    return X, y


@pytest.mark.parametrize("acts, loss", [(("tanh", "tanh"), "cross_entropy"), (("relu", "sigmoid"), "cross_entropy"),
                                        (("identity",), "cross_entropy"), (("tanh", "relu"), "mse"),
                                        (("sigmoid", "identity", "tanh"), "mse"), ((), "cross_entropy")])
def test_the_products_are_autograds_to_float_rounding(acts, loss):
    torch.manual_seed(3)
    regression = loss == "mse"
    model = MLP(3, [7] * len(acts), list(acts), 1 if regression else 3).double()
    X, y = _data(regression)
    mine, reference = mlp_hessian(model, LOSSES[loss], X, y), LossHessian(model, LOSSES[loss], X, y)
    assert mine is not None and mine.n == reference.n
    for seed in range(3):
        v = torch.randn(reference.n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        a, b = reference(v), mine(v)
        assert float((a - b).norm() / a.norm()) < 1e-10
    assert mine.products == 3


def test_a_float32_net_agrees_within_float32_rounding_and_the_dense_hessian_too():
    torch.manual_seed(4)
    model = MLP(3, [16, 16], ["tanh", "tanh"], 2)
    X, y = _data(False, classes=2, dtype=torch.float32)
    loss = LOSSES["cross_entropy"]
    mine, reference = mlp_hessian(model, loss, X, y), LossHessian(model, loss, X, y)
    v = torch.randn(reference.n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert float((reference(v) - mine(v)).norm() / reference(v).norm()) < 1e-5
    H = torch.as_tensor(dense_hessian(model.double(), LOSSES["cross_entropy"], X.double(), y))
    assert float((H @ v - mine(v)).norm() / (H @ v).norm()) < 1e-5


@pytest.mark.parametrize("make", [
    lambda: MLP(3, [8], ["tanh"], 3, batch_norm=True),  # batch norm
    lambda: MLP(3, [8], ["tanh"], 3, dropout=0.1),  # dropout
    lambda: MLP(3, [8], ["leaky_relu"], 3),  # an activation not written out
    lambda: MLP(3, [8], ["gelu"], 3),
    lambda: nn.Sequential(nn.Linear(3, 8), nn.Tanh()),  # ends on an activation
    lambda: nn.Sequential(nn.Linear(3, 8, bias=False), nn.Tanh(), nn.Linear(8, 3)),  # no bias
    lambda: nn.Linear(3, 3),  # not a Sequential
])
def test_any_other_network_is_left_to_autograd(make):
    X, y = _data(False)
    assert mlp_hessian(make(), LOSSES["cross_entropy"], X, y) is None


def test_any_other_loss_or_target_is_left_to_autograd():
    model = MLP(3, [8], ["tanh"], 3)
    X, y = _data(False)
    assert mlp_hessian(model, LOSSES["log_loss"], X, y) is None
    assert mlp_hessian(model, LOSSES["huber"], X, y.double()) is None
    assert mlp_hessian(model, LOSSES["mse"], X, y) is None  # squared error on class probabilities
    assert mlp_hessian(MLP(3, [8], ["tanh"], 2), LOSSES["mse"], *_data(True)) is None  # two regression outputs
