"""One source of defaults per optimizer: a hyper-parameter the experiment does not set takes the chosen optimizer's
registry default, in training, in saved files, in the race and in the playground."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
import torch

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.experiment import Experiment, TrainSpec, chosen_hyper, hyper_values
from visualizer.core.model.nets import build_model, flat_parameters
from visualizer.core.model.optimizers import OPTIMIZERS, hyperparam_names
from visualizer.core.playground.functions import Racer
from visualizer.core.playground.network_race import RaceEntry, entry_experiment
from visualizer.core.training.events import RunEnded, StepEvent
from visualizer.core.training.session import TrainingSession

NO_HYPER = """
[data]
name = "moons"
samples = 120
seed = 0
[model]
hidden = [6]
activation = "tanh"
[train]
optimizer = "{optimizer}"
batch_size = {batch_size}
epochs = {epochs}
loss = "cross_entropy"
seed = 4
"""


def _group_value(group: dict, name: str) -> float:
    """A registry hyper-parameter as torch keeps it in a param group (β₁, β₂ inside ``betas``)."""
    if name in ("beta1", "beta2"):
        return group["betas"][0 if name == "beta1" else 1]
    value = group[name]
    return float(value) if isinstance(value, torch.Tensor) else value


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_trains_with_its_registry_defaults(name):
    exp = experiment.loads(NO_HYPER.format(optimizer=name, batch_size=32, epochs=2))
    assert chosen_hyper(exp.train) == {}  # the file sets no hyper-parameter
    dataset = load_dataset(exp.data)
    session = TrainingSession(experiment.resolve(exp, dataset), dataset=dataset)
    events = list(session.run())
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "completed", events[-1].message
    info = OPTIMIZERS[name]
    for group in session.optimizer.param_groups:
        for hp in info.hyperparams:
            assert _group_value(group, hp.name) == pytest.approx(hp.default, rel=1e-12), (name, hp.name)
    default_lr = next(hp.default for hp in info.hyperparams if hp.name == "lr")
    assert {e.lr for e in events if isinstance(e, StepEvent)} == {default_lr}


def _train_by_hand(exp: Experiment, dataset, optimizer_cls, fused, **kwargs) -> np.ndarray:
    """The session's full-batch loop written out with a torch optimizer built here: the same initial weights."""
    torch.manual_seed(exp.train.seed)
    model = build_model(exp.model, dataset.n_features, dataset.n_classes)
    opt = optimizer_cls(model.parameters(), fused=fused, **kwargs)
    X, y = torch.as_tensor(dataset.X_train), torch.as_tensor(dataset.y_train)
    model.train()
    for _ in range(exp.train.epochs):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return flat_parameters(model).numpy()


def test_default_adamw_decays_its_weights():
    raw = experiment.loads(NO_HYPER.format(optimizer="adamw", batch_size=0, epochs=25))
    dataset = load_dataset(raw.data)
    exp = experiment.resolve(raw, dataset)
    session = TrainingSession(exp, dataset=dataset)
    assert list(session.run())[-1].reason == "completed"
    assert session.optimizer.defaults["weight_decay"] == 0.01 and session.optimizer.defaults["lr"] == 0.001
    fused = session.optimizer.defaults.get("fused")  # the same kernel as the session chose, so the same rounding
    trained = flat_parameters(session.model).numpy()
    adamw = _train_by_hand(exp, dataset, torch.optim.AdamW, fused, lr=0.001, weight_decay=0.01)
    adam = _train_by_hand(exp, dataset, torch.optim.Adam, fused, lr=0.001)
    np.testing.assert_array_equal(trained, adamw)
    assert np.abs(trained - adam).max() > 1e-6  # decayed: not plain Adam


def test_set_values_win_over_the_defaults():
    exp = experiment.loads("[train]\noptimizer = 'adamw'\nlr = 0.02\nweight_decay = 0.0\nbeta2 = 0.99\n")
    values = hyper_values(exp.train)
    assert values == {"lr": 0.02, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.0}
    # switching optimizer keeps what was set and takes the new one's defaults for the rest
    sgd = hyper_values(TrainSpec(optimizer="gd", hyper=(("beta2", 0.99),)))
    assert sgd == {"lr": 0.1, "weight_decay": 0.0}


@pytest.mark.parametrize("train", [
    TrainSpec(),
    TrainSpec(optimizer="adamw"),
    TrainSpec(optimizer="momentum", lr=0.05),
    TrainSpec(optimizer="rmsprop", weight_decay=0.001, hyper=(("alpha", 0.9),)),
    TrainSpec(optimizer="nesterov", lr=0.2, momentum=0.5, weight_decay=0.0, schedule="step", step_size=2),
])
@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_saving_writes_only_the_chosen_values_and_round_trips(train, fmt):
    exp = Experiment(train=train)
    text = experiment.dumps(exp, fmt)
    assert experiment.loads(text, fmt) == exp
    written = (json.loads(text) if fmt == "json" else tomllib.loads(text))["train"]
    assert {k: v for k, v in written.items() if k in hyperparam_names()} == chosen_hyper(train)


def test_presets_and_lessons_set_their_learning_rates():
    """Every bundled experiment says its learning rate, so that none depends on a default it did not choose."""
    from visualizer.core.resources import resources_dir

    files = [*resources_dir().glob("experiments/*.toml"), *resources_dir().glob("lessons/*.toml")]
    assert files
    for path in files:
        assert experiment.load(path).train.lr is not None, path.name


def test_races_and_the_playground_take_the_registry_defaults():
    entry = RaceEntry("adamw")
    assert entry.resolved()["weight_decay"] == 0.01 and entry.resolved()["lr"] == 0.001
    train = entry_experiment(Experiment(train=TrainSpec(optimizer="sgd", lr=0.3)), entry).train
    assert hyper_values(train) == entry.resolved() and train.optimizer == "adamw"
    assert train.momentum is None  # AdamW reads no momentum
    assert Racer("adamw").values()["weight_decay"] == 0.01
    assert Racer("adam", {"lr": 0.1}).values() == {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                                   "weight_decay": 0.0}

