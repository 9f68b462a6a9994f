"""Neuron pictures: every neuron's value over the plane from one batched forward pass, equal to a direct forward
pass layer by layer; computed by the session on its worker with each snapshot, for 2-D sets only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread  # noqa: F401
from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.model import predict
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.model.neurons import input_pictures, neuron_pictures
from visualizer.core.training.events import Snapshot
from visualizer.core.training.session import TrainingSession


def _by_hand(model: torch.nn.Sequential, X: np.ndarray) -> list[np.ndarray]:
    """The activations that enter each linear layer after the first, and the outputs, computed by running the
    model's modules one by one on each grid point separately (a per-point loop: no batching shared with the
    code under test)."""
    per_point = []
    for x in X:
        h, seen = torch.as_tensor(x[None, :]), []
        for i, module in enumerate(model):
            if isinstance(module, torch.nn.Linear) and i > 0:
                seen.append(h[0].detach().numpy().copy())
            h = module(h)
        seen.append(h[0].detach().numpy().copy())
        per_point.append(seen)
    return [np.stack([p[j] for p in per_point]) for j in range(len(per_point[0]))]


@pytest.mark.parametrize(("features", "task_data"), [(("x1", "x2"), "moons"), (("x1", "x2", "x1^2", "x1*x2"), "xor")])
def test_each_picture_equals_a_direct_forward_pass(features, task_data):
    exp = experiment.loads(f'[data]\nname = "{task_data}"\nsamples = 200\n')
    ds = load_dataset(replace(exp.data, features=features))
    torch.manual_seed(3)
    spec = replace(exp.model, hidden=(5, 3), activation=("tanh", "relu"))
    model = build_model(spec, ds.n_features, 2).eval()
    loss = LOSSES["cross_entropy"]
    pictures = neuron_pictures(model, loss, ds, resolution=9)
    xs, ys, points = predict.plane_grid(ds, 9)
    np.testing.assert_array_equal(pictures.xs, xs)
    np.testing.assert_array_equal(pictures.ys, ys)
    X = ds.plane_inputs(points)
    assert [layer.shape for layer in pictures.layers] == [(len(features), 9, 9), (5, 9, 9), (3, 9, 9), (2, 9, 9)]
    h1, h2, out = _by_hand(model, X)
    with torch.no_grad():
        probs = torch.softmax(torch.as_tensor(out), 1).numpy()
    for got, want in zip(pictures.layers, (X, h1, h2, probs)):
        # row iy, column ix is the grid point (xs[ix], ys[iy]): points run row by row
        np.testing.assert_allclose(got, want.T.reshape(-1, 9, 9), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pictures.layers[0], input_pictures(ds, 9)[2])


def test_a_network_without_hidden_layers_has_inputs_and_outputs():
    ds = load_dataset(experiment.loads('[data]\nname = "circles"\nsamples = 100\nfeatures = ["x1^2", "x2^2"]\n').data)
    model = build_model(replace(experiment.ModelSpec(), hidden=(), activation=()), 2, 1)
    pictures = neuron_pictures(model, LOSSES["log_loss"], ds, resolution=5)
    assert len(pictures.layers) == 2 and pictures.layers[1].shape == (1, 5, 5)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.as_tensor(ds.plane_inputs(predict.plane_grid(ds, 5)[2]))))[:, 0].numpy()
    np.testing.assert_allclose(pictures.layers[1][0], p.reshape(5, 5), rtol=1e-6)


def test_the_session_draws_the_pictures_with_each_snapshot_of_a_2d_set(one_torch_thread):  # noqa: F811
    for name, expected in (("moons", True), ("iris", False)):
        exp = experiment.loads(f'[data]\nname = "{name}"\nsamples = 100\n[train]\nepochs = 3\n')
        ds = load_dataset(exp.data)
        session = TrainingSession(experiment.resolve(exp, ds), dataset=ds, neuron_resolution=6,
                                  snapshot_every_steps=1, snapshot_interval_s=0.0)
        snaps = [e for e in session.run() if isinstance(e, Snapshot)]
        assert len(snaps) > 3 and all((s.neurons is not None) == expected for s in snaps)
        if expected:
            assert not np.array_equal(snaps[0].neurons.layers[1], snaps[-1].neurons.layers[1])  # it trains
            assert snaps[-1].neurons.layers[-1].shape == (2, 6, 6)
