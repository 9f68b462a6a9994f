"""Optimizer registry: each optimizer with its hyper-parameters, update rule as text, and a builder.

Panels build their forms from ``OPTIMIZERS``; the trainer calls ``make_optimizer``. No Qt here.
Build the optimizer after the model is on its device: Adam/AdamW choose the fused kernel from the
parameters' device and dtype at build time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from visualizer.core.errors import ExperimentError, choices
from visualizer.core.model.hyperparams import HyperParam


@dataclass(frozen=True)
class OptimizerInfo:
    """A registered optimizer: metadata for the GUI and a builder for the trainer."""

    name: str
    label: str
    hyperparams: tuple[HyperParam, ...]
    rule: str
    description: str
    full_batch: bool
    # Receives every hyper-parameter of this optimizer, resolved; use make_optimizer for defaults and checks.
    build: Callable[[Iterable[torch.nn.Parameter], Mapping[str, float]], torch.optim.Optimizer]


class ArticleMomentum(torch.optim.Optimizer):
    """Momentum as the survey article writes it: θ ← θ − α(∇J(θ_t) + β∇J(θ_{t−1})).

    Only the previous step's gradient is added (zero on the first step), not an exponential average of all
    past gradients as in heavy-ball momentum. Weight decay, if any, is added to the gradient first (g ← g + λθ)
    and the decayed gradient is what is stored for the next step.
    """

    def __init__(self, params: Any, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter that has a gradient; returns the closure's loss, if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, beta, decay = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("ArticleMomentum does not support sparse gradients")
                grad = p.grad.add(p, alpha=decay) if decay != 0 else p.grad.clone()
                state = self.state[p]
                prev = state.get("prev_grad")
                update = grad if prev is None else grad.add(prev, alpha=beta)
                p.add_(update, alpha=-lr)
                state["prev_grad"] = grad
        return loss


# --- hyper-parameters (shared names across optimizers) -------------------------------------------------------


def _lr(default: float) -> HyperParam:
    return HyperParam("lr", "α (learning rate)", default, 0.0, 10.0, True,
                      "Step size: how far each update moves the weights.", min_inclusive=False)


def _weight_decay(default: float = 0.0, decoupled: bool = False) -> HyperParam:
    how = ("Shrinks the weights by α·λ·θ each step, apart from the gradient (decoupled)." if decoupled
           else "L2 penalty λ: adds λθ to the gradient, pulling weights towards zero.")
    return HyperParam("weight_decay", "λ (weight decay)", default, 0.0, 1.0, True, how)


def _momentum(label: str = "μ (momentum)", nesterov: bool = False, article: bool = False) -> HyperParam:
    tip = ("β: weight of the previous step's gradient added to the current one." if article
           else "μ: how much of the previous velocity is kept each step.")
    # torch refuses Nesterov with zero momentum, so its minimum is exclusive.
    return HyperParam("momentum", label, 0.9, 0.0, 1.0, False, tip,
                      min_inclusive=not nesterov, max_inclusive=False)


def _eps(default: float) -> HyperParam:
    return HyperParam("eps", "ε", default, 0.0, 1.0, True,
                      "Small constant added to the denominator so it never divides by zero.",
                      min_inclusive=False)


_BETA1 = HyperParam("beta1", "β₁", 0.9, 0.0, 1.0, False,
                    "Decay rate of the running average of gradients (first moment).", max_inclusive=False)
_BETA2 = HyperParam("beta2", "β₂", 0.999, 0.0, 1.0, False,
                    "Decay rate of the running average of squared gradients (second moment).",
                    max_inclusive=False)
_ALPHA = HyperParam("alpha", "ρ (smoothing)", 0.99, 0.0, 1.0, False,
                    "Decay rate of the running average of squared gradients (torch's RMSprop alpha).",
                    max_inclusive=False)
_LR_DECAY = HyperParam("lr_decay", "η (lr decay)", 0.0, 0.0, 1.0, False,
                       "Learning-rate decay: step t uses α / (1 + (t−1)·η).")


# --- builders ------------------------------------------------------------------------------------------------


def _sgd(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=v["lr"], weight_decay=v["weight_decay"])


def _heavy_ball(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=v["lr"], momentum=v["momentum"], weight_decay=v["weight_decay"])


def _nesterov(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=v["lr"], momentum=v["momentum"], weight_decay=v["weight_decay"],
                           nesterov=True)


def _adagrad(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=v["lr"], lr_decay=v["lr_decay"], weight_decay=v["weight_decay"],
                               eps=v["eps"])


def _rmsprop(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=v["lr"], alpha=v["alpha"], eps=v["eps"],
                               weight_decay=v["weight_decay"])


def _fused_supported(params: list[Any]) -> bool:
    """Whether torch has a fused Adam kernel for every parameter (torch only checks at the first step)."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
        devices = set(_get_fused_kernels_supported_devices())
    except ImportError:
        devices = {"cpu", "cuda", "mps", "xpu"}
    tensors: list[torch.Tensor] = []
    for item in params:  # plain tensors or param-group dicts
        group = item["params"] if isinstance(item, dict) else item
        tensors.extend([group] if isinstance(group, torch.Tensor) else group)
    return all(torch.is_floating_point(t) and t.device.type in devices for t in tensors)


def _adam_family(cls: type[torch.optim.Optimizer]) -> Callable[..., torch.optim.Optimizer]:
    def build(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
        params = list(params)  # may be a generator: it is read more than once below
        kwargs = {"lr": v["lr"], "betas": (v["beta1"], v["beta2"]), "eps": v["eps"],
                  "weight_decay": v["weight_decay"]}
        if _fused_supported(params):
            try:
                return cls(params, fused=True, **kwargs)
            except (RuntimeError, ValueError):  # a torch build without the fused kernel
                pass
        return cls(params, **kwargs)

    return build


def _article(params: Iterable[torch.nn.Parameter], v: Mapping[str, float]) -> torch.optim.Optimizer:
    return ArticleMomentum(params, lr=v["lr"], momentum=v["momentum"], weight_decay=v["weight_decay"])


# --- the registry --------------------------------------------------------------------------------------------

_DECAY = "g ← ∇J(θ) + λθ\n"

OPTIMIZERS: dict[str, OptimizerInfo] = {info.name: info for info in (
    OptimizerInfo(
        "gd", "Gradient descent (full batch)", (_lr(0.1), _weight_decay()),
        "g ← ∇J(θ) + λθ   (J over the whole training set)\nθ ← θ − α g",
        "Plain gradient descent: every step uses the gradient of the whole training set.",
        True, _sgd),
    OptimizerInfo(
        "sgd", "SGD", (_lr(0.01), _weight_decay()),
        "g ← ∇J_batch(θ) + λθ   (J on one mini-batch)\nθ ← θ − α g",
        "Stochastic gradient descent: each step follows the gradient of one mini-batch.",
        False, _sgd),
    OptimizerInfo(
        "momentum", "Momentum", (_lr(0.01), _momentum(), _weight_decay()),
        _DECAY + "v ← μv + g\nθ ← θ − α v",
        "Heavy-ball momentum (torch's form): the step follows a velocity that accumulates past gradients.",
        False, _heavy_ball),
    OptimizerInfo(
        "nesterov", "Nesterov momentum", (_lr(0.01), _momentum(nesterov=True), _weight_decay()),
        _DECAY + "v ← μv + g\nθ ← θ − α (g + μv)",
        "Nesterov momentum (torch's form): looks one velocity step ahead before applying the gradient.",
        False, _nesterov),
    OptimizerInfo(
        "adagrad", "Adagrad", (_lr(0.01), _LR_DECAY, _weight_decay(), _eps(1e-10)),
        _DECAY + "G ← G + g²\nαₜ ← α / (1 + (t−1)·η)\nθ ← θ − αₜ g / (√G + ε)",
        "Adagrad: each weight's step shrinks with the sum of its squared past gradients.",
        False, _adagrad),
    OptimizerInfo(
        "rmsprop", "RMSprop", (_lr(0.01), _ALPHA, _eps(1e-8), _weight_decay()),
        _DECAY + "v ← ρv + (1−ρ)g²\nθ ← θ − α g / (√v + ε)",
        "RMSprop: divides each step by a running average of the squared gradients.",
        False, _rmsprop),
    OptimizerInfo(
        "adam", "Adam", (_lr(0.001), _BETA1, _BETA2, _eps(1e-8), _weight_decay()),
        _DECAY + "m ← β₁m + (1−β₁)g\nv ← β₂v + (1−β₂)g²\nm̂ ← m/(1−β₁ᵗ),  v̂ ← v/(1−β₂ᵗ)\n"
        "θ ← θ − α m̂ / (√v̂ + ε)",
        "Adam: momentum on the gradient and on its square, with bias correction for the first steps.",
        False, _adam_family(torch.optim.Adam)),
    OptimizerInfo(
        "adamw", "AdamW", (_lr(0.001), _BETA1, _BETA2, _eps(1e-8), _weight_decay(0.01, decoupled=True)),
        "θ ← θ − αλθ   (decoupled weight decay)\ng ← ∇J(θ)\nm ← β₁m + (1−β₁)g\nv ← β₂v + (1−β₂)g²\n"
        "m̂ ← m/(1−β₁ᵗ),  v̂ ← v/(1−β₂ᵗ)\nθ ← θ − α m̂ / (√v̂ + ε)",
        "AdamW: Adam with weight decay applied to the weights directly instead of through the gradient.",
        False, _adam_family(torch.optim.AdamW)),
    OptimizerInfo(
        "article_momentum", "Momentum (article)", (_lr(0.01), _momentum("β", article=True), _weight_decay()),
        "gₜ ← ∇J(θₜ) + λθₜ\nθₜ₊₁ ← θₜ − α (gₜ + β gₜ₋₁)   (gₜ₋₁ = 0 on the first step)\n"
        "Adds only the last gradient, not an exponential average of all past ones as heavy-ball momentum does.",
        "Momentum as the survey article writes it: the step adds β times the previous gradient only.",
        False, _article),
)}


def hyperparam_names() -> set[str]:
    """Every hyper-parameter name any optimizer reads, for validating experiment keys."""
    return {hp.name for info in OPTIMIZERS.values() for hp in info.hyperparams}


def optimizer_info(name: str) -> OptimizerInfo:
    """The registry entry for ``name``; an unknown name raises ExperimentError on ``train.optimizer``."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ExperimentError(
            "train.optimizer", f"unknown optimizer '{name}'; choose {choices(OPTIMIZERS)}") from None


def with_defaults(name: str, given: Mapping[str, float]) -> dict[str, float]:
    """Every hyper-parameter optimizer ``name`` reads: the given values over its registry defaults (not checked).

    The one place a value nobody chose gets its default: training, the panels, the race and the playground ask it.
    """
    return {hp.name: given.get(hp.name, hp.default) for hp in optimizer_info(name).hyperparams}


def resolve_hyperparams(name: str, values: Mapping[str, float]) -> dict[str, float]:
    """The values ``name`` will use: given ones checked against their range, missing ones defaulted.

    ``lr`` is required; keys the optimizer does not read are ignored. Errors name the key, e.g. ``train.beta2``.
    """
    info = optimizer_info(name)
    if "lr" not in values:
        raise ExperimentError("train.lr", "a learning rate is required")
    resolved: dict[str, float] = {}
    for hp in info.hyperparams:
        raw = values.get(hp.name, hp.default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ExperimentError(f"train.{hp.name}", f"expected a number, got {raw!r}") from None
        if not hp.allows(value):
            raise ExperimentError(
                f"train.{hp.name}", f"{value:g} is outside {hp.range_text()} for {info.label}")
        resolved[hp.name] = value
    return resolved


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter],
                   values: Mapping[str, float]) -> torch.optim.Optimizer:
    """Build optimizer ``name`` over ``params`` from hyper-parameter values by name (see resolve_hyperparams)."""
    return optimizer_info(name).build(params, resolve_hyperparams(name, values))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every param group; it takes effect at the next ``step()``."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def warm_up() -> None:
    """Build one optimizer so that torch's one-time imports (~0.8 s, torch._dynamo) happen now, not mid-run."""
    param = torch.nn.Parameter(torch.zeros(1))
    make_optimizer("adam", [param], {"lr": 1e-3})
