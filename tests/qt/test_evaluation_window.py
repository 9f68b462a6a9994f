"""The cross-validation window driven as a user drives it: run, replay, cancel, refuse, compare."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QProgressBar,
    QTableWidget,
    QWidget,
)

from visualizer.core import experiment
from visualizer.core.evaluation.folds import summarize
from visualizer.qt.evaluation.replay import OVERLAY, SEQUENTIAL
from visualizer.qt.evaluation.window import EvaluationWindow
from visualizer.qt.evaluation.worker import THREAD_NAME

PRESETS = Path(__file__).parents[2] / "resources" / "experiments"
NAMES = [(QComboBox, "evalMethodCombo"), (QAbstractSpinBox, "evalKSpin"), (QAbstractSpinBox, "evalRepeatsSpin"),
         (QAbstractSpinBox, "evalValPercentSpin"), (QAbstractButton, "evalRunButton"),
         (QAbstractButton, "evalCancelButton"), (QProgressBar, "evalProgress"), (QAbstractSlider, "evalFoldSlider"),
         (QAbstractSlider, "evalStepSlider"), (QAbstractButton, "evalPlayButton"), (QComboBox, "evalSpeedCombo"),
         (QComboBox, "evalModeCombo"), (QTableWidget, "evalMetricsTable"), (QComboBox, "evalConfusionCombo"),
         (QAbstractButton, "evalCompareButton"), (QTableWidget, "evalCompareTable"), (QWidget, "foldMapPlot"),
         (QWidget, "foldMetricsPlot"), (QAbstractButton, "evalExportButton")]


@pytest.fixture(autouse=True)
def _no_evaluation_thread_left():
    yield
    left = [t.name for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not left, f"evaluation threads still running after the test: {left}"


def _experiment(name: str = "iris", epochs: int = 8, **data):
    exp = experiment.load(PRESETS / f"{name}.toml")
    return replace(exp, train=replace(exp.train, epochs=epochs), data=replace(exp.data, **data))


def _window(qtbot, exp, method: str = "stratified", k: int = 3) -> EvaluationWindow:
    window = EvaluationWindow(exp, PRESETS)
    qtbot.addWidget(window)
    window.show()
    v = window.v
    v.method_combo.setCurrentIndex(v.method_combo.findData(method))
    v.k_spin.setValue(k)
    return window


def _finish(qtbot, window: EvaluationWindow) -> None:
    qtbot.waitUntil(lambda: not window.running, timeout=30000)


def _cell(table: QTableWidget, row: int, col: int):
    return table.item(row, col).data(Qt.ItemDataRole.UserRole)


@pytest.fixture(scope="module")
def iris_exp():
    return _experiment()


@pytest.fixture
def done(qtbot, iris_exp):
    """A window that ran 3-fold stratified cross-validation on iris."""
    window = _window(qtbot, iris_exp)
    assert window.run()
    _finish(qtbot, window)
    yield window
    window.close()


def test_controls_have_names_and_tooltips(qtbot, iris_exp):
    window = _window(qtbot, iris_exp)
    assert window.objectName() == "evaluationWindow"
    assert window.windowTitle() == "Cross-validation — Iris"
    for cls, name in NAMES:
        widget = window.findChild(cls, name)
        assert widget is not None, name
        assert widget.toolTip(), f"{name} has no tooltip"
    combo = window.v.method_combo
    assert combo.toolTip() == combo.currentData(Qt.ItemDataRole.ToolTipRole)
    # the validation % applies to hold-out and repeated sub-sampling only
    assert not window.v.val_spin.isEnabled()
    combo.setCurrentIndex(combo.findData("holdout"))
    assert window.v.val_spin.isEnabled() and not window.v.k_spin.isEnabled()
    window.close()


def test_three_folds_fill_the_table_with_the_results(done):
    window, table = done, done.v.table
    results = window.results
    assert [r.fold for r in results] == [1, 2, 3]
    names = ("loss", "accuracy", "precision", "recall", "f1")
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == [
        "fold", "n_train", "n_val", "loss", "accuracy", "precision", "recall", "macro F1"]
    assert table.rowCount() == len(results) + 2
    for row, r in enumerate(results):
        assert [_cell(table, row, c) for c in range(3)] == [r.fold, r.n_train, r.n_val]
        assert [_cell(table, row, 3 + j) for j in range(len(names))] == [r.metrics[n] for n in names]
        assert table.item(row, 4).text() == f"{r.metrics['accuracy']:.4f}"
    assert table.item(3, 0).text() == "mean" and table.item(4, 0).text() == "std"
    summary = summarize(results, window.spec, "classification", 3)
    for j, name in enumerate(names):
        values = np.array([r.metrics[name] for r in results])
        assert _cell(table, 3, 3 + j) == pytest.approx(np.mean(values), abs=1e-12)
        assert _cell(table, 4, 3 + j) == pytest.approx(np.std(values, ddof=1), abs=1e-12)
        assert _cell(table, 3, 3 + j) == pytest.approx(summary["metrics"][name]["mean"], abs=1e-12)
    # the map shows the folds that were trained, the strip plot their metrics
    membership = window.v.fold_map.membership
    for row, r in enumerate(results):
        np.testing.assert_array_equal(np.flatnonzero(membership[row] == 2), np.sort(r.val_idx))
        np.testing.assert_array_equal(np.flatnonzero(membership[row] == 1), np.sort(r.train_idx))
    shown = window.v.metrics_plot.values_shown()
    np.testing.assert_allclose(shown["accuracy"], [r.metrics["accuracy"] for r in results])
    assert "done: 3 fold(s)" in window.v.progress.format()
    assert "accuracy" in window.v.status.text()
    np.testing.assert_array_equal(window.v.confusion.matrix, sum(r.confusion for r in results))


def test_the_timeline_moves_the_highlighted_fold_and_the_curves(done):
    window, v = done, done.v
    replay = v.replay
    v.replay.fold_slider.setValue(2)  # fold 2
    assert replay.fold == 1
    assert v.fold_map.highlighted == 1
    assert v.metrics_plot.highlighted == 1
    assert v.table.selectionModel().selectedRows()[0].row() == 1
    assert v.curves.shown == (1,)
    v.replay.step_slider.setValue(20)
    r = window.results[1]
    x, y = v.curves.visible_train()[1]
    np.testing.assert_array_equal(x, r.steps[r.steps <= 20])
    np.testing.assert_array_equal(y, r.train_loss[r.steps <= 20])
    # clicking a row of the table replays that fold; the confusion combo follows when it shows a fold
    v.confusion_combo.setCurrentIndex(1)
    assert replay.fold == 0 and v.fold_map.highlighted == 0
    np.testing.assert_array_equal(v.confusion.matrix, window.results[0].confusion)
    v.table.selectRow(2)
    assert replay.fold == 2 and v.confusion_combo.currentText() == "fold 3"
    # one after another: playing past the end of a fold goes on with the next one
    replay.set_position(0, window.results[0].steps[-1] - 1)
    replay.advance(1.0)
    assert (replay.fold, replay.step) == (1, 0)
    # overlaid: every fold's curve, up to the same step
    v.replay.mode_combo.setCurrentText(OVERLAY)
    replay.set_position(1, 30)
    assert v.curves.shown == (0, 1, 2)
    assert all(x.max() == 30 for x, _y in v.curves.visible_train().values())
    v.replay.mode_combo.setCurrentText(SEQUENTIAL)
    replay.play()
    assert replay.playing
    replay.pause()
    assert not replay.playing


def test_cancel_stops_the_run_and_leaves_no_thread(qtbot):
    window = _window(qtbot, _experiment(epochs=400))
    assert window.run()
    qtbot.waitUntil(lambda: "fold 1 of 3" in window.v.progress.format(), timeout=15000)
    window.v.cancel_button.click()
    assert not window.running
    assert not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())
    assert "cancelled" in window.v.status.text()
    assert window.v.run_button.isEnabled()
    window.close()


def test_closing_the_window_mid_run_joins_the_worker(qtbot):
    window = _window(qtbot, _experiment(epochs=400))
    assert window.run()
    qtbot.waitUntil(lambda: "fold 1 of 3" in window.v.progress.format(), timeout=15000)
    window.close()
    assert not window.runner.running


def test_a_bad_request_shows_its_message(qtbot):
    window = _window(qtbot, _experiment("moons", samples=30), method="stratified", k=20)
    assert not window.run()
    text = window.v.status.text()
    assert "smallest class has 15 samples" in text and "Traceback" not in text
    assert not window.running
    window.close()


def test_leave_one_out_on_many_samples_asks_first(qtbot):
    window = _window(qtbot, _experiment("moons", samples=400), method="loo")
    asked = []
    window.confirm = lambda title, text: asked.append(text) or False
    assert not window.run()
    assert asked and "400" in asked[0]
    assert not window.running and "not started" in window.v.status.text()
    window.close()


@pytest.fixture
def compared(qtbot, done, tmp_path):
    other = replace(done.experiment, title="Iris SGD", train=replace(done.experiment.train, optimizer="sgd",
                                                                       lr=0.05))
    path = experiment.save(other, tmp_path / "iris_sgd.toml")
    assert done.compare_with(path)
    _finish(qtbot, done)
    return done


def test_compare_table_holds_the_paired_differences(compared):
    window, table = compared, compared.v.compare_table
    a, b = window.results, window.compare_results
    assert [r.fold for r in b] == [1, 2, 3]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.val_idx, y.val_idx)
    names = ("loss", "accuracy", "precision", "recall", "f1")
    assert table.horizontalHeaderItem(2).text() == "Δ accuracy"
    assert table.rowCount() == 5
    for row in range(3):
        assert _cell(table, row, 0) == row + 1
        for j, name in enumerate(names):
            assert _cell(table, row, 1 + j) == pytest.approx(b[row].metrics[name] - a[row].metrics[name], abs=1e-12)
    diffs = np.array([y.metrics["loss"] - x.metrics["loss"] for x, y in zip(a, b)])
    assert _cell(table, 3, 1) == pytest.approx(diffs.mean(), abs=1e-12)
    assert _cell(table, 4, 1) == pytest.approx(diffs.std(ddof=1), abs=1e-12)
    assert "Iris SGD" in window.v.compare_label.text()


def test_compare_refuses_other_data(done, tmp_path):
    path = experiment.save(_experiment("wine"), tmp_path / "wine.toml")
    assert not done.compare_with(path)
    assert "different data" in done.v.status.text()
    assert not done.running


def test_export_writes_the_pngs(done, tmp_path):
    written = done.export_plots(tmp_path / "out")
    assert {p.name for p in written} >= {"cv_indices.png", "folds.png", "fold_curves.png", "confusion_matrix.png"}
    assert all(p.stat().st_size > 1000 for p in written)


def test_regression_shows_r2_and_mse(qtbot):
    window = _window(qtbot, _experiment("sine", epochs=5), method="kfold", k=3)
    assert not window.v.confusion_box.isVisibleTo(window)
    assert window.run()
    _finish(qtbot, window)
    table = window.v.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["fold", "n_train", "n_val", "loss", "R²", "MSE"]
    assert _cell(table, 0, 4) == window.results[0].metrics["r2"]
    window.close()


def test_leave_one_out_runs_one_fold_per_sample(qtbot):
    window = _window(qtbot, _experiment("moons", epochs=2, samples=24), method="loo")
    assert window.run()
    _finish(qtbot, window)
    assert len(window.results) == 24
    np.testing.assert_array_equal(window.v.fold_map.membership, np.where(np.eye(24, dtype=bool), 2, 1))
    assert "pooled" in window.v.status.text()
    # one validation sample per fold: the table and the strip show only its loss and whether it was right
    table = window.v.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == \
        ["fold", "n_train", "n_val", "loss", "accuracy"]
    assert set(window.v.metrics_plot._values) == {"loss", "accuracy"}
    window.v.replay.fold_slider.setValue(24)
    assert window.v.fold_map.highlighted == 23
    assert window.v.boundary.image.image is not None  # moons is 2-D: the fold's recorded boundary is drawn
    assert "fold 24" in window.v.boundary.plot.titleLabel.text
    window.set_theme("dark")
    assert window.v.curves.theme == "dark" and window.v.fold_map.theme == "dark"
    window.close()
