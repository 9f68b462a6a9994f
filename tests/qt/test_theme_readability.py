"""Themes as one source of truth: after every theme switch (light, dark, presentation's contrast theme), mid-run,
every text of the main window's plots and its labels contrasts with what is behind it at 4.5:1 or more (WCAG), and
no axis title, legend or label is cut by its view; the tool windows follow too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from tests.qt.readability import (
    WCAG_AA,
    clipped,
    contrast_ratio,
    low_contrast,
    luminance,
    luminance_contrast,
    pixels,
    plot_texts,
    relative_luminance,
    text_width,
)
from visualizer.core.session_model import FINISHED, RUNNING
from visualizer.qt.plots._style import THEMES, readable_on

SIZES = [(1366, 768), (1920, 1080)]


def settle(qtbot, window=None, size=None) -> None:
    QApplication.processEvents()
    if size is not None:
        window.resize(*size)
    qtbot.wait(30)
    QApplication.processEvents()


def unreadable(window) -> str:
    return "\n".join(low_contrast(window) + clipped(window))


# -- the checks themselves, against known values and known failures ---------------------------------------------
def test_contrast_ratio_is_wcag():
    assert contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)  # WCAG's example
    assert contrast_ratio(QColor("#ffffff"), QColor("#ffffff")) == pytest.approx(1.0)
    assert readable_on(QColor("#1f6fb4")) == "#ffffff" and readable_on(QColor("#ffd60a")) == "#000000"


def test_the_checks_see_a_stale_legend_and_a_title_longer_than_its_axis(qtbot):
    """What the issue saw: pyqtgraph alone leaves a legend's labels in the colour they were made in."""
    widget = pg.PlotWidget(background="#000000")
    qtbot.addWidget(widget)
    widget.resize(300, 200)
    widget.show()
    legend = widget.getPlotItem().addLegend(labelTextColor="#202124")
    widget.getPlotItem().plot([0, 1], [0, 1], name="train")
    legend.setLabelTextColor("#ffffff")  # not redrawn by pyqtgraph
    widget.getPlotItem().setLabel("bottom", "a title far longer than this small plot is wide, so it is cut")
    settle(qtbot)
    assert any("'train'" in problem for problem in low_contrast(widget))
    assert any("axis title" in problem for problem in clipped(widget))
    texts = {t.text: t for t in plot_texts(widget)}
    # read from the pixels behind the label: the black background, as the colours say
    assert texts["train"].contrast() == pytest.approx(contrast_ratio(QColor("#202124"), QColor("#000000")), abs=0.01)
    label = widget.getPlotItem().getAxis("bottom").label
    assert text_width(label) > widget.width()


# -- the main window ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_every_text_reads_after_each_theme_switch_mid_run(main_window, qtbot, size):
    w = main_window
    w.resize(*size)
    # a run far longer than the checks (the preset's 1,500 steps at 100 steps/s ended mid-checks on a busy machine)
    w.experiment = replace(w.experiment, train=replace(w.experiment.train, epochs=2000))
    w.acts.speed.setCurrentText("100 steps/s")
    w.acts.train.trigger()
    qtbot.waitUntil(lambda: len(w.history) > 10 and len(w.views.loss.loss_legend.items) == 3, timeout=60000)
    settle(qtbot)
    assert not unreadable(w), "light"
    steps = [("dark", w.acts.dark.trigger), ("light", w.acts.dark.trigger), ("dark", w.acts.dark.trigger),
             ("presentation", w.acts.presentation.trigger), ("presentation with panels", w.acts.hide_panels.trigger),
             ("presentation, dark", w.acts.dark.trigger), ("presentation, light", w.acts.dark.trigger),
             ("left presentation", w.acts.presentation.trigger), ("light", w.acts.dark.trigger)]
    for where, switch in steps:
        switch()
        settle(qtbot, w, size if w.presentation.active else None)
        assert not unreadable(w), where
    assert w.theme == "light" and not w.presentation.active  # leaving restored dark; Ctrl+T then gave light
    # the other tabs: the loss landscape (its colour bar, legend, markers) and the histograms over time
    w.views.right_tabs.setCurrentWidget(w.views.landscape)
    w.views.hist_tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: w.views.landscape.surface is not None and w.views.hist_time.columns > 1, timeout=30000)
    for where, switch in [("landscape", lambda: None), ("landscape, presentation", w.acts.presentation.trigger),
                          ("landscape, left presentation", w.acts.presentation.trigger)]:
        switch()
        settle(qtbot, w, size if w.presentation.active else None)
        assert not unreadable(w), where
    assert w.run_state == RUNNING  # all of it mid-run


def test_legend_labels_take_the_new_theme_in_every_plot(main_window, qtbot):
    w = main_window
    w.acts.speed.setCurrentText("100 steps/s")
    w.acts.train.trigger()
    qtbot.waitUntil(lambda: len(w.views.loss.loss_legend.items) == 3, timeout=20000)
    for name in ("dark", "contrast", "light"):
        w.set_theme(name)
        for legend in (w.views.loss.loss_legend, w.views.boundary.legend, w.views.landscape.plot2d.legend):
            for _sample, label in legend.items:
                html = label.item.toHtml().lower()
                assert QColor(THEMES[name].foreground).name(QColor.NameFormat.HexArgb)[3:] in html, (name, html)


def test_the_data_preview_and_the_formulas_follow_theme_and_scale(main_window, qtbot):
    w = main_window
    preview = w.data_panel.dataPreview
    formula = w.train_panel.updateRuleLabel
    size = formula.font().pointSizeF()
    w.presentation.enter()
    settle(qtbot)
    assert preview.backgroundBrush().color() == QColor(THEMES["contrast"].background)
    assert formula.font().pointSizeF() > size  # the formula scales with the application's font
    tick = preview.getPlotItem().getAxis("bottom").style["tickFont"].pointSize()
    w.presentation.leave()
    settle(qtbot)
    assert preview.getPlotItem().getAxis("bottom").style["tickFont"].pointSize() < tick
    assert formula.font().pointSizeF() == pytest.approx(size)
    w.set_theme("dark")
    assert preview.backgroundBrush().color() == QColor(THEMES["dark"].background)


# -- the tool windows --------------------------------------------------------------------------------------------
def test_tool_windows_follow_every_theme_switch(main_window, qtbot):
    w = main_window
    w.experiment = replace(w.experiment, train=replace(w.experiment.train, epochs=2))
    w.acts.train.trigger()
    qtbot.waitUntil(lambda: w.run_state == FINISHED, timeout=60000)
    tools = [w.open_playground(), w.open_replay(w.recorded), w.open_compression()]
    loaded = []
    w.compression.when_loaded(lambda: loaded.append(True))
    qtbot.waitUntil(lambda: bool(loaded), timeout=30000)
    for tool in tools:
        tool.resize(1366, 768)
    settle(qtbot)
    for where, switch in [("dark", lambda: w.set_theme("dark")), ("presentation", w.presentation.enter),
                          ("left presentation", w.presentation.leave), ("light", lambda: w.set_theme("light"))]:
        switch()
        for tool in tools:
            tool.resize(1366, 768)
        settle(qtbot)
        for tool in tools:
            assert not unreadable(tool), (where, tool.objectName())


def test_a_label_with_a_style_sheet_is_drawn_in_the_new_theme(main_window, qtbot):
    """The idle hint has a style sheet (its frame): polished by the new style before the palette changed, it kept
    the light theme's colours (black text, and on presentation mode's black, nothing to read)."""
    w = main_window
    hint = w.views.idle_hint
    for switch in (w.acts.dark.trigger, w.acts.presentation.trigger, w.acts.presentation.trigger,
                   w.acts.dark.trigger):
        switch()
        settle(qtbot)
        assert hint.isVisible()
        lum = luminance(pixels(hint)[4:-4, 4:-4])  # (inside its frame)
        background = np.median(lum)
        window = relative_luminance(w.palette().color(QPalette.ColorRole.Window))
        assert abs(background - window) < 0.05, (w.theme, background, window)  # the theme's own background
        text = np.max(lum) if background < 0.5 else np.min(lum)
        assert luminance_contrast(text, background) >= WCAG_AA, w.theme  # and text that reads on it

