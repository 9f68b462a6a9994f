"""What every neuron of a network on a 2-D set computes over the plane, as TensorFlow Playground draws it in its
nodes: one small picture per input feature, hidden neuron and output.

``neuron_pictures`` takes them all in ONE batched forward pass of a grid of plane points (forward pre-hooks on the
linear layers collect what each receives: the activations of the layer before); the training session calls it on
its worker with each snapshot, so the window only draws. ``input_pictures`` needs no network (numpy only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from visualizer.core.model.predict import plane_grid

if TYPE_CHECKING:
    import torch

#: grid points per side of a neuron's picture: thumbnails are ~30 px, the large view smooths them
RESOLUTION = 40


@dataclass(frozen=True, slots=True)
class NeuronPictures:
    """Each neuron's value at the points of a grid over the plane (xs, ys): ``layers[0]`` the input features
    (standardised, as the network takes them), then one array per hidden layer (its activations), then the
    outputs (class probabilities, or the raw output for regression); each (neurons, len(ys), len(xs))."""

    xs: np.ndarray
    ys: np.ndarray
    layers: tuple[np.ndarray, ...]


def input_pictures(dataset, resolution: int = RESOLUTION) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs, ys and the input features' values over a 2-D set's plane (features, len(ys), len(xs))."""
    xs, ys, points = plane_grid(dataset, resolution)
    inputs = dataset.plane_inputs(points)
    return xs, ys, inputs.T.reshape(-1, len(ys), len(xs))


def neuron_pictures(model: torch.nn.Module, loss, dataset, resolution: int = RESOLUTION) -> NeuronPictures:
    """Every neuron's picture over the plane of a 2-D set, from one forward pass of the whole grid in evaluation
    mode (no gradients; the model's training mode is restored)."""
    import torch

    xs, ys, inputs = input_pictures(dataset, resolution)
    batch = torch.as_tensor(inputs.reshape(len(inputs), -1).T.copy(), device=next(model.parameters()).device)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    seen: list[torch.Tensor] = []
    hooks = [m.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach())) for m in linears[1:]]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(batch)
            shown = loss.probabilities(out)[..., -out.shape[1]:] if dataset.task == "classification" else out
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    shape = (len(ys), len(xs))
    layers = [inputs.astype(np.float32)]
    layers += [a.T.reshape(-1, *shape).float().cpu().numpy() for a in [*seen, shown]]
    return NeuronPictures(xs, ys, tuple(layers))
