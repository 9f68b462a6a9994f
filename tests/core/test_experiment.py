"""Experiment files: round trip, defaults, and one clear message per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec

PRESETS = sorted((Path(__file__).parents[2] / "resources" / "experiments").glob("*.toml"))

CONTRACT = """
[data]
name = "moons"
samples = 1000
noise = 0.2
classes = 3
path = "data.csv"
target = "label"
val_fraction = 0.2
seed = 0
[model]
hidden = [16, 16]
activation = "tanh"
dropout = 0.0
batch_norm = false
[train]
optimizer = "adam"
lr = 0.01
momentum = 0.9
weight_decay = 0.0
batch_size = 32
epochs = 100
loss = "cross_entropy"
schedule = "constant"
device = "auto"
seed = 0
"""


def test_contract_example_loads():
    exp = experiment.loads(CONTRACT)
    assert exp.data.name == "moons" and exp.data.samples == 1000 and exp.data.noise == 0.2
    assert exp.model.hidden == (16, 16) and exp.model.activation == ("tanh", "tanh")
    assert exp.train.optimizer == "adam" and exp.train.lr == 0.01 and exp.train.batch_size == 32
    assert exp.train.loss == "cross_entropy" and exp.train.device == "auto"


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_round_trip(tmp_path, suffix):
    exp = Experiment(
        data=DataSpec(name="spiral", samples=321, noise=0.3, classes=4, val_fraction=0.25, seed=7),
        model=ModelSpec(hidden=(8, 4, 2), activation=("relu", "gelu", "tanh"), dropout=0.1, batch_norm=True),
        train=TrainSpec(optimizer="adamw", lr=0.003, momentum=0.8, weight_decay=0.01, batch_size=0, epochs=5,
                        loss="mse", schedule="step", step_size=2, gamma=0.5, device="cpu", seed=3, eval_every=4,
                        hyper=(("beta2", 0.99), ("eps", 1e-7))),
        title="A title", description="Some words.",
    )
    path = experiment.save(exp, tmp_path / f"e{suffix}")
    assert experiment.load(path) == exp
    # saving again over it leaves no temporary files behind
    experiment.save(exp, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"e{suffix}"]


def test_missing_keys_take_defaults():
    exp = experiment.loads("[data]\nname = 'xor'\n")
    assert exp.model == ModelSpec() and exp.train.optimizer == "adam" and exp.train.loss == "auto"


def test_activation_list_and_linear_model():
    exp = experiment.loads("[model]\nhidden = [4, 3]\nactivation = ['relu', 'sigmoid']\n")
    assert exp.model.activation == ("relu", "sigmoid")
    assert experiment.loads("[model]\nhidden = []\n").model.hidden == ()


def test_auto_loss_resolves_by_task():
    reg = experiment.loads("[data]\nname = 'sine'\nsamples = 50\n")
    assert experiment.resolve(reg, load_dataset(reg.data)).train.loss == "mse"
    cls = experiment.loads("[data]\nname = 'iris'\n")
    assert experiment.resolve(cls, load_dataset(cls.data)).train.loss == "cross_entropy"


@pytest.mark.parametrize("text, key, words", [
    ("[data]\nname = 'moon'", "data.name", ["'moon'", "'moons'", "'digits'"]),
    ("[train]\noptimizer = 'adamm'", "train.optimizer", ["'adamm'", "'adam'", "'article_momentum'"]),
    ("[train]\nloss = 'hinge'", "train.loss", ["'hinge'", "'cross_entropy'"]),
    ("[model]\nhidden = [16, 0]", "model.hidden[1]", ["0", "1 to 4096"]),
    ("[model]\nhidden = [5000]", "model.hidden[0]", ["5000", "4096"]),
    ("[model]\nhidden = [-3]", "model.hidden[0]", ["-3"]),
    ("[train]\nlr = 0", "train.lr", ["0", "(0"]),
    ("[train]\nlr = -0.1", "train.lr", ["-0.1"]),
    ("[train]\nlr = 'fast'", "train.lr", ["'fast'", "number"]),
    ("[model]\nactivation = 'swish'", "model.activation", ["'swish'", "'relu'"]),
    ("[model]\nhidden = [4, 4]\nactivation = ['relu']", "model.activation", ["1 activations", "2 hidden"]),
    ("[train]\nepochs = 0", "train.epochs", ["0"]),
    ("[train]\nbatch_size = 12.5", "train.batch_size", ["12.5", "integer"]),
    ("[train]\nschedule = 'linear'", "train.schedule", ["'linear'", "'cosine'"]),
    ("[train]\ndevice = 'tpu'", "train.device", ["'tpu'", "'cuda'"]),
    ("[train]\nlearning_rate = 0.1", "train.learning_rate", ["unknown key", "'lr'"]),
    ("[data]\nval_fraction = 1.5", "data.val_fraction", ["1.5", "0.9"]),
    ("[data]\nsamples = 3", "data.samples", ["3", "10"]),
    ("[model]\ndropout = 1.0", "model.dropout", ["1"]),
    ("[model]\nbatch_norm = 'yes'", "model.batch_norm", ["'yes'", "true or false"]),
    ("[train]\nmomentum = 1.5", "train.momentum", ["1.5"]),
    ("[train]\nbeta2 = 2", "train.beta2", ["2"]),
    ("[trian]\nlr = 1", "trian", ["unknown key", "'train'"]),
    ("data = 3", "data", ["table"]),
])
def test_mistakes_name_key_value_and_allowed(text, key, words):
    with pytest.raises(ExperimentError) as info:
        experiment.loads(text)
    message = str(info.value)
    assert info.value.key == key and message.startswith(f"{key}: ")
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_loss_that_does_not_fit_the_task():
    exp = experiment.loads("[data]\nname = 'sine'\n[train]\nloss = 'cross_entropy'\n")
    with pytest.raises(ExperimentError, match=r"train.loss: 'cross_entropy' does not fit the regression .*'mse'"):
        experiment.resolve(exp, load_dataset(exp.data))
    exp = experiment.loads("[data]\nname = 'iris'\n[train]\nloss = 'log_loss'\n")
    with pytest.raises(ExperimentError, match=r"'log_loss' does not fit the 3-class"):
        experiment.resolve(exp, load_dataset(exp.data))


def test_syntax_errors_and_missing_files_are_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\nname = 'moons'\n")
    with pytest.raises(VisualizerError, match=r"bad.toml: not valid TOML") as info:
        experiment.load(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(VisualizerError, match="no such experiment file"):
        experiment.load(tmp_path / "missing.toml")
    js = tmp_path / "bad.json"
    js.write_text("{\"data\": ")
    with pytest.raises(VisualizerError, match="not valid JSON"):
        experiment.load(js)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = experiment.save(Experiment(), tmp_path / "keep.toml")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    from visualizer.core import files

    monkeypatch.setattr(files.os, "replace", broken)  # atomic writes live in core.files
    with pytest.raises(OSError):
        experiment.save(Experiment(train=TrainSpec(lr=0.5)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.toml"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_presets_load_and_resolve(preset):
    exp = experiment.load(preset)
    assert exp.title and exp.description
    experiment.resolve(exp, load_dataset(exp.data, preset.parent))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_presets_train_well(preset):
    """Each preset reaches >= 0.9 validation accuracy (or R²): what a user opening it expects to see."""
    from visualizer.core.training.events import RunEnded, StepEvent
    from visualizer.core.training.session import TrainingSession

    exp = experiment.load(preset)
    dataset = load_dataset(exp.data, preset.parent)
    events = list(TrainingSession(experiment.resolve(exp, dataset), dataset=dataset).run())
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "completed"
    last = [e for e in events if isinstance(e, StepEvent) and e.val_metric is not None][-1]
    assert last.val_metric >= 0.9, (preset.stem, last.val_metric)
