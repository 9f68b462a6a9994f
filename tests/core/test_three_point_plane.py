"""The three-point plane (Garipov et al. 2018): through θ₀ and two runs' final weights, exactly; orthonormal axes;
clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.core.errors import VisualizerError
from visualizer.core.landscape.planes import DIRECTIONS, PlaneInputs, make_plane


def three_points(n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    theta0 = rng.normal(0, 0.3, n).astype(np.float32)
    a = (theta0 + rng.normal(0, 1.0, n)).astype(np.float32)
    b = (theta0 + rng.normal(0, 1.0, n)).astype(np.float32)
    path = np.stack([theta0, (theta0 + a) / 2, a]).astype(np.float32)
    return theta0, a, b, path


def reconstruct(plane, theta: np.ndarray) -> np.ndarray:
    """θ rebuilt from its plane coordinates, in float64: center + α d1 + β d2."""
    alpha, beta, _ = plane.project(theta)
    return (plane.center.astype(np.float64) + alpha * plane.d1.astype(np.float64)
            + beta * plane.d2.astype(np.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_plane_contains_all_three_points(seed):
    theta0, a, b, path = three_points(seed=seed)
    plane = make_plane("three-point", PlaneInputs(None, a, path, other=b))
    for point in (theta0, a, b):
        gap = np.linalg.norm(reconstruct(plane, point) - point.astype(np.float64))
        assert gap <= 1e-5 * np.linalg.norm(point), gap
        assert plane.project(point)[2] <= 1e-5 * np.linalg.norm(point)  # the distance the projection reports
    d1, d2 = plane.d1.astype(np.float64), plane.d2.astype(np.float64)
    assert abs(d1 @ d2) < 1e-6 and abs(np.linalg.norm(d1) - 1) < 1e-6 and abs(np.linalg.norm(d2) - 1) < 1e-6
    # the coordinates are distances: θ_A at the origin, θ₀ at -‖θ_A − θ₀‖ on α; θ_B as far from θ₀ as in weight space
    alpha0, beta0, _ = plane.project(theta0)
    assert alpha0 == pytest.approx(-np.linalg.norm(a.astype(np.float64) - theta0), rel=1e-5)
    assert abs(beta0) < 1e-4
    ab, bb, _ = plane.project(b)
    assert np.hypot(ab - alpha0, bb - beta0) == pytest.approx(np.linalg.norm(b.astype(np.float64) - theta0),
                                                              rel=1e-5)


def test_a_fourth_point_off_the_plane_is_at_its_true_distance():
    theta0, a, b, path = three_points()
    plane = make_plane("three-point", PlaneInputs(None, a, path, other=b))
    e = np.zeros_like(a, dtype=np.float64)
    d1, d2 = plane.d1.astype(np.float64), plane.d2.astype(np.float64)
    e[0] = 1.0
    e -= (e @ d1) * d1 + (e @ d2) * d2  # a unit direction normal to the plane
    e /= np.linalg.norm(e)
    off = a.astype(np.float64) + 0.7 * e
    assert plane.project(off)[2] == pytest.approx(0.7, rel=1e-5)


def test_refusals_name_what_is_missing():
    theta0, a, b, path = three_points()
    with pytest.raises(VisualizerError, match="--with RUN_B"):
        make_plane("three-point", PlaneInputs(None, a, path))
    with pytest.raises(VisualizerError, match="one line"):
        make_plane("three-point", PlaneInputs(None, a, path, other=theta0 + 2 * (a - theta0)))
    with pytest.raises(VisualizerError, match="final weights are its initial weights"):
        make_plane("three-point", PlaneInputs(None, theta0, path[:1], other=b))
    assert DIRECTIONS["three-point"].needs_second_run and not DIRECTIONS["pca"].needs_second_run
