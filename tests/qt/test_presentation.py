"""Presentation mode: the views own the screen (panels collapsed, a control strip with Train at hand), larger fonts,
thicker lines, high contrast; everything restored exactly on leaving, also mid-run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

from tests.qt.readability import clipped, low_contrast
from visualizer.core.session_model import RUNNING
from visualizer.qt.plots import _style

SIZES = [(1366, 768), (1920, 1080)]


@pytest.fixture
def window(main_window):
    return main_window


def settle(qtbot, window=None, size=None) -> None:
    """Let the layouts follow a change (and, in presentation mode offscreen, give the window the projector's size)."""
    QApplication.processEvents()
    if size is not None:
        window.resize(*size)
    qtbot.wait(30)
    QApplication.processEvents()


def reachable(window, widget: QWidget) -> bool:
    """Visible, enabled and inside the window (not in a toolbar's overflow)."""
    box = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return widget.isVisible() and widget.isEnabled() and window.rect().contains(box)


def test_presentation_mode_enlarges_and_contrasts_then_restores(window, qtbot):
    app = QApplication.instance()
    font_before = app.font().pointSizeF()
    tick_before = window.views.loss.loss_plot.getAxis("bottom").style["tickFont"].pointSize()
    window.set_theme("dark")
    window.acts.presentation.trigger()
    assert window.presentation.active and window.acts.presentation.isChecked()
    assert window.theme == "contrast" and window.views.loss.theme == "contrast"
    assert app.font().pointSizeF() == pytest.approx(max(font_before, 9.0) * 1.5)
    assert window.views.loss.loss_plot.getAxis("bottom").style["tickFont"].pointSize() > tick_before
    assert _style.line(2) == 4
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    # the panels are out of the way, the toolbar with Train is not
    assert all(not d.isVisible() for d in window.docks()) and window.acts.hide_panels.isChecked()
    assert window.acts.toolbar.isVisible() and window.control_strip.isVisible()

    window.acts.hide_panels.trigger()  # Ctrl+H brings the panels back, still in presentation mode
    assert all(d.isVisible() for d in window.docks()) and window.presentation.active

    window.acts.presentation.trigger()
    assert not window.presentation.active and not window.acts.presentation.isChecked()
    assert window.theme == "dark" and window.acts.dark.isChecked()
    assert app.font().pointSizeF() == pytest.approx(font_before)
    assert _style.line(2) == 2
    assert window.views.loss.loss_plot.getAxis("bottom").style["tickFont"].pointSize() == tick_before
    assert all(d.isVisible() for d in window.docks()) and window.acts.toolbar.isVisible()
    assert not window.acts.hide_panels.isChecked() and not window.control_strip.isVisible()
    assert not window.isFullScreen()


def test_leaving_restores_the_window_exactly_mid_run(window, qtbot):
    window.resize(1366, 768)
    window.acts.speed.setCurrentText("100 steps/s")
    window.acts.train.trigger()
    legend = window.views.loss.loss_legend
    qtbot.waitUntil(lambda: len(window.history) > 5 and len(legend.items) == 3, timeout=60000)
    settle(qtbot)
    geometry = window.geometry()
    docks = {d.objectName(): d.geometry() for d in window.docks()}
    splitters = window.views.splitter.sizes()
    legend_pt, legend_width = legend.opts["labelTextSize"], legend.width()
    axis_width = window.views.loss.loss_plot.getAxis("left").width()
    window.presentation.enter()
    settle(qtbot, window, (1920, 1080))
    assert window.views.loss.loss_plot.getAxis("left").width() > axis_width
    window.presentation.leave()
    settle(qtbot)
    assert window.run_state == RUNNING  # entered and left mid-run
    assert window.geometry() == geometry
    assert {d.objectName(): d.geometry() for d in window.docks()} == docks
    assert window.views.splitter.sizes() == splitters
    assert legend.opts["labelTextSize"] == legend_pt and legend.width() == legend_width
    assert window.views.loss.loss_plot.getAxis("left").width() == axis_width


@pytest.mark.parametrize("size", SIZES)
def test_the_views_own_the_screen_and_train_is_at_hand(window, qtbot, size):
    window.presentation.enter()
    settle(qtbot, window, size)
    views = window.views
    assert views.width() * views.height() >= 0.7 * window.width() * window.height()
    for name in ("trainButton", "stepButton", "resetButton"):
        assert reachable(window, window.findChild(QToolButton, name)), name
    for widget in (window.acts.speed, window.control_strip.optimizer_combo, window.control_strip.lr_spin):
        assert reachable(window, widget), widget.objectName()
    assert not low_contrast(window) and not clipped(window)


def test_the_control_strip_edits_the_experiment_as_the_training_panel_does(window, qtbot, monkeypatch):
    strip, panel = window.control_strip, window.train_panel
    window.presentation.enter()
    strip.lr_spin.setValue(0.05)  # what typing 0.05 and Enter, or the arrows, report
    assert window.experiment.train.lr == pytest.approx(0.05)
    assert panel.learningRateSpin.value() == pytest.approx(0.05)
    strip.optimizer_combo.setCurrentIndex(strip.optimizer_combo.findData("sgd"))
    assert window.experiment.train.optimizer == "sgd" and panel.optimizerCombo.currentData() == "sgd"
    panel.learningRateSpin.setValue(0.2)  # and the strip follows the panel
    assert strip.lr_spin.value() == pytest.approx(0.2)

    window.acts.speed.setCurrentText("100 steps/s")
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == RUNNING and window.bridge.control is not None, timeout=20000)
    sent = []
    monkeypatch.setattr(window.bridge.control, "set_lr", sent.append)
    strip.lr_spin.setValue(0.1)  # mid-run: to the running session, from its next step, without a reset
    assert window.run_state == RUNNING and sent == [pytest.approx(0.1)]
    asked = []
    monkeypatch.setattr(window, "confirm", lambda *a: asked.append(a) or False)
    strip.optimizer_combo.setCurrentIndex(strip.optimizer_combo.findData("adam"))
    assert asked and window.run_state == RUNNING  # asked before a reset, and the answer was no
    assert window.experiment.train.optimizer == "sgd" and strip.optimizer_combo.currentData() == "sgd"


def test_close_in_presentation_mode_saves_the_normal_theme(window):
    window.set_theme("light")
    window.presentation.enter()
    window.close()
    assert window.settings.value("theme") == "light"
    assert _style.line(1) == 1


def test_escape_leaves_from_wherever_the_focus_is(window, qtbot):
    for widget in (window.views.loss, window.control_strip.lr_spin):
        window.presentation.enter()
        widget.setFocus()
        qtbot.keyClick(widget, Qt.Key.Key_Escape)
        assert not window.presentation.active, widget.objectName()
