"""Layer lists ([model] layers) with the input features, regularisation and neuron pictures: a dense layer list on a
2-D set takes derived features and shows every neuron's picture (checked against a per-point forward pass), the
penalty covers conv kernels as it covers dense weights (by hand), and an image set's snapshots carry no pictures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.core.test_neurons import _by_hand
from tests.helpers import one_torch_thread  # noqa: F401
from visualizer.core import experiment
from visualizer.core.data.images import dataset_image_shape
from visualizer.core.data.sets import load_dataset
from visualizer.core.model import predict, regularization
from visualizer.core.model.columns import network_columns
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.model.neurons import neuron_pictures
from visualizer.core.training.events import Snapshot, StepEvent
from visualizer.core.training.session import TrainingSession

DENSE = '[model]\nlayers = ["dense 5", "tanh", "dense 3", "relu"]\n'


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_a_layer_list_with_features_and_regularisation_round_trips(fmt):
    exp = experiment.loads('[data]\nname = "xor"\nfeatures = ["x1", "x2", "x1*x2"]\n' + DENSE +
                           '[train]\nregularization = "l1"\nregularization_rate = 0.01\n')
    assert exp.model.layers == ("dense 5", "tanh", "dense 3", "relu") and exp.data.features == ("x1", "x2", "x1*x2")
    text = experiment.dumps(exp, fmt)
    assert "layers" in text and "hidden" not in text and "regularization" in text and "x1*x2" in text
    assert experiment.loads(text, fmt) == exp


def test_a_dense_layer_list_shows_each_neurons_picture():
    exp = experiment.loads('[data]\nname = "xor"\nsamples = 200\nfeatures = ["x1", "x2", "x1^2", "x1*x2"]\n' + DENSE)
    ds = load_dataset(exp.data)
    torch.manual_seed(1)
    model = build_model(exp.model, ds.n_features, 2).eval()
    pictures = neuron_pictures(model, LOSSES["cross_entropy"], ds, resolution=7)
    sizes = network_columns(exp.model, ds.n_features, 2).sizes  # the drawing's columns
    assert [layer.shape for layer in pictures.layers] == [(n, 7, 7) for n in sizes] == [
        (4, 7, 7), (5, 7, 7), (3, 7, 7), (2, 7, 7)]
    X = ds.plane_inputs(predict.plane_grid(ds, 7)[2])
    h1, h2, out = _by_hand(model, X)
    with torch.no_grad():
        probs = torch.softmax(torch.as_tensor(out), 1).numpy()
    for got, want in zip(pictures.layers, (X, h1, h2, probs)):
        np.testing.assert_allclose(got, want.T.reshape(-1, 7, 7), rtol=1e-5, atol=1e-6)


def test_the_penalty_covers_conv_kernels(one_torch_thread):  # noqa: F811
    exp = experiment.loads('[data]\nname = "digits"\n[model]\nlayers = ["conv 4 3x3", "relu", "maxpool 2", '
                           '"flatten", "dense 8", "relu"]\n[train]\nbatch_size = 0\nepochs = 1\n'
                           'regularization = "l2"\nregularization_rate = 0.1\n')
    ds = load_dataset(exp.data)
    session = TrainingSession(experiment.resolve(exp, ds), dataset=ds, neuron_resolution=6, snapshot_every_steps=1,
                              snapshot_interval_s=0.0)
    session.prepare()
    weights = [m.weight.detach().clone() for m in session.model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert [w.dim() for w in weights] == [4, 2, 2]  # the conv kernels, the dense layer, the output
    assert len(regularization.penalized(session.model)) == 3
    by_hand = 0.1 * sum(0.5 * float((w * w).sum()) for w in weights)
    events = list(session.run())
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert steps[0].penalty == pytest.approx(by_hand, rel=1e-5)
    assert steps[0].train_loss == pytest.approx(steps[0].eval_train_loss + by_hand, rel=1e-5)
    snaps = [e for e in events if isinstance(e, Snapshot)]
    assert dataset_image_shape(ds) == (1, 8, 8) and snaps and all(s.neurons is None for s in snaps)  # no plane


def test_features_on_a_layer_list_change_the_networks_inputs(one_torch_thread):  # noqa: F811
    base = experiment.loads('[data]\nname = "circles"\nsamples = 200\n' + DENSE)
    for features, width in ((("x1", "x2"), 2), (("x1^2", "x2^2", "sin x1"), 3)):
        ds = load_dataset(replace(base.data, features=features))
        session = TrainingSession(experiment.resolve(base, ds), dataset=ds)
        session.prepare()
        first = next(m for m in session.model.modules() if isinstance(m, torch.nn.Linear))
        assert ds.n_features == first.in_features == width
