"""Batch normalisation cannot train on a mini-batch of one sample ("Expected more than 1 value per channel when
training"): such a last batch joins the one before, the run says so once, and trains as a plain loop over those
batches does."""

from __future__ import annotations

import pytest
import torch

from visualizer.core.data.sets import load_dataset
from visualizer.core.data.tensors import dataset_tensors
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec, hyper_values
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model_for, flat_parameters
from visualizer.core.model.optimizers import make_optimizer
from visualizer.core.training.events import RunEnded, RunStarted, StepEvent
from visualizer.core.training.session import TrainingSession, batch_bounds


def _experiment(samples: int, val_fraction: float, batch_norm: bool = True) -> Experiment:
    return Experiment(data=DataSpec(name="moons", samples=samples, val_fraction=val_fraction, seed=0),
                      model=ModelSpec(hidden=(8,), activation=("relu",), batch_norm=batch_norm),
                      train=TrainSpec(optimizer="adam", lr=0.01, batch_size=8, epochs=3, seed=2,
                                      loss="cross_entropy"))


def test_the_reported_case_trains_with_a_note():
    """moons, 10 samples (9 for training), batches of 8: the last batch held one sample and the run failed."""
    exp = _experiment(10, 0.1)
    events = list(TrainingSession(exp).run())
    started, ended = events[0], events[-1]
    assert isinstance(started, RunStarted) and isinstance(ended, RunEnded)
    assert ended.reason == "completed", ended.message
    assert started.steps_per_epoch == 1 and started.total_steps == 3
    assert "joins the batch before (9 samples)" in started.device_message
    assert sum("batch normalisation" in e.device_message for e in events if isinstance(e, RunStarted)) == 1
    with pytest.raises(ValueError, match="more than 1 value per channel"):  # what torch says of a batch of one
        torch.nn.BatchNorm1d(8).train()(torch.randn(1, 8))


def test_merged_batches_train_as_a_plain_loop_over_them():
    exp = _experiment(20, 0.15)  # 17 training samples: batches of 8, 8 and 1 -> 8 and 9
    ds = load_dataset(exp.data)
    assert len(ds.X_train) == 17
    session = TrainingSession(exp, dataset=ds)
    events = list(session.run())
    assert events[-1].reason == "completed" and events[0].steps_per_epoch == 2
    assert [e.step for e in events if isinstance(e, StepEvent)][-1] == 6

    torch.manual_seed(exp.train.seed)
    loss = LOSSES[exp.train.loss]
    model = build_model_for(exp.model, ds, loss)
    opt = make_optimizer(exp.train.optimizer, model.parameters(), hyper_values(exp.train))
    X, y, _, _ = dataset_tensors(ds)
    gen = torch.Generator().manual_seed(exp.train.seed)
    model.train()
    for _epoch in range(exp.train.epochs):
        order = torch.randperm(17, generator=gen)
        for start, end in ((0, 8), (8, 17)):
            idx = order[start:end]
            opt.zero_grad(set_to_none=True)
            loss(model(X[idx]), y[idx], ds.task).backward()
            opt.step()
    torch.testing.assert_close(flat_parameters(session.model), flat_parameters(model))


def test_batches_without_batch_norm_or_without_a_single_sample_stay_as_they_are():
    assert batch_bounds(17, 8, False) == ([(0, 8), (8, 16), (16, 17)], "")
    assert batch_bounds(18, 8, True) == ([(0, 8), (8, 16), (16, 18)], "")
    bounds, note = batch_bounds(17, 8, True)
    assert bounds == [(0, 8), (8, 17)] and "17 = 2 x 8 + 1" in note
    assert batch_bounds(9, 9, True) == ([(0, 9)], "")
    with pytest.raises(VisualizerError, match="at least 2 training samples"):
        batch_bounds(1, 1, True)
