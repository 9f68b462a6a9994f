"""The lab's curvature maths against dense references: Hessian-vector products, the top eigenvalue (warm-started
Lanczos), the top k, the eigenvalue density (stochastic Lanczos quadrature) and Adam's preconditioned sharpness."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visualizer.core.lab.hessian import LossHessian, dense_hessian, top_eigen, top_eigenvalues
from visualizer.core.lab.sharpness import SharpnessMeter, adam_threshold, preconditioner, threshold
from visualizer.core.lab.spectrum import hessian_spectrum
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import MLP


def _tiny(dtype=torch.float64, task="regression", seed=0):
    """A 2-4-1 tanh network (17 parameters) and 40 points; float64 so that the reference is exact to 1e-12."""
    torch.manual_seed(seed)
    out = 1 if task == "regression" else 2
    model = MLP(2, [4], ["tanh"], out).to(dtype)
    X = torch.randn(40, 2, dtype=dtype)
    y = (torch.sin(X[:, 0] * 2) + X[:, 1] ** 2) if task == "regression" else (X[:, 0] * X[:, 1] > 0).long()
    loss = LOSSES["mse" if task == "regression" else "cross_entropy"]
    return model, loss, X, y


def test_hessian_vector_products_are_the_dense_hessian_times_the_vector():
    model, loss, X, y = _tiny()
    H = dense_hessian(model, loss, X, y)
    hvp = LossHessian(model, loss, X, y)
    v = torch.randn(hvp.n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert hvp.n == 17 and H.shape == (17, 17)
    np.testing.assert_allclose(hvp(v).numpy(), H @ v.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_top_eigenvalue_matches_the_dense_hessian(task):
    model, loss, X, y = _tiny(task=task)
    reference = np.linalg.eigvalsh(dense_hessian(model, loss, X, y))
    hvp = LossHessian(model, loss, X, y)
    eig = top_eigen(hvp, hvp.n)
    assert abs(eig.value - reference[-1]) <= 1e-4 * abs(reference[-1])
    H = dense_hessian(model, loss, X, y)  # the vector is an eigenvector: Hv = λv
    np.testing.assert_allclose(H @ eig.vector, eig.value * eig.vector, atol=1e-3 * abs(eig.value))


def test_a_warm_start_takes_fewer_products_after_a_small_step():
    model, loss, X, y = _tiny(seed=3)
    hvp = LossHessian(model, loss, X, y)
    cold = top_eigen(hvp, hvp.n)
    with torch.no_grad():  # a small training step's worth of change
        for p in model.parameters():
            p.add_(1e-3 * torch.randn_like(p))
    hvp2 = LossHessian(model, loss, X, y)
    warm = top_eigen(hvp2, hvp2.n, warm=cold.vector)
    reference = np.linalg.eigvalsh(dense_hessian(model, loss, X, y))[-1]
    assert abs(warm.value - reference) <= 1e-4 * abs(reference)
    assert warm.products < cold.products


def test_float32_model_top_eigenvalue_within_float32_rounding():
    model, loss, X, y = _tiny(dtype=torch.float32)
    reference = np.linalg.eigvalsh(dense_hessian(model.double(), loss, X.double(), y.double()))[-1]
    model.float()
    hvp = LossHessian(model, loss, X, y)
    assert abs(top_eigen(hvp, hvp.n).value - reference) <= 1e-4 * abs(reference)


def test_top_k_eigenvalues_match_the_dense_hessian():
    model, loss, X, y = _tiny(task="classification")
    reference = np.sort(np.linalg.eigvalsh(dense_hessian(model, loss, X, y)))[::-1]
    hvp = LossHessian(model, loss, X, y)
    values, vectors = top_eigenvalues(hvp, hvp.n, 4)
    np.testing.assert_allclose(values, reference[:4], rtol=1e-4, atol=1e-8)
    assert vectors.shape == (4, hvp.n)
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(4), atol=1e-6)


def test_density_integrates_to_one_and_its_mass_sits_where_the_eigenvalues_are():
    model, loss, X, y = _tiny(task="classification")
    eigs = np.linalg.eigvalsh(dense_hessian(model, loss, X, y))
    hvp = LossHessian(model, loss, X, y)
    spec = hessian_spectrum(hvp, hvp.n, k=3, probes=6, steps=17)
    assert abs(np.trapezoid(spec.density, spec.grid) - 1.0) < 1e-3
    np.testing.assert_allclose(spec.top, np.sort(eigs)[::-1][:3], rtol=1e-4, atol=1e-8)
    # with a full Krylov space the quadrature is exact: the mean of the nodes under their weights is tr(H)/n
    mean = float(np.mean(np.sum(spec.nodes * spec.weights, axis=1)))
    assert abs(mean - eigs.mean()) < 0.5 * np.std(eigs)  # Hutchinson's estimate of tr(H)/n from 6 probes
    first_moment = np.trapezoid(spec.grid * spec.density, spec.grid)
    assert abs(first_moment - mean) < 1e-6 * max(1.0, abs(mean))


def test_density_of_a_diagonal_operator_puts_each_eigenvalue_at_its_share():
    # an operator with eigenvalues 1 (x 30) and 10 (x 10): Rademacher probes see each coordinate with weight 1/n
    diag = torch.tensor([1.0] * 30 + [10.0] * 10, dtype=torch.float64)
    spec = hessian_spectrum(lambda v: diag * v, 40, k=2, probes=3, steps=10)
    near_ten = spec.grid > 5.5
    mass = np.trapezoid(spec.density[near_ten], spec.grid[near_ten])
    assert abs(mass - 0.25) < 1e-6  # Rademacher: v_i² = 1 exactly, so each eigenspace has weight dim/n exactly
    np.testing.assert_allclose(spec.top, [10.0, 10.0], rtol=1e-10)


def test_thresholds_follow_the_papers_formulas():
    assert threshold("gd", 0.01, {}) == pytest.approx(200.0)
    assert adam_threshold(0.01, 0.9) == pytest.approx(3800.0)  # 38/η
    assert threshold("adam", 0.01, {"beta1": 0.9}) == pytest.approx(3800.0)
    assert threshold("momentum", 0.1, {"momentum": 0.9}) == pytest.approx(38.0)
    assert np.isnan(threshold("adagrad", 0.1, {}))


def _adam_steps(model, loss, X, y, steps=5):
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(steps):
        opt.zero_grad()
        loss(model(X), y, "regression").backward()
        opt.step()
    return opt


def test_adam_preconditioned_sharpness_matches_the_dense_preconditioned_hessian():
    model, loss, X, y = _tiny()
    opt = _adam_steps(model, loss, X, y)
    # the reference rebuilds P from Adam's update itself: θ_{t+1} - θ_t = -η P^{-1} m_t
    before = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
    m = torch.cat([opt.state[p]["exp_avg"].reshape(-1) for p in model.parameters()]).clone()
    opt.zero_grad()
    loss(model(X), y, "regression").backward()
    beta1 = 0.9
    g = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    m_next = beta1 * m + (1 - beta1) * g
    opt.step()
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    P = (-0.01 * m_next / (after - before)).numpy()  # the diagonal that made this step
    np.testing.assert_allclose(preconditioner(opt, "adam").numpy(), P, rtol=1e-6)
    H = dense_hessian(model, loss, X, y)
    reference = np.max(np.linalg.eigvals(np.diag(1 / P) @ H).real)
    reading = SharpnessMeter("adam", {"beta1": 0.9}, loss, X, y).measure(model, opt, 0.01)
    assert reading.name == "preconditioned_sharpness"
    assert abs(reading.value - reference) <= 1e-4 * abs(reference)
    assert reading.threshold == pytest.approx(3800.0)


def test_adam_before_its_first_step_has_no_preconditioned_sharpness():
    model, loss, X, y = _tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    assert SharpnessMeter("adam", {}, loss, X, y).measure(model, opt, 0.01) is None


def test_a_warm_start_keeps_to_its_direction_and_exploring_finds_an_eigenvalue_that_grew_past_it():
    diag = torch.tensor([5.0, 10.0, 1.0, 0.5, 2.0], dtype=torch.float64)
    old_top = np.array([1.0, 0, 0, 0, 0])  # the top direction before the eigenvalue 10 grew past 5
    kept = top_eigen(lambda v: diag * v, 5, warm=old_top, tol=1e-6)
    assert kept.value == pytest.approx(5.0) and kept.products == 1  # still an eigenvector: one product
    found = top_eigen(lambda v: diag * v, 5, warm=old_top, tol=1e-6, explore=0.3)
    assert found.value == pytest.approx(10.0, rel=1e-9)
