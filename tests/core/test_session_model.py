"""The application's state, Qt-free and evented: what each change tells its subscribers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.session_model import FINISHED, IDLE, RUNNING, SessionModel
from visualizer.core.training.events import RunEnded, StepEvent


@pytest.fixture
def model():
    m = SessionModel()
    m.seen = []
    for name in ("experiment", "file", "dataset", "run_state", "run", "history"):
        getattr(m.events, name).connect(lambda *args, n=name: m.seen.append((n, args)))
    return m


def test_it_loads_without_qt_or_torch():
    code = ("import sys, visualizer.core.session_model; "
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_opening_editing_and_saving(model, tmp_path):
    exp = experiment.from_dict({"title": "Moons", "data": {"name": "moons"}})
    model.open(exp, None, tmp_path)
    assert model.experiment is exp and model.path is None and not model.dirty and model.title() == "Moons"
    assert [n for n, _ in model.seen] == ["experiment", "file"]
    model.seen.clear()
    model.edit(model=experiment.ModelSpec(hidden=(4,), activation=("relu",)))
    assert model.dirty and model.experiment.model.hidden == (4,) and model.experiment.data == exp.data
    assert model.seen == [("experiment", (model.experiment, ("model",))), ("file", (None, True))]
    assert model.title() == "Moons *"
    model.saved(tmp_path / "mine.toml")
    assert (model.path, model.base_dir, model.dirty) == (tmp_path / "mine.toml", tmp_path, False)
    assert model.seen[-1] == ("file", (tmp_path / "mine.toml", False)) and model.title() == "mine.toml"


def test_a_run_lifecycle(model):
    model.begin_run()
    assert len(model.history) == 0 and model.run_state == IDLE
    model.set_run_state(RUNNING)
    model.set_run_state(RUNNING)  # no change, no event
    model.add_steps([StepEvent(0, 0, 1.0, 0.1, 0.0), StepEvent(1, 1, 0.5, 0.1, 0.1)])
    model.add_steps([])  # nothing new, no event
    ended = RunEnded(1, "completed", "Finished 1 steps.", 0.2)
    model.run_ended(ended, Path("run.sqlite"))
    assert (model.run_state, model.ended, model.recorded) == (FINISHED, ended, Path("run.sqlite"))
    assert list(model.history.train_loss) == [1.0, 0.5]
    assert [n for n, _ in model.seen] == ["run", "run_state", "history", "run_state", "run"]
    model.reset_run()
    assert model.run_state == IDLE and len(model.history) == 0 and model.recorded == Path("run.sqlite")
    with pytest.raises(ValueError, match="run state 'flying'"):
        model.set_run_state("flying")


def test_the_output_size_follows_the_data_and_the_loss(model):
    exp = experiment.from_dict({"data": {"name": "iris"}})
    model.open(exp, None, None)
    model.set_dataset(load_dataset(exp.data))
    assert model.output_size() == 3  # 'auto' is cross-entropy on three classes
    model.edit(train=experiment.replace(exp.train, loss="mse"))  # squared error on class probabilities
    assert model.output_size() == 3
    binary = experiment.from_dict({"data": {"name": "moons"}, "train": {"loss": "log_loss"}})
    model.open(binary, None, None)
    model.set_dataset(load_dataset(binary.data))
    assert model.output_size() == 1 and model.resolved().train.loss == "log_loss"
