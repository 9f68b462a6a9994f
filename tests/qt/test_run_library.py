"""The run library: lists a folder's runs newest first, opens, compares, renames (never over a file), deletes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs.writer import RunWriter
from visualizer.core.training.events import RunEnded
from visualizer.core.training.session import TrainingSession
from visualizer.qt.runs.library import COLUMNS, RunLibraryDialog, resolve_run_path

EXP = Experiment(
    data=DataSpec(name="moons", samples=100, noise=0.2, seed=1),
    model=ModelSpec(hidden=(4,), activation=("tanh",)),
    train=TrainSpec(optimizer="adam", lr=0.02, batch_size=32, epochs=2, loss="cross_entropy", seed=5),
    title="Library moons",
)


def write_run(path: Path, end: bool = True, mtime: float | None = None) -> Path:
    """A small recorded run; without ``end`` it stops as a killed run would (no end, no weights)."""
    session = TrainingSession(EXP)
    with RunWriter(path, EXP, session.prepare()) as writer:
        for event in session.run():
            if isinstance(event, RunEnded) and not end:
                break
            writer.add(event)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def folder(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        write_run(tmp_path / "old.sqlite", mtime=1_000_000)
        write_run(tmp_path / "killed.sqlite", end=False, mtime=2_000_000)
        write_run(tmp_path / "new.sqlite", mtime=3_000_000)
    finally:
        torch.set_num_threads(threads)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"\x00garbage" * 40)
    os.utime(damaged, (1_500_000, 1_500_000))
    (tmp_path / "notes.txt").write_text("not a run")
    return tmp_path


@pytest.fixture
def library(qtbot, folder):
    dialog = RunLibraryDialog(folder)
    qtbot.addWidget(dialog)
    return dialog


def cells(dialog: RunLibraryDialog, row: int) -> dict[str, str]:
    return {name: dialog.table.item(row, c).text() for c, name in enumerate(COLUMNS)}


def test_lists_runs_newest_first_with_their_summary(library):
    names = [cells(library, r)["Name"] for r in range(library.table.rowCount())]
    assert names == ["new", "killed", "damaged", "old"]
    new = cells(library, 0)
    assert new["Experiment"] == "Library moons — moons / adam" and new["Status"] == "completed"
    assert new["Steps"] == "6" and new["Final metric"].startswith("acc 0.")
    assert float(new["Final loss"]) > 0
    killed = cells(library, 1)
    assert killed["Status"] == "incomplete"  # a killed run: no end recorded, still listed and openable
    assert library.selected_path() == library.folder / "new.sqlite"


def test_a_damaged_file_is_listed_with_its_message(library):
    damaged = cells(library, 2)
    assert damaged["Status"] == "damaged" and "not a run file" in damaged["Experiment"]
    library.table.selectRow(2)
    assert not library.open_button.isEnabled() and library.delete_button.isEnabled()


def test_open_and_compare_emit_the_path(library, qtbot):
    library.table.selectRow(1)
    with qtbot.waitSignal(library.open_requested) as opened:
        library.open_button.click()
    assert opened.args == [library.folder / "killed.sqlite"]
    with qtbot.waitSignal(library.compare_requested) as compared:
        library.compare_button.click()
    assert compared.args == [library.folder / "killed.sqlite"]


def test_open_a_run_folder(library, qtbot, tmp_path):
    run_dir = tmp_path / "cli-run"
    run_dir.mkdir()
    write_run(run_dir / "run.sqlite")
    assert resolve_run_path(run_dir) == run_dir / "run.sqlite"
    with qtbot.waitSignal(library.open_requested) as opened:
        assert library.open_path(run_dir)
    assert opened.args == [run_dir / "run.sqlite"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not library.open_path(empty) and "holds no run file" in library.message.text()


def test_rename_and_the_refusal_of_a_taken_name(library):
    old = library.folder / "old.sqlite"
    new = library.rename(old, "baseline")
    assert new == library.folder / "baseline.sqlite" and new.exists() and not old.exists()
    assert library.selected_path() == new and "Renamed" in library.message.text()
    before = (library.folder / "new.sqlite").read_bytes()
    assert library.rename(new, "new") is None
    assert "already exists" in library.message.text()
    assert new.exists() and (library.folder / "new.sqlite").read_bytes() == before  # nothing overwritten
    assert library.rename(new, "../escape") is None and "not a valid run name" in library.message.text()


def test_rename_through_the_button(library, monkeypatch):
    library.select(library.folder / "killed.sqlite")
    monkeypatch.setattr(library, "ask_name", lambda current: f"{current}-kept")
    library.rename_button.click()
    assert (library.folder / "killed-kept.sqlite").exists()


def test_delete_asks_first(library, monkeypatch):
    path = library.folder / "new.sqlite"
    Path(f"{path}-wal").write_bytes(b"")
    Path(f"{path}-shm").write_bytes(b"")
    asked = []
    monkeypatch.setattr(library, "confirm", lambda title, text: asked.append(text) or False)
    library.select(path)
    library.delete_button.click()
    assert path.exists() and "new.sqlite" in asked[0]
    monkeypatch.setattr(library, "confirm", lambda title, text: True)
    library.delete_button.click()
    assert not path.exists() and not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    assert "new" not in [cells(library, r)["Name"] for r in range(library.table.rowCount())]


def test_an_empty_folder(qtbot, tmp_path):
    dialog = RunLibraryDialog(tmp_path / "none-yet")
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0 and "No runs" in dialog.message.text()
    assert not dialog.open_button.isEnabled()
