"""The optimizer registry against hand-written update rules, plus its metadata and error messages."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from visualizer.core.errors import ExperimentError
from visualizer.core.model.optimizers import (
    OPTIMIZERS,
    ArticleMomentum,
    hyperparam_names,
    make_optimizer,
    resolve_hyperparams,
    set_learning_rate,
)

# --- a fixed linear regression: J(w, c) = ½·mean((Xw + c − y)²) ------------------------------------------------

_RNG = np.random.default_rng(1234)
X = _RNG.normal(size=(16, 3))
Y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * _RNG.normal(size=16)
W0 = np.array([0.2, -0.1, 0.4])
C0 = np.array([-0.3])


def _grads(w: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """∇J by hand, independent of autograd."""
    r = X @ w + c[0] - Y
    return [X.T @ r / len(Y), np.array([r.mean()])]


def _torch_params() -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32)),
            torch.nn.Parameter(torch.tensor(C0, dtype=torch.float32))]


def _torch_step(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter]) -> None:
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    opt.zero_grad()
    loss = 0.5 * ((x @ params[0] + params[1] - y) ** 2).mean()
    loss.backward()
    opt.step()


# --- hand-written references: one step each, state kept in a dict of numpy arrays ---------------------------------


def _ref_step(name: str, hp: dict[str, float], theta: list[np.ndarray], state: dict, t: int) -> list[np.ndarray]:
    """θ after step t (1-based) of optimizer ``name``, written out from each method's definition."""
    lr, wd = hp["lr"], hp["weight_decay"]
    out = []
    for i, (p, g) in enumerate(zip(theta, _grads(*theta), strict=True)):
        s = state.setdefault(i, {})
        if name == "adamw":
            p = p * (1 - lr * wd)  # decoupled: shrink the weights, the gradient is untouched
        else:
            g = g + wd * p
        if name in ("gd", "sgd"):
            p = p - lr * g
        elif name == "momentum":  # torch: v ← μv + g; θ ← θ − αv
            s["v"] = hp["momentum"] * s.get("v", 0.0) + g
            p = p - lr * s["v"]
        elif name == "nesterov":  # torch: v ← μv + g; θ ← θ − α(g + μv)
            s["v"] = hp["momentum"] * s.get("v", 0.0) + g
            p = p - lr * (g + hp["momentum"] * s["v"])
        elif name == "adagrad":
            s["G"] = s.get("G", 0.0) + g * g
            clr = lr / (1 + (t - 1) * hp["lr_decay"])
            p = p - clr * g / (np.sqrt(s["G"]) + hp["eps"])
        elif name == "rmsprop":
            s["v"] = hp["alpha"] * s.get("v", 0.0) + (1 - hp["alpha"]) * g * g
            p = p - lr * g / (np.sqrt(s["v"]) + hp["eps"])
        elif name in ("adam", "adamw"):
            b1, b2 = hp["beta1"], hp["beta2"]
            s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
            s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
            m_hat, v_hat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + hp["eps"])
        elif name == "article_momentum":  # θ ← θ − α(g_t + β g_{t−1}), g_0 = 0
            p = p - lr * (g + hp["momentum"] * s.get("prev", 0.0))
            s["prev"] = g
        else:
            raise AssertionError(f"no reference for {name}")
        out.append(p)
    return out


NON_DEFAULT = {
    "gd": {"lr": 0.05, "weight_decay": 0.01},
    "sgd": {"lr": 0.03, "weight_decay": 0.02},
    "momentum": {"lr": 0.02, "momentum": 0.8, "weight_decay": 0.01},
    "nesterov": {"lr": 0.02, "momentum": 0.7, "weight_decay": 0.01},
    "adagrad": {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "eps": 1e-6},
    "rmsprop": {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01},
    "adam": {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.01},
    "adamw": {"lr": 0.01, "beta1": 0.85, "beta2": 0.995, "eps": 1e-7, "weight_decay": 0.05},
    "article_momentum": {"lr": 0.02, "momentum": 0.6, "weight_decay": 0.01},
}


def _check_against_reference(name: str, steps: int, new_lr_at: int | None = None) -> None:
    hp = resolve_hyperparams(name, NON_DEFAULT[name])
    params = _torch_params()
    opt = make_optimizer(name, params, NON_DEFAULT[name])
    theta, state = [W0.copy(), C0.copy()], {}
    for t in range(1, steps + 1):
        if t == new_lr_at:
            set_learning_rate(opt, hp["lr"] * 3)
            hp = {**hp, "lr": hp["lr"] * 3}
        _torch_step(opt, params)
        theta = _ref_step(name, hp, theta, state, t)
        for actual, expected in zip(params, theta, strict=True):
            np.testing.assert_allclose(actual.detach().numpy(), expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}, step {t}")


def test_registry_names() -> None:
    assert set(OPTIMIZERS) == set(NON_DEFAULT)
    assert set(OPTIMIZERS) == {"gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
                               "article_momentum"}


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_matches_hand_written_update(name: str) -> None:
    _check_against_reference(name, steps=6)


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_set_learning_rate_takes_effect_at_next_step(name: str) -> None:
    _check_against_reference(name, steps=6, new_lr_at=4)


def test_set_learning_rate_sgd_by_hand() -> None:
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = make_optimizer("sgd", [p], {"lr": 0.1})
    p.grad = torch.tensor([1.0, 1.0])
    opt.step()
    set_learning_rate(opt, 0.5)
    assert all(g["lr"] == 0.5 for g in opt.param_groups)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 0.6, -2.0 - 0.6], rtol=1e-6)


# --- metadata ------------------------------------------------------------------------------------------------


def _group_value(group: dict, name: str) -> float:
    if name == "beta1":
        return group["betas"][0]
    if name == "beta2":
        return group["betas"][1]
    return group[name]


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_metadata_is_complete(name: str) -> None:
    info = OPTIMIZERS[name]
    assert info.name == name and info.label
    assert info.rule.strip() and info.description.strip()
    assert info.hyperparams[0].name == "lr"
    assert info.full_batch == (name == "gd")
    names = [hp.name for hp in info.hyperparams]
    assert len(names) == len(set(names))
    for hp in info.hyperparams:
        assert hp.label and hp.tooltip, hp.name
        assert hp.allows(hp.default), f"{name}.{hp.name} default {hp.default} outside {hp.range_text()}"
        assert hp.name in hyperparam_names()
    assert set(NON_DEFAULT[name]) == set(names)  # the reference tests exercise every hyper-parameter


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_metadata_defaults_are_what_the_optimizer_uses(name: str) -> None:
    info = OPTIMIZERS[name]
    lr = info.hyperparams[0].default
    opt = make_optimizer(name, _torch_params(), {"lr": lr})
    group = opt.param_groups[0]
    for hp in info.hyperparams:
        assert _group_value(group, hp.name) == pytest.approx(hp.default), f"{name}.{hp.name}"
    if name in ("sgd", "gd"):
        assert group["momentum"] == 0 and not group["nesterov"]
    if name == "nesterov":
        assert group["nesterov"]
    if name == "adamw":
        assert isinstance(opt, torch.optim.AdamW)


def test_hyperparam_names() -> None:
    assert hyperparam_names() == {"lr", "momentum", "weight_decay", "beta1", "beta2", "eps", "alpha", "lr_decay"}


def test_article_momentum_rule_explains_difference() -> None:
    info = OPTIMIZERS["article_momentum"]
    assert "heavy-ball" in info.rule
    assert info.hyperparams[1].name == "momentum" and info.hyperparams[1].label == "β"


# --- make_optimizer: defaults, unknown keys, errors ---------------------------------------------------------------


def test_unknown_keys_are_ignored_and_defaults_used() -> None:
    opt = make_optimizer("adam", _torch_params(), {"lr": 0.1, "momentum": 0.5, "bogus": 3.0, "alpha": 0.1})
    group = opt.param_groups[0]
    assert group["lr"] == 0.1
    assert group["betas"] == (0.9, 0.999) and group["eps"] == 1e-8 and group["weight_decay"] == 0.0
    assert resolve_hyperparams("sgd", {"lr": 0.1, "beta2": 0.5}) == {"lr": 0.1, "weight_decay": 0.0}


@pytest.mark.parametrize(("name", "values", "key"), [
    ("nadam", {"lr": 0.1}, "train.optimizer"),
    ("adam", {}, "train.lr"),
    ("adam", {"lr": 0.0}, "train.lr"),
    ("adam", {"lr": -1.0}, "train.lr"),
    ("adam", {"lr": math.nan}, "train.lr"),
    ("adam", {"lr": 0.1, "beta2": 1.0}, "train.beta2"),
    ("adam", {"lr": 0.1, "eps": 0.0}, "train.eps"),
    ("rmsprop", {"lr": 0.1, "alpha": 1.5}, "train.alpha"),
    ("nesterov", {"lr": 0.1, "momentum": 0.0}, "train.momentum"),
    ("sgd", {"lr": 0.1, "weight_decay": -0.1}, "train.weight_decay"),
    ("sgd", {"lr": "fast"}, "train.lr"),
])
def test_bad_values_name_the_key(name: str, values: dict, key: str) -> None:
    with pytest.raises(ExperimentError) as err:
        make_optimizer(name, _torch_params(), values)
    assert err.value.key == key
    if key == "train.optimizer":
        assert "'nadam'" in str(err.value) and "'adam'" in str(err.value)


def test_momentum_zero_allowed_where_torch_allows_it() -> None:
    make_optimizer("momentum", _torch_params(), {"lr": 0.1, "momentum": 0.0})
    make_optimizer("article_momentum", _torch_params(), {"lr": 0.1, "momentum": 0.0})


# --- fused Adam ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_is_fused_on_cpu_float32(name: str) -> None:
    model = torch.nn.Linear(3, 2)
    opt = make_optimizer(name, model.parameters(), {"lr": 0.01})  # a generator, read once
    assert opt.param_groups[0]["fused"] is True
    assert len(opt.param_groups[0]["params"]) == 2


def test_adam_falls_back_when_no_fused_kernel() -> None:
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.complex64))
    opt = make_optimizer("adam", (q for q in [p]), {"lr": 0.01})
    assert not opt.param_groups[0]["fused"]
    p.grad = torch.ones(3, dtype=torch.complex64)
    opt.step()  # fused=True would raise here
    assert torch.all(p.real < 0)


def test_adam_accepts_param_groups() -> None:
    a, b = _torch_params()
    opt = make_optimizer("adamw", [{"params": [a]}, {"params": b, "lr": 0.5}], {"lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.5]
    assert opt.param_groups[0]["fused"] is True


# --- ArticleMomentum as a torch optimizer -------------------------------------------------------------------------


def _article_run(opt: ArticleMomentum, params: list[torch.nn.Parameter], steps: int) -> None:
    for _ in range(steps):
        _torch_step(opt, params)


def test_article_momentum_state_dict_round_trip() -> None:
    params = _torch_params()
    opt = ArticleMomentum(params, lr=0.02, momentum=0.6, weight_decay=0.01)
    _article_run(opt, params, 3)
    assert set(opt.state[params[0]]) == {"prev_grad"}

    saved = copy.deepcopy(opt.state_dict())
    copies = [torch.nn.Parameter(p.detach().clone()) for p in params]
    restored = ArticleMomentum(copies, lr=1.0, momentum=0.0)
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["momentum"] == 0.6

    _article_run(opt, params, 3)
    _article_run(restored, copies, 3)
    for a, b in zip(params, copies, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_article_momentum_skips_params_without_grad_and_returns_closure_loss() -> None:
    used, unused = torch.nn.Parameter(torch.tensor([1.0])), torch.nn.Parameter(torch.tensor([5.0]))
    opt = ArticleMomentum([used, unused], lr=0.1, momentum=0.5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (used**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(1.0)
    assert used.item() == pytest.approx(1.0 - 0.1 * 2.0)
    assert unused.item() == 5.0 and unused not in opt.state
    opt.step(closure)  # g₂ = 2·0.8 = 1.6, previous g₁ = 2
    assert used.item() == pytest.approx(0.8 - 0.1 * (1.6 + 0.5 * 2.0))


def test_article_momentum_rejects_negative_values() -> None:
    with pytest.raises(ValueError):
        ArticleMomentum(_torch_params(), lr=-0.1)
