"""The edge-of-stability lesson (Cohen et al. 2021, figure 1), run headless into a run file: at each of its two
learning rates the recorded sharpness starts well below 2/η, rises, crosses 2/η and then stays within ±15 % of it
for at least 200 steps, while the training loss keeps falling, not monotonically."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.core import experiment
from visualizer.core.resources import resources_dir
from visualizer.core.runs.writer import record
from visualizer.core.training.session import TrainingSession

pytestmark = pytest.mark.timeout(120)


def _longest_run_in_band(steps, ratio, start):
    """The longest stretch of steps (from the first measurement at or after index ``start``) whose ratio to 2/η
    stays within 0.85..1.15, measured between its first and last measurement."""
    best, first = 0, None
    for i in range(start, len(steps)):
        if 0.85 <= ratio[i] <= 1.15:
            first = steps[i] if first is None else first
            best = max(best, steps[i] - first)
        else:
            first = None
    return best


@pytest.mark.parametrize("name, lr", [("edge_of_stability", 0.08), ("edge_of_stability_slow", 0.05)])
def test_sharpness_rises_to_two_over_eta_and_hovers_there(name, lr, tmp_path):
    exp = experiment.load(resources_dir() / "lessons" / f"{name}.toml")
    assert exp.train.optimizer == "gd" and exp.train.lr == lr and exp.lab.sharpness_every == 10
    with record(TrainingSession(exp), tmp_path / "run.sqlite") as reader:
        measures, history = reader.measures(), reader.history()
        assert reader.ended.reason == "completed"
    steps, sharpness = measures.series("sharpness")
    _, threshold = measures.series("sharpness_threshold")
    np.testing.assert_allclose(threshold, 2 / lr)
    ratio = sharpness / (2 / lr)
    assert ratio[0] < 0.6  # progressive sharpening: it starts far below the edge
    crossed = int(np.argmax(ratio >= 1.0))
    assert ratio[crossed] >= 1.0 and steps[crossed] > 100
    # from the crossing on it hovers at the edge: every measurement within ±15 %, for far more than 200 steps
    assert _longest_run_in_band(steps, ratio, crossed) >= 200
    after = ratio[crossed:]
    assert np.all((after > 0.85) & (after < 1.15)), (after.min(), after.max())
    # the loss keeps falling, but not monotonically: it rises on some steps at the edge
    loss, loss_steps = history.train_loss, history.steps
    at_cross = loss[np.searchsorted(loss_steps, steps[crossed])]
    tail = loss[loss_steps >= steps[crossed]]
    assert np.median(tail[-100:]) < at_cross
    assert np.sum(np.diff(tail) > 0) >= 10
    print(f"{name}: crossed 2/η at step {steps[crossed]}, then {after.min():.3f}..{after.max():.3f} × 2/η for "
          f"{steps[-1] - steps[crossed]} steps; loss {at_cross:.4g} → {tail[-1]:.4g}, rising on "
          f"{np.sum(np.diff(tail) > 0)} steps")
