"""A full disk is one line and exit status 1, never two chained tracebacks; what was committed before stays. The
disk is simulated: SQLite's max_page_count gives the run file SQLite's own "database or disk is full", and the
other files' writes raise OSError(ENOSPC), as a full disk does. (Checked by hand on a 2 MB tmpfs too.)"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import train_run
from visualizer.cli import parser as cli
from visualizer.core.runs import writer as writer_module
from visualizer.core.runs.reader import RunReader

DIGITS = ("title = 'wide digits'\n[data]\nname = 'digits'\n[model]\nhidden = [64, 64]\n"
          "[train]\nepochs = 20\nbatch_size = 64\n")
IRIS = {"title": "iris", "data": {"name": "iris", "seed": 0}, "model": {"hidden": [8]},
        "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 16, "epochs": 3, "seed": 0}}


class _SmallDisk:
    """sqlite3 as the writer sees it, with every database it opens limited to ``pages`` pages of 4 KiB."""

    def __init__(self, pages: int) -> None:
        self.pages = pages

    def __getattr__(self, name):
        return getattr(sqlite3, name)

    def connect(self, *args, **kwargs):
        db = sqlite3.connect(*args, **kwargs)
        db.execute(f"PRAGMA max_page_count = {self.pages}")
        return db


def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_a_run_into_a_full_disk_says_so_once_and_keeps_what_was_committed(tmp_path, monkeypatch, capsys):
    (tmp_path / "digits.toml").write_text(DIGITS)
    monkeypatch.setattr(writer_module, "sqlite3", _SmallDisk(pages=200))  # 800 KiB of a ~10 MB run
    code = cli.main(["run", str(tmp_path / "digits.toml"), "--out", str(tmp_path / "o"), "--quiet", "--no-plots"])
    assert code == 1
    line = _one_line_error(capsys)
    assert line.startswith("error: the disk is full: the run file ") and "keeps the run up to step" in line
    kept = int(line.split("up to step ")[1].split(";")[0])
    with RunReader(tmp_path / "o" / "run.sqlite") as reader:  # readable, up to its last commit
        assert reader.history().steps[-1] == kept > 0 and reader.ended is None
    assert not (tmp_path / "o" / "summary.json").exists()


def test_a_disk_full_before_the_first_step(tmp_path, monkeypatch, capsys):
    (tmp_path / "digits.toml").write_text(DIGITS)
    monkeypatch.setattr(writer_module, "sqlite3", _SmallDisk(pages=2))
    assert cli.main(["run", str(tmp_path / "digits.toml"), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "the disk is full: cannot create the run file" in _one_line_error(capsys)


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory) -> Path:
    return train_run(tmp_path_factory.mktemp("full") / "iris", IRIS)


@pytest.mark.parametrize("argv", [["compress", "--prune", "l1:0.5"], ["export", "--views", "loss", "--formats",
                                                                          "png"]])
def test_compress_and_export_into_a_full_disk(iris_run, tmp_path, monkeypatch, capsys, argv):
    monkeypatch.setattr(os, "fsync", _no_space)  # the atomic writes of JSON, TOML and weights
    monkeypatch.setattr(Path, "write_bytes", _no_space)  # the plots
    out = tmp_path / "o"
    assert cli.main([argv[0], str(iris_run), "--out", str(out), *argv[1:]]) == 1
    line = _one_line_error(capsys)
    assert line == f"error: the disk is full: nothing more could be written to {out}; free some space and run " \
                   "again (files written before are kept)"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]  # no half-written file
