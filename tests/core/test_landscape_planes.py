"""The one way a plane is made (the direction registry) and the one rule for the grid over it; the live evaluator."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.landscape import planes
from visualizer.core.landscape.directions import loss_surface_reference, pca_directions, random_plane
from visualizer.core.landscape.live import LandscapeEvaluator, ProbeRequest, SurfaceRequest
from visualizer.core.landscape.planes import DIRECTIONS, Plane, PlaneInputs, grid_extent, make_plane, plane_grid
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model, flat_parameters
from visualizer.core.training.session import TrainingSession


@pytest.fixture(scope="module")
def run():
    """A short moons run: (experiment, dataset, snapshots (T, P))."""
    exp = experiment.from_dict({"data": {"name": "moons", "samples": 300}, "model": {"hidden": [6]},
                                "train": {"epochs": 3, "optimizer": "sgd", "lr": 0.3}})
    ds = load_dataset(exp.data)
    exp = experiment.resolve(exp, ds)
    session = TrainingSession(exp, dataset=ds, snapshot_every_steps=5, snapshot_interval_s=0.0)
    params = np.stack([e.params for e in session.run() if type(e).__name__ == "Snapshot"])
    return exp, ds, params


def model_at(exp, ds, flat):
    info = LOSSES[exp.train.loss]
    model = build_model(exp.model, ds.n_features, info.output_size(ds.task, ds.n_classes)).eval()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat), model.parameters())
    return model


def test_the_registry_lists_the_kinds_of_plane_without_importing_torch():
    code = ("import sys; from visualizer.core.landscape.planes import DIRECTIONS; "
            "print(list(DIRECTIONS), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['random', 'pca', 'hessian', 'weights', 'three-point'] False"
    for info in DIRECTIONS.values():
        assert info.label and info.description.strip()


def test_make_plane_computes_what_the_direction_functions_compute(run):
    exp, ds, params = run
    model = model_at(exp, ds, params[-1])
    center = flat_parameters(model).numpy()
    plane = make_plane("random", PlaneInputs(model, center, seed=3))
    d1, d2 = random_plane(model, 3)
    np.testing.assert_array_equal(plane.d1, d1)
    np.testing.assert_array_equal(plane.d2, d2)
    plane = make_plane("pca", PlaneInputs(model, center, params))
    d1, d2, ratio = pca_directions(params)
    np.testing.assert_array_equal(plane.d1, d1)
    np.testing.assert_allclose(plane.extra["explained_variance"], ratio)
    assert plane.axis_titles()[0] == f"α (PC 1, {100 * ratio[0]:.1f}% of variance)"
    plane = make_plane("weights", PlaneInputs(model, center, weights=(2, 5)))
    assert plane.axis_titles() == ("α (weight θ[2])", "β (weight θ[5])")


def test_a_plane_that_needs_the_path_says_so(run):
    exp, ds, params = run
    model = model_at(exp, ds, params[-1])
    with pytest.raises(VisualizerError, match="needs at least 3 snapshots of the path; there are 2"):
        make_plane("pca", PlaneInputs(model, params[-1], params[:2]))
    known = "'random', 'pca', 'hessian', 'weights' or 'three-point'"
    with pytest.raises(VisualizerError, match=f"directions 'sideways' is not known; allowed: {known}"):
        make_plane("sideways", PlaneInputs(model, params[-1]))


def test_the_grid_rules():
    plane = lambda kind: Plane(kind, np.zeros(3, np.float32), np.eye(3, dtype=np.float32)[0],  # noqa: E731
                               np.eye(3, dtype=np.float32)[1])
    path = np.array([[-4.0, 1.0], [-2.0, 0.5], [0.0, 0.0]])
    assert grid_extent(plane("pca"), path, 0.5) == (0.0, 0.0, 0.5)  # a chosen span: ±span around the centre
    ma, mb, half = grid_extent(plane("pca"), path, None)  # automatic: the path's box and a margin of its side
    assert (ma, mb) == (-2.0, 0.5) and half == pytest.approx((0.5 + planes.MARGIN) * 4.0)
    alphas, betas = plane_grid(plane("pca"), path, None, 9)
    assert alphas[0] < path[:, 0].min() and alphas[-1] > path[:, 0].max() and len(betas) == 9
    assert betas[0] < 0 < betas[-1]
    assert grid_extent(plane("random"), path, None) == (0.0, 0.0, pytest.approx((1 + planes.MARGIN) * 4.0))
    assert grid_extent(plane("random"), path / 10, None) == (0.0, 0.0, 1.0)  # the directions' own scale
    assert grid_extent(plane("weights"), path / 100, None)[2] == 0.5  # a weight that barely moved stays readable
    assert grid_extent(plane("pca"), np.zeros((0, 2)), None)[2] == 1.0  # no path yet
    assert grid_extent(plane("pca"), np.array([[np.nan, 1.0], [1.0, 1.0]]), None)[2] == pytest.approx(0.7)


def test_a_plane_round_trips_through_its_arrays(run):
    exp, ds, params = run
    model = model_at(exp, ds, params[-1])
    plane = make_plane("pca", PlaneInputs(model, params[-1], params))
    back = Plane.from_arrays(plane.arrays())
    assert back.directions == "pca" and back.axis_titles() == plane.axis_titles()
    for a, b in ((back.center, plane.center), (back.d1, plane.d1), (back.d2, plane.d2)):
        np.testing.assert_array_equal(a, b)


def test_the_live_surface_equals_the_per_point_loop(run):
    exp, ds, params = run
    evaluator = LandscapeEvaluator(exp, ds)
    request = SurfaceRequest(7, params[-1], "pca", resolution=9, trajectory=params, start=params[0])
    coarse, fine = list(evaluator.surfaces(replace(request, coarse=True, resolution=21)))
    assert (coarse.fine, fine.fine, len(coarse.alphas), len(fine.alphas)) == (False, True, 15, 21)
    fine = next(iter(evaluator.surfaces(request)))
    model = model_at(exp, ds, params[-1])
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    ref = loss_surface_reference(model, LOSSES[exp.train.loss], X, y, fine.center, fine.d1, fine.d2,
                                 fine.alphas[::4], fine.betas[::4])
    np.testing.assert_allclose(fine.loss[::4, ::4], ref.loss, rtol=1e-5, atol=1e-6)
    points, _ = fine.plane.points(params)
    assert fine.alphas[0] < points[:, 0].min() and fine.alphas[-1] > points[:, 0].max()
    at_theta = evaluator.probe(ProbeRequest(8, {"theta": params[-1]})).loss["theta"]
    assert fine.line_loss[np.searchsorted(fine.line_alphas, 1.0)] == pytest.approx(at_theta, rel=1e-5)


def test_the_live_surface_projects_the_path_it_is_sent_on_its_own_plane(run):
    """The window's path is projected on the worker (off the GUI thread): the same numbers as the plane's own."""
    exp, ds, params = run
    path = np.stack(params)
    result = next(iter(LandscapeEvaluator(exp, ds).surfaces(
        SurfaceRequest(3, params[-1], "random", resolution=5, coarse=False, path=path))))
    A = np.stack([result.d1, result.d2], axis=1).astype(np.float64)
    r = (path - result.center).astype(np.float64).T  # (P, T)
    coef = np.linalg.lstsq(A, r, rcond=None)[0]  # an independent least-squares solve, point by point
    dist = np.linalg.norm(r - A @ coef, axis=0)
    assert result.path_projection.shape == (len(params), 3)
    np.testing.assert_allclose(result.path_projection[:, :2], coef.T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.path_projection[:, 2], dist, rtol=1e-6, atol=1e-6)
    assert next(iter(LandscapeEvaluator(exp, ds).surfaces(
        SurfaceRequest(4, params[-1], resolution=5, coarse=False)))).path_projection is None


def test_the_live_evaluator_probes_the_true_loss_and_stops_when_superseded(run):
    exp, ds, params = run
    evaluator = LandscapeEvaluator(exp, ds)
    model = model_at(exp, ds, params[1])
    with torch.no_grad():
        expected = float(LOSSES[exp.train.loss](model(torch.as_tensor(ds.X_train)), torch.as_tensor(ds.y_train),
                                                ds.task))
    assert evaluator.probe(ProbeRequest(1, {"start": params[1]})).loss["start"] == pytest.approx(expected, rel=1e-6)
    assert list(evaluator.surfaces(SurfaceRequest(2, params[-1]), superseded=lambda: True)) == []


def test_a_registered_direction_is_one_entry(run, monkeypatch):
    """Adding a kind of plane is one registry entry: make_plane, the titles and the extent rule all follow."""
    exp, ds, params = run

    def axes(inputs):
        n = inputs.center.size
        return np.eye(n, dtype=np.float32)[0], np.eye(n, dtype=np.float32)[n - 1], {}

    toy = planes.DirectionInfo("first_last", "First and last weight", "The first and the last weight as axes",
                               axes, lambda plane: ("α (first)", "β (last)"), fits_path=False)
    monkeypatch.setitem(DIRECTIONS, "first_last", toy)
    evaluator = LandscapeEvaluator(exp, ds)
    result = next(iter(evaluator.surfaces(SurfaceRequest(1, params[-1], "first_last", resolution=5, coarse=False))))
    assert result.plane.axis_titles() == ("α (first)", "β (last)") and result.d2[-1] == 1.0
    assert (result.alphas[0], result.alphas[-1]) == (-1.0, 1.0)
