"""Training health per layer, over time: gradient norm, weight norm, update-to-weight ratio (log, with the 1e-3
guide) and the share of dead ReLUs or saturated units, one line per layer in four small linked plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.core.lab.measures import DEAD_RELU, GRAD_NORM, SATURATED, UPDATE_RATIO, WEIGHT_NORM, Measures
from visualizer.qt.plots._axes import LogFriendlyAxis
from visualizer.qt.plots._style import CLASS_COLORS, get_theme, line, style_legend, style_plot

EMPTY_TEXT = ("No training health measured in this run. To measure each layer's gradient norm, update-to-weight "
              "ratio, weight norm and dead or saturated units every N steps, set <b>[lab] health_every = N</b> in "
              "the experiment (or <code>visualizer run --health-every N</code>).")
#: the four panels: (measures shown, title, left axis, log scale)
PANELS = (((GRAD_NORM,), "Gradient norm", "‖∇θ‖", True),
          ((UPDATE_RATIO,), "Update / weight", "‖Δθ‖ / ‖θ‖", True),
          ((WEIGHT_NORM,), "Weight norm", "‖θ‖", False),
          ((DEAD_RELU, SATURATED), "Dead / saturated units", "share", False))
GUIDE = 1e-3  # the usual healthy update-to-weight ratio


class HealthPlot(pg.GraphicsLayoutWidget):
    """Per-layer health over time; ``set_measures`` takes a core.lab.measures.Measures."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("healthPlot")
        self._theme = get_theme(theme)
        self.plots: list[pg.PlotItem] = []
        for i, (_names, _title, _left, log) in enumerate(PANELS):
            plot = self.addPlot(row=i // 2, col=i % 2, axisItems={"left": LogFriendlyAxis("left")} if log else None)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(56)
            plot.setLogMode(y=log)
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
        self.legend = self.plots[0].addLegend(offset=(-8, 8))
        self.guide = pg.InfiniteLine(pos=np.log10(GUIDE), angle=0, movable=False)
        self.plots[1].addItem(self.guide, ignoreBounds=True)
        self._curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        self._layers: list[str] = []
        self._rows: list[int] = []
        self._measures = Measures()
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        for plot, (_names, title, left, _log) in zip(self.plots, PANELS):
            style_plot(plot, t, title=title, bottom="step", left=left)
        style_legend(self.legend, t)
        self.guide.setPen(pg.mkPen(t.foreground, width=line(1), style=Qt.PenStyle.DashLine))
        for (_panel, layer), curve in self._curves.items():
            curve.setPen(self._pen(layer))

    def _pen(self, layer: str):
        i = self._layers.index(layer) if layer in self._layers else 0
        return pg.mkPen(CLASS_COLORS[(i + 1) % len(CLASS_COLORS)], width=line(1.5))

    def clear(self) -> None:
        for curve in self._curves.values():
            curve.setData([], [])
        self._rows = []
        self._measures = Measures()
        self.legend.setVisible(False)

    def _curve(self, panel: int, layer: str) -> pg.PlotDataItem:
        key = (panel, layer)
        if key not in self._curves:
            if layer not in self._layers:
                self._layers.append(layer)
            curve = self.plots[panel].plot(name=layer if panel == 0 else None, connect="finite")
            curve.setPen(self._pen(layer))
            self._curves[key] = curve
        return self._curves[key]

    def set_measures(self, measures) -> None:
        """Draw every layer's health so far."""
        rows = []
        self._measures = measures
        for panel, (names, *_rest) in enumerate(PANELS):
            for name in names:
                for layer in measures.layers(name):
                    steps, values = measures.series(name, layer)
                    if panel in (0, 1):  # a log axis: zero (a first update, a dead gradient) is not drawn
                        values = np.where(values > 0, values, np.nan)
                    self._curve(panel, layer).setData(steps.astype(float), values)
                    rows.append(len(steps))
        self._rows = rows
        self.legend.setVisible(bool(rows))
        if rows:
            self.plots[3].setYRange(0, 1, padding=0.05)

    def write_csv(self, path: str | Path) -> None:
        """name, layer, step, value: every layer's health the plot shows."""
        from visualizer.core.lab.export_csv import write_health_csv

        write_health_csv(self._measures, Path(path))
