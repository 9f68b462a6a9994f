"""Presentation mode: full screen, larger fonts, thicker lines, high contrast; everything restored on leaving."""

from __future__ import annotations

import pytest

from visualizer.qt.plots import _style


@pytest.fixture
def window(main_window):
    return main_window


def test_presentation_mode_enlarges_and_contrasts_then_restores(window, qtbot):
    from PySide6.QtWidgets import QApplication

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

    window.acts.hide_controls.trigger()
    assert all(not d.isVisible() for d in window.docks()) and not window.acts.toolbar.isVisible()

    window.acts.presentation.trigger()
    assert not window.presentation.active and not window.acts.presentation.isChecked()
    assert window.theme == "dark" and window.acts.dark.isChecked()
    assert app.font().pointSizeF() == pytest.approx(font_before)
    assert _style.line(2) == 2
    assert window.views.loss.loss_plot.getAxis("bottom").style["tickFont"].pointSize() == tick_before
    assert all(d.isVisible() for d in window.docks()) and window.acts.toolbar.isVisible()
    assert not window.acts.hide_controls.isChecked()
    assert not window.isFullScreen()


def test_close_in_presentation_mode_saves_the_normal_theme(window):
    window.set_theme("light")
    window.presentation.enter()
    window.close()
    assert window.settings.value("theme") == "light"
    assert _style.line(1) == 1
