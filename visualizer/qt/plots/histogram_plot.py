"""One step-mode histogram per layer (weights or gradients), in a grid."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import get_theme, line, style_plot
from visualizer.qt.plots.steady import steady_range

KIND_AXIS = {"weights": "weight value", "gradients": "gradient value"}

LayerHistogram = tuple[str, np.ndarray, np.ndarray]  # name, edges (bins+1,), counts (bins,)


def grid_columns(n_layers: int) -> int:
    """Columns for `n_layers` small plots: 1-3 in one row, 4 as 2x2, more in rows of 3."""
    if n_layers <= 3:
        return max(n_layers, 1)
    return 2 if n_layers == 4 else 3


class HistogramPlot(pg.GraphicsLayoutWidget):
    """Per-layer histograms of weight (or gradient) values; reuses its plots while the layers stay the same."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("histogramPlot")
        self._theme = get_theme(theme)
        self._kind = "weights"
        self._names: list[str] = []
        self.plots: list[pg.PlotItem] = []
        self._pool: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []
        self.bars: list[pg.PlotDataItem] = []
        self.ranges: list[tuple | None] = []  # (x range, y range) shown per plot: see steady_range
        self.ci.setSpacing(4)
        self.ci.setContentsMargins(6, 6, 10, 6)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def layer_names(self) -> list[str]:
        """Names of the layers shown, in grid order."""
        return list(self._names)

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        self._restyle()

    def set_histograms(self, layers: list[LayerHistogram], kind: str = "weights") -> None:
        """Show one histogram per (name, edges, counts); `kind` is "weights" or "gradients"."""
        if kind not in KIND_AXIS:
            raise ValueError(f"unknown histogram kind {kind!r}; expected 'weights' or 'gradients'")
        names = [name for name, _edges, _counts in layers]
        if names != self._names:
            self._rebuild(names)
            self._kind = kind
            self._restyle()
        elif kind != self._kind:
            self._kind = kind
            self.ranges = [None] * len(names)  # gradients are orders of magnitude smaller than weights
            self._restyle()
        for index, (plot, bars, (name, edges, counts)) in enumerate(zip(self.plots, self.bars, layers, strict=True)):
            edges = np.asarray(edges, dtype=float).ravel()
            counts = np.asarray(counts, dtype=float).ravel()
            if edges.size != counts.size + 1:
                raise ValueError(f"layer {name!r}: {edges.size} edges for {counts.size} bins (need bins + 1)")
            bars.setData(edges, counts)
            self._fit(index, plot, edges, counts)

    def _fit(self, index: int, plot: pg.PlotItem, edges: np.ndarray, counts: np.ndarray) -> None:
        """Show the histogram in steady ranges (not pyqtgraph's auto-range, which fits it anew at every snapshot
        and repaints the plot once more for each fit)."""
        edges, counts = edges[np.isfinite(edges)], counts[np.isfinite(counts)]
        if not edges.size or not counts.size:
            return
        shown = self.ranges[index]
        x = steady_range(shown[0] if shown else None, float(edges[0]), float(edges[-1]))
        y = steady_range(shown[1] if shown else None, 0.0, float(max(counts.max(), 1.0)), floor=0.0)
        if (x, y) != shown:
            self.ranges[index] = (x, y)
            plot.setRange(xRange=x, yRange=y, padding=0)

    def clear(self) -> None:
        """Remove every layer's plot."""
        self._rebuild([])

    def reserve(self, n: int) -> None:
        """Have ``n`` layer plots made (each took ~18 ms at a run's start): e.g. while the window waits for Train."""
        while len(self._pool) < n:
            plot = pg.PlotItem()
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(52)
            bars = plot.plot(stepMode="center", fillLevel=0, antialias=True)
            plot.disableAutoRange()
            self._pool.append((plot, bars))

    def _rebuild(self, names: list[str]) -> None:
        """Lay out one plot per name. Plot items are pooled and reused, never deleted: deleting a PlotItem that
        was in the scene crashes PySide6 in a later paint (reproduced: segfault in GraphicsView.paintEvent)."""
        self.ci.clear()
        self.reserve(len(names))
        self._names = list(names)
        self.plots = [plot for plot, _ in self._pool[: len(names)]]
        self.bars = [bars for _, bars in self._pool[: len(names)]]
        self.ranges = [None] * len(names)
        columns = grid_columns(len(names))
        for index, (name, plot) in enumerate(zip(names, self.plots)):
            row, col = divmod(index, columns)
            self.ci.addItem(plot, row=row, col=col)
            plot.setTitle(name)
        for _plot, bars in self._pool[len(names):]:
            bars.setData([], [])

    def _restyle(self) -> None:
        t = self._theme
        color = t.histogram if self._kind == "weights" else t.gradient
        pen = pg.mkPen(color, width=line(1.2))
        brush = pg.mkBrush(color[:7] + "70")
        for plot, bars, name in zip(self.plots, self.bars, self._names, strict=True):
            style_plot(plot, t, title=name, bottom=KIND_AXIS[self._kind], left="count")
            bars.setPen(pen)
            bars.setBrush(brush)
