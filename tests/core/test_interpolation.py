"""The loss between two runs: the line's grid, the barrier's definition by hand, zero between a run and itself,
positive between two seeds, the ends equal to each run's own recorded losses, and a refusal naming the field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixture)
from visualizer.core.errors import VisualizerError
from visualizer.core.lab.interpolation import barrier, interpolate, line_grid
from visualizer.core.runs.loaded import load_run
from visualizer.core.runs.reader import RunReader

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def moons(seed: int, hidden=(16, 16)) -> dict:
    return {"data": {"name": "moons", "samples": 400, "noise": 0.2, "seed": 0},
            "model": {"hidden": list(hidden), "activation": "tanh"},
            "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 30, "seed": seed}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("interpolation")
    return {name: train_run(root / name, raw) for name, raw in
            (("a", moons(0)), ("b", moons(1)), ("narrow", moons(0, hidden=(8, 8))))}


def test_the_grid_holds_0_and_1_exactly_and_extends_at_the_same_spacing():
    t = line_grid(5, 0.5)
    np.testing.assert_allclose(t, [-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5], atol=1e-15)
    assert 0.0 in line_grid(41, 0.25) and 1.0 in line_grid(41, 0.25)
    assert len(line_grid(41, 0.0)) == 41 and len(line_grid(41, 0.25)) == 41 + 2 * 10
    with pytest.raises(VisualizerError, match="--points"):
        line_grid(2)


def test_barrier_is_the_largest_excess_over_the_straight_line_between_the_end_losses():
    t = np.array([-0.5, 0.0, 0.25, 0.5, 1.0, 1.5])
    loss = np.array([50.0, 1.0, 2.0, 3.0, 2.0, 60.0])  # beyond [0, 1] does not count
    height, where = barrier(t, loss)
    assert (height, where) == (pytest.approx(3.0 - 1.5), 0.5)  # 2 - 1.25 = 0.75 at 0.25 is less
    assert barrier(np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 1.0])) == (0.0, 0.0)  # a valley: no barrier


def test_between_a_run_and_itself_the_barrier_is_zero(runs):
    line = interpolate(runs["a"], runs["a"], points=11)
    assert line.train_barrier == 0.0 and line.val_barrier == 0.0 and line.distance == 0.0
    assert np.all(line.train_loss == line.train_loss[0])


def test_between_two_seeds_a_barrier_separates_the_minima(runs):
    line = interpolate(runs["a"], runs["b"], points=21)
    assert line.train_barrier > 0.1 and line.val_barrier > 0.1  # measured 0.65 and 0.59 at t ≈ 0.5
    assert 0 < line.train_barrier_t < 1
    # the midpoint recomputed independently: torch's own flattening, a fresh network, torch's cross-entropy
    a, b = load_run(runs["a"]), load_run(runs["b"])
    va, vb = (torch.nn.utils.parameters_to_vector(r.model.parameters()).detach().double() for r in (a, b))
    model = load_run(runs["a"]).model
    torch.nn.utils.vector_to_parameters((va + 0.5 * (vb - va)).float(), model.parameters())
    X, y = a.tensors("training")
    with torch.no_grad():
        mid = float(torch.nn.functional.cross_entropy(model.eval()(X), y))
    assert line.train_loss[line.t == 0.5][0] == pytest.approx(mid, rel=1e-6)
    assert line.distance == pytest.approx(float((vb - va).norm()), rel=1e-9)


def test_the_ends_are_each_runs_own_final_losses(runs):
    line = interpolate(runs["a"], runs["b"], points=5, extend=0.0)
    for end, name in ((0.0, "a"), (1.0, "b")):
        with RunReader(runs[name] / "run.sqlite") as reader:
            recorded = reader.summary()["final"]["val_loss"]
        assert line.val_loss[line.t == end][0] == pytest.approx(recorded, rel=1e-6)
        run = load_run(runs[name])
        X, y = run.tensors("training")
        with torch.no_grad():
            own = float(torch.nn.functional.cross_entropy(run.model.eval()(X), y))
        assert line.train_loss[line.t == end][0] == pytest.approx(own, rel=1e-7)


def test_runs_of_different_networks_are_refused_naming_the_field(runs):
    with pytest.raises(VisualizerError, match=r"model\.hidden: run A has \(16, 16\), run B has \(8, 8\)"):
        interpolate(runs["a"], runs["narrow"])
