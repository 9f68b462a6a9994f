"""One run format: a run opened by its run file or its folder, what RunReader rebuilds (data set, model,
trajectory), a CSV path recorded absolute (older files with a relative one still open), and the folder's files
derived from the run file equal to what the in-memory run wrote before."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.model.nets import flat_parameters
from visualizer.core.model.weights import load_weights, save_weights
from visualizer.core.runs.folder import metrics_csv, summary, train_to_dir, write_run_exports
from visualizer.core.runs.loaded import load_run
from visualizer.core.runs.reader import RunReader, open_run, run_file_of
from visualizer.core.runs.writer import RunWriter, create_run_file, record
from visualizer.core.training.events import RunEnded, Snapshot, StepEvent
from visualizer.core.training.session import TrainingSession

ROOT = Path(__file__).resolve().parents[2]
FRUIT = ROOT / "resources" / "experiments" / "fruit_csv.toml"
FRUIT_CSV = (ROOT / "resources" / "data" / "fruit.csv").resolve()
MOONS = {"title": "tiny moons", "data": {"name": "moons", "samples": 200, "seed": 0},
         "model": {"hidden": [8], "activation": "tanh"},
         "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 32, "epochs": 3, "loss": "cross_entropy",
                   "seed": 0, "device": "cpu"}}
SINE = {"title": "tiny sine", "data": {"name": "sine", "samples": 100, "seed": 0},
        "model": {"hidden": [4], "activation": "tanh"},
        "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 32, "epochs": 2, "loss": "mse", "seed": 0,
                  "device": "cpu"}}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _fruit(epochs: int = 2) -> experiment.Experiment:
    exp = experiment.load(FRUIT)
    return replace(exp, train=replace(exp.train, epochs=epochs))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A moons run trained as `visualizer run` trains it: the run file, then the folder's files."""
    out = tmp_path_factory.mktemp("moons") / "run"
    exp = experiment.from_dict(MOONS)
    data = load_dataset(exp.data)
    run = train_to_dir(experiment.resolve(exp, data), out, data)
    assert run.ended.ok and run.run_file == out / "run.sqlite"
    return out


# --------------------------------------------------------------------------------- opening a run


def test_a_run_opens_by_its_file_or_its_folder(run_dir):
    run_file = run_dir / "run.sqlite"
    assert run_file_of(run_dir) == run_file and run_file_of(run_file) == run_file
    with open_run(run_dir) as by_folder, open_run(run_file) as by_file:
        assert by_folder.path == by_file.path == run_file
        assert list(by_folder.history().steps) == list(by_file.history().steps)
    a, b = load_run(run_dir), load_run(run_file)
    assert a.path == b.path == run_file
    stored = load_weights(run_dir / "model.safetensors")  # the folder's export holds the run file's weights
    for run in (a, b):
        state = run.model.state_dict()
        assert set(state) == set(stored) and all(torch.equal(stored[k], v) for k, v in state.items())
        assert not run.model.training


def test_the_newest_run_file_of_a_folder_is_opened(tmp_path):
    exp = experiment.from_dict(MOONS)
    for _ in range(3):
        create_run_file(tmp_path, "run", exp).close()
    first, second, third = (tmp_path / n for n in ("run.sqlite", "run-2.sqlite", "run-3.sqlite"))
    for path in (first, second, third):  # written within one clock tick: the number decides
        os.utime(path, (1_000_000, 1_000_000))
    assert run_file_of(tmp_path) == third
    os.utime(first, (2_000_000, 2_000_000))  # rewritten later: the newest
    assert run_file_of(tmp_path) == first
    (tmp_path / "notes.sqlite").write_bytes(b"")  # not a run* name: never picked
    os.utime(tmp_path / "notes.sqlite", (3_000_000, 3_000_000))
    assert run_file_of(tmp_path) == first


def test_a_folder_without_a_run_file_names_both_options(tmp_path):
    with pytest.raises(VisualizerError) as e:
        run_file_of(tmp_path)
    message = str(e.value)
    assert "run.sqlite" in message and "run file (.sqlite)" in message and "folder holding one" in message
    create_run_file(tmp_path, "20240101-moons", experiment.from_dict(MOONS)).close()
    with pytest.raises(VisualizerError, match="20240101-moons.sqlite: give one of them"):
        open_run(tmp_path)
    with pytest.raises(VisualizerError, match="no such run folder or run file"):
        open_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VisualizerError, match="holds no run") as e:
        load_run(tmp_path / "empty")
    assert "\n" not in str(e.value)


def test_an_older_run_folder_without_a_run_file_still_loads(run_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    with RunReader(old / "run.sqlite") as reader:
        trajectory = reader.trajectory()
    (old / "run.sqlite").unlink()
    run = load_run(old)
    assert run.path == old and len(run.trajectory()) == 0
    expected = load_run(run_dir)
    assert all(torch.equal(v, expected.model.state_dict()[k]) for k, v in run.model.state_dict().items())
    np.savez(old / "trajectory.npz", steps=trajectory.steps, params=trajectory.params)  # an older landscape's
    again = run.trajectory()
    assert np.array_equal(again.steps, trajectory.steps) and np.array_equal(again.params, trajectory.params)


# --------------------------------------------------------------------------------- what the reader rebuilds


def test_model_and_trajectory_of_a_run_file(run_dir, tmp_path):
    with RunReader(run_dir / "run.sqlite") as reader:
        model = reader.model()
        snaps = reader.snapshots()
        path = reader.trajectory()
        thinned = reader.trajectory(5)
        weights = reader.weights()
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert list(path.steps) == sorted({s.step for s in snaps}) and path.params.dtype == np.float32
    last_of_step = {s.step: s.params for s in snaps}  # a step that repeats keeps its last snapshot
    for step, params in zip(path.steps, path.params):
        assert np.array_equal(params, last_of_step[int(step)])
    np.testing.assert_allclose(path.params[-1], flat_parameters(model).numpy())  # the end is the final weights
    keep = np.unique(np.linspace(0, len(path) - 1, 5).round().astype(int))
    assert np.array_equal(thinned.steps, path.steps[keep]) and np.array_equal(thinned.params, path.params[keep])
    assert thinned.steps[0] == path.steps[0] and thinned.steps[-1] == path.steps[-1]
    # without stored weights, the network is the last snapshot's
    exp = experiment.from_dict(MOONS)
    with RunWriter(tmp_path / "no_weights.sqlite", exp) as writer:
        writer.add(Snapshot(3, 0, (), path.params[2]))
    with RunReader(tmp_path / "no_weights.sqlite") as reader:
        np.testing.assert_array_equal(flat_parameters(reader.model()).numpy(), path.params[2])
    with RunWriter(tmp_path / "nothing.sqlite", exp):
        pass
    with RunReader(tmp_path / "nothing.sqlite") as reader, pytest.raises(VisualizerError, match="neither weights"):
        reader.model()


def test_the_csv_path_is_recorded_absolute_and_the_run_found_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the experiment's folder: the relative path is taken from the experiment's
    exp = _fruit()
    assert not Path(exp.data.path).is_absolute()
    with record(TrainingSession(exp, FRUIT.parent), tmp_path / "runs" / "fruit.sqlite") as reader:
        assert Path(reader.experiment.data.path) == FRUIT_CSV
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    expected = load_dataset(exp.data, FRUIT.parent)
    with RunReader(tmp_path / "runs" / "fruit.sqlite") as reader:
        got = reader.dataset()
        model = reader.model(got)
    for name in ("X_train", "y_train", "X_val", "y_val"):
        assert np.array_equal(getattr(got, name), getattr(expected, name))
    assert got.class_names == expected.class_names and model(torch.as_tensor(got.X_val)).shape[1] == 3


def _as_older_file(path: Path, exp: experiment.Experiment) -> None:
    """Rewrite a run file's experiment as an older version recorded it (the CSV path as the file gave it)."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'experiment'", (experiment.dumps(exp),))
    db.close()


def test_an_older_file_with_a_relative_csv_path(tmp_path, monkeypatch):
    exp = _fruit()
    relative = replace(exp, data=replace(exp.data, path="fruit.csv"))
    folder = tmp_path / "runs"
    with create_run_file(folder, "old", exp, base_dir=FRUIT.parent) as writer:
        path = writer.path
    _as_older_file(path, relative)
    monkeypatch.chdir(tmp_path)
    with RunReader(path) as reader, pytest.raises(VisualizerError) as e:
        reader.dataset()
    message = str(e.value)
    assert "'fruit.csv'" in message and "relative path" in message and str(folder / "fruit.csv") in message
    assert "\n" not in message and "is not found" in message
    shutil.copy(FRUIT_CSV, folder / "fruit.csv")  # beside the run file: found as before
    with RunReader(path) as reader:
        got = reader.dataset()
    assert np.array_equal(got.X_train, load_dataset(exp.data, FRUIT.parent).X_train)
    moved = replace(exp, data=replace(exp.data, path=str(tmp_path / "gone" / "fruit.csv")))
    _as_older_file(path, moved)
    with RunReader(path) as reader, pytest.raises(VisualizerError, match="gone/fruit.csv, is not found"):
        reader.dataset()


# --------------------------------------------------------------------------------- the folder's files


def _train_in_memory(raw: dict, path: Path):
    """Train while recording, keeping what the in-memory run had: (session, history, started, ended)."""
    from visualizer.core.training.history import History

    exp = experiment.from_dict(raw)
    data = load_dataset(exp.data)
    exp = experiment.resolve(exp, data)
    session = TrainingSession(exp, dataset=data, snapshot_target=50)
    started = session.prepare()
    history, ended = History(), None
    with RunWriter(path, exp, started) as writer:
        for event in session.run():
            writer.add(event)
            if isinstance(event, StepEvent):
                history.append(event)
            elif isinstance(event, RunEnded):
                ended = event
        writer.add_weights(session.model)
    return session, history, started, ended


@pytest.mark.parametrize("raw", [MOONS, SINE], ids=["classification", "regression"])
def test_the_folder_files_derived_from_the_run_file_equal_what_was_written_before(raw, tmp_path):
    session, history, started, ended = _train_in_memory(raw, tmp_path / "run.sqlite")
    exp, before = session.experiment, tmp_path / "before"
    before.mkdir()  # what the folder held before: written from the in-memory run
    (before / "metrics.csv").write_text(metrics_csv(history, started.task))
    info = summary(history, started, ended, session.dataset, exp)
    (before / "summary.json").write_text(json.dumps(info, indent=2) + "\n")
    experiment.save(exp, before / "experiment.toml")
    save_weights(session.model, before / "model.safetensors", metadata={"experiment": experiment.dumps(exp, "json")})
    with RunReader(tmp_path / "run.sqlite") as reader:
        assert write_run_exports(reader, tmp_path / "after") == info
    for name in ("metrics.csv", "summary.json", "experiment.toml", "model.safetensors"):
        assert (tmp_path / "after" / name).read_bytes() == (before / name).read_bytes(), name


def test_a_run_file_without_an_end_exports_the_run_so_far(tmp_path):
    exp = experiment.from_dict(MOONS)
    session = TrainingSession(exp)
    started = session.prepare()
    with RunWriter(tmp_path / "killed.sqlite", exp, started) as writer:
        for event in session.run():
            if isinstance(event, RunEnded) or (isinstance(event, StepEvent) and event.step > 7):
                break
            writer.add(event)
    with RunReader(tmp_path / "killed.sqlite") as reader:
        info = write_run_exports(reader, tmp_path / "out")
    assert info["status"] == "unfinished" and info["steps"] == 7 and "no end" in info["message"]
    assert len((tmp_path / "out" / "metrics.csv").read_text().splitlines()) == 1 + 8
