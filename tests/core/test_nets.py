"""The MLP built from a spec: layers, activations, parameter count."""

from __future__ import annotations

import torch
from torch import nn

from visualizer.core.experiment import ModelSpec
from visualizer.core.model.nets import build_model, flat_parameters, parameter_count


def test_layers_follow_the_spec():
    spec = ModelSpec(hidden=(5, 4), activation=("relu", "sigmoid"), dropout=0.25, batch_norm=True)
    model = build_model(spec, 3, 2)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
                     nn.Linear, nn.BatchNorm1d, nn.Sigmoid, nn.Dropout, nn.Linear]
    assert [layer.name for layer in model.linear_layers()] == ["layer 1 (3→5)", "layer 2 (5→4)", "output (4→2)"]
    # weights and biases of the three Linear layers plus batch-norm scale and shift
    assert parameter_count(model) == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2) + 2 * (5 + 4)
    assert flat_parameters(model).numel() == parameter_count(model)
    assert model(torch.zeros(6, 3)).shape == (6, 2)


def test_linear_model_has_no_hidden_layer():
    model = build_model(ModelSpec(hidden=(), activation=()), 4, 1)
    assert len(model) == 1 and parameter_count(model) == 5


def test_count_parameters_matches_the_built_model():
    for hidden, bn in (((5, 4), True), ((), False), ((7,), False), ((3, 3, 3), True)):
        spec = ModelSpec(hidden=hidden, activation=("relu",) * len(hidden), batch_norm=bn)
        from visualizer.core.model.nets import count_parameters

        assert count_parameters(3, hidden, 2, bn) == parameter_count(build_model(spec, 3, 2))


def test_linear_weights_cut_from_the_flat_vector():
    from visualizer.core.model.nets import linear_weights, parameter_shapes

    spec = ModelSpec(hidden=(5, 4), activation=("relu", "tanh"), batch_norm=True)
    model = build_model(spec, 3, 2)
    assert parameter_shapes(3, (5, 4), 2, True) == [tuple(p.shape) for p in model.parameters()]
    weights = linear_weights(flat_parameters(model).numpy(), 3, (5, 4), 2, True)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert len(weights) == 3
    for w, layer in zip(weights, linears):
        assert (w == layer.weight.detach().numpy()).all()
