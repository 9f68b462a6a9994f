"""The optimizer race window: a tiny race on a worker thread, drawn; closing leaves no thread behind."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from tests.qt.clicks import click_legend_entry
from visualizer.core import experiment
from visualizer.qt.playground.race_window import THREAD_NAME, RaceWindow
from visualizer.qt.plots.race_plot import RaceLossPlot

TINY = {"title": "tiny moons",
        "data": {"name": "moons", "samples": 120, "noise": 0.2, "seed": 0},
        "model": {"hidden": [4], "activation": "tanh"},
        "train": {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 2, "loss": "cross_entropy"}}


def race_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture
def window(qtbot):
    w = RaceWindow(experiment.from_dict(TINY), None)
    qtbot.addWidget(w)
    yield w
    w.close()


def test_defaults_come_from_the_experiment_and_the_registry(window):
    assert [e.optimizer for e in window.entries()] == ["sgd", "momentum", "adam"]
    assert [e.hyper["lr"] for e in window.entries()] == [0.01, 0.01, 0.02]  # Adam: the experiment's own lr
    assert window.epochs_spin.value() == 2
    window.rows[3].set_entry("rmsprop", 0.005)
    assert window.entries()[3].optimizer == "rmsprop" and window.entries()[3].hyper == {"lr": 0.005}


def test_a_tiny_race_is_drawn_and_closing_leaves_no_thread(qtbot, tmp_path):
    w = RaceWindow(experiment.from_dict(TINY), None)
    qtbot.addWidget(w)
    w.rows[0].set_entry("sgd", 0.2)
    assert w.run()
    assert w.running and not w.run_button.isEnabled()
    qtbot.waitUntil(lambda: not w.running, timeout=30_000)
    r = w.result
    assert r is not None and len(r.runs) == 3, w.status.text()
    drawn = w.landscape.path_points
    assert len(drawn) == 3
    for points, path, run in zip(drawn, r.paths, r.runs):
        assert len(points) == len(run.trajectory) == len(run.snapshot_steps)
        np.testing.assert_allclose(points, path)
    assert w.losses.curve_count == 3
    assert "PCA 1" in w.landscape.plot.getAxis("bottom").labelText
    assert f"{100 * r.explained[0]:.1f}%" in w.landscape.plot.getAxis("bottom").labelText
    assert "done" in w.progress.format() and w.run_button.isEnabled()
    assert w.export_button.isEnabled()
    written = w.export_plots(tmp_path)
    assert [p.name for p in written] == ["race_landscape.png", "race_losses.png"]
    assert all(p.stat().st_size > 10_000 for p in written)
    w.log_y.setChecked(True)
    assert w.losses.log_y
    assert not any(item.isVisible() for item in w.losses.raw)
    w.batches.setChecked(True)
    assert sum(item.isVisible() for item in w.losses.raw) == 3
    x, y = w.losses.raw[0].getData()
    assert len(x) == len(r.runs[0].steps) and x[-1] == pytest.approx(2.0)  # epochs on x: 2 epochs
    w.rows[1].check.setChecked(False)
    assert w.run()  # a second race reuses the plot items: two paths now
    qtbot.waitUntil(lambda: not w.running, timeout=30_000)
    assert len(w.landscape.path_points) == 2 and w.losses.curve_count == 2
    assert sum(item.isVisible() for item in w.losses.raw) == 2
    w.close()
    assert not race_threads()


def test_cancel_and_close_mid_race_join_the_worker(qtbot):
    w = RaceWindow(experiment.from_dict({**TINY, "train": {**TINY["train"], "epochs": 400}}), None)
    qtbot.addWidget(w)
    assert w.run()
    qtbot.waitUntil(lambda: "step" in w.progress.format(), timeout=10_000)
    w.cancel()
    assert not w.running and not race_threads() and w.result is None
    assert "cancelled" in w.progress.format()
    assert w.run()
    w.close()
    assert not w.running and not race_threads()


def test_no_optimizer_chosen_is_refused_with_a_message(window):
    for row in window.rows:
        row.check.setChecked(False)
    assert not window.run()
    assert "1 to 6 optimizers" in window.status.text() and not race_threads()


def test_a_path_that_flew_off_is_clipped_to_near_the_view(qtbot):
    from visualizer.qt.plots.race_plot import RaceLandscapePlot

    plot = RaceLandscapePlot()
    qtbot.addWidget(plot)
    grid = np.linspace(-1.0, 1.0, 5)
    far = np.array([[0.0, 0.0], [0.5, 0.2], [3e20, -1e22]])
    plot.set_race(grid, grid, np.ones((5, 5)), [far, far[:2]], ["gone", "kept"], [0.7, 0.2], log_scale=False)
    drawn = plot.path_points
    np.testing.assert_allclose(drawn[0], [[0.0, 0.0], [0.5, 0.2], [3.0, -3.0]])
    np.testing.assert_allclose(drawn[1], far[:2])
    assert plot.paths[1].zValue() > plot.paths[0].zValue()  # the shorter path on top
    assert plot.plot.getAxis("left").labelText == "PCA 2 (20.0% of variance)"


def test_the_race_trains_in_worker_processes_when_asked(qtbot):
    w = RaceWindow(experiment.from_dict(TINY), None)
    qtbot.addWidget(w)
    combo = w.backend_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["serial", "local", "ray"]
    assert combo.currentData() == "serial"  # by default on the window's worker thread, with step progress
    combo.setCurrentIndex(1)
    assert w.run()
    assert not combo.isEnabled()
    qtbot.waitUntil(lambda: not w.running, timeout=60_000)
    assert w.result is not None and len(w.result.runs) == 3, w.status.text()
    assert len(w.landscape.path_points) == 3 and w.losses.curve_count == 3
    assert combo.isEnabled()
    w.close()
    assert not race_threads()


def test_no_empty_legend_box_before_the_first_race(window):
    assert not window.losses.legend.isVisible()  # (it drew an empty box in the corner)


def test_the_side_column_widens_with_larger_fonts_and_the_loss_titles_differ(window, qtbot):
    from PySide6.QtGui import QFont, QFontMetrics

    window.show()
    window.resize(1920, 1080)
    assert window._side.width() == 340
    bigger = QFont(window.font())
    bigger.setPointSizeF(bigger.pointSizeF() * 1.5)  # what presentation mode does to the application's font
    window.setFont(bigger)
    qtbot.waitUntil(lambda: window._side.width() > 340)
    combo = window.rows[5].combo
    combo.setCurrentIndex(combo.findData("nesterov"))
    qtbot.waitUntil(lambda: combo.width() > 0)
    # the longest optimizer name is not cut off: its text fits the combo beside its arrow
    assert QFontMetrics(combo.font()).horizontalAdvance(combo.currentText()) < combo.width() - 20
    window.resize(1366, 768)  # a small screen: the plots keep their room, the column at most a quarter of it
    qtbot.waitUntil(lambda: window._side.width() <= 1366 // 4 + 1)
    window.setFont(QFont())
    qtbot.waitUntil(lambda: window._side.width() == 340)
    assert window.losses.plot.getAxis("left").labelText != window.landscape.colorbar.axis.labelText


def test_a_race_curve_hidden_from_the_legend_stays_hidden_while_the_race_runs(qtbot):
    def run(label, n):
        steps = np.arange(1, n + 1, dtype=float)
        return SimpleNamespace(label=label, steps_per_epoch=10, steps=steps, losses=1 / steps,
                               eval_steps=steps[9::10], eval_losses=1 / steps[9::10])

    plot = RaceLossPlot()
    qtbot.addWidget(plot)
    plot.set_show_batches(True)
    plot.set_curves([run("SGD", 20), run("Adam", 20)])
    click_legend_entry(plot.legend, "SGD")
    assert not plot.mean[0].isVisible()
    plot.set_curves([run("SGD", 40), run("Adam", 40)])  # the race's next frame
    assert not plot.mean[0].isVisible() and not plot.raw[0].isVisible()  # its batches hidden with it
    assert plot.mean[1].isVisible() and plot.raw[1].isVisible()
    plot.set_curves([run("SGD", 10), run("RMSprop", 10)])  # a new race: every curve shown
    assert plot.mean[0].isVisible() and plot.mean[1].isVisible()
    click_legend_entry(plot.legend, "SGD")
    plot.clear_curves()
    plot.set_curves([run("SGD", 10), run("RMSprop", 10)])  # the same racers again after a clear: shown, one entry each
    assert plot.mean[0].isVisible() and plot.mean[1].isVisible()
    assert [label.text for _sample, label in plot.legend.items] == ["SGD", "RMSprop"]
