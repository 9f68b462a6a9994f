"""`visualizer barrier`: the printed barrier is the one the CSV's losses give, files written, runs of different
networks refused with the field named and exit status 2."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixture)
from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def circles(seed: int, hidden=(8,)) -> dict:
    return {"data": {"name": "circles", "samples": 300, "noise": 0.1, "seed": 0},
            "model": {"hidden": list(hidden), "activation": "tanh"},
            "train": {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 15, "seed": seed}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("barrier")
    return {name: train_run(root / name, raw) for name, raw in
            (("a", circles(0)), ("b", circles(1)), ("wide", circles(0, hidden=(12,))))}


def test_barrier_writes_the_line_and_prints_the_barrier_it_gives(runs, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["barrier", str(runs["a"]), str(runs["b"] / "run.sqlite"), "--points", "11", "--extend", "0.2",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert {p.name for p in out.iterdir()} == {"barrier.csv", "barrier.json", "barrier.png", "barrier.svg"}
    with open(out / "barrier.csv") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["t"]) for r in rows])
    loss = np.array([float(r["train_loss"]) for r in rows])
    np.testing.assert_allclose(t, np.arange(-2, 13) / 10, atol=1e-12)
    inside = (t >= -1e-12) & (t <= 1 + 1e-12)
    la, lb = loss[np.isclose(t, 0)][0], loss[np.isclose(t, 1)][0]
    excess = loss[inside] - ((1 - t[inside]) * la + t[inside] * lb)
    summary = json.loads((out / "barrier.json").read_text())
    assert summary["train_barrier"] == pytest.approx(excess.max(), abs=1e-12)
    assert printed == f"barrier (training loss): {excess.max():.4g} at t = {t[inside][excess.argmax()]:.2f}"
    assert summary["val_barrier"] is not None and summary["distance"] > 0


def test_runs_of_different_networks_are_refused(runs, capsys):
    assert cli.main(["barrier", str(runs["a"]), str(runs["wide"])]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model.hidden" in err[0] and "(8,)" in err[0] and "(12,)" in err[0]


def test_bad_points_are_refused_before_reading_the_runs(tmp_path, capsys):
    assert cli.main(["barrier", str(tmp_path / "nope"), str(tmp_path / "nope"), "--points", "2"]) == EXIT_BAD_INPUT
    assert "--points" in capsys.readouterr().err


def test_damaged_and_hostile_runs_are_one_message(runs, tmp_path, capsys):
    import os

    fifo = tmp_path / "run.sqlite"
    os.mkfifo(fifo)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    for bad in (fifo, junk, tmp_path / "missing"):
        assert cli.main(["barrier", str(runs["a"]), str(bad)]) == EXIT_BAD_INPUT, bad
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), (bad, err)
