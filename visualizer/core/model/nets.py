"""Network spec -> torch.nn.Module: a multilayer perceptron with per-layer activations (``hidden = [...]``), or a
layer list with convolutions for image sets (``layers = [...]``, parsed in ``model.layers``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from visualizer.core.model.activations import ACTIVATION_FORMULAS, ACTIVATIONS, MAX_WIDTH  # noqa: F401

MAX_LAYERS = 16


@dataclass(frozen=True)
class LinearLayer:
    """Where one weighted layer (Linear or Conv2d) sits: its index in the Sequential and its display name."""

    index: int
    name: str
    fan_in: int
    fan_out: int


WEIGHTED = (nn.Linear, nn.Conv2d)


def weighted_label(k: int, module: nn.Module, last: bool) -> str:
    """The display name of the k-th (0-based) weighted layer: 'layer 1 (2→16)', 'conv 1 (1→8, 3×3)', 'output (…)'."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return f"conv {k + 1} ({module.in_channels}→{module.out_channels}, {kh}×{kw})"
    label = "output" if last else f"layer {k + 1}"
    return f"{label} ({module.in_features}→{module.out_features})"


def _fans(module: nn.Module) -> tuple[int, int]:
    if isinstance(module, nn.Conv2d):
        return module.in_channels * module.kernel_size[0] * module.kernel_size[1], module.out_channels
    return module.in_features, module.out_features


class Network(nn.Sequential):
    """A Sequential network whose weighted layers (Linear, Conv2d) are listed by name for histograms and reports."""

    def linear_layers(self) -> list[LinearLayer]:
        """The weighted layers in order, named 'layer 1 (2→16)' (or 'conv 1 (1→8, 3×3)') … 'output (16→2)'."""
        found = [(i, m) for i, m in enumerate(self) if isinstance(m, WEIGHTED)]
        return [LinearLayer(i, weighted_label(k, m, k == len(found) - 1), *_fans(m))
                for k, (i, m) in enumerate(found)]


class MLP(Network):
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


class LayerNet(Network):
    """The network of a layer list (``[model] layers``): convolutions, pooling, flatten, dense layers and
    activations as written, then the output layer; the flat input rows are reshaped to the image first."""

    def __init__(self, layers, n_in: int, n_out: int, image: tuple[int, int, int] | None = None) -> None:
        from visualizer.core.model.layers import build_layers, parse_layers

        super().__init__(*build_layers(parse_layers(list(layers)), n_in, n_out, image))


def build_model(model_spec, n_in: int, n_out: int, image: tuple[int, int, int] | None = None) -> Network:
    """Build the network of a ModelSpec for n_in features and n_out outputs (uses torch's global RNG); ``image`` is
    the data set's (channels, height, width) when its layer list convolves."""
    if getattr(model_spec, "layers", ()):
        return LayerNet(model_spec.layers, n_in, n_out, image)
    return MLP(n_in, model_spec.hidden, model_spec.activation, n_out,
               dropout=model_spec.dropout, batch_norm=model_spec.batch_norm)


def output_size(loss, dataset) -> int:
    """Width of the network's last layer for a loss (a LossInfo) on a data set: the loss's own rule."""
    return loss.output_size(dataset.task, dataset.n_classes)


def build_model_for(model_spec, dataset, loss) -> Network:
    """Build the network of a ModelSpec for a data set and loss: one input per feature, the loss's output size."""
    from visualizer.core.data.images import dataset_image_shape

    return build_model(model_spec, dataset.n_features, output_size(loss, dataset), dataset_image_shape(dataset))


def spec_parameter_count(model_spec, n_in: int, n_out: int, image=None) -> int:
    """Trainable scalars of the network a ModelSpec describes, MLP or layer list, without building it."""
    if getattr(model_spec, "layers", ()):
        from visualizer.core.model.layers import count_parameters as count_layers
        from visualizer.core.model.layers import parse_layers

        return count_layers(parse_layers(list(model_spec.layers)), n_in, n_out, image)
    return count_parameters(n_in, model_spec.hidden, n_out, model_spec.batch_norm)


def spec_weighted_layers(model_spec) -> int:
    """How many weighted layers (conv, dense and the output layer) a ModelSpec's network has."""
    if getattr(model_spec, "layers", ()):
        from visualizer.core.model.layers import parse_layers

        return 1 + sum(layer.kind in ("conv", "dense") for layer in parse_layers(list(model_spec.layers)))
    return len(model_spec.hidden) + 1


def spec_work(model_spec, n_in: int, n_out: int, image=None) -> int:
    """Multiply-adds of one sample's forward pass through a ModelSpec's network (for the thread policy)."""
    if getattr(model_spec, "layers", ()):
        from visualizer.core.model.layers import multiply_adds, parse_layers

        return multiply_adds(parse_layers(list(model_spec.layers)), n_in, n_out, image)
    widths = [n_in, *model_spec.hidden, n_out]
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


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
