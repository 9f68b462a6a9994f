"""Per-layer weight histograms before and after compression, overlaid, with quantization levels marked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import TICK_PT, TITLE_PT, font, get_theme, pt, style_legend, style_plot
from visualizer.qt.plots.histogram_plot import grid_columns

#: more levels than this in a layer's range are not drawn: the lines would fill the plot
MAX_LEVEL_LINES = 64


@dataclass(frozen=True)
class HistogramPair:
    """One layer: bin ``edges`` (bins + 1), ``before`` counts, optional ``after`` counts on the same bins and the
    x positions of quantization ``levels``; ``note`` is added to the plot's title ("80.0% zeros")."""

    name: str
    edges: np.ndarray
    before: np.ndarray
    after: np.ndarray | None = None
    levels: np.ndarray | None = None
    note: str = ""


def _edges(lo: float, hi: float, bins: int, step: float | None) -> np.ndarray:
    """``bins`` equal bins over [lo, hi]; with a grid ``step`` of few levels, bins a whole fraction of the step wide
    with a level at the centre of one, so the quantized weights stand exactly on their level lines."""
    if step and step > 0 and (hi - lo) / step <= MAX_LEVEL_LINES:
        per_step = max(1, round(bins * step / (hi - lo)))
        width = step / per_step
        first, last = np.floor(lo / step) * step, np.ceil(hi / step) * step
        return np.arange(first - width / 2, last + width, width)
    return np.linspace(lo, hi, bins + 1)


def histogram_pair(name: str, before: np.ndarray, after: np.ndarray | None = None, *, bins: int = 40,
                   drop_zeros: bool = False, levels: np.ndarray | None = None, step: float | None = None,
                   note: str = "") -> HistogramPair:
    """Count ``before`` and ``after`` (flat weight arrays) on shared bins spanning both; ``drop_zeros`` leaves the
    exact zeros of ``after`` out (pruned weights: a spike at 0 would flatten everything else); ``step`` (the
    quantization grid) aligns the bins with the levels."""
    before = np.asarray(before, dtype=float).ravel()
    values = [before] if after is None else [before, np.asarray(after, dtype=float).ravel()]
    both = np.concatenate(values)
    lo, hi = (float(both.min()), float(both.max())) if both.size else (-1.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = _edges(lo, hi, bins, step)
    counts_after = None
    if after is not None:
        shown = values[1][values[1] != 0] if drop_zeros else values[1]
        counts_after = np.histogram(shown, edges)[0]
    return HistogramPair(name, edges, np.histogram(before, edges)[0], counts_after,
                         None if levels is None else np.asarray(levels, dtype=float), note)


class _LayerPlot:
    """A pooled plot with its three items."""

    def __init__(self) -> None:
        self.plot = pg.PlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(52)
        self.levels = self.plot.plot(connect="pairs")
        self.before = self.plot.plot(stepMode="center", fillLevel=0)
        self.after = self.plot.plot(stepMode="center", fillLevel=0, antialias=True)
        self.note = pg.TextItem(anchor=(0, 0))
        self.note.setFont(font(TICK_PT))
        self.note.setZValue(20)
        self.plot.addItem(self.note, ignoreBounds=True)


class CompareHistogramPlot(pg.GraphicsLayoutWidget):
    """A grid of per-layer histograms: the original weights filled, the compressed ones as an outlined step
    curve on the same bins, and quantization levels as thin vertical lines. Plots are pooled, never deleted."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("compareHistogramPlot")
        self._theme = get_theme(theme)
        self._pairs: list[HistogramPair] = []
        self._names: list[str] = []
        self._pool: list[_LayerPlot] = []
        self._labels = ("original", "after")
        self._legend_key: tuple = ()
        self.legend = pg.LegendItem(colCount=3)
        self.ci.setSpacing(4)
        self.ci.setContentsMargins(6, 6, 10, 6)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def layer_names(self) -> list[str]:
        return list(self._names)

    @property
    def plots(self) -> list[pg.PlotItem]:
        return [lp.plot for lp in self._pool[: len(self._names)]]

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        for lp in self._pool:
            style_plot(lp.plot, self._theme, bottom="weight value", left="count")
        self._legend_key = ()
        self._draw()

    def set_pairs(self, pairs: list[HistogramPair], before_label: str = "original",
                  after_label: str = "after") -> None:
        """Show one plot per layer; the legend (on the first plot) names the two histograms."""
        for p in pairs:
            if np.asarray(p.edges).size != np.asarray(p.before).size + 1:
                raise ValueError(f"layer {p.name!r}: {np.asarray(p.edges).size} edges for "
                                 f"{np.asarray(p.before).size} bins (need bins + 1)")
        self._pairs = list(pairs)
        self._labels = (before_label, after_label)
        names = [p.name for p in pairs]
        if names != self._names:
            self._rebuild(names)
        self._draw()

    def levels_shown(self, layer: int) -> np.ndarray:
        """x positions of the level lines drawn on plot ``layer`` (for tests)."""
        x, _y = self._pool[layer].levels.getData()
        return np.unique(np.asarray(x if x is not None else [], dtype=float))

    def clear(self) -> None:
        self.set_pairs([])

    # --- internals ------------------------------------------------------------------------------------
    def _rebuild(self, names: list[str]) -> None:
        self.ci.clear()
        while len(self._pool) < len(names):
            lp = _LayerPlot()
            style_plot(lp.plot, self._theme, bottom="weight value", left="count")
            self._pool.append(lp)
        self._names = list(names)
        columns = grid_columns(len(names))
        if names:  # the legend is a row of its own above the plots: inside one it would hide the bars
            self.ci.addItem(self.legend, row=0, col=0, colspan=columns)
        for index, lp in enumerate(self._pool[: len(names)]):
            row, col = divmod(index, columns)
            self.ci.addItem(lp.plot, row=row + 1, col=col)
        rows = (len(names) + columns - 1) // columns
        for r in range(rows + 1):
            self.ci.layout.setRowStretchFactor(r, 1 if r else 0)
        for lp in self._pool[len(names):]:
            for item in (lp.before, lp.after, lp.levels):
                item.setData([], [])
            lp.note.setText("")
        self._legend_key = ()

    def _draw(self) -> None:
        t = self._theme
        for lp, pair in zip(self._pool, self._pairs):
            lp.plot.setTitle(pair.name, color=t.foreground, size=f"{pt(TITLE_PT)}pt")
            lp.before.setPen(pg.mkPen(t.foreground[:7] + "60", width=1))
            lp.before.setBrush(pg.mkBrush(t.foreground[:7] + "26"))
            lp.after.setPen(pg.mkPen(t.histogram, width=1.4))
            lp.after.setBrush(pg.mkBrush(t.histogram[:7] + "90"))
            lp.levels.setPen(pg.mkPen(t.validation[:7] + "c0", width=1))
            edges = np.asarray(pair.edges, dtype=float)
            before = np.asarray(pair.before, dtype=float)
            lp.before.setData(edges, before)
            after = None if pair.after is None else np.asarray(pair.after, dtype=float)
            if after is not None:
                lp.after.setData(edges, after)
            else:
                lp.after.setData([], [])
            lp.after.setVisible(after is not None)
            top = max(float(before.max()) if before.size else 1.0,
                      float(after.max()) if after is not None and after.size else 0.0, 1.0)
            levels = self._levels_in_view(pair, edges)
            if levels.size:
                x = np.repeat(levels, 2)
                y = np.tile([0.0, top * 1.04], levels.size)
                lp.levels.setData(x, y, connect="pairs")
            else:
                lp.levels.setData([], [])
            lp.levels.setVisible(bool(levels.size))
            # the note sits inside the plot, above the bars: in the title it would widen the column past the window
            lp.note.setText(pair.note)
            lp.note.setColor(t.foreground)
            lp.note.fill = pg.mkBrush(t.readout_fill)
            lp.note.setVisible(bool(pair.note))
            lp.note.setPos(float(edges[0]), top * (1.3 if pair.note else 1.08))
            lp.plot.setYRange(0, top * (1.3 if pair.note else 1.08), padding=0)
            lp.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        self._sync_legend()

    @staticmethod
    def _levels_in_view(pair: HistogramPair, edges: np.ndarray) -> np.ndarray:
        if pair.levels is None or not edges.size:
            return np.empty(0)
        levels = pair.levels[(pair.levels >= edges[0]) & (pair.levels <= edges[-1])]
        return levels if levels.size <= MAX_LEVEL_LINES else np.empty(0)

    def _sync_legend(self) -> None:
        first = self._pairs[0] if self._pairs else None
        has_after = first is not None and first.after is not None
        has_levels = first is not None and self._pool[0].levels.isVisible()
        key = (self._labels, has_after, has_levels, self._theme.name)
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        self.legend.setVisible(first is not None)
        if first is None:
            return
        style_legend(self.legend, self._theme)  # before adding: the labels take the colour when made
        lp = self._pool[0]
        self.legend.addItem(lp.before, self._labels[0])
        if has_after:
            self.legend.addItem(lp.after, self._labels[1])
        if has_levels:
            self.legend.addItem(lp.levels, "levels")
