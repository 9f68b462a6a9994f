"""The optimizer race: one initial network, the same batches for every optimizer, one shared PCA plane."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread  # noqa: F401
from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.landscape.directions import loss_surface, loss_surface_reference, project
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model, flat_parameters
from visualizer.core.playground import network_race as race
from visualizer.core.playground.network_race import (
    RaceEntry,
    RaceProgress,
    RaceResult,
    RaceRun,
    race_network,
    run_race,
)
from visualizer.core.training.session import RunControl

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"data": {"name": "moons", "samples": 200, "noise": 0.2, "seed": 0},
        "model": {"hidden": [6], "activation": "tanh"},
        "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 3, "loss": "cross_entropy",
                  "seed": 3}}
ENTRIES = [RaceEntry("sgd", {"lr": 0.1}), RaceEntry("momentum", {"lr": 0.05}), RaceEntry("adam", {"lr": 0.02})]


@pytest.fixture(scope="module")
def exp():
    return experiment.from_dict(TINY)


@pytest.fixture(scope="module")
def result(exp, one_torch_thread) -> RaceResult:  # noqa: F811
    return run_race(exp, ENTRIES, snapshot_every_steps=2, resolution=9)


def test_every_entry_starts_from_the_same_weights(exp, result):
    ds = load_dataset(exp.data)
    torch.manual_seed(exp.train.seed)
    model = build_model(exp.model, ds.n_features, 2)
    theta0 = flat_parameters(model).detach().numpy()
    np.testing.assert_array_equal(result.center, theta0)
    for run in result.runs:
        assert run.snapshot_steps[0] == 0
        np.testing.assert_array_equal(run.trajectory[0], theta0)
    assert not np.array_equal(result.runs[0].trajectory[-1], result.runs[2].trajectory[-1])


def test_first_step_losses_are_equal_across_optimizers(result):
    first = [run.losses[:2] for run in result.runs]  # step 0: whole set at θ₀; step 1: the first batch at θ₀
    for other in first[1:]:
        np.testing.assert_array_equal(other, first[0])
    assert result.runs[0].losses[2] != result.runs[2].losses[2]  # after one update the optimizers differ


def test_every_entry_sees_the_same_batches(exp, monkeypatch):
    """A hook on the one built network (deep-copied per entry) records every training batch it is given."""
    seen: list[float] = []
    built = race.build_model

    def build_with_hook(*args):
        model = built(*args)
        model.register_forward_pre_hook(
            lambda m, inputs: seen.append(float(inputs[0].sum())) if m.training else None)
        return model

    monkeypatch.setattr(race, "build_model", build_with_hook)
    runs = [item for item in race_network(exp, ENTRIES[::2], snapshot_every_steps=4, resolution=3)
            if isinstance(item, RaceRun)]
    steps = len(runs[0].steps) - 1
    assert steps == 3 * 5 and len(seen) == 2 * steps  # 160 training samples in batches of 32, 3 epochs
    assert seen[:steps] == seen[steps:]
    assert len(set(seen[:5])) == 5  # the batches of an epoch differ from each other


def test_the_same_optimizer_twice_gives_the_same_path(exp):
    out = run_race(exp, [RaceEntry("momentum", {"lr": 0.05}), RaceEntry("momentum", {"lr": 0.05}),
                         RaceEntry("sgd", {"lr": 0.1})], snapshot_every_steps=3, resolution=3)
    a, b = out.runs[0], out.runs[1]
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(out.paths[0], out.paths[1])


def test_the_plane_is_the_svd_of_all_trajectories_stacked(result):
    stacked = np.concatenate([run.trajectory for run in result.runs]).astype(np.float64)
    centred = stacked - stacked.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for axis, expected in zip((result.d1, result.d2), vt[:2]):
        assert abs(abs(float(np.dot(axis, expected))) - 1.0) < 1e-5
    np.testing.assert_allclose(result.explained, s[:2] ** 2 / np.sum(s ** 2), rtol=1e-6)
    assert result.explained[0] >= result.explained[1] > 0


def test_projections_reproduce_the_coordinates(result):
    for run, path, dist in zip(result.runs, result.paths, result.distances):
        assert path.shape == (len(run.trajectory), 2) and dist.shape == (len(run.trajectory),)
        a, b, d = project(run.trajectory, result.center, result.d1, result.d2)
        np.testing.assert_allclose(path[:, 0], a)
        np.testing.assert_allclose(path[:, 1], b)
        np.testing.assert_allclose(dist, d)
        rebuilt = result.center + np.outer(path[:, 0], result.d1) + np.outer(path[:, 1], result.d2)
        residual = np.linalg.norm(run.trajectory - rebuilt, axis=1)
        np.testing.assert_allclose(residual, dist, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(path[0], [0.0, 0.0], atol=1e-6)  # every path starts at the origin θ₀
        assert dist[0] < 1e-6
    coords = np.concatenate(result.paths)
    assert result.alphas[0] < coords[:, 0].min() and result.alphas[-1] > coords[:, 0].max()
    assert result.betas[0] < coords[:, 1].min() and result.betas[-1] > coords[:, 1].max()


def test_the_surface_at_the_centre_is_the_initial_loss(exp, result):
    ds = load_dataset(exp.data)
    torch.manual_seed(exp.train.seed)
    model = build_model(exp.model, ds.n_features, 2)
    at_centre = loss_surface(model, LOSSES["cross_entropy"], ds.X_train, ds.y_train, result.center, result.d1,
                             result.d2, [0.0], [0.0])
    assert at_centre.loss[0, 0] == pytest.approx(result.runs[0].losses[0], rel=1e-5)
    picks = [0, 4, 8]
    ref = loss_surface_reference(model, LOSSES["cross_entropy"], ds.X_train, ds.y_train, result.center,
                                 result.d1, result.d2, result.alphas[picks], result.betas[picks])
    np.testing.assert_allclose(result.loss[np.ix_(picks, picks)], ref.loss, rtol=1e-4)
    assert result.loss.shape == (9, 9) and np.all(np.isfinite(result.loss))


def test_progress_reaches_the_end_and_stopping_ends_without_a_result(exp):
    control = RunControl()
    items = []
    for item in race_network(exp, ENTRIES[:2], control=control, snapshot_every_steps=2, resolution=3):
        items.append(item)
        if isinstance(item, RaceRun):
            control.stop()
    assert sum(isinstance(i, RaceRun) for i in items) == 1
    assert not any(isinstance(i, RaceResult) for i in items)
    fractions = [i.fraction for i in items if isinstance(i, RaceProgress)]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1 / 3)


def test_clear_errors_for_bad_entries(exp):
    with pytest.raises(VisualizerError, match="1 to 6 optimizers"):
        next(race_network(exp, [RaceEntry("sgd")] * 7))
    with pytest.raises(VisualizerError, match="1 to 6 optimizers"):
        next(race_network(exp, []))
    with pytest.raises(VisualizerError, match="unknown optimizer 'bogus'"):
        next(race_network(exp, [RaceEntry("bogus")]))
    with pytest.raises(VisualizerError, match="train.lr"):
        next(race_network(exp, [RaceEntry("sgd", {"lr": -1.0})]))


def test_entries_keep_the_experiment_but_change_the_optimizer(exp):
    e = race.entry_experiment(replace(exp, train=replace(exp.train, schedule="cosine")),
                              RaceEntry("adam", {"lr": 0.003, "beta2": 0.99}))
    assert (e.train.optimizer, e.train.lr, dict(e.train.hyper)["beta2"]) == ("adam", 0.003, 0.99)
    assert (e.train.schedule, e.train.batch_size, e.train.seed) == ("cosine", 32, 3)
    assert RaceEntry("momentum").title() == "Momentum, α=0.01"


def test_a_diverged_run_is_drawn_but_does_not_shape_the_plane():
    exp = experiment.from_dict({"data": {"name": "sine", "samples": 200},
                                "model": {"hidden": [8], "activation": "relu"},
                                "train": {"epochs": 3, "batch_size": 32, "loss": "mse"}})
    out = run_race(exp, [RaceEntry("gd", {"lr": 0.1}), RaceEntry("sgd", {"lr": 10.0}), RaceEntry("adam")],
                   resolution=5)
    assert [run.reason for run in out.runs] == ["completed", "diverged", "completed"]
    assert len(out.runs[0].steps) == 4  # full-batch gradient descent: one step per epoch
    kept = np.concatenate([out.runs[0].trajectory, out.runs[2].trajectory]).astype(np.float64)
    _, _, vt = np.linalg.svd(kept - kept.mean(axis=0), full_matrices=False)
    assert abs(abs(float(np.dot(out.d1, vt[0]))) - 1.0) < 1e-5
    assert np.all(np.isfinite(out.loss)) and np.all(np.isfinite(out.runs[1].trajectory))
    assert np.abs(out.paths[1]).max() > 10 * max(abs(out.alphas).max(), abs(out.betas).max())


def test_the_race_in_worker_processes_gives_the_same_runs_and_plane(exp, result):
    _same_race_on(exp, result, "local")


def test_the_race_on_ray_gives_the_same_runs_and_plane(exp, result, local_ray):
    _same_race_on(exp, result, "ray")


def _same_race_on(exp, result, backend):
    items = list(race_network(exp, ENTRIES, snapshot_every_steps=2, resolution=9, backend=backend, workers=2))
    runs = [i for i in items if isinstance(i, RaceRun)]
    assert [r.label for r in runs] == [r.label for r in result.runs]  # in the entries' order
    for mine, theirs in zip(runs, result.runs):  # the same numbers as training here, one after another
        np.testing.assert_array_equal(mine.losses, theirs.losses)
        np.testing.assert_array_equal(mine.trajectory, theirs.trajectory)
    other = items[-1]
    assert isinstance(other, RaceResult)
    np.testing.assert_array_equal(other.surface.loss, result.surface.loss)
    fractions = [i.fraction for i in items if isinstance(i, RaceProgress)]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_an_unknown_backend_is_named_with_the_allowed_ones(exp):
    with pytest.raises(VisualizerError, match=r"backend: 'cloud' is not known; allowed: local, ray, serial"):
        list(race_network(exp, ENTRIES, backend="cloud"))
