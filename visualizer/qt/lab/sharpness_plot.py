"""Sharpness against step with its stability threshold (2/η for gradient descent, 38/η for Adam at β₁ = 0.9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.core.lab.measures import Measures
from visualizer.qt.plots._style import get_theme, line, px, style_legend, style_plot

EMPTY_TEXT = ("No sharpness measured in this run. To measure the top eigenvalue of the loss's Hessian every N "
              "steps, set <b>[lab] sharpness_every = N</b> in the experiment (or <code>visualizer run "
              "--sharpness-every N</code>). Presets ▸ Lessons ▸ Edge of stability shows it.")
#: the label of the threshold line by the measure it goes with
THRESHOLD_LABELS = {"sharpness": "2/η (stability threshold)",
                    "preconditioned_sharpness": "(2+2β₁)/((1−β₁)η) (Adam's threshold, 38/η at β₁ = 0.9)"}
AXIS_LABELS = {"sharpness": "sharpness λ₁(H)", "preconditioned_sharpness": "preconditioned sharpness λ₁(P⁻¹H)"}


class SharpnessPlot(pg.GraphicsLayoutWidget):
    """The measured sharpness (markers joined by a line) and the threshold it meets at the edge of stability
    (dashed), against step; ``set_measures`` takes a core.lab.measures.Measures."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("sharpnessPlot")
        self._theme = get_theme(theme)
        self.name = "sharpness"
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(62)
        self.legend = self.plot.addLegend(offset=(-8, -8))  # bottom right: the sharpness has risen by then
        self.curve = self.plot.plot(name="sharpness")
        self.threshold = self.plot.plot(name=THRESHOLD_LABELS["sharpness"])
        self._steps = self._values = self._t_steps = self._t_values = np.empty(0)
        self._measures = Measures()
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title="Sharpness", bottom="step", left=AXIS_LABELS[self.name])
        style_legend(self.legend, t)
        self.curve.setPen(pg.mkPen(t.train, width=line(2)))
        self.curve.setSymbol("o")
        self.curve.setSymbolSize(px(5))
        self.curve.setSymbolPen(pg.mkPen(t.train))
        self.curve.setSymbolBrush(pg.mkBrush(t.train))
        self.threshold.setPen(pg.mkPen(t.validation, width=line(2), style=Qt.PenStyle.DashLine))

    def clear(self) -> None:
        self._measures = Measures()
        self._steps = self._values = self._t_steps = self._t_values = np.empty(0)
        self.curve.setData([], [])
        self.threshold.setData([], [])
        self.legend.setVisible(False)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1))

    def set_measures(self, measures) -> None:
        """Draw the run's sharpness (or Adam's preconditioned sharpness) and threshold so far."""
        name = "preconditioned_sharpness" if measures.has("preconditioned_sharpness") else "sharpness"
        if name != self.name:
            self.name = name
            self.set_theme(self._theme.name)
            self.legend.removeItem(self.threshold)
            self.legend.addItem(self.threshold, THRESHOLD_LABELS[name])
        self._measures = measures
        steps, values = measures.series(name)
        t_steps, t_values = measures.series("sharpness_threshold")
        if not len(steps):
            self.clear()
            return
        self.legend.setVisible(True)
        self._steps, self._values, self._t_steps, self._t_values = steps, values, t_steps, t_values
        self.curve.setData(steps.astype(float), values)
        finite = np.isfinite(t_values)
        self.threshold.setData(t_steps[finite].astype(float), t_values[finite])
        self.plot.enableAutoRange()

    def write_csv(self, path: str | Path) -> None:
        """step, sharpness, threshold: what the plot shows."""
        from visualizer.core.lab.export_csv import write_sharpness_csv

        write_sharpness_csv(self._measures, Path(path))
