"""Every capability on a convolutional network: histograms per layer, the filter-normalised landscape (against a hand
computation per conv filter), PCA and Hessian planes, pruning with structured channel pruning and a real shrink
(against the masked outputs), quantization per filter, cross-validation, replay and the run file's checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixtures)
from visualizer.core import experiment
from visualizer.core.compression.measure import linear_modules, parameter_counts
from visualizer.core.compression.pruning import hidden_widths, make_permanent, prune, prune_model, shrink
from visualizer.core.compression.quantization import grid_scale, quantize
from visualizer.core.landscape.directions import filter_normalized_direction, hessian_directions, random_plane
from visualizer.core.landscape.surface import loss_surface, loss_surface_reference
from visualizer.core.model.layers import multiply_adds, parse_layers
from visualizer.core.model.nets import build_model, flat_parameters, parameter_count
from visualizer.core.runs.loaded import load_run

LAYERS = ["conv 6 3x3", "tanh", "maxpool 2", "conv 8 2x2", "relu", "flatten", "dense 16", "relu"]
RAW = {"data": {"name": "digits"}, "model": {"layers": LAYERS},
       "train": {"epochs": 2, "batch_size": 64, "lr": 0.01, "seed": 0}}


@pytest.fixture(scope="module")
def cnn_dir(tmp_path_factory, one_torch_thread):  # noqa: F811
    return train_run(tmp_path_factory.mktemp("cnn") / "run", RAW)


@pytest.fixture(scope="module")
def run(cnn_dir):
    return load_run(cnn_dir)


def _cnn(layers=LAYERS, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    spec = experiment.ModelSpec(hidden=(), activation=(), layers=tuple(layers))
    return build_model(spec, 64, 10, (1, 8, 8)).eval()


# ------------------------------------------------------------------------------- training, histograms, replay


def test_run_records_every_conv_layer_histogram_and_replays(run, cnn_dir):
    from visualizer.core.runs.replay import ReplayRun

    assert [type(m) for m in run.model][:3] == [nn.Unflatten, nn.Conv2d, nn.Tanh]
    replay = ReplayRun(next(cnn_dir.glob("*.sqlite")))
    try:
        names = list(replay.started.layer_names)
        assert names == ["conv 1 (1→6, 3×3)", "conv 2 (6→8, 2×2)", "layer 3 (32→16)", "output (16→10)"]
        assert replay.started.n_params == parameter_count(run.model)
        snaps = replay.snapshots
        assert len(snaps) >= 2
        last = snaps[-1]
        assert [h.name for h in last.layers] == names
        weights = [m.weight for _, _, m in linear_modules(run.model)]
        for h, w in zip(last.layers, weights):
            assert h.weight_counts.sum() == w.numel()  # a histogram of each layer's every weight
        # the last snapshot's parameters are the trained network's, in model.parameters() order
        np.testing.assert_array_equal(last.params, flat_parameters(run.model).numpy())
    finally:
        replay.reader.close()


# ------------------------------------------------------------------------------- landscape


def test_random_directions_are_filter_normalised_per_conv_filter_by_hand():
    """Li et al. 2018 §4: d_i ← d_i / ||d_i|| · ||θ_i|| for every filter i; a conv filter is one output channel's
    (in, kh, kw) kernel, a dense filter one neuron's row; biases are zeroed."""
    model = _cnn()
    seed = 7
    d = filter_normalized_direction(model, seed)
    gen = torch.Generator().manual_seed(seed)
    offset = 0
    for p in model.parameters():
        draw = torch.randn(p.shape, generator=gen, dtype=torch.float32).double().numpy()
        theta = p.detach().double().numpy()
        got = d[offset:offset + p.numel()].reshape(p.shape)
        offset += p.numel()
        if p.dim() == 1:
            assert (got == 0).all()
            continue
        for i in range(p.shape[0]):  # one filter at a time, by hand
            di, ti = draw[i].ravel(), theta[i].ravel()
            want = di / np.sqrt(np.sum(di * di)) * np.sqrt(np.sum(ti * ti))
            np.testing.assert_allclose(got[i].ravel(), want, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(np.linalg.norm(got[i]), np.linalg.norm(theta[i]), rtol=1e-5)
    assert offset == len(d)
    conv = model[1].weight
    assert conv.dim() == 4 and d[:conv.numel()].reshape(conv.shape).shape[0] == 6  # 6 filters normalised


def test_surface_random_pca_and_hessian_planes_on_a_cnn(run):
    X, y = run.eval_tensors()
    model, center = run.model, flat_parameters(run.model).numpy()
    d1, d2 = random_plane(model, 0)
    alphas = betas = np.linspace(-0.5, 0.5, 3)
    surf = loss_surface(model, run.loss_info, X, y, center, d1, d2, alphas, betas, metric=True)
    ref = loss_surface_reference(model, run.loss_info, X, y, center, d1, d2, alphas, betas, metric=True)
    np.testing.assert_allclose(surf.loss, ref.loss, rtol=1e-5)
    with torch.no_grad():
        at_center = float(run.loss_info(model(X), y, run.task))
    assert surf.loss[1, 1] == pytest.approx(at_center, rel=1e-5)
    h1, h2, values = hessian_directions(model, run.loss_info, X, y, iters=20)
    assert h1.shape == center.shape and abs(float(h1 @ h2)) < 1e-4 and abs(values[0]) >= abs(values[1])
    path = run.trajectory()
    assert path.params.shape[1] == len(center) and len(path.params) >= 3
    from visualizer.core.landscape.directions import pca_directions

    p1, p2, ratio = pca_directions(path.params)
    assert p1.shape == center.shape and 0 < ratio.sum() <= 1 + 1e-9


# ------------------------------------------------------------------------------- pruning and shrink


def test_structured_pruning_removes_whole_conv_filters():
    model = _cnn()
    pruned = prune_model(model, "structured", 0.5)
    conv1, conv2 = pruned[1], pruned[4]
    for conv, n in ((conv1, 6), (conv2, 8)):
        dead = (conv.weight.flatten(1) == 0).all(dim=1)
        assert int(dead.sum()) == round(0.5 * n)
        # torch's own ln_structured on the same weights picks the same filters: the smallest L2 norms
        norms = conv.weight_orig.flatten(1).norm(dim=1)
        assert set(torch.argsort(norms)[:round(0.5 * n)].tolist()) == set(torch.nonzero(dead)[:, 0].tolist())
    assert not (pruned[-1].weight == 0).all(dim=1).any()  # the output layer keeps every neuron


@pytest.mark.parametrize("layers", [
    LAYERS,
    ["conv 6 3x3", "sigmoid", "conv 5 2x2", "tanh", "avgpool 2", "flatten", "dense 12", "tanh"],
    ["conv 4 3x3", "relu", "maxpool 2"],  # ends on feature maps: the output layer follows a flatten
])
def test_shrink_removes_channels_and_matches_the_masked_outputs(layers):
    model = _cnn(layers, seed=3)
    with torch.no_grad():  # positive biases: a dead channel's constant is not zero, it must be folded
        for _, _, m in linear_modules(model):
            m.bias.add_(0.3)
    masked = prune_model(model, "structured", 0.5)
    small = shrink(masked)
    X = torch.randn(200, 64)
    with torch.no_grad():
        torch.testing.assert_close(small(X), masked(X), rtol=0, atol=1e-5)
    before = [m.weight.shape[0] for _, _, m in linear_modules(model)][:-1]
    after = list(hidden_widths(small))
    assert after == [n - round(0.5 * n) for n in before]
    convs = [m for m in small if isinstance(m, nn.Conv2d)]
    for a, b in zip(convs, convs[1:]):
        assert b.in_channels == a.out_channels  # the next layer's matching inputs went too
    assert parameter_counts(small)[0] < parameter_count(model)
    # fewer multiply-adds: the shrunk network is the layer list with the smaller widths
    from visualizer.core.model.layers import with_widths

    smaller = parse_layers(list(with_widths(layers, after)))
    assert multiply_adds(smaller, 64, 10, (1, 8, 8)) < multiply_adds(parse_layers(layers), 64, 10, (1, 8, 8))
    rebuilt = _cnn(with_widths(layers, after))
    assert [tuple(p.shape) for p in rebuilt.parameters()] == [tuple(p.shape) for p in small.parameters()]


def test_every_pruning_method_and_the_report_on_a_cnn_run(run):
    for method in ("l1", "global", "random", "structured"):
        result = prune(run, method, 0.5, do_shrink=method == "structured", latency_repeats=2)
        report = result.report
        assert [layer.name for layer in report.layers][0] == "conv 1 (1→6, 3×3)"
        assert 0.3 < report.sparsity < 0.6
        if method == "structured":
            assert report.shrunk.hidden == (3, 4, 8)
            assert report.shrunk.after.metric == pytest.approx(report.after.metric, abs=1e-6)


# ------------------------------------------------------------------------------- quantization


def test_bits_per_channel_has_one_scale_per_conv_filter(run):
    result = quantize(run, "bits", 4, per_channel=True, latency_repeats=2)
    conv = make_permanent(run.model)[1].weight.detach()
    layer = result.report.layers[0]
    assert layer.name.startswith("conv 1") and len(layer.steps) == 6
    for i in range(6):  # by hand: scale_i = max|w_i| / 7, every weight a whole multiple of it
        scale = float(grid_scale(conv[i].abs().max().reshape(1, 1), 7))
        assert layer.steps[i] == pytest.approx(scale)
        q = result.model[1].weight[i].detach().double() / scale
        torch.testing.assert_close(q, q.round(), rtol=0, atol=1e-6)
        assert q.abs().max() <= 7
    for method, parameter in (("pow2", -4), ("bits", 8), ("int8", None)):
        report = quantize(run, method, parameter, latency_repeats=2).report
        assert [layer.bits <= 8 for layer in report.layers] == [True] * 4
        assert report.bytes < report.bytes_float and np.isfinite(report.after.loss)


def test_int8_puts_conv_weights_on_their_grid_and_computes_with_them(run):
    result = quantize(run, "int8", latency_repeats=2)
    conv = result.model[1].weight.detach()
    step = result.report.layers[0].steps[0]
    q = conv.double() / step
    torch.testing.assert_close(q, q.round(), rtol=0, atol=1e-6)
    # what computes: the int8 dense layers of torch, and the conv layers with exactly these grid weights
    assert isinstance(result.runtime[1], nn.Conv2d)
    torch.testing.assert_close(result.runtime[1].weight, result.model[1].weight, rtol=0, atol=0)
    assert "quantized" in type(result.runtime[-1]).__module__


# ------------------------------------------------------------------------------- cross-validation


def test_cross_validation_trains_the_cnn_on_every_fold():
    from visualizer.core.evaluation.folds import EvalSpec, FoldResult, run_folds

    exp = experiment.from_dict({**RAW, "train": {**RAW["train"], "epochs": 1}})
    results = [r for r in run_folds(exp, EvalSpec("kfold", k=2)) if isinstance(r, FoldResult)]
    assert len(results) == 2
    assert all(r.n_train + r.n_val == 1797 and np.isfinite(r.metrics["loss"]) for r in results)


def test_a_cnn_teacher_distils_into_an_mlp_student(run):
    from visualizer.core.compression.distill import student_experiment

    exp = student_experiment(run, (16,))
    assert exp.model.layers == () and exp.model.hidden == (16,) and exp.model.activation == ("tanh",)
    assert experiment.loads(experiment.dumps(exp)) == exp


def test_an_optimizer_race_on_a_cnn_starts_every_entry_from_the_same_weights():
    from visualizer.core.playground.network_race import RaceEntry, run_race

    exp = experiment.from_dict({**RAW, "train": {**RAW["train"], "epochs": 1, "batch_size": 256}})
    result = run_race(exp, [RaceEntry("sgd", {"lr": 0.1}), RaceEntry("adam", {"lr": 0.01})], snapshot_every_steps=2,
                      resolution=3)
    starts = [r.trajectory[0] for r in result.runs]
    np.testing.assert_array_equal(starts[0], starts[1])
    assert len(starts[0]) == parameter_count(_cnn())


@pytest.mark.parametrize("activations", [["relu"], ["tanh", "sigmoid"], ["gelu"], ["leaky_relu"], []])
def test_first_feature_maps_in_numpy_match_the_network(activations):
    from visualizer.core.model.columns import first_feature_maps

    layers = ["conv 5 3x2", *activations, "maxpool 2", "flatten", "dense 4"]
    model = _cnn(layers, seed=2)
    spec = experiment.ModelSpec(hidden=(), activation=(), layers=tuple(layers))
    x = torch.randn(64)
    maps = first_feature_maps(flat_parameters(model).numpy(), spec, 64, 10, (1, 8, 8), x.numpy())
    with torch.no_grad():
        h = model[1](model[0](x[None]))
        for k in range(len(activations)):
            h = model[2 + k](h)
    assert maps.shape == (5, 6, 7)
    np.testing.assert_allclose(maps, h[0].numpy(), rtol=1e-5, atol=1e-6)
    assert first_feature_maps(flat_parameters(model).numpy(), experiment.ModelSpec(), 64, 10, None, x) is None
