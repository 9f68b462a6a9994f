"""The landscape's directions, projection and grid evaluation against independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec
from visualizer.core.landscape.directions import (
    filter_normalized_direction,
    hessian_directions,
    loss_surface,
    loss_surface_reference,
    pca_directions,
    project,
    random_plane,
    weight_axes,
)
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import MLP, flat_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _net(n_in, hidden, act, n_out, seed=0, **kw) -> MLP:
    torch.manual_seed(seed)
    return MLP(n_in, hidden, (act,) * len(hidden), n_out, **kw).eval()


def test_filter_normalisation_matches_each_filter_norm_and_zeroes_biases():
    model = _net(3, (5, 4), "tanh", 2)
    d = filter_normalized_direction(model, seed=3)
    offset = 0
    for p in model.parameters():
        part = d[offset:offset + p.numel()].reshape(p.shape)
        offset += p.numel()
        if p.dim() == 2:
            np.testing.assert_allclose(np.linalg.norm(part, axis=1), p.detach().norm(dim=1).numpy(), rtol=1e-5)
        else:
            assert not part.any()
    assert offset == len(d)
    with_bias = filter_normalized_direction(model, seed=3, include_bias_bn=True)
    flat, offset = flat_parameters(model).numpy(), 0
    for p in model.parameters():  # a bias element is a one-element filter: ±|θᵢ|
        if p.dim() == 1:
            part = slice(offset, offset + p.numel())
            np.testing.assert_allclose(np.abs(with_bias[part]), np.abs(flat[part]), rtol=1e-6)
        offset += p.numel()
    # seeded: same seed, same direction; the plane's two directions differ
    np.testing.assert_array_equal(d, filter_normalized_direction(model, seed=3))
    d1, d2 = random_plane(model, 3)
    assert not np.allclose(d1, d2)


def test_pca_plane_matches_sklearn_and_numpy_svd():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    traj = np.cumsum(rng.normal(size=(40, 12)) * np.linspace(2, 0.1, 12), axis=0)
    d1, d2, ratio = pca_directions(traj)
    pca = PCA(n_components=2).fit(traj - traj[-1])
    for mine, ref in zip((d1, d2), pca.components_):
        assert abs(abs(float(np.dot(mine, ref))) - 1.0) < 1e-5
    np.testing.assert_allclose(ratio, pca.explained_variance_ratio_, rtol=1e-6)
    diffs = traj - traj[-1]
    s = np.linalg.svd(diffs - diffs.mean(0), compute_uv=False)
    np.testing.assert_allclose(ratio, s[:2] ** 2 / np.sum(s ** 2), rtol=1e-6)
    assert abs(np.linalg.norm(d1) - 1) < 1e-6 and abs(float(np.dot(d1, d2))) < 1e-6
    with pytest.raises(VisualizerError):
        pca_directions(traj[:2])


def test_hessian_top_eigenvalues_match_a_dense_hessian():
    model = _net(2, (3,), "tanh", 2, seed=1)
    torch.manual_seed(0)
    X, y = torch.randn(50, 2), torch.randint(0, 2, (50,))
    loss = LOSSES["cross_entropy"]
    d1, d2, vals = hessian_directions(model, loss, X, y, iters=40, seed=0)
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]

    def f(flat):
        params = {n: t.reshape(s) for n, t, s in zip(names, torch.split(flat, sizes), shapes)}
        return loss(torch.func.functional_call(model, params, (X,)), y, "classification")

    H = torch.autograd.functional.hessian(f, flat_parameters(model).double().float()).double().numpy()
    ev, evec = np.linalg.eigh((H + H.T) / 2)
    top = np.argsort(-np.abs(ev))[:2]
    np.testing.assert_allclose(vals, ev[top], rtol=1e-4, atol=1e-6)
    assert abs(abs(float(d1 @ evec[:, top[0]])) - 1) < 1e-3
    np.testing.assert_allclose(H @ d1, vals[0] * d1, atol=1e-4)


def test_projection_of_a_point_on_the_plane_is_exact():
    rng = np.random.default_rng(1)
    c, d1, d2 = rng.normal(size=(3, 30))
    a, b, dist = project(c + 0.7 * d1 - 1.3 * d2, c, d1, d2)
    assert abs(a - 0.7) < 1e-10 and abs(b + 1.3) < 1e-10 and dist < 1e-10
    off = rng.normal(size=30)
    normal = off - np.stack([d1, d2], 1) @ np.linalg.lstsq(np.stack([d1, d2], 1), off, rcond=None)[0]
    traj = np.stack([c + 0.5 * d1, c + d2 + normal])
    aa, bb, dd = project(traj, c, d1, d2)
    np.testing.assert_allclose(aa, [0.5, 0.0], atol=1e-10)
    np.testing.assert_allclose(bb, [0.0, 1.0], atol=1e-10)
    np.testing.assert_allclose(dd, [0.0, np.linalg.norm(normal)], atol=1e-10)


def test_weight_axes_are_unit_vectors_and_checked():
    model = _net(2, (3,), "tanh", 2)
    d1, d2 = weight_axes(model, 0, 5)
    assert d1[0] == 1 and d2[5] == 1 and d1.sum() == 1 and d2.sum() == 1
    with pytest.raises(VisualizerError):
        weight_axes(model, 0, 999)


def _data(name):
    ds = load_dataset(DataSpec(name=name, samples=1000, val_fraction=0.2, seed=0))
    return torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)


@pytest.mark.parametrize("name,n_in,hidden,act,n_out,kw", [
    ("moons", 2, (16, 16), "tanh", 2, {}),
    ("digits", 64, (128, 128), "relu", 10, {}),
    ("moons", 2, (8, 8), "gelu", 2, {"batch_norm": True, "dropout": 0.2}),
])
def test_grid_equals_the_per_point_loop(name, n_in, hidden, act, n_out, kw):
    X, y = _data(name)
    model = _net(n_in, hidden, act, n_out, **kw)
    for m in model:
        if isinstance(m, nn.BatchNorm1d):  # non-trivial running statistics
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
    center = flat_parameters(model).numpy()
    d1, d2 = random_plane(model, 0, include_bias_bn=bool(kw))
    alphas, betas = np.linspace(-1, 1, 7), np.linspace(-0.8, 1.2, 5)
    fast = loss_surface(model, LOSSES["cross_entropy"], X, y, center, d1, d2, alphas, betas, metric=True, chunk=8)
    slow = loss_surface_reference(model, LOSSES["cross_entropy"], X, y, center, d1, d2, alphas, betas, metric=True)
    assert fast.loss.shape == (5, 7)
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-5)
    np.testing.assert_allclose(fast.accuracy, slow.accuracy, atol=1.5 / len(y))
    # the automatic chunking (digits: 8 grid points over blocks of 256 samples, the last one partial)
    auto = loss_surface(model, LOSSES["cross_entropy"], X, y, center, d1, d2, alphas, betas, metric=True)
    np.testing.assert_allclose(auto.loss, slow.loss, rtol=1e-5)
    np.testing.assert_allclose(auto.accuracy, slow.accuracy, atol=1.5 / len(y))
    # row i = betas[i]: one point recomputed by hand
    net = MLP(n_in, hidden, (act,) * len(hidden), n_out, **kw).eval()
    net.load_state_dict(model.state_dict())
    theta = torch.as_tensor(center + float(alphas[2]) * d1 + float(betas[4]) * d2)
    torch.nn.utils.vector_to_parameters(theta, net.parameters())
    with torch.no_grad():
        by_hand = float(LOSSES["cross_entropy"](net(X), y, "classification"))
    assert abs(by_hand - fast.loss[4, 2]) < 1e-5 * fast.loss[4, 2]


@pytest.mark.parametrize("width", [6, 200])  # 200: wide enough for blocks of samples (800 = 4 x 163 + 148)
@pytest.mark.parametrize("loss_name", ["log_loss", "mse", "huber"])
def test_grid_equals_the_loop_for_other_losses(loss_name, width):
    X, y = _data("moons")
    model = _net(2, (width,), "sigmoid", 1 if loss_name == "log_loss" else 2)
    center = flat_parameters(model).numpy()
    d1, d2 = random_plane(model, 4)
    grid = (np.linspace(-2, 2, 4), np.linspace(-2, 2, 3))
    fast = loss_surface(model, LOSSES[loss_name], X, y, center, d1, d2, *grid, metric=True)
    slow = loss_surface_reference(model, LOSSES[loss_name], X, y, center, d1, d2, *grid, metric=True)
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-5)
    np.testing.assert_allclose(fast.accuracy, slow.accuracy, atol=1.5 / len(y))


def test_unknown_networks_fall_back_to_the_loop_and_bad_vectors_are_refused():
    model = nn.Sequential(nn.Linear(2, 4), nn.Softplus(), nn.Linear(4, 2)).eval()
    X, y = _data("moons")
    center = flat_parameters(model).numpy()
    d1, d2 = random_plane(model, 0)
    fast = loss_surface(model, LOSSES["cross_entropy"], X, y, center, d1, d2, [0.0, 1.0], [0.0])
    slow = loss_surface_reference(model, LOSSES["cross_entropy"], X, y, center, d1, d2, [0.0, 1.0], [0.0])
    np.testing.assert_array_equal(fast.loss, slow.loss)
    with pytest.raises(VisualizerError, match="d1"):
        loss_surface(model, LOSSES["cross_entropy"], X, y, center, d1[:-1], d2, [0.0], [0.0])


def test_the_benchmark_reports_its_keys_on_small_grids(monkeypatch):
    from visualizer.core.landscape import bench

    monkeypatch.setattr(bench, "CASES", {name: (*case[:4], 5) for name, case in bench.CASES.items()})
    monkeypatch.setattr(bench, "matmul_rate", lambda: 1e10)
    result = bench.bench_landscape(repeats=1, fresh_process=False)
    for key in ("moons_speedup", "digits_speedup", "peak_fraction", "first_surface_s"):
        assert key in result
    assert result["moons_grid_points"] == 25 and result["digits_samples"] == 1797
    assert result["moons_max_relative_difference"] < 1e-5 and 0 < result["peak_fraction"]
    assert "speed-up" in bench.format_report(result)
    model = MLP(64, (128, 128), ("relu", "relu"), 10)
    batched, loop = bench._flops(model, 100, 4)
    assert loop == 4 * 2 * 100 * (64 * 128 + 128 * 128 + 128 * 10)
    assert batched == 3 * 2 * 100 * 64 * 128 + 4 * 2 * 100 * (128 * 128 + 128 * 10 + 3 * 128)
