"""The learning-rate range test: its schedule, smoothing and suggestions against hand-made curves, and its steps
against a plain torch loop from the same seed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from visualizer.cli.common import load_experiment
from visualizer.core.errors import VisualizerError
from visualizer.core.lab import lr_finder
from visualizer.core.lab.lr_finder import LRFinderResult, LRPoint, find_lr, range_test
from visualizer.core.training.control import RunControl

PRESETS = Path(__file__).resolve().parents[2] / "resources" / "experiments"


def test_schedule_grows_by_the_same_factor_each_step():
    lrs = lr_finder.lr_schedule(1e-6, 10.0, 71)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 10 ** (7 / 70), rtol=1e-12)


def test_running_average_of_a_constant_is_that_constant_from_the_first_step():
    """The bias correction makes the average exact at once (without it the first value would be 2 % of it)."""
    np.testing.assert_allclose(lr_finder.running_average(np.full(20, 3.5)), 3.5, rtol=1e-12)


def test_smoothing_in_lr_is_the_mean_over_the_window_point_by_point():
    rng = np.random.default_rng(0)
    lrs = lr_finder.lr_schedule(1e-5, 1.0, 97)
    losses = rng.normal(size=97)
    got = lr_finder.smooth_in_lr(lrs, losses, decades=0.4)
    x = np.log10(lrs)
    slow = [losses[np.abs(x - xi) <= 0.4 + 1e-9].mean() for xi in x]
    np.testing.assert_allclose(got, slow, rtol=1e-12, atol=1e-12)


def test_suggestions_on_a_curve_with_a_known_steepest_point_and_minimum():
    """1 - tanh(x + 3) falls fastest at x = log10 lr = -3; the rise 5 (x + 1)² beyond -1 puts the minimum where
    sech²(x + 3) = 10 (x + 1), at x ≈ -0.9930 (solved below by bisection, not by the code under test)."""
    lrs = lr_finder.lr_schedule(1e-6, 10.0, 701)
    x = np.log10(lrs)
    curve = 1 - np.tanh(x + 3) + 5 * np.maximum(0.0, x + 1) ** 2
    steepest, tenth = lr_finder.suggestions(lrs, curve)
    step = 7 / 700
    assert abs(math.log10(steepest) + 3) <= step
    lo, hi = -1.0, 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 1 / math.cosh(mid + 3) ** 2 > 10 * (mid + 1) else (lo, mid)
    assert abs(math.log10(tenth) - (lo - 1)) <= step


def test_steepest_descent_is_looked_for_before_the_minimum_only():
    """After the minimum the loss climbs, then falls back steeply (a diverging run's bump): a steeper fall than the
    descent, but past the minimum, so not a suggestion."""
    lrs = lr_finder.lr_schedule(1e-4, 1.0, 401)
    x = np.log10(lrs)
    curve = np.interp(x, [-4, -2, -1.5, -1.0, 0.0], [1.0, 0.6, 5.0, 2.0, 9.0])
    steepest, tenth = lr_finder.suggestions(lrs, curve)
    assert tenth == pytest.approx(1e-3, rel=0.03)
    assert 10 ** -3.6 <= steepest < 1e-2  # on the gentle descent (the fall at -1.5..-1 is 15x steeper)


def test_too_short_a_curve_gives_no_suggestion():
    assert lr_finder.suggestions([1e-3, 1e-2], [1.0, 0.5]) == (None, None)
    assert LRFinderResult(np.zeros(0), np.zeros(0), np.zeros(0), None, None).suggested is None


@pytest.mark.parametrize(("low", "high", "steps", "option"), [
    (0.0, 1.0, 100, "--low"), (-1.0, 1.0, 100, "--low"), (float("nan"), 1.0, 100, "--low"),
    (1e-3, 1e-3, 100, "--high"), (1e-3, float("inf"), 100, "--high"), (1e-6, 1.0, 5, "--steps"),
])
def test_a_range_that_cannot_be_tested_is_refused_naming_the_option(low, high, steps, option):
    exp, ds = load_experiment(PRESETS / "circles.toml")
    with pytest.raises(VisualizerError, match=option):
        find_lr(exp, ds, low=low, high=high, steps=steps)


def test_steps_are_those_of_a_plain_torch_loop_from_the_experiments_seed():
    """Same initial weights (the experiment's seed), the session's shuffled batches, torch's own Adam at each step's
    learning rate: the recorded batch losses are the reference loop's, step for step."""
    exp, ds = load_experiment(PRESETS / "circles.toml")
    got = find_lr(exp, ds, low=1e-4, high=1.0, steps=60, stop_factor=1e9)
    assert len(got.losses) == 60 and got.stopped == ""

    from visualizer.core.model.losses import LOSSES
    from visualizer.core.model.nets import build_model_for

    torch.manual_seed(exp.train.seed)
    model = build_model_for(exp.model, ds, LOSSES[exp.train.loss])
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    X, y = torch.as_tensor(ds.X_train, dtype=torch.float32), torch.as_tensor(ds.y_train, dtype=torch.long)
    gen = torch.Generator().manual_seed(exp.train.seed)
    bs, n, ref = exp.train.batch_size, len(X), []
    order = None
    for i, lr in enumerate(np.geomspace(1e-4, 1.0, 60)):
        k = i % math.ceil(n / bs)
        if k == 0:
            order = torch.randperm(n, generator=gen)
        idx = order[k * bs:(k + 1) * bs]
        for group in opt.param_groups:
            group["lr"] = float(lr)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        ref.append(loss.item())
    np.testing.assert_allclose(got.losses, ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got.lrs, np.geomspace(1e-4, 1.0, 60), rtol=1e-12)


def test_the_test_stops_once_the_average_loss_is_four_times_its_minimum():
    exp, ds = load_experiment(PRESETS / "circles.toml")
    events = list(range_test(exp, ds))
    points, result = events[:-1], events[-1]
    assert all(isinstance(e, LRPoint) for e in points) and isinstance(result, LRFinderResult)
    averages = np.array([p.average for p in points])
    assert len(points) < lr_finder.STEPS and "4 x its minimum" in result.stopped
    assert averages[-1] > 4 * averages.min()
    assert np.all(averages[:-1] <= 4 * np.minimum.accumulate(averages)[:-1])  # and not before
    np.testing.assert_allclose(averages, lr_finder.running_average([p.loss for p in points]), rtol=1e-9)
    np.testing.assert_allclose(result.losses, [p.loss for p in points])
    assert result.suggested == result.min_over_10 and lr_finder.LOW < result.suggested < lr_finder.HIGH


def test_a_stopped_control_ends_the_test_with_what_it_has():
    exp, ds = load_experiment(PRESETS / "circles.toml")
    control = RunControl()
    events = []
    for event in range_test(exp, ds, control=control):
        events.append(event)
        if len(events) == 15:
            control.stop()
    assert events[-1].stopped == "stopped at step 15" and len(events[-1].lrs) == 15
