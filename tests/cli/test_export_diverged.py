"""`visualizer export` on a run that diverged (issue 13: "LinAlgError: SVD did not converge"): its views export, the
landscape around its last finite weights with its finite snapshots as the path, the loss on a log axis; a run with
no finite weights left says so in one line per view."""

from __future__ import annotations

import csv
import sqlite3

import numpy as np
import pytest
import torch

from visualizer.cli import parser as cli
from visualizer.core import experiment
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.writer import record
from visualizer.core.training.session import TrainingSession

#: plain SGD at learning rate 10: the loss is infinite at step 4 and the final weights are NaN
DIVERGING = {"title": "diverging sine", "data": {"name": "sine", "samples": 200, "seed": 0},
             "model": {"hidden": [16, 16], "activation": "relu"},
             "train": {"optimizer": "sgd", "lr": 10, "batch_size": 32, "epochs": 30, "loss": "mse", "seed": 0}}


def export(*argv: str) -> int:
    return cli.main(["export", *argv])


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    """The run file of a diverged run, a snapshot every step until it diverged."""
    folder = tmp_path_factory.mktemp("diverged")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        session = TrainingSession(experiment.from_dict(DIVERGING), folder, snapshot_every_steps=1,
                                  snapshot_interval_s=0.0)
        record(session, folder / "run.sqlite").close()
    finally:
        torch.set_num_threads(threads)
    with RunReader(folder / "run.sqlite") as reader:  # what the issue describes
        assert reader.ended.reason == "diverged"
        assert not all(bool(torch.isfinite(w).all()) for w in reader.weights().values())
        assert not np.isfinite(reader.history().train_loss[-1])
    return folder / "run.sqlite"


def test_a_diverged_run_exports_around_its_last_finite_weights(diverged, tmp_path, capsys):
    with RunReader(diverged) as reader:
        path = reader.trajectory()
    finite = np.isfinite(path.params).all(axis=1)
    assert finite.sum() >= 3
    out = tmp_path / "out"
    capsys.readouterr()
    assert export(str(diverged), "--out", str(out), "--views", "loss,landscape,histograms,dashboard", "--width", "400",
                  "--height", "300") == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "skipped" not in err
    assert "not finite" in err and f"step {int(path.steps[finite][-1])}" in err  # said once
    assert len([line for line in err.splitlines() if "final weights are not finite" in line]) == 1
    for name in ("loss.png", "landscape.png", "histograms.png", "dashboard.png", "loss.csv", "landscape.csv"):
        assert (out / name).stat().st_size > 0, name
    trajectory = _rows(out / "landscape_trajectory.csv")
    assert [int(r["step"]) for r in trajectory] == path.steps[finite].tolist()  # the finite snapshots only
    last = trajectory[-1]  # the centre: the last finite snapshot
    assert abs(float(last["alpha"])) < 1e-4 and abs(float(last["beta"])) < 1e-4 and float(last["distance"]) < 1e-4
    surface = _rows(out / "landscape.csv")  # the loss overflows over much of it: such cells are empty
    assert len(surface) == 61 ** 2 and all(np.isfinite(float(r["loss"])) for r in surface if r["loss"])


def test_the_diverged_landscape_is_the_pca_of_the_finite_snapshots(diverged):
    from visualizer.core.landscape.directions import pca_directions
    from visualizer.core.runs.export import RunExport

    with RunReader(diverged) as reader:
        path = reader.trajectory()
    params = path.params[np.isfinite(path.params).all(axis=1)]
    run = RunExport(diverged)
    try:
        land = run.landscape
        d1, d2, ratio = pca_directions(params)  # the reference: PCA over the finite rows
        assert land.plane.directions == "pca"
        np.testing.assert_allclose(land.plane.center, params[-1])
        np.testing.assert_allclose(land.plane.d1, d1, atol=1e-6)
        np.testing.assert_allclose(land.plane.d2, d2, atol=1e-6)
        assert land.axis_labels[0] == f"α (PC 1, {100 * ratio[0]:.1f}% of variance)"
        assert len([note for note in run.notes if "final weights" in note]) == 1
    finally:
        run.close()


def test_the_loss_of_a_diverged_run_is_on_a_log_axis(diverged, qtbot):
    from visualizer.core.runs.export import RunExport
    from visualizer.qt.runs.export import loss_widget

    run = RunExport(diverged)
    try:
        assert run.loss_on_log_axis
        plot = loss_widget(run)
        qtbot.addWidget(plot)
        assert plot.loss_plot.getAxis("left").logMode
        frame = loss_widget(run, int(run.history.steps[1]))  # an animation's frame: the whole run's range, in log10
        qtbot.addWidget(frame)
        low, high = frame.loss_plot.vb.viewRange()[1]
        finite = run.history.train_loss[np.isfinite(run.history.train_loss)]
        assert low <= np.log10(finite.min()) and np.log10(finite.max()) <= high < 60
    finally:
        run.close()


def test_a_run_with_no_finite_weights_left_says_so(diverged, tmp_path, capsys):
    copy = tmp_path / "run.sqlite"
    copy.write_bytes(diverged.read_bytes())
    with sqlite3.connect(copy) as db:  # only the NaN final weights remain
        db.execute("DELETE FROM histograms")
        db.execute("DELETE FROM snapshots")
    db.close()
    out = tmp_path / "out"
    capsys.readouterr()
    assert export(str(copy), "--out", str(out), "--views", "loss,landscape,dashboard", "--formats", "png,csv") == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("landscape:")]
    assert len(lines) == 1 and "not finite" in lines[0] and lines[0].endswith("skipped")
    assert (out / "loss.png").exists() and (out / "loss.csv").exists() and (out / "dashboard.png").exists()
    assert not (out / "landscape.png").exists()
