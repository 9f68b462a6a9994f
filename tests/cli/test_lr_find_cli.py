"""`visualizer lr-find`: the suggestion printed is the one the CSV's curve gives, the files are written, bad input
is one message and exit status 2."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.core.lab.lr_finder import smooth_in_lr, suggestions

EXPERIMENT = """
[data]
name = "circles"
samples = 400
noise = 0.1
seed = 0
[model]
hidden = [8]
activation = "tanh"
[train]
optimizer = "adam"
lr = 0.01
batch_size = 32
epochs = 5
seed = 0
"""


def test_lr_find_writes_the_curve_and_prints_the_suggestion_it_gives(tmp_path, capsys):
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    out = tmp_path / "out"
    assert cli.main(["lr-find", str(tmp_path / "exp.toml"), "--out", str(out), "--steps", "120",
                     "--low", "1e-5", "--high", "3"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("suggested learning rate: ")
    assert {p.name for p in out.iterdir()} == {"lr_find.csv", "lr_find.json", "lr_find.png", "lr_find.svg"}
    with open(out / "lr_find.csv") as fh:
        rows = list(csv.DictReader(fh))
    lrs = np.array([float(r["lr"]) for r in rows])
    losses = np.array([float(r["loss"]) for r in rows])
    assert 10 <= len(rows) <= 120 and lrs[0] == 1e-5
    np.testing.assert_allclose(np.diff(np.log(lrs)), math.log(3 / 1e-5) / 119, rtol=1e-9)
    # the suggestion recomputed from the CSV's batch losses alone
    steep, tenth = suggestions(lrs, smooth_in_lr(lrs, losses))
    summary = json.loads((out / "lr_find.json").read_text())
    assert summary["min_over_10"] == pytest.approx(tenth) and summary["steepest"] == pytest.approx(steep)
    assert float(printed.split(": ")[1]) == pytest.approx(tenth, rel=1e-2)
    assert (out / "lr_find.png").read_bytes()[:4] == b"\x89PNG" and b"<svg" in (out / "lr_find.svg").read_bytes()


@pytest.mark.parametrize(("argv", "message"), [
    (["--steps", "3"], "--steps"), (["--low", "-1"], "--low"), (["--low", "1", "--high", "0.1"], "--high"),
])
def test_bad_options_are_one_message_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    assert cli.main(["lr-find", str(tmp_path / "exp.toml"), *argv]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


def test_a_missing_experiment_is_named(tmp_path, capsys):
    assert cli.main(["lr-find", str(tmp_path / "nope.toml")]) == EXIT_BAD_INPUT
    assert "nope.toml" in capsys.readouterr().err


def test_hostile_experiment_files_are_one_message(tmp_path, capsys):
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.toml"
    deep.write_text("title = " + "[" * 100_000 + "]" * 100_000 + "\n")
    bad_lr = tmp_path / "bad.toml"
    bad_lr.write_text(EXPERIMENT.replace('optimizer = "adam"', 'optimizer = "nope"'))
    for path in (fifo, deep, bad_lr):
        assert cli.main(["lr-find", str(path)]) == EXIT_BAD_INPUT, path
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), (path, err)
