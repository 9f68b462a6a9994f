"""The window of the loss between two runs: opened from the Run menu, it draws what the core measures, names the
field when the runs differ, exports, reads in every theme and closes clean."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.helpers import train_run
from tests.qt.readability import clipped, low_contrast
from visualizer.core.lab.interpolation import interpolate
from visualizer.qt.labtools.barrier_window import THREAD_NAME


def circles(seed: int, hidden=(8,)) -> dict:
    return {"data": {"name": "circles", "samples": 300, "noise": 0.1, "seed": 0},
            "model": {"hidden": list(hidden), "activation": "tanh"},
            "train": {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 10, "seed": seed}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("barrier_window")
    return {name: train_run(root / name, raw) for name, raw in
            (("a", circles(0)), ("b", circles(1)), ("wide", circles(0, hidden=(12,))))}


def measured(window, qtbot, a, b, points=11):
    window.acts.barrier.trigger()
    barrier = window.barrier
    assert barrier is not None and barrier.isVisible()
    barrier.set_runs(a, b)
    barrier.points_spin.setValue(points)
    assert barrier.run()
    qtbot.waitUntil(lambda: not barrier.running, timeout=60000)
    return barrier


def test_the_window_draws_what_the_core_measures(main_window, qtbot, runs, tmp_path):
    barrier = measured(main_window, qtbot, runs["a"], runs["b"])
    reference = interpolate(runs["a"], runs["b"], points=11)
    np.testing.assert_allclose(barrier.plot.shown()["train"], reference.train_loss, rtol=1e-12)
    np.testing.assert_allclose(barrier.plot.shown()["val"], reference.val_loss, rtol=1e-12)
    assert f"Barrier {reference.train_barrier:.4g}" in barrier.status.text()
    written = barrier.export_plots(tmp_path)
    assert sorted(p.name for p in written) == ["barrier.csv", "barrier.png", "barrier.svg"]
    assert (tmp_path / "barrier.csv").read_text() == reference.csv_text()
    assert (tmp_path / "barrier.png").stat().st_size > 5000


def test_a_saved_line_opens_as_it_was(main_window, qtbot, runs, tmp_path):
    import json

    from visualizer.qt.labtools.barrier_window import BarrierWindow

    barrier = measured(main_window, qtbot, runs["a"], runs["b"])
    r = barrier.result
    barrier.export_plots(tmp_path)
    again = BarrierWindow()
    qtbot.addWidget(again)
    assert again.open_result(tmp_path / "barrier.csv")
    o = again.result
    np.testing.assert_array_equal(o.t, r.t)
    np.testing.assert_array_equal(o.train_loss, r.train_loss)
    np.testing.assert_array_equal(o.val_loss, r.val_loss)
    assert (o.train_barrier, o.train_barrier_t, o.val_barrier) == (r.train_barrier, r.train_barrier_t, r.val_barrier)
    np.testing.assert_array_equal(again.plot.shown()["train"], barrier.plot.shown()["train"])
    assert f"Barrier {r.train_barrier:.4g}" in again.status.text() and "‖θ_B − θ_A‖" not in again.status.text()
    (tmp_path / "barrier.json").write_text(json.dumps(r.summary()))  # what the command writes beside it
    assert again.open_result(tmp_path / "barrier.csv")
    assert again.result.distance == r.distance and f"{r.distance:.4g}" in again.status.text()
    assert again.path_edits[0].text() == r.run_a
    (tmp_path / "other.csv").write_text("t,loss\n0,1\n")
    assert not again.open_result(tmp_path / "other.csv")
    assert "first line must be t,train_loss,val_loss" in again.status.text()
    again.close()


def test_runs_of_different_networks_are_a_message_naming_the_field(main_window, qtbot, runs):
    barrier = measured(main_window, qtbot, runs["a"], runs["wide"])
    assert "model.hidden" in barrier.status.text() and barrier.result is None
    assert barrier.run_button.isEnabled()


def test_the_window_reads_in_every_theme_and_leaves_no_thread(main_window, qtbot, runs):
    barrier = measured(main_window, qtbot, runs["a"], runs["b"])
    for where, switch in [("dark", lambda: main_window.set_theme("dark")),
                          ("presentation", main_window.presentation.enter),
                          ("left presentation", main_window.presentation.leave),
                          ("light", lambda: main_window.set_theme("light"))]:
        switch()
        for size in ((1366, 768), (1920, 1080)):
            barrier.resize(*size)
            QApplication.processEvents()
            qtbot.wait(30)
            problems = low_contrast(barrier) + clipped(barrier)
            assert not problems, (where, size, problems)
    main_window.close()
    assert not barrier.isVisible()
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
