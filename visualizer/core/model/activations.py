"""The activations a layer can have (the one registry: MLPs, layer lists and the panels read it), and the widest
layer an experiment allows."""

from __future__ import annotations

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}

ACTIVATION_FORMULAS: dict[str, str] = {
    "relu": "max(0, x)",
    "tanh": "tanh(x)",
    "sigmoid": "1 / (1 + e⁻ˣ)",
    "leaky_relu": "max(0.01x, x)",
    "gelu": "x · Φ(x)",
    "identity": "x",
}

MAX_WIDTH = 4096
