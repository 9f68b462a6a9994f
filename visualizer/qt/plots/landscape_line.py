"""The loss along the straight line from the initial to the current weights (Goodfellow et al. 2015)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import TICK_PT, font, get_theme, line, px, style_plot

START_COLOR = "#4d4d4d"
CURRENT_COLOR = "#ff9f0a"


class LandscapeLinePlot(pg.PlotWidget):
    """loss(θ₀ + α·(θ − θ₀)) against α: α = 0 is the initial weights, α = 1 the current ones."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # PlotWidget binds the PlotItem's clear() (which removes every item): ours
        self.setObjectName("landscapeLinePlot")
        self._theme = get_theme(theme)
        self._alphas = np.zeros(0)
        self._loss = np.zeros(0)
        self.plot: pg.PlotItem = self.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.curve = self.plot.plot([], [], name="loss along the line")
        self.ends = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#000000", width=1.5))
        self.ends.setZValue(10)
        self.plot.addItem(self.ends)
        self.marks = [pg.InfiniteLine(angle=90, movable=False) for _ in range(2)]
        for mark, text, anchor in zip(self.marks, ("θ₀ (start)", "θ (current)"), ((0, 0), (1, 0))):
            mark.label = pg.InfLineLabel(mark, text=text, position=0.92, anchors=[anchor, anchor])
            self.plot.addItem(mark)
        self.marks[0].setValue(0.0)
        self.marks[1].setValue(1.0)
        self.set_theme(theme)

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(alphas, loss) drawn."""
        return self._alphas.copy(), self._loss.copy()

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title="Loss on the straight line θ₀ → θ",
                   bottom="α  (θ₀ + α·(θ − θ₀))", left="loss")
        self.curve.setPen(pg.mkPen(t.train, width=line(2.5)))
        self.ends.setSize(px(11))
        for mark in self.marks:
            mark.setPen(pg.mkPen(t.foreground, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
            mark.label.setColor(t.foreground)
            mark.label.setFont(font(TICK_PT))

    def set_line(self, alphas: np.ndarray, loss: np.ndarray) -> None:
        """Draw loss (N,) at alphas (N,); the values at α = 0 and 1 get markers when the grid has them."""
        alphas = np.asarray(alphas, np.float64).ravel()
        loss = np.asarray(loss, np.float64).ravel()
        if alphas.shape != loss.shape:
            raise ValueError(f"alphas {alphas.shape} and loss {loss.shape} differ")
        self._alphas, self._loss = alphas, loss
        self.curve.setData(alphas, loss)
        xs, ys, brushes = [], [], []
        for a, color in ((0.0, START_COLOR), (1.0, CURRENT_COLOR)):
            hit = np.flatnonzero(np.isclose(alphas, a, atol=1e-9))
            if hit.size:
                xs.append(a)
                ys.append(loss[hit[0]])
                brushes.append(pg.mkBrush(color))
        self.ends.setData(xs, ys, brush=brushes)
        finite = loss[np.isfinite(loss)]
        if alphas.size > 1 and finite.size:  # set, not auto: a ViewBox hidden in a stack misses its auto-range
            lo, hi = float(finite.min()), float(finite.max())
            self.plot.setRange(xRange=(float(alphas.min()), float(alphas.max())),
                               yRange=(lo, hi if hi > lo else lo + 1.0), padding=0.05)

    def clear(self) -> None:
        """Remove the line."""
        self._alphas, self._loss = np.zeros(0), np.zeros(0)
        self.curve.setData([], [])
        self.ends.setData([], [])
