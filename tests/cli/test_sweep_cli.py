"""`visualizer sweep`: a sweep killed mid-way and run again finishes every trial exactly once; bad fields and a
missing Ray are one message and exit status 2; the map is drawn."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_cli import visualizer
from tests.core.sweeps.conftest import TINY

GRID = ["--param", "train.lr=0.01:1:log:3", "--param", "train.momentum=0,0.5,0.9", "--param", "train.epochs=6"]


def _rows(folder):
    path = folder / "sweep.csv"
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_a_sweep_killed_mid_way_resumes_without_repeating_a_trial(tmp_path):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    out = tmp_path / "sweep"
    args = [sys.executable, "-m", "visualizer", "sweep", str(exp), "--out", str(out), *GRID, "--backend", "serial",
            "--no-plots", "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    try:
        deadline = time.monotonic() + 120
        while len(_rows(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    before = {r["trial"]: r for r in _rows(out)}
    assert 3 <= len(before) < 9, "the sweep was not killed mid-way"
    again = visualizer("sweep", str(exp), "--out", str(out), *GRID, "--backend", "serial", "--no-plots", "--quiet")
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(before)} of 9 trials were done before" in again.stderr
    rows = _rows(out)
    assert sorted(r["trial"] for r in rows) == [f"{i:04d}" for i in range(9)]  # every trial exactly once
    for trial, row in before.items():  # a finished trial was not run again: its row is as it was
        assert {k: v for k, v in row.items()} == next(r for r in rows if r["trial"] == trial)
    assert all((out / r["run"]).is_file() for r in rows)
    other = visualizer("sweep", str(exp), "--out", str(out), "--param", "train.lr=0.5,1", "--quiet")
    assert other.returncode == 2 and "holds another sweep" in other.stderr


@pytest.mark.parametrize(("param", "words"), [
    ("train.lr=0.1,99", "train.lr: 99 is out of range for Momentum; allowed: (0, 10]"),
    ("train.optimizer=sgd,nope", "train.optimizer: 'nope' is not known; allowed:"),
    ("model.colour=1,2", "'model.colour' is not a field one can sweep; allowed:"),
])
def test_bad_fields_are_one_message_and_exit_2(tmp_path, param, words):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    result = visualizer("sweep", str(exp), "--out", str(tmp_path / "o"), "--param", param, "--quiet")
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_without_ray_the_ray_backend_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from visualizer.cli.parser import main

    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    code = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--param", "train.lr=0.1,0.2", "--backend", "ray",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install ".[cluster]"' in err and "Ray is not installed" in err


@pytest.mark.slow
def test_the_map_is_written_with_diverged_cells_and_the_best_outlined(tmp_path):
    from tests.core.sweeps.test_runner import SINE

    exp = tmp_path / "sine.toml"
    exp.write_text(SINE)
    out = tmp_path / "o"
    result = visualizer("sweep", str(exp), "--out", str(out), "--param", "train.lr=0.001,0.01,10",
                        "--param", "train.momentum=0,0.5", "--param", "train.optimizer=momentum", "--backend", "serial",
                        "--quiet")
    assert result.returncode == 0, result.stderr
    assert "6 trials: 4 done, 2 diverged, 0 failed" in result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out / "map.png"))
    assert image.width() == 1000 and image.height() == 720
    svg = (out / "map.svg").read_text()
    assert "train.lr (log scale)" in svg and "train.momentum" in svg and "diverged" in svg and "best" in svg
