"""The main window driven as a user drives it."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QCheckBox, QComboBox, QDockWidget, QWidget

from visualizer.core.session_model import FINISHED, IDLE, PAUSED, RUNNING
from visualizer.qt.app.main_window import MainWindow

PRESETS = Path(__file__).parents[2] / "resources" / "experiments"


def make_window(qtbot, path=None) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.finish_setup(path)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=15000)
    return window


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    yield w
    w.close()


def find(window: QWidget, cls, name: str):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def choose(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data} not in {combo.objectName()}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def last_step(window: MainWindow) -> int:
    return int(window.history.steps[-1]) if len(window.history) else -1


def test_stable_object_names(window):
    for cls, name in ((QAbstractButton, "trainButton"), (QAbstractButton, "stepButton"),
                      (QAbstractButton, "resetButton"), (QComboBox, "datasetCombo"), (QComboBox, "optimizerCombo"),
                      (QComboBox, "lossCombo"), (QAbstractSpinBox, "learningRateSpin"), (QWidget, "lossPlot"),
                      (QWidget, "boundaryPlot"), (QWidget, "histogramPlot")):
        find(window, cls, name)


def test_every_control_has_a_tooltip(window):
    missing = []
    for cls in (QAbstractButton, QComboBox, QAbstractSpinBox, QCheckBox):
        for widget in window.findChildren(cls):
            if widget.objectName().startswith("qt_"):  # Qt's own dock and toolbar buttons
                continue
            if widget.isVisibleTo(window) and not widget.toolTip():
                label = widget.objectName() or (widget.text() if hasattr(widget, "text") else "")
                missing.append(f"{cls.__name__} {label}")
    assert not missing, missing


def test_shortcuts_are_listed_under_help(window):
    from visualizer.qt.app.actions import shortcut_rows

    keys = {k for k, _ in shortcut_rows(window.acts)}
    assert {"Space", "S", "R", "Ctrl+N", "Ctrl+O", "Ctrl+S"} <= keys
    window.acts.shortcuts.trigger()
    assert "Space" in window._shortcuts_box.text()
    # every tip in full (they were cut at their first bracket) and the dialog fits a 1366 x 768 screen
    text = window._shortcuts_box.text()
    assert "works on the finished (or stopped) run" in text and "(Ctrl+M)" not in text  # keys once, in their column
    assert "Ctrl+Z: Undo weight edit — Put back the weight" in text  # the drawing's own shortcut too
    assert window._shortcuts_box.height() <= 768
    window._shortcuts_box.close()


def test_a_user_trains_pauses_steps_changes_lr_and_resets(window, qtbot):
    choose(find(window, QComboBox, "datasetCombo"), "circles")
    qtbot.waitUntil(lambda: window.dataset.name == "circles" and window.experiment.data.name == "circles",
                    timeout=10000)
    layers = len(window.experiment.model.hidden)
    qtbot.mouseClick(find(window, QAbstractButton, "addLayerButton"), Qt.MouseButton.LeftButton)
    assert len(window.experiment.model.hidden) == layers + 1
    choose(find(window, QComboBox, "optimizerCombo"), "momentum")
    assert window.experiment.train.optimizer == "momentum"
    # long enough to be paused mid-run: the training process runs ahead of what the window has drawn, and the
    # preset's run could end before the fourth evaluation is shown on a busy machine
    epochs = find(window, QAbstractSpinBox, "epochsSpin")
    preset_epochs = epochs.value()
    epochs.setValue(2000)
    assert window.experiment.train.epochs == 2000

    train = find(window, QAbstractButton, "trainButton")
    qtbot.mouseClick(train, Qt.MouseButton.LeftButton)
    assert window.run_state == RUNNING and train.text() == "Pause"
    qtbot.waitUntil(lambda: len(window.history.eval_steps) >= 4, timeout=30000)
    losses = window.history.val_loss
    assert losses[-1] < losses[0]

    qtbot.mouseClick(train, Qt.MouseButton.LeftButton)
    assert window.run_state == PAUSED
    qtbot.wait(300)  # the frame that carries the last steps before the pause
    before = last_step(window)
    qtbot.wait(200)
    assert last_step(window) == before  # paused means paused

    qtbot.mouseClick(find(window, QAbstractButton, "stepButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: last_step(window) == before + 1, timeout=5000)
    qtbot.wait(200)
    assert last_step(window) == before + 1  # exactly one

    lr = find(window, QAbstractSpinBox, "learningRateSpin")
    lr.setValue(0.0123)
    lr.editingFinished.emit()
    qtbot.waitUntil(lambda: window.experiment.train.lr == pytest.approx(0.0123), timeout=5000)
    assert window.run_state == PAUSED  # a learning-rate change does not reset
    qtbot.mouseClick(find(window, QAbstractButton, "stepButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: last_step(window) == before + 2, timeout=5000)
    assert window.history.lr[-1] == pytest.approx(0.0123)

    qtbot.mouseClick(find(window, QAbstractButton, "resetButton"), Qt.MouseButton.LeftButton)
    assert window.run_state == IDLE and len(window.history) == 0
    assert not any(t.name == "training-worker" for t in threading.enumerate())
    epochs.setValue(preset_epochs)  # the window is shared with the tests after this one


def test_closing_during_training_stops_the_worker(qtbot):
    window = make_window(qtbot, PRESETS / "digits.toml")
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: len(window.history) > 20, timeout=60000)  # the training process warms up first
    assert window.run_state == RUNNING
    window.close()
    assert not any(t.name == "training-worker" and t.is_alive() for t in threading.enumerate())


def test_a_change_to_the_network_asks_before_it_resets(window, qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(window, "confirm", lambda title, text: asked.append(text) or False)
    window.acts.step.trigger()
    qtbot.waitUntil(lambda: last_step(window) == 1, timeout=60000)  # the training process warms up first
    hidden = window.experiment.model.hidden
    qtbot.mouseClick(find(window, QAbstractButton, "addLayerButton"), Qt.MouseButton.LeftButton)
    assert asked and window.experiment.model.hidden == hidden and window.run_state == PAUSED
    assert window.network_panel.spec().hidden == hidden  # the panel went back
    monkeypatch.setattr(window, "confirm", lambda title, text: True)
    qtbot.mouseClick(find(window, QAbstractButton, "addLayerButton"), Qt.MouseButton.LeftButton)
    assert len(window.experiment.model.hidden) == len(hidden) + 1 and window.run_state == IDLE


def test_a_diverging_run_stops_with_advice(qtbot, tmp_path):
    path = tmp_path / "diverge.toml"
    path.write_text("[data]\nname = 'sine'\nsamples = 200\n[model]\nhidden = [16]\nactivation = 'relu'\n"
                    "[train]\noptimizer = 'sgd'\nlr = 9.0\nbatch_size = 16\nepochs = 50\nloss = 'mse'\n")
    window = make_window(qtbot, path)
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=20000)
    text = window.message_bar.text()
    assert window.message_bar.isVisible() and "at step" in text and "smaller learning rate" in text
    window.close()


def test_open_bad_file_keeps_the_experiment(window, tmp_path):
    before = window.experiment
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\noptimizer = 'adamm'\n")
    assert not window.open_experiment(bad)
    assert window.experiment == before
    assert "train.optimizer" in window.message_bar.text()


def test_save_and_open_round_trip(window, tmp_path, qtbot):
    choose(find(window, QComboBox, "optimizerCombo"), "rmsprop")
    assert window.dirty and window.windowTitle().count("*") == 1
    path = tmp_path / "mine.toml"
    assert window.save_to(path) and not window.dirty
    saved = window.experiment
    window.open_experiment(PRESETS / "iris.toml")
    qtbot.waitUntil(lambda: window.dataset.name == "iris", timeout=10000)
    assert window.open_experiment(path)
    assert window.experiment == saved and window.path == path


def test_export_png_and_svg(window, tmp_path, qtbot):
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    png = window.export_to(tmp_path / "png", "png")
    svg = window.export_to(tmp_path / "svg", "svg")
    names = {p.name for p in png}
    assert {"loss.png", "prediction.png", "histograms.png"} <= names
    assert all(p.stat().st_size > 1000 for p in png + svg)
    assert (tmp_path / "svg" / "loss.svg").read_text().lstrip().startswith("<?xml")


def test_layout_and_last_session_are_remembered(qtbot):
    window = make_window(qtbot)
    train_dock = window.findChild(QDockWidget, "trainDock")
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, train_dock)
    choose(find(window, QComboBox, "optimizerCombo"), "adagrad")
    window.close()
    again = make_window(qtbot)
    assert again.dockWidgetArea(again.findChild(QDockWidget, "trainDock")) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert again.experiment.train.optimizer == "adagrad" and again.dirty
    again.close()


def test_dark_theme(window):
    window.set_theme("dark")
    assert window.views.loss.theme == "dark" and window.acts.dark.isChecked()
    window.set_theme("light")
    assert window.views.loss.theme == "light"


def test_cross_validate_opens_the_evaluation_window(window, qtbot):
    window.acts.cross_validate.trigger()
    evaluation = window.evaluation
    assert evaluation is not None and evaluation.isVisible()
    assert evaluation.objectName() == "evaluationWindow"
    window.close()
    assert not evaluation.isVisible()


def test_compress_needs_a_finished_run_and_then_opens_on_it(window, qtbot):
    import torch

    from visualizer.core.runs.reader import RunReader

    window.acts.compress.trigger()
    assert window.compression is None and "trained network" in window.message_bar.text()
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    window.acts.compress.trigger()
    compression = window.compression
    assert compression is not None and compression.isVisible()
    qtbot.waitUntil(lambda: not compression.loading, timeout=20000)  # loaded on the job runner
    # it opens on the run itself: the recorded run file, with the weights the run ended with; no folder is written
    assert compression.run.path == window.recorded
    with RunReader(window.recorded) as run:
        stored = run.weights()
    assert set(stored) == set(compression.run.model.state_dict())
    assert all(torch.equal(stored[k], v) for k, v in compression.run.model.state_dict().items())
    assert not any(p.is_dir() for p in Path(window.recorded).parent.iterdir())
    window.close()
    assert not compression.isVisible()


def test_every_run_is_recorded_as_a_run_file(window, qtbot):
    from visualizer.core.runs.reader import RunReader

    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    assert window.recorded is not None and Path(window.recorded).exists()
    assert "Recorded in" in window.statusBar().currentMessage()
    with RunReader(window.recorded) as run:
        assert run.ended.reason == "completed"
        steps = run.history().steps
        assert list(steps) == list(window.history.steps)
        assert run.weights() is not None


def test_an_idle_window_says_what_to_do(window, qtbot):
    hint = window.views.idle_hint
    assert hint.isVisible() and "Train" in hint.text() and "Space" in hint.text()
    window.open_experiment(PRESETS / "digits.toml")  # no confusion matrix of zeros before a run
    qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.n_classes == 10, timeout=20000)
    assert window.views.prediction.currentWidget() is window.views.waiting_view
    window.experiment = replace(window.experiment, train=replace(window.experiment.train, epochs=1))
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    assert not hint.isVisible() and window.views.prediction.currentWidget() is window.views.confusion
    window.acts.reset.trigger()
    assert hint.isVisible()


def test_declining_a_data_change_keeps_the_data_the_run_trains_on(window, qtbot, monkeypatch):
    """Issue 13: the panel went back to moons but the window kept digits, and every snapshot then failed."""
    monkeypatch.setattr(window, "confirm", lambda title, text: False)
    window.acts.step.trigger()
    qtbot.waitUntil(lambda: last_step(window) == 1, timeout=60000)  # the training process warms up first
    panel = window.data_panel
    panel.datasetCombo.setCurrentIndex(panel.datasetCombo.findData("digits"))
    qtbot.waitUntil(lambda: not panel.loading and panel.dataset().n_features == 2, timeout=20000)
    assert window.dataset.n_features == 2 and window.experiment.data.name == "moons"
    assert panel.datasetCombo.currentData() == "moons" and window.run_state == PAUSED
    window.acts.step.trigger()  # the run goes on with its own data: the next snapshot draws
    qtbot.waitUntil(lambda: last_step(window) == 2, timeout=10000)
    assert "Traceback" not in window.message_bar.text() and not window.message_bar.isVisible()


def test_the_network_drawing_shows_live_neuron_pictures(qtbot, tmp_path):
    """Before a run the input nodes show their features over the plane; while training every node's picture comes
    with the snapshots (computed on the worker) and changes as the network learns."""
    path = tmp_path / "circles.toml"
    path.write_text('[data]\nname = "circles"\nsamples = 1000\nfeatures = ["x1", "x2", "x1^2"]\n'
                    "[model]\nhidden = [4, 3]\n[train]\nepochs = 5000\nlr = 0.02\n")  # long: drawn while it runs
    window = make_window(qtbot, path)
    view = window.network_view
    assert view.has_pictures and len(view.node_pictures.pictures.layers) == 1  # the three inputs
    assert [item.isVisible() for item in view.node_pictures.items] == [True] * 3 + [False] * 9
    drawn, set_pictures = [], view.set_pictures
    view.set_pictures = lambda pictures, task: drawn.append(pictures) or set_pictures(pictures, task)
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: len(drawn) >= 3, timeout=30000)
    assert all(len(p.layers) == 4 for p in drawn) and window.run_state == RUNNING
    assert all(item.isVisible() for item in view.node_pictures.items)
    assert not np.array_equal(drawn[0].layers[-1], drawn[-1].layers[-1])  # the output picture moves
    # Playground's big numbers over the output follow the latest evaluation
    readouts = window.views.readouts
    qtbot.waitUntil(lambda: len(window.history.eval_steps) >= 2, timeout=20000)
    window.acts.stop.trigger()  # (compared once stopped: while it runs, a frame's history is ahead of its curves)
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=20000)
    qtbot.wait(100)
    h = window.history
    assert len(h.eval_steps) >= 2
    assert readouts.val_label.text() == f"Validation loss {h.val_loss[-1]:.4g}"
    assert readouts.train_label.text() == f"Training loss {h.eval_train_loss[-1]:.4g}"
    window.close()


def test_a_long_status_message_is_whole_in_the_status_bars_tip(window):
    text = "Recorded in " + "/a/rather/deep/folder" * 12 + "/run.sqlite; the run can be replayed from File ▸ Runs"
    window.show_message(text)
    assert window.statusBar().currentMessage() == text and window.statusBar().toolTip() == text
