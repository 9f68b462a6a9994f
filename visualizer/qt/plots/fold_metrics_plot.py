"""Each metric of every fold as a strip, with the mean and one standard deviation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._folds import METRIC_LABELS, UNBOUNDED, _with_alpha
from visualizer.qt.plots._style import get_theme, style_plot

_CODE = 1_000_000  # a point's data: column * _CODE + fold index
#: a column's label where the full one is wider than the column (at 1366 wide "accuracyprecisionrecall" ran together)
SHORT_LABELS = {"accuracy": "acc.", "precision": "prec.", "recall": "rec.", "f1": "F1", "balanced_accuracy": "bal."}


def _jitter(n: int, width: float = 0.34) -> np.ndarray:
    """Deterministic horizontal offsets in [-width/2, width/2] (golden-ratio sequence: evenly spread)."""
    return ((np.arange(n) * 0.6180339887) % 1.0 - 0.5) * width


@dataclass
class _Strip:
    """One plot of the strip chart and the items it reuses."""

    plot: pg.PlotItem
    points: pg.ScatterPlotItem
    chosen: pg.ScatterPlotItem
    means: pg.PlotDataItem
    spread: pg.PlotDataItem
    metrics: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # as drawn under the columns


class FoldMetricsPlot(pg.GraphicsLayoutWidget):
    """Strip plot: a column per metric, a point per fold, the mean as a bar and ± one standard deviation as
    whiskers. Loss (and MSE) sit on their own axis at the left, the scores share one axis."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("foldMetricsPlot")
        self._theme = get_theme(theme)
        self._values: dict[str, np.ndarray] = {}
        self._highlight: int | None = None
        self.ci.setContentsMargins(6, 6, 12, 6)
        self.ci.setSpacing(8)
        self.strips = [self._make_strip() for _ in range(2)]  # [unbounded metrics, scores]
        for strip in self.strips:  # labels that fit the width the plot gets
            strip.plot.getViewBox().sigResized.connect(lambda *_, s=strip: s.metrics and self._label(s, force=False))
        self._arrange((), ())
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def highlighted(self) -> int | None:
        """Index of the fold drawn bigger, or None."""
        return self._highlight

    def values_shown(self) -> dict[str, np.ndarray]:
        """Each metric's points as drawn (y values in fold order), read back from the scatter items."""
        out = {}
        for strip in self.strips:
            data = strip.points.data
            for column, name in enumerate(strip.metrics):
                mine = sorted((int(code) % _CODE, y) for code, y in zip(data["data"], data["y"])
                              if int(code) // _CODE == column)
                out[name] = np.array([y for _fold, y in mine], dtype=float)
        return out

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        for strip, title in zip(self.strips, ("Loss", "Scores")):
            style_plot(strip.plot, t, title=title, left="value")
            strip.plot.showGrid(x=False, y=True, alpha=t.grid_alpha)
            strip.points.setPen(pg.mkPen(t.background, width=0.8))
            strip.points.setBrush(pg.mkBrush(_with_alpha(t.train, 0xb0)))
            strip.chosen.setPen(pg.mkPen(t.foreground, width=2))
            strip.chosen.setBrush(pg.mkBrush(t.validation))
            strip.means.setPen(pg.mkPen(t.foreground, width=3))
            strip.spread.setPen(pg.mkPen(t.foreground, width=1.3))

    def set_metrics(self, values: dict[str, list[float]], highlight: int | None = None) -> None:
        """Show `values` (metric name -> one value per fold, in fold order); `highlight` is the index of the fold
        drawn bigger and outlined."""
        self._values = {name: np.asarray(v, dtype=float).ravel() for name, v in values.items()}
        self._highlight = highlight
        unbounded = tuple(m for m in self._values if m in UNBOUNDED)
        scores = tuple(m for m in self._values if m not in UNBOUNDED)
        if (unbounded, scores) != (self.strips[0].metrics, self.strips[1].metrics):
            self._arrange(unbounded, scores)
        for strip in self.strips:
            self._draw(strip)

    def highlight(self, fold: int | None) -> None:
        """Draw fold index `fold` bigger and outlined (None: no fold)."""
        self._highlight = fold
        for strip in self.strips:
            self._draw_chosen(strip)

    def clear(self) -> None:
        """Remove every point."""
        self.set_metrics({})

    # --- internals ----------------------------------------------------------------------------------
    def _make_strip(self) -> _Strip:
        plot = pg.PlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.getAxis("left").setWidth(56)
        points = pg.ScatterPlotItem(size=9, antialias=True)
        chosen = pg.ScatterPlotItem(size=15, antialias=True)
        chosen.setZValue(10)
        means = pg.PlotDataItem(connect="pairs")
        spread = pg.PlotDataItem(connect="pairs")
        for item in (spread, means, points, chosen):
            plot.addItem(item)
        return _Strip(plot, points, chosen, means, spread)

    def _arrange(self, unbounded: tuple[str, ...], scores: tuple[str, ...]) -> None:
        """Lay the plots out with a width proportional to their columns (plots are reused, never deleted)."""
        self.ci.clear()
        col = 0
        for strip, metrics in zip(self.strips, (unbounded, scores)):
            strip.metrics = metrics
            if not metrics:
                continue
            self.ci.addItem(strip.plot, row=0, col=col)
            self.ci.layout.setColumnStretchFactor(col, len(metrics) + 1)
            self.ci.layout.setColumnStretchFactor(col + 1, 0)
            self._label(strip)
            strip.plot.setXRange(-0.6, len(metrics) - 0.4, padding=0)
            col += 1

    def _label(self, strip: _Strip, force: bool = True) -> None:
        """Each column's label under it: the full name, or the short one where a full name is wider than its column."""
        axis = strip.plot.getAxis("bottom")
        names = [METRIC_LABELS.get(m, m) for m in strip.metrics]
        column = strip.plot.getViewBox().width() / max(len(names), 1)
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        if column > 0 and any(metrics.horizontalAdvance(n) + 8 > column for n in names):
            names = [SHORT_LABELS.get(m, n) for m, n in zip(strip.metrics, names)]
        if force or tuple(names) != strip.labels:
            axis.setTicks([[(float(i), n) for i, n in enumerate(names)], []])
        strip.labels = tuple(names)

    def _draw(self, strip: _Strip) -> None:
        xs, ys, data, bars, whiskers = [], [], [], [], []
        for column, name in enumerate(strip.metrics):
            v = self._values[name]
            xs.append(column + _jitter(v.size))
            ys.append(v)
            data.append(column * _CODE + np.arange(v.size))
            finite = v[np.isfinite(v)]
            if not finite.size:
                continue
            mean = float(finite.mean())
            std = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
            bars += [(column - 0.3, mean), (column + 0.3, mean)]
            lo, hi = mean - std, mean + std
            whiskers += [(column, lo), (column, hi), (column - 0.1, lo), (column + 0.1, lo),
                         (column - 0.1, hi), (column + 0.1, hi)]
        if xs:
            x, y = np.concatenate(xs), np.concatenate(ys)
            ok = np.isfinite(y)
            strip.points.setData(x=x[ok], y=y[ok], data=np.concatenate(data)[ok])
        else:
            strip.points.setData([], [])
        for item, segments in ((strip.means, bars), (strip.spread, whiskers)):
            arr = np.array(segments, dtype=float).reshape(-1, 2)
            item.setData(arr[:, 0], arr[:, 1], connect="pairs")
        self._draw_chosen(strip)
        if ys:
            allv = np.concatenate(ys)
            allv = allv[np.isfinite(allv)]
            if allv.size:
                lo, hi = float(allv.min()), float(allv.max())
                pad = max(0.08 * (hi - lo), 0.02 * max(abs(hi), 1e-3), 1e-3)
                strip.plot.setYRange(lo - pad, hi + pad, padding=0)

    def _draw_chosen(self, strip: _Strip) -> None:
        i = self._highlight
        xs, ys = [], []
        for column, name in enumerate(strip.metrics):
            v = self._values.get(name, np.empty(0))
            if i is not None and 0 <= i < v.size and np.isfinite(v[i]):
                xs.append(column + _jitter(v.size)[i])
                ys.append(v[i])
        strip.chosen.setData(xs, ys)


