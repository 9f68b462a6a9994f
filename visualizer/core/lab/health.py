"""Training health per weighted layer: gradient norm, weight norm, update-to-weight ratio and the share of units
that no longer respond (dead ReLUs, saturated tanh or sigmoid units), measured on a fixed batch.

The update-to-weight ratio ‖Δθ‖/‖θ‖ of a layer (its weights and bias) is the step just taken against the weights
it changed; around 1e-3 is the usual healthy value (Karpathy's rule of thumb), far below it a layer barely learns,
far above it the step is large for the weights. A ReLU unit is dead when it outputs 0 for every sample of the batch;
a tanh unit's output is saturated when |tanh| > 0.99, a sigmoid's when it is below 0.01 or above 0.99 (there the
gradient through the unit is under 2 % of its largest).
"""

from __future__ import annotations

import torch
from torch import nn

from visualizer.core.lab.measures import DEAD_RELU, GRAD_NORM, SATURATED, UPDATE_RATIO, WEIGHT_NORM

#: the samples the units are looked at on (the first of the training set)
HEALTH_SAMPLES = 256
HEALTH_NAMES = (GRAD_NORM, WEIGHT_NORM, UPDATE_RATIO, DEAD_RELU, SATURATED)


def _inactive(kind: type, out: torch.Tensor) -> tuple[str, float]:
    """(measure name, share) of one activation's output (samples, units...)."""
    if kind is nn.ReLU:
        units = out.reshape(len(out), -1)
        return DEAD_RELU, float((units <= 0).all(dim=0).float().mean())
    if kind is nn.Tanh:
        return SATURATED, float((out.abs() > 0.99).float().mean())
    return SATURATED, float(((out < 0.01) | (out > 0.99)).float().mean())


class HealthMeter:
    """Per-layer health of a Sequential network (``model.linear_layers()``); ``before_step()`` copies the weights
    just before the optimizer's step and ``measure()`` reads the rest just after it."""

    def __init__(self, model: nn.Module, X: torch.Tensor) -> None:
        self.X = X[:HEALTH_SAMPLES]
        self.layers = []  # (name, parameters, activation module index or None)
        mods = list(model)
        found = model.linear_layers()
        for k, layer in enumerate(found):
            stop = found[k + 1].index if k + 1 < len(found) else len(mods)
            act = next((i for i in range(layer.index + 1, stop)
                        if type(mods[i]) in (nn.ReLU, nn.Tanh, nn.Sigmoid)), None)
            self.layers.append((layer.name, list(mods[layer.index].parameters()), act))
        self._before: list[torch.Tensor] | None = None

    def before_step(self) -> None:
        self._before = [torch.cat([p.detach().reshape(-1) for p in params]).clone()
                        for _, params, _ in self.layers]

    @torch.no_grad()
    def measure(self, model: nn.Module) -> list[tuple[str, str, float]]:
        """The rows (name, layer, value) at the model's current weights and gradients."""
        rows = []
        outs = self._activations(model)
        for k, (name, params, act) in enumerate(self.layers):
            w = torch.cat([p.detach().reshape(-1) for p in params])
            grads = [p.grad.reshape(-1) for p in params if p.grad is not None]
            wn = float(w.norm())
            rows.append((WEIGHT_NORM, name, wn))
            if grads:
                rows.append((GRAD_NORM, name, float(torch.cat(grads).norm())))
            if self._before is not None:
                rows.append((UPDATE_RATIO, name, float((w - self._before[k]).norm()) / max(wn, 1e-30)))
            if act is not None:
                kind, share = _inactive(type(model[act]), outs[act])
                rows.append((kind, name, share))
        self._before = None
        return rows

    def _activations(self, model: nn.Module) -> dict[int, torch.Tensor]:
        """Each activation's output on the fixed batch, the model in evaluation mode."""
        wanted = {act for _, _, act in self.layers if act is not None}
        outs, x = {}, self.X
        was_training = model.training
        model.eval()
        try:
            for i, module in enumerate(model):
                x = module(x)
                if i in wanted:
                    outs[i] = x
        finally:
            model.train(was_training)
        return outs
