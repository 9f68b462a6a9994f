"""Weights set by hand: the window asks for one weight (or bias) of a dense layer to take a value, the training
session sets it between two steps and says so with a WeightEdited event, which the run file records."""

from __future__ import annotations

import math
from dataclasses import dataclass

from visualizer.core.errors import VisualizerError
from visualizer.core.training.events import WeightEdited


@dataclass(frozen=True, slots=True)
class WeightEdit:
    """A request: set the weight from input ``source`` to neuron ``target`` of weighted layer ``layer`` (0-based, the
    drawing's column pairs) to ``value``; ``source`` None sets the neuron's bias. ``undo``: it undoes an edit."""

    layer: int
    target: int
    source: int | None
    value: float
    undo: bool = False


def edit_place(edit: WeightEdit | WeightEdited) -> str:
    """Where an edit is: 'layer 2, input 3 → neuron 1' (1-based, as the drawing's tooltips count)."""
    where = "bias" if edit.source is None else f"input {edit.source + 1}"
    return f"layer {edit.layer + 1}, {where} → neuron {edit.target + 1}"


def apply_edit(model, layers, edit: WeightEdit, step: int) -> WeightEdited:
    """Set one element of a dense layer's weight (or bias) in place, without autograd, and say what it was.

    ``layers`` are the model's weighted layers (``Network.linear_layers()``). Only that element changes: the
    optimizer's state for it (momentum, Adam's moments) is left as it is, so the next step continues from it as it
    would after any other change of the weights. A convolution, an index out of range or a value that is not a finite
    number is a VisualizerError.
    """
    import torch

    if not 0 <= edit.layer < len(layers):
        raise VisualizerError(f"a weight edit names layer {edit.layer + 1}; the network has {len(layers)}")
    module = model[layers[edit.layer].index]
    if not isinstance(module, torch.nn.Linear):
        raise VisualizerError(f"{layers[edit.layer].name}: only the weights of dense layers can be set by hand")
    if not math.isfinite(edit.value):
        raise VisualizerError(f"a weight cannot be set to {edit.value}")
    tensor = module.weight if edit.source is not None else module.bias
    if tensor is None or not 0 <= edit.target < module.out_features or (
            edit.source is not None and not 0 <= edit.source < module.in_features):
        raise VisualizerError(f"{edit_place(edit)}: no such weight in {layers[edit.layer].name}")
    index = (edit.target, edit.source) if edit.source is not None else (edit.target,)
    with torch.no_grad():
        old = float(tensor[index])
        tensor[index] = edit.value
        new = float(tensor[index])  # the value as the layer holds it (float32)
    return WeightEdited(step, edit.layer, edit.target, edit.source, old, new, edit.undo)
