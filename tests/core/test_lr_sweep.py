"""The learning-rate range test's suggestion against what training at many rates actually gives (issue 16's
done-when): on three presets, the suggested lr lies among the rates that reach the best final validation losses of
a sweep of 12 log-spaced rates, each trained for the preset's full budget.

"The best 10 %" is read as: the rates whose final validation loss is within 10 % of the sweep's best (loss <=
1.1 x best); the range is [lowest, highest] of those rates. A rate's final validation loss is the mean over three
seeds (the preset's and the next two): one seed's differs by chance between CPUs (the float rounding of their
matrix kernels takes training elsewhere), and on an Intel Xeon circles at 0.081 ended at 0.012 by luck (its mean:
0.080), making a range of that one rate. Measured there (default finder: 1e-6..10, 300 steps; sweep 1e-4..1): moons
(Adam) suggests 0.012, range [0.0028, 0.015]; circles (Adam) 0.0054 in [0.0028, 0.0066]; blobs (RMSprop) 0.0051 in
[0.0028, 0.0066] (on an AMD EPYC with one seed: [0.0066, 0.015], [0.0028, 0.015], [0.0028, 0.0066]). The steepest
descent (0.0021, 0.054, 0.010) lands in none of the three ranges;
it is shown, not suggested (``LRFinderResult.suggested``). The two other presets looked at are misses for both
(spiral: 0.00022 for a range of [0.0066, 0.0066]; xor, SGD with momentum: 0.023 for [0.19, 0.19], its losses within
35 % of the best from 0.0066 to 0.19).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from visualizer.cli.common import load_experiment
from visualizer.core.lab.lr_finder import find_lr
from visualizer.core.training.events import RunEnded, StepEvent
from visualizer.core.training.session import TrainingSession

PRESETS = Path(__file__).resolve().parents[2] / "resources" / "experiments"
RATES = np.geomspace(1e-4, 1.0, 12)


def final_val_loss(exp, dataset, lr: float) -> float:
    """The validation loss at the end of the preset's budget trained at ``lr`` (inf when it diverges)."""
    exp = replace(exp, train=replace(exp.train, lr=float(lr)))
    loss = math.inf
    for event in TrainingSession(exp, dataset=dataset, snapshot_every_steps=10**9, snapshot_interval_s=1e9).run():
        if isinstance(event, StepEvent) and event.val_loss is not None:
            loss = event.val_loss
        elif isinstance(event, RunEnded) and event.reason != "completed":
            return math.inf
    return loss


SEEDS = 3


def mean_final_val_loss(exp, dataset, lr: float) -> float:
    """``final_val_loss`` averaged over SEEDS seeds from the experiment's (inf when any run diverges)."""
    return float(np.mean([final_val_loss(replace(exp, train=replace(exp.train, seed=exp.train.seed + k)), dataset, lr)
                          for k in range(SEEDS)]))


def best_range(losses: np.ndarray) -> tuple[float, float]:
    good = RATES[losses <= 1.1 * np.min(losses)]
    return float(good.min()), float(good.max())


def test_best_range_reads_the_sweep_as_documented():
    losses = np.array([5, 4, 3, 1.2, 1.0, 1.09, 1.11, 2, 3, 4, 5, np.inf])
    assert best_range(losses) == (RATES[4], RATES[5])


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["moons", "circles", "blobs"])
def test_suggestion_lies_among_the_rates_that_train_best(preset):
    exp, ds = load_experiment(PRESETS / f"{preset}.toml")
    suggested = find_lr(exp, ds).suggested
    losses = np.array([mean_final_val_loss(exp, ds, lr) for lr in RATES])
    lo, hi = best_range(losses)
    assert lo <= suggested <= hi, (
        f"{preset}: suggested {suggested:.3g}, best rates {lo:.3g}..{hi:.3g}; losses "
        + ", ".join(f"{r:.2g}: {v:.3f}" for r, v in zip(RATES, losses)))
