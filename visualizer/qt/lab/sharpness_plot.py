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
                    "preconditioned_sharpness": "(2+2β₁)/((1−β₁)η), Adam's threshold"}  # (38/η at β₁ = 0.9)
AXIS_LABELS = {"sharpness": "sharpness λ₁(H)", "preconditioned_sharpness": "preconditioned sharpness λ₁(P⁻¹H)"}
#: a threshold more than this many times the highest sharpness is left out of the y range (else the measured
#: curve is a flat line at the bottom: Adam at lr 0.01 on moons measures 50-150 under a threshold of 3,800);
#: the title says where it is
FAR = 2.0


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
        self.legend = self.plot.addLegend(offset=(-8, -8))  # bottom right; moved where it covers the fewest points
        self.curve = self.plot.plot(name="sharpness")
        self.threshold = self.plot.plot(name=THRESHOLD_LABELS["sharpness"])
        self.title = "Sharpness"  # says where the threshold is when it is above the y range
        self._steps = self._values = self._t_steps = self._t_values = np.empty(0)
        self._measures = Measures()
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title=self.title, bottom="step", left=AXIS_LABELS[self.name])
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
        self._set_title("Sharpness")
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
        self._fit(steps, values, t_values[finite])

    def _fit(self, steps: np.ndarray, values: np.ndarray, limits: np.ndarray) -> None:
        """The y range: the measured values and the threshold, unless the threshold is FAR above them (then the
        title says where it is); the legend to the corner where it covers the fewest points."""
        from visualizer.qt.plots.legend_place import place_legend

        shown = values[np.isfinite(values)]
        top = float(shown.max()) if shown.size else 0.0
        limit = float(limits.max()) if limits.size else float("nan")
        if shown.size and top > 0 and np.isfinite(limit) and limit > FAR * top:
            low = min(0.0, float(shown.min()))
            high = top * 1.15
            self.plot.enableAutoRange(axis="x")
            self.plot.setYRange(low, high, padding=0)
            self._set_title(f"Sharpness (threshold {limit:,.0f}: above)" if limit >= 10 else
                            f"Sharpness (threshold {limit:.3g}: above)")
        else:
            self._set_title("Sharpness")
            self.plot.enableAutoRange()
        if self.isVisible():  # (the range applied now, so that the legend is placed on what will be drawn)
            self.plot.vb.prepareForPaint()
        place_legend(self.legend, [self.curve])

    def _set_title(self, title: str) -> None:
        if title != self.title:
            self.title = title
            style_plot(self.plot, self._theme, title=title)

    def write_csv(self, path: str | Path) -> None:
        """step, sharpness, threshold: what the plot shows."""
        from visualizer.core.lab.export_csv import write_sharpness_csv

        write_sharpness_csv(self._measures, Path(path))
