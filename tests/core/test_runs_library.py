"""Run folders: listing (damaged files included), renaming without overwriting, deleting with the WAL files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs.library import delete_run, list_runs, rename_run, run_files
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.schema import RunFileExists
from visualizer.core.runs.writer import RunWriter
from visualizer.core.training.events import Snapshot
from visualizer.core.training.session import TrainingSession

EXP = Experiment(
    data=DataSpec(name="moons", samples=100, noise=0.2, seed=1),
    model=ModelSpec(hidden=(4,), activation=("tanh",)),
    train=TrainSpec(optimizer="sgd", lr=0.1, batch_size=32, epochs=2, loss="cross_entropy", seed=5),
    title="Folder moons",
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write(path: Path, mtime: float | None = None) -> list:
    session = TrainingSession(EXP, snapshot_every_steps=2, snapshot_interval_s=0.0)
    events = []
    with RunWriter(path, EXP, session.prepare()) as writer:
        for event in session.run():
            events.append(event)
            writer.add(event)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return events


def test_list_runs_newest_first_with_damaged_files(tmp_path):
    write(tmp_path / "a.sqlite", mtime=100)
    write(tmp_path / "b.sqlite", mtime=300)
    (tmp_path / "bad.sqlite").write_text("hello")
    os.utime(tmp_path / "bad.sqlite", (200, 200))
    (tmp_path / ".b.sqlite.x.tmp").write_text("a writer's temporary file")
    listed = list_runs(tmp_path)
    assert [item.path.name for item in listed] == ["b.sqlite", "bad.sqlite", "a.sqlite"]
    assert listed[0].summary["status"] == "completed" and listed[0].error == ""
    assert listed[0].summary["data"] == "moons" and listed[0].summary["optimizer"] == "sgd"
    assert listed[1].summary is None and "not a run file" in listed[1].error
    assert list_runs(tmp_path / "missing") == [] and run_files(tmp_path / "missing") == []


def test_rename_moves_the_wal_files_and_never_overwrites(tmp_path):
    src = tmp_path / "a.sqlite"
    write(src)
    Path(f"{src}-wal").write_bytes(b"")
    renamed = rename_run(src, "baseline.sqlite")
    assert renamed == tmp_path / "baseline.sqlite" and Path(f"{renamed}-wal").exists()
    assert not src.exists() and not Path(f"{src}-wal").exists()
    with RunReader(renamed) as run:
        assert run.experiment == EXP
    taken = tmp_path / "taken.sqlite"
    taken.write_bytes(b"keep me")
    with pytest.raises(RunFileExists, match="already exists"):
        rename_run(renamed, "taken")
    assert taken.read_bytes() == b"keep me" and renamed.exists()
    for bad in ("", "  ", "a/b", ".hidden", ".."):
        with pytest.raises(VisualizerError, match="not a valid run name"):
            rename_run(renamed, bad)
    assert rename_run(renamed, "baseline") == renamed
    with pytest.raises(VisualizerError, match="no such run file"):
        rename_run(tmp_path / "gone.sqlite", "other")


def test_delete_removes_the_sidecar_files(tmp_path):
    path = tmp_path / "a.sqlite"
    write(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").write_bytes(b"")
    delete_run(path)
    assert list(tmp_path.iterdir()) == []
    delete_run(path)  # already gone: nothing to do


def test_snapshots_are_loaded_in_order(tmp_path):
    events = write(tmp_path / "a.sqlite")
    live = [e for e in events if isinstance(e, Snapshot)]
    with RunReader(tmp_path / "a.sqlite") as run:
        loaded = run.snapshots()
        assert [s.step for s in loaded] == [s.step for s in live] == run.snapshot_steps()
        assert all(np.array_equal(a.params, b.params) for a, b in zip(loaded, live))
        assert [s.step for s in run.snapshots(2)] == [s.step for s in live[2:]]
