"""Network spec -> torch.nn.Module: a multilayer perceptron with per-layer activations."""

from __future__ import annotations

from dataclasses import dataclass

import torch
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
MAX_LAYERS = 16


@dataclass(frozen=True)
class LinearLayer:
    """Where one Linear layer of the MLP sits: its index in the Sequential and its display name."""

    index: int
    name: str
    fan_in: int
    fan_out: int


class MLP(nn.Sequential):
    """Linear → [BatchNorm] → activation → [Dropout] per hidden layer, then a Linear output layer."""

    def __init__(self, n_in: int, hidden, activations, n_out: int, dropout: float = 0.0,
                 batch_norm: bool = False) -> None:
        super().__init__()
        widths = [n_in, *hidden]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            self.append(nn.Linear(a, b))
            if batch_norm:
                self.append(nn.BatchNorm1d(b))
            self.append(ACTIVATIONS[activations[i]]())
            if dropout > 0:
                self.append(nn.Dropout(dropout))
        self.append(nn.Linear(widths[-1], n_out))

    def linear_layers(self) -> list[LinearLayer]:
        """The Linear layers in order, named 'layer 1 (2→16)' … 'output (16→2)'."""
        found = [(i, m) for i, m in enumerate(self) if isinstance(m, nn.Linear)]
        out = []
        for k, (i, m) in enumerate(found):
            label = "output" if k == len(found) - 1 else f"layer {k + 1}"
            out.append(LinearLayer(i, f"{label} ({m.in_features}→{m.out_features})",
                                   m.in_features, m.out_features))
        return out


def build_model(model_spec, n_in: int, n_out: int) -> MLP:
    """Build the MLP of a ModelSpec for n_in features and n_out outputs (uses torch's global RNG)."""
    return MLP(n_in, model_spec.hidden, model_spec.activation, n_out,
               dropout=model_spec.dropout, batch_norm=model_spec.batch_norm)


def output_size(loss, dataset) -> int:
    """Width of the network's last layer for a loss (a LossInfo) on a data set: the loss's own rule."""
    return loss.output_size(dataset.task, dataset.n_classes)


def build_model_for(model_spec, dataset, loss) -> MLP:
    """Build the MLP of a ModelSpec for a data set and loss: one input per feature, the loss's output size."""
    return build_model(model_spec, dataset.n_features, output_size(loss, dataset))


def parameter_count(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All parameters as one detached vector, in model.parameters() order."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def count_parameters(n_in: int, hidden, n_out: int, batch_norm: bool = False) -> int:
    """Trainable scalars of the MLP a spec describes, without building it (for the network builder)."""
    widths = [n_in, *hidden, n_out]
    total = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return total + (2 * sum(hidden) if batch_norm else 0)


def parameter_shapes(n_in: int, hidden, n_out: int, batch_norm: bool = False) -> list[tuple[int, ...]]:
    """Shapes of the MLP's parameters in model.parameters() order (how a flat parameter vector is laid out)."""
    shapes: list[tuple[int, ...]] = []
    widths = [n_in, *hidden]
    for a, b in zip(widths[:-1], widths[1:]):
        shapes += [(b, a), (b,)]
        if batch_norm:
            shapes += [(b,), (b,)]
    shapes += [(n_out, widths[-1]), (n_out,)]
    return shapes


def linear_weights(flat, n_in: int, hidden, n_out: int, batch_norm: bool = False) -> list:
    """The (out, in) weight matrix of each Linear layer, cut out of a flat parameter vector."""
    out, offset = [], 0
    for shape in parameter_shapes(n_in, hidden, n_out, batch_norm):
        size = 1
        for d in shape:
            size *= d
        if len(shape) == 2:
            out.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return out
