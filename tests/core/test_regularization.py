"""Regularisation (train.regularization, train.regularization_rate): validated, added to the training loss as a
penalty on the weights (checked by hand), recorded per step in the run file, and L1 makes weights sparse."""

from __future__ import annotations

import copy
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.helpers import one_torch_thread, train_run  # noqa: F401
from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import ExperimentError
from visualizer.core.model import regularization
from visualizer.core.training.events import StepEvent
from visualizer.core.training.session import TrainingSession

PRESETS = Path(__file__).resolve().parents[2] / "resources" / "experiments"


def test_default_is_none_and_files_without_it_stay_as_they_were():
    exp = experiment.loads("")
    assert exp.train.regularization == "none"
    assert "regularization" not in experiment.dumps(exp)


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_regularization_round_trips(fmt):
    exp = experiment.loads('[train]\nregularization = "l1"\nregularization_rate = 0.01\n')
    assert (exp.train.regularization, exp.train.regularization_rate) == ("l1", 0.01)
    assert experiment.loads(experiment.dumps(exp, fmt), fmt) == exp


@pytest.mark.parametrize(("line", "key", "needle"), [
    ('regularization = "l3"', "train.regularization", "'l3' is not known; allowed: 'none', 'l1' or 'l2'"),
    ("regularization = 1", "train.regularization", "1 is not known"),
    ("regularization_rate = -0.1", "train.regularization_rate", "from 0 to 10"),
    ("regularization_rate = 11", "train.regularization_rate", "from 0 to 10"),
    ('regularization_rate = "a lot"', "train.regularization_rate", "from 0 to 10"),
    ("regularization_rate = nan", "train.regularization_rate", "from 0 to 10"),
])
def test_bad_regularization_is_refused_in_one_line(line, key, needle):
    with pytest.raises(ExperimentError) as info:
        experiment.loads(f"[train]\n{line}\n")
    assert info.value.key == key and needle in str(info.value) and "\n" not in str(info.value)


def test_penalty_covers_weights_not_biases():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    w1, w2 = model[0].weight.detach(), model[2].weight.detach()
    l1 = regularization.penalty("l1", 0.5, regularization.penalized(model)).detach()
    l2 = regularization.penalty("l2", 0.5, regularization.penalized(model)).detach()
    assert float(l1) == pytest.approx(0.5 * float(w1.abs().sum() + w2.abs().sum()), rel=1e-6)
    assert float(l2) == pytest.approx(0.5 * 0.5 * float((w1 ** 2).sum() + (w2 ** 2).sum()), rel=1e-6)
    assert regularization.penalty("none", 0.5, regularization.penalized(model)) is None
    assert regularization.formula("l1", 0.001) == " + λ·Σ|w| (λ = 0.001)" and regularization.formula("none", 1) == ""


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_the_loss_is_the_data_loss_plus_the_penalty_by_hand(kind, one_torch_thread):  # noqa: F811
    exp = experiment.loads(f'[data]\nname = "moons"\nsamples = 200\n[model]\nhidden = [6]\n'
                           f'[train]\nbatch_size = 0\nepochs = 2\nregularization = "{kind}"\n'
                           f'regularization_rate = 0.05\nlr = 0.01\n')
    ds = load_dataset(exp.data)
    session = TrainingSession(experiment.resolve(exp, ds), dataset=ds)
    session.prepare()
    start = copy.deepcopy(session.model)  # step 1 trains the whole set from these weights
    events = [e for e in session.run() if isinstance(e, StepEvent)]
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    with torch.no_grad():
        data_loss = float(F.cross_entropy(start(X), y))
        weights = [m.weight for m in start if isinstance(m, torch.nn.Linear)]
        by_hand = sum(float(w.abs().sum()) if kind == "l1" else 0.5 * float((w * w).sum()) for w in weights)
    for event in events[:2]:  # step 0 (measured before training) and step 1 (the first batch: the whole set)
        assert event.penalty == pytest.approx(0.05 * by_hand, rel=1e-5)
        assert event.train_loss == pytest.approx(data_loss + 0.05 * by_hand, rel=1e-5)
    assert events[0].eval_train_loss == pytest.approx(data_loss, rel=1e-5)  # the evaluations are data losses
    assert events[1].eval_train_loss == pytest.approx(data_loss, rel=1e-5)  # (one full batch per epoch)
    assert events[2].penalty != events[1].penalty  # the step changed the weights


def test_regularization_is_not_weight_decay(one_torch_thread):  # noqa: F811
    """AdamW's decoupled decay changes the update, not the loss: its steps report no penalty."""
    exp = experiment.loads('[data]\nsamples = 100\n[train]\noptimizer = "adamw"\nweight_decay = 0.1\nepochs = 1\n')
    ds = load_dataset(exp.data)
    events = [e for e in TrainingSession(experiment.resolve(exp, ds), dataset=ds).run() if isinstance(e, StepEvent)]
    assert all(e.penalty is None for e in events)


def _small_weights(exp: experiment.Experiment) -> int:
    ds = load_dataset(exp.data)
    session = TrainingSession(experiment.resolve(exp, ds), dataset=ds)
    for _event in session.run():
        pass
    return int(sum((w.detach().abs() < 1e-3).sum() for w in regularization.penalized(session.model)))


def test_l1_makes_weights_sparse(one_torch_thread):  # noqa: F811
    """The circles preset (2-8-8-2, Adam): L1 at rate 0.001 leaves at least three times as many weights below 1e-3
    as no regularisation (26 against 2 on the machine this was written on)."""
    preset = experiment.load(PRESETS / "circles.toml")
    none = _small_weights(preset)
    l1 = _small_weights(replace(preset, train=replace(preset.train, regularization="l1", regularization_rate=0.001)))
    assert l1 >= 3 * max(none, 1)


def test_the_run_file_records_the_penalty_and_reads_files_from_before(tmp_path, one_torch_thread):  # noqa: F811
    from visualizer.core.runs.reader import open_run

    raw = {"data": {"samples": 100}, "model": {"hidden": [3]},
           "train": {"epochs": 2, "regularization": "l2", "regularization_rate": 0.1}}
    train_run(tmp_path / "run", raw)
    with open_run(tmp_path / "run") as run:
        assert run.experiment.train.regularization == "l2"
        h = run.history()
        assert np.all(np.isfinite(h.penalty)) and np.all(h.penalty > 0) and np.all(h.train_loss > h.penalty)
        path = run.path
    with sqlite3.connect(path) as db:  # a run file written before regularisation: no penalty column
        db.execute("ALTER TABLE steps DROP COLUMN penalty")
    with open_run(path) as run:
        h = run.history()
        assert len(h) > 2 and np.all(np.isnan(h.penalty)) and np.all(np.isfinite(h.train_loss))
