"""The lab's tabs beside the prediction: Sharpness and Health, fed the Measured events of a live run or a replay's
measures up to its step. Each plot is also a figure for File > Export (PNG, SVG, CSV)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget

from visualizer.core.lab.measures import Measures
from visualizer.qt.lab import health_plot, sharpness_plot
from visualizer.qt.lab.health_plot import HealthPlot
from visualizer.qt.lab.sharpness_plot import SharpnessPlot


def _with_note(plot, text: str) -> QStackedWidget:
    """The plot, or in its place what to do to fill it (a plot of nothing teaches nothing)."""
    note = QLabel(text)
    note.setWordWrap(True)
    note.setAlignment(Qt.AlignmentFlag.AlignCenter)
    note.setMargin(24)
    stack = QStackedWidget()
    stack.addWidget(note)
    stack.addWidget(plot)
    return stack


class LabViews:
    """The Sharpness and Health tabs of a QTabWidget (the window's right-hand tabs)."""

    def __init__(self, tabs: QTabWidget, theme: str = "light") -> None:
        self.sharpness = SharpnessPlot(theme=theme)
        self.health = HealthPlot(theme=theme)
        self.measures = Measures()
        self.sharpness_tab = _with_note(self.sharpness, sharpness_plot.EMPTY_TEXT)
        self.health_tab = _with_note(self.health, health_plot.EMPTY_TEXT)
        i = tabs.addTab(self.sharpness_tab, "Sharpness")
        tabs.setTabToolTip(i, "The top eigenvalue of the loss's Hessian against step, with the threshold 2/η "
                              "(Adam: 38/η) that gradient descent meets at the edge of stability ([lab] "
                              "sharpness_every)")
        i = tabs.addTab(self.health_tab, "Health")
        tabs.setTabToolTip(i, "Each layer's gradient norm, update-to-weight ratio (1e-3 guide), weight norm and "
                              "dead or saturated units over time ([lab] health_every)")

    def set_theme(self, name: str) -> None:
        self.sharpness.set_theme(name)
        self.health.set_theme(name)

    def clear(self) -> None:
        self.measures = Measures()
        self.sharpness.clear()
        self.health.clear()
        self._show_plots()

    def add(self, measured: list) -> None:
        """A live frame's Measured events."""
        if measured:
            for event in measured:
                self.measures.add_event(event)
            self.set_measures(self.measures)

    def set_measures(self, measures: Measures) -> None:
        """Show ``measures`` (a replay's, up to its step)."""
        self.measures = measures
        self.sharpness.set_measures(measures)
        self.health.set_measures(measures)
        self._show_plots()

    def _show_plots(self) -> None:
        figures = self.figures()
        self.sharpness_tab.setCurrentIndex(int("sharpness" in figures))
        self.health_tab.setCurrentIndex(int("health" in figures))

    def figures(self) -> dict[str, object]:
        """The lab's plots that have something to show, by file name."""
        out = {}
        if self.measures.has("sharpness") or self.measures.has("preconditioned_sharpness"):
            out["sharpness"] = self.sharpness
        if any(self.measures.has(n) for n in ("weight_norm", "grad_norm")):
            out["health"] = self.health
        return out
