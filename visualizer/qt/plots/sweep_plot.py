"""Accuracy (or R²) against sparsity, bits or step: one curve per layer (or quantizer), a legend, a baseline."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import CLASS_COLORS, TICK_PT, get_theme, style_legend, style_plot

#: curves drawn in the foreground colour, thicker: the one the others are compared with
EMPHASISED = ("global",)


class SweepPlot(pg.GraphicsLayoutWidget):
    """Named curves of measured points (markers joined by lines) against one x axis, with an optional dashed
    horizontal baseline (the uncompressed model). Curve items are pooled and reused, never deleted."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("sweepPlot")
        self._theme = get_theme(theme)
        self._title = "Sensitivity"
        self._x_label = "sparsity (%)"
        self._y_label = "accuracy"
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._pool: list[pg.PlotDataItem] = []
        self._legend_key: tuple = ()
        self._shown_key: tuple = ()  # the curves _draw showed last (a theme rebuilds the legend, keeps what is hidden)
        self._baseline: float | None = None
        self._baseline_label = ""
        self.ci.setContentsMargins(6, 6, 14, 6)
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(56)
        self.legend = self.plot.addLegend(offset=(10, -10))
        self.baseline = pg.InfiniteLine(angle=0, movable=False)
        self.baseline.setZValue(-5)
        self.baseline_text = pg.TextItem(anchor=(1, 1))
        for item in (self.baseline, self.baseline_text):
            self.plot.addItem(item, ignoreBounds=True)
            item.hide()
        self.plot.sigRangeChanged.connect(self._place_baseline_text)
        self.set_theme(theme)

    # --- public ---------------------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def x_label(self) -> str:
        return self._x_label

    @property
    def y_label(self) -> str:
        return self._y_label

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title=self._title, bottom=self._x_label, left=self._y_label)
        style_legend(self.legend, t)
        self.baseline.setPen(pg.mkPen(t.foreground, width=1.2, style=Qt.PenStyle.DashLine))
        self.baseline_text.setColor(t.foreground)
        self._legend_key = ()
        self._draw()

    def set_axes(self, x_label: str, y_label: str, title: str | None = None) -> None:
        """Name the axes (with units: "sparsity (%)", "bits", "accuracy") and, optionally, the plot."""
        self._x_label, self._y_label = x_label, y_label
        if title is not None:
            self._title = title
        style_plot(self.plot, self._theme, title=self._title, bottom=x_label, left=y_label)
        self._fit_y()

    def set_curves(self, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Show each named (x, y) curve in its colour; points are drawn in the order given."""
        self._curves = {name: (np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel())
                        for name, (x, y) in curves.items()}
        for name, (x, y) in self._curves.items():
            if x.size != y.size:
                raise ValueError(f"curve {name!r} has {x.size} x values for {y.size} y values")
        self._draw()

    def set_baseline(self, value: float | None, label: str = "original") -> None:
        """A dashed horizontal line at ``value`` labelled "label value" (None hides it)."""
        self._baseline = None if value is None or not np.isfinite(value) else float(value)
        self._baseline_label = label
        visible = self._baseline is not None
        self.baseline.setVisible(visible)
        self.baseline_text.setVisible(visible)
        if visible:
            self.baseline.setPos(self._baseline)
            self.baseline_text.setText(f"{label} {self._baseline:.4g}")
        self._fit_y()
        self._place_baseline_text()

    def set_legend_corner(self, corner: str) -> None:
        """Put the legend in the "bottom-left" (default) or "bottom-right" corner: where the curves are not."""
        x = {"bottom-left": 0, "bottom-right": 1}[corner]
        self.legend.anchor((x, 1), (x, 1), offset=(10 - 20 * x, -10))

    def curves_shown(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each visible curve's (x, y) as drawn, read back from the plot items (for tests)."""
        out = {}
        for name, item in zip(self._curves, self._pool):
            x, y = item.getData()
            out[name] = (np.asarray(x if x is not None else [], dtype=float),
                         np.asarray(y if y is not None else [], dtype=float))
        return out

    def clear(self) -> None:
        """Remove every curve (the baseline stays)."""
        self.set_curves({})

    # --- internals ------------------------------------------------------------------------------------
    def _color(self, index: int, name: str) -> str:
        return self._theme.foreground if name in EMPHASISED else CLASS_COLORS[index % len(CLASS_COLORS)]

    def _draw(self) -> None:
        while len(self._pool) < len(self._curves):
            item = pg.PlotDataItem(connect="finite", antialias=True, symbol="o", symbolSize=6)
            self.plot.addItem(item)
            self._pool.append(item)
        coloured = 0
        key = tuple(self._curves)
        for name, item in zip(self._curves, self._pool):
            x, y = self._curves[name]
            colour = self._color(coloured, name)
            coloured += name not in EMPHASISED
            width = 2.4 if name in EMPHASISED else 1.6
            item.setPen(pg.mkPen(colour, width=width))
            item.setSymbolPen(pg.mkPen(colour, width=1))
            item.setSymbolBrush(pg.mkBrush(colour))
            item.setData(x, y, connect="finite")
            if key != self._shown_key:  # (the same curves again: one hidden from its legend entry stays hidden)
                item.setVisible(True)
        for item in self._pool[len(self._curves):]:
            item.setData([], [])
            item.setVisible(False)
        self._shown_key = key
        if key != self._legend_key:
            self._legend_key = key
            self.legend.clear()
            for name, item in zip(self._curves, self._pool):
                self.legend.addItem(item, name)
            self.legend.setLabelTextSize(f"{TICK_PT + 1}pt")
        self.legend.setVisible(bool(self._curves))
        self._fit_y()
        self._fit_x_ticks()

    def _fit_y(self) -> None:
        """Accuracy is fixed to [0, 1]; R² and losses show their data (R² from at least -1 up to 1)."""
        values = [y[np.isfinite(y)] for _x, y in self._curves.values()]
        if self._baseline is not None:
            values.append(np.array([self._baseline]))
        finite = np.concatenate(values) if values else np.empty(0)
        if "accuracy" in self._y_label:
            self.plot.enableAutoRange(y=False)
            self.plot.setYRange(0.0, 1.0, padding=0.04)
        elif "R²" in self._y_label and finite.size:
            self.plot.enableAutoRange(y=False)
            self.plot.setYRange(max(min(float(finite.min()), 0.0), -1.0), 1.0, padding=0.04)
        else:
            self.plot.enableAutoRange(y=True)

    def _fit_x_ticks(self) -> None:
        """Whole-number x values over a short span (bits, k) get a tick at every integer, not at 2.5."""
        xs = np.concatenate([x for x, _y in self._curves.values()]) if self._curves else np.empty(0)
        xs = xs[np.isfinite(xs)]
        axis = self.plot.getAxis("bottom")
        if xs.size and np.all(xs == np.round(xs)) and xs.max() - xs.min() <= 24:
            axis.setTickSpacing(1, 1)
        else:
            axis.setTickSpacing()

    def _place_baseline_text(self, *_args) -> None:
        """Keep the baseline's label at the right end of the line, inside the view."""
        if self._baseline is None:
            return
        (x0, x1), _ = self.plot.vb.viewRange()
        self.baseline_text.setPos(x1 - 0.01 * (x1 - x0), self._baseline)
