"""The compression window driven as a user drives it, checked against the core it shows."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableWidget,
    QWidget,
)

from visualizer.core.compression import sensitivity
from visualizer.core.compression.pruning import prune
from visualizer.core.compression.quantization import quantize
from visualizer.qt.compression.jobs import THREAD_NAME
from visualizer.qt.compression.window import CompressionWindow

ROOT = Path(__file__).parents[2]
NAMES = [(QComboBox, "pruneMethodCombo"), (QAbstractSlider, "pruneAmountSlider"), (QAbstractSpinBox, "pruneAmountSpin"),
         (QAbstractButton, "fineTuneButton"), (QAbstractButton, "fineTuneStopButton"),
         (QAbstractSpinBox, "fineTuneEpochsSpin"), (QAbstractButton, "makePermanentButton"),
         (QAbstractButton, "measureLatencyButton"), (QAbstractButton, "shrinkButton"),
         (QTableWidget, "pruneSummaryTable"), (QTableWidget, "pruneLayerTable"), (QLabel, "pruneLatencyLabel"),
         (QWidget, "pruneHistogramPlot"), (QWidget, "fineTuneLossPlot"), (QComboBox, "sweepMethodCombo"),
         (QCheckBox, "sweepPerLayerCheck"), (QCheckBox, "sweepGlobalCheck"), (QAbstractButton, "sweepRunButton"),
         (QAbstractButton, "sweepCancelButton"), (QProgressBar, "sweepProgress"),
         (QAbstractButton, "sweepExportPngButton"), (QAbstractButton, "sweepExportCsvButton"),
         (QWidget, "sensitivityPlot"), (QTableWidget, "sweepTable"), (QComboBox, "quantMethodCombo"),
         (QAbstractSpinBox, "quantKSpin"), (QLabel, "quantStepLabel"), (QAbstractSpinBox, "quantBitsSpin"),
         (QCheckBox, "quantPerChannelCheck"), (QTableWidget, "quantSummaryTable"), (QTableWidget, "quantLayerTable"),
         (QWidget, "quantHistogramPlot"), (QAbstractButton, "quantSweepRunButton"),
         (QAbstractButton, "quantSweepCancelButton"), (QProgressBar, "quantSweepProgress"),
         (QWidget, "quantSweepPlot"), (QLineEdit, "studentHiddenEdit"), (QAbstractSpinBox, "temperatureSpin"),
         (QAbstractSpinBox, "alphaSpin"), (QAbstractSpinBox, "distillEpochsSpin"),
         (QAbstractButton, "trainStudentButton"), (QAbstractButton, "distillCancelButton"),
         (QProgressBar, "distillProgress"), (QTableWidget, "distillTable"), (QWidget, "distillLossPlot"),
         (QWidget, "distillCurvesPlot"), (QLabel, "compressionStatusLabel")]


@pytest.fixture(autouse=True)
def _no_compression_thread_left():
    yield
    left = [t.name for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not left, f"compression threads still running after the test: {left}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The digits preset trained for 5 epochs by `visualizer run` (about 3 s)."""
    out = tmp_path_factory.mktemp("digits") / "run"
    subprocess.run([sys.executable, "-m", "visualizer", "run", str(ROOT / "resources/experiments/digits.toml"),
                    "--out", str(out), "--epochs", "5", "--no-plots", "--quiet"], check=True, cwd=ROOT)
    return out


def _idle(qtbot, window: CompressionWindow, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: not window.busy, timeout=timeout)


def _cell(table: QTableWidget, row: int, col: int):
    return table.item(row, col).data(Qt.ItemDataRole.UserRole)


def _row(table: QTableWidget, label: str) -> int:
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == label)


@pytest.fixture
def window(qtbot, run_dir):
    w = CompressionWindow(run_dir)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.prune_tab.outcome is not None and w.quantize_tab.outcome is not None, timeout=20000)
    _idle(qtbot, w)
    yield w
    w.close()


def _preview(qtbot, window, method: str, percent: int):
    tab = window.prune_tab
    tab.method_combo.setCurrentIndex(tab.method_combo.findData(method))
    tab.slider.setValue(percent)
    qtbot.waitUntil(lambda: tab.outcome.report.method == method and tab.outcome.report.amount == percent / 100
                    and not window.busy, timeout=20000)
    return tab.outcome.report


def test_controls_have_names_and_tooltips(window):
    assert window.objectName() == "compressionWindow"
    assert window.windowTitle().startswith("Compression — Handwritten digits")
    for cls, name in NAMES:
        widget = window.findChild(cls, name)
        assert widget is not None, name
        assert widget.toolTip(), f"{name} has no tooltip"
    tabs = window.findChild(QWidget, "compressionTabs")
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Prune", "Sensitivity", "Quantize", "Distill"]
    assert all(tabs.tabToolTip(i) for i in range(tabs.count()))
    combo = window.prune_tab.method_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["l1", "global", "random", "structured"]
    assert all(combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count()))
    assert "accuracy" in window.header.text() and "26,122 parameters" in window.header.text()


def test_prune_preview_matches_core_and_leaves_the_model_alone(qtbot, window):
    run = window.run
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    tab = window.prune_tab
    for value in (10, 30, 60):  # dragging: the preview follows the last value
        tab.slider.setValue(value)
    report = _preview(qtbot, window, "global", 80)
    assert tab.amount_spin.value() == 80
    core = prune(run, "global", 0.8, latency_repeats=1).report
    assert report.sparsity == core.sparsity and report.after == core.after and report.layers == core.layers
    summary, layers = tab.summary, tab.layers
    metric_row = _row(summary, "accuracy")
    assert _cell(summary, metric_row, 1) == core.before.metric and _cell(summary, metric_row, 2) == core.after.metric
    assert _cell(summary, _row(summary, "non-zero"), 2) == core.nonzero_parameters
    for r, layer in enumerate(core.layers):
        assert (_cell(layers, r, 1), _cell(layers, r, 2)) == (layer.total, layer.zeros)
    assert layers.item(len(core.layers), 3).text() == f"{100 * core.sparsity:.1f} %"
    # the histograms: before as loaded, after without the pruned zeros
    pairs = tab.outcome.histograms
    assert [p.name for p in pairs] == tab.histograms.layer_names
    for pair, layer in zip(pairs, core.layers):
        assert pair.before.sum() == layer.total and pair.after.sum() == layer.total - layer.zeros
    state = run.model.state_dict()
    assert state.keys() == before.keys()
    assert all(torch.equal(state[k], before[k]) for k in before)
    assert "80.0 %" in window.status.text()


def test_unstructured_measure_and_structured_shrink(qtbot, window):
    tab = window.prune_tab
    _preview(qtbot, window, "l1", 70)
    assert not tab.shrink_button.isEnabled()
    tab.measure_button.click()
    _idle(qtbot, window)
    lat = tab.latency
    assert lat.repeats == 30 and lat.dense_s > 0 and lat.pruned_s > 0 and lat.shrunk is None
    params = _row(tab.summary, "parameters stored")
    assert _cell(tab.summary, params, 1) == _cell(tab.summary, params, 2) == 26122  # zeros are still stored
    assert "dense" in tab.explain.text() and "pruned" in tab.explain.text()
    report = _preview(qtbot, window, "structured", 50)
    assert tab.latency is None and tab.shrink_button.isEnabled()
    tab.shrink_button.click()
    _idle(qtbot, window)
    shrunk = tab.latency.shrunk
    core = prune(window.run, "structured", 0.5, do_shrink=True, latency_repeats=1).report.shrunk
    assert shrunk.hidden == core.hidden == (64, 64)
    assert shrunk.parameters == core.parameters < report.parameters
    assert shrunk.bytes == core.bytes and shrunk.after == core.after
    summary = tab.summary
    assert summary.horizontalHeaderItem(3).text() == "shrunk"
    assert _cell(summary, _row(summary, "parameters stored"), 3) == core.parameters
    assert "shrunk to hidden widths 64-64" in tab.explain.text() and "faster than dense" in tab.explain.text()


def test_fine_tune_holds_the_masks_and_stops_cleanly(qtbot, window):
    tab = window.prune_tab
    report = _preview(qtbot, window, "l1", 80)
    tab.epochs_spin.setValue(2)
    tab.fine_tune_button.click()
    assert not tab.slider.isEnabled() and tab.stop_button.isEnabled()
    _idle(qtbot, window)
    tuned = tab.outcome.report
    assert tab.outcome.stage == "fine-tuned"
    assert [layer.zeros for layer in tuned.layers] == [layer.zeros for layer in report.layers]  # masks held
    assert tuned.after.metric >= report.after.metric and tuned.after != report.after
    assert tab.summary.horizontalHeaderItem(2).text() == "pruned + fine-tuned"
    assert len(tab.history) == 2 * 45 + 1  # step 0, then 45 batches per epoch
    # a long fine-tuning, stopped: the thread is joined at once, what was trained stays
    tab.epochs_spin.setValue(1000)
    tab.fine_tune_button.click()
    qtbot.waitUntil(lambda: tab.history is not None and len(tab.history) > 20, timeout=20000)
    tab.stop_button.click()
    assert not window.busy
    assert not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())
    assert "stopped" in window.status.text() and tab.slider.isEnabled()
    # make permanent: the masks go, the zeros stay, fine-tuning is off
    entries = tab.outcome.state_entries
    tab.permanent_button.click()
    _idle(qtbot, window)
    assert tab.outcome.stage == "permanent" and tab.outcome.state_entries == entries - 3
    assert [layer.zeros for layer in tab.outcome.report.layers] == [layer.zeros for layer in report.layers]
    assert not tab.fine_tune_button.isEnabled() and "Masks removed" in window.status.text()


def test_closing_mid_fine_tune_joins_the_worker(qtbot, run_dir):
    w = CompressionWindow(run_dir)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.prune_tab.outcome is not None and not w.busy, timeout=20000)
    w.prune_tab.epochs_spin.setValue(1000)
    assert w.prune_tab.fine_tune()
    qtbot.waitUntil(lambda: w.prune_tab.history is not None and len(w.prune_tab.history) > 5, timeout=20000)
    w.close()
    assert not w.busy


def test_sensitivity_sweep_matches_core_and_exports(qtbot, window, tmp_path):
    window.tabs.setCurrentIndex(1)
    tab = window.sensitivity_tab
    tab.box.run_button.click()
    _idle(qtbot, window)
    expected = sensitivity.curves([p.point for p in sensitivity.sparsity_sweep(window.run)])
    shown = tab.box.plot.curves_shown()
    assert list(shown) == list(expected) == ["layer 1 (64→128)", "layer 2 (128→128)", "output (128→10)", "global"]
    for name, (x, y) in expected.items():
        np.testing.assert_allclose(shown[name][0], 100 * x)
        np.testing.assert_array_equal(shown[name][1], y)
    assert "done: 48 points" in tab.box.progress.format()
    assert tab.box.plot.x_label == "sparsity (%)" and tab.box.plot.y_label == "accuracy"
    png = tab.box.export_png(tmp_path / "sweep.png")
    assert png.stat().st_size > 5000
    rows = list(csv.reader(tab.box.export_csv(tmp_path / "sweep.csv").read_text().splitlines()))
    assert rows[0] == ["curve", "sparsity", "loss", "accuracy"] and len(rows) == 49
    assert float(rows[-1][3]) == pytest.approx(float(expected["global"][1][-1]))


def test_sensitivity_sweep_can_be_cancelled(qtbot, window, monkeypatch):
    real = sensitivity.scores
    monkeypatch.setattr(sensitivity, "scores", lambda *a, **k: (time.sleep(0.05), real(*a, **k))[1])
    tab = window.sensitivity_tab
    assert tab.run_sweep()
    assert tab.box.cancel_button.isEnabled() and not tab.box.run_button.isEnabled()
    qtbot.waitUntil(lambda: len(tab.box.points) >= 2, timeout=20000)
    tab.box.cancel_button.click()
    assert not window.busy
    assert not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())
    assert 2 <= len(tab.box.points) < 48 and "cancelled" in tab.box.progress.format()
    assert tab.box.run_button.isEnabled()


def test_quantize_pow2_marks_levels_at_multiples_of_2_to_the_k(qtbot, window):
    window.tabs.setCurrentIndex(2)
    tab = window.quantize_tab
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("pow2"))
    tab.k_spin.setValue(-3)
    assert tab.step_label.text() == "step = 2^-3 = 1/8 = 0.125"
    qtbot.waitUntil(lambda: tab.outcome.report.method == "pow2" and tab.outcome.report.parameter == -3
                    and not window.busy, timeout=20000)
    report = tab.outcome.report
    core = quantize(window.run, "pow2", -3).report
    assert report.after == core.after and report.layers == core.layers
    for i, layer in enumerate(report.layers):
        levels = tab.histograms.levels_shown(i)
        assert levels.size >= 3
        np.testing.assert_allclose(np.diff(levels), 0.125)
        np.testing.assert_array_equal(levels * 8, np.round(levels * 8))  # whole multiples of 1/8
        assert _cell(tab.layers, i, 2) is None and tab.layers.item(i, 2).text() == "0.125"
        assert layer.max_abs_error <= 0.0625 + 1e-9  # half a step, by hand
    # the quantized weights are counted on bins centred on the levels
    pair = tab.outcome.histograms[0]
    centres = (pair.edges[:-1] + pair.edges[1:]) / 2
    used = centres[pair.after > 0]
    np.testing.assert_allclose(used * 8, np.round(used * 8), atol=1e-9)
    assert _cell(tab.summary, _row(tab.summary, "accuracy"), 2) == core.after.metric


def test_quantize_int8_shows_measured_size_and_latency(qtbot, window):
    tab = window.quantize_tab
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("int8"))
    assert not tab.bits_spin.isEnabled() and tab.per_channel_check.isEnabled()
    qtbot.waitUntil(lambda: tab.outcome.report.method == "int8" and not window.busy, timeout=20000)
    r = tab.outcome.report
    assert r.serialized_bytes < r.serialized_bytes_float and r.latency_quantized_s > 0
    summary = tab.summary
    file_row, latency_row = _row(summary, "file (torch.save)"), _row(summary, "latency")
    assert summary.item(file_row, 2).text() == f"{r.serialized_bytes:,} B"
    assert summary.item(latency_row, 1).text().endswith(" ms") and summary.item(latency_row, 2).text().endswith(" ms")
    assert "Measured int8" in tab.explain.text()


def test_quantize_bits_sweep(qtbot, window):
    tab = window.quantize_tab
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("bits"))
    tab.bits_spin.setValue(4)
    qtbot.waitUntil(lambda: tab.outcome.report.method == "bits" and tab.outcome.report.parameter == 4
                    and not window.busy, timeout=20000)
    assert len(tab.histograms.levels_shown(0)) >= 10  # 4 bits: up to 15 levels, all marked
    assert tab.run_sweep()
    _idle(qtbot, window)
    shown = tab.sweep.plot.curves_shown()
    assert list(shown) == ["bits", "bits per channel"]
    expected = sensitivity.curves([p.point for p in sensitivity.bits_sweep(window.run)])["bits"]
    np.testing.assert_array_equal(shown["bits"][0], [2, 3, 4, 5, 6, 7, 8])
    np.testing.assert_array_equal(shown["bits"][1], expected[1])


def test_distill_fills_the_comparison_table(qtbot, window):
    window.tabs.setCurrentIndex(3)
    tab = window.distill_tab
    tab.hidden_edit.setText("8")
    tab.epochs_spin.setValue(2)
    tab.train_button.click()
    assert tab.cancel_button.isEnabled()
    _idle(qtbot, window)
    c = tab.comparison
    assert [r.name for r in c.rows] == ["teacher", "distilled student", "student from scratch"]
    assert c.epochs == 2 and c.rows[1].hidden == (8,) and c.rows[1].parameters == 64 * 8 + 8 + 8 * 10 + 10
    table = tab.table
    assert table.rowCount() == 3 and table.horizontalHeaderItem(4).text() == "accuracy"
    for r, row in enumerate(c.rows):
        assert table.item(r, 0).text() == row.name
        assert (_cell(table, r, 2), _cell(table, r, 3), _cell(table, r, 4)) == (row.parameters, row.loss, row.metric)
    assert "distilled − scratch" in tab.margin.text()
    assert set(tab.curves.curves_shown()) == {"distilled student", "student from scratch"}
    assert "done" in tab.progress.format()


def test_distill_can_be_cancelled(qtbot, window):
    tab = window.distill_tab
    assert tab.request("8", 4.0, 0.7, 500)
    assert tab.epochs_spin.value() == 500 and not tab.epochs_spin.isEnabled()  # the controls show what runs
    qtbot.waitUntil(lambda: tab.progress.value() > 0, timeout=20000)
    tab.cancel_button.click()
    assert not window.busy and tab.comparison is None
    assert not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())
    assert tab.progress.format() == "cancelled"


def test_a_scripted_request_moves_the_controls(qtbot, window):
    prune_tab, quant = window.prune_tab, window.quantize_tab
    assert prune_tab.request("random", 0.33)
    assert (prune_tab.method(), prune_tab.slider.value(), prune_tab.amount_spin.value()) == ("random", 33, 33)
    assert quant.request("pow2", -5)
    assert quant.settings() == ("pow2", -5, False) and quant.step_label.text() == "step = 2^-5 = 1/32 = 0.03125"
    assert quant.k_spin.isEnabled() and not quant.bits_spin.isEnabled()
    qtbot.waitUntil(lambda: prune_tab.outcome.report.method == "random" and quant.outcome.report.method == "pow2"
                    and not window.busy, timeout=20000)
    assert prune_tab.outcome.report.amount == 0.33 and quant.outcome.report.parameter == -5


def test_bad_input_shows_a_message(qtbot, window):
    assert not window.prune_tab.request("l1", 1.5)
    assert "pruning amount 1.5 is out of range" in window.status.text()
    assert not window.prune_tab.request("magic", 0.5)
    assert "'magic' is not known" in window.status.text()
    window.tabs.setCurrentIndex(2)
    assert not window.quantize_tab.request("bits", 9)
    assert "bits = 9 is out of range; allowed: integers from 2 to 8" in window.status.text()
    assert not window.quantize_tab.request("pow2", -3, per_channel=True)
    assert "per-channel" in window.status.text()
    window.tabs.setCurrentIndex(3)
    assert not window.distill_tab.request("8, x", 4.0, 0.7, 2)
    assert "whole numbers" in window.status.text()
    assert not window.distill_tab.request("0", 4.0, 0.7, 2)
    assert "hidden width 0 is out of range" in window.status.text()
    assert not window.distill_tab.request("8", 0.0, 0.7, 2)
    assert "temperature" in window.status.text()
    assert "Traceback" not in window.status.text() and not window.busy


def test_a_run_without_weights_shows_a_message(qtbot, run_dir, tmp_path):
    folder = tmp_path / "no_weights"
    folder.mkdir()
    (folder / "experiment.toml").write_text((run_dir / "experiment.toml").read_text())
    for path, expected in ((folder, "has no model.safetensors"), (tmp_path / "missing", "no such run folder")):
        w = CompressionWindow(path)
        qtbot.addWidget(w)
        qtbot.waitUntil(lambda w=w: not w.loading, timeout=20000)
        assert w.run is None and expected in w.status.text() and not w.tabs.isEnabled()
        w.close()


def test_opens_on_the_run_file_as_on_its_folder(qtbot, window, run_dir):
    """The main window hands over its recorded run file: the same run as its folder, nothing else written."""
    before = sorted(p.name for p in run_dir.iterdir())
    w = CompressionWindow(run_dir / "run.sqlite")
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: not w.loading, timeout=20000)
        assert w.run is not None and w.tabs.isEnabled() and w.run.path == run_dir / "run.sqlite"
        assert window.run.path == run_dir / "run.sqlite"  # the folder opens its run file
        state, other = w.run.model.state_dict(), window.run.model.state_dict()
        assert all(torch.equal(state[k], other[k]) for k in other)
        assert w.baseline.scores == window.baseline.scores and "run.sqlite" in w.header.text()
        qtbot.waitUntil(lambda: w.prune_tab.outcome is not None and w.quantize_tab.outcome is not None,
                        timeout=20000)
        _idle(qtbot, w)
    finally:
        w.close()
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_dark_theme_restyles_every_plot(window):
    window.set_theme("dark")
    plots = [window.prune_tab.histograms, window.prune_tab.loss, window.sensitivity_tab.box.plot,
             window.quantize_tab.histograms, window.quantize_tab.sweep.plot, window.distill_tab.loss,
             window.distill_tab.curves]
    assert all(p.theme == "dark" for p in plots)


def test_the_quantize_plot_names_what_it_will_sweep(window):
    """Before a sweep the Quantize tab's plot says what it measures, and switching the method renames it."""
    tab = window.quantize_tab
    plot = tab.sweep.plot
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("bits"))
    assert plot._title == "Accuracy against bits (symmetric b-bit)" and plot._x_label == "bits"
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("pow2"))
    assert plot._title == "Accuracy against the power-of-two step" and plot._x_label == "k (step = 2^k)"
    assert "Sensitivity" not in plot.plot.titleLabel.text and "sparsity" not in plot._x_label
