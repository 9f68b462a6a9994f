"""One layer's weight (or gradient) histogram over training, as TensorBoard draws it: step x value, colour = count."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import (
    LABEL_PT,
    TICK_PT,
    font,
    get_theme,
    keep_axis_title_inside,
    pt,
    px,
    style_plot,
)
from visualizer.qt.plots.histogram_plot import KIND_AXIS

ROWS = 64  # value bins of the common grid every snapshot is resampled onto
MAX_COLUMNS = 2000  # snapshots kept; beyond this every second older one is dropped
MAX_PIXELS = 2048  # image columns of the regular step grid
# Perceptually uniform maps that run away from the background: white-to-dark on white, black-to-bright on dark.
# Their first tenth is cut off so that a cell with a few counts still stands out from the background.
COLORMAPS = {"light": "CET-L17", "dark": "inferno", "contrast": "inferno"}
COLORMAP_START = 0.1
PEAK_PERCENTILE = 90  # colour scale tops out at this percentile of the columns' peaks
COLORBAR_AXIS_PX = 48  # the colour bar's ticks and its rotated title side by side (at least; wider for long ticks)


def cumulative(counts: np.ndarray) -> np.ndarray:
    """Cumulative counts at each edge of a histogram (bins+1 values, starting at 0)."""
    return np.concatenate(([0.0], np.cumsum(counts, dtype=float)))


def resample(grid: np.ndarray, edges_list: list[np.ndarray], cumulative_list: list[np.ndarray]) -> np.ndarray:
    """Counts of each histogram on the bins `grid` (rows+1 ascending edges covering every edge): (rows, columns).

    Histograms come as edges and `cumulative` counts at those edges. The counts are spread uniformly within each
    source bin (the cumulative count is interpolated linearly), so each column's total is kept. All columns go
    through one np.interp: column j's edges are shifted by 2j on a unit scale and its cumulative counts by the
    total of the columns before it, which keeps both ascending.
    """
    n = len(edges_list)
    if n == 0:
        return np.zeros((grid.size - 1, 0))
    lo, span = grid[0], grid[-1] - grid[0]
    sizes = np.fromiter(map(len, edges_list), dtype=np.int64, count=n)
    ends = np.cumsum(sizes) - 1
    local = np.concatenate(cumulative_list)
    before = np.concatenate(([0.0], np.cumsum(local[ends])[:-1]))
    xp = (np.concatenate(edges_list) - lo) / span + np.repeat(2.0 * np.arange(n), sizes)
    fp = local + np.repeat(before, sizes)
    queries = ((grid - lo) / span)[None, :] + 2.0 * np.arange(n)[:, None]
    cdf = np.interp(queries.ravel(), xp, fp).reshape(n, grid.size)
    return np.diff(cdf, axis=1).T


def colormap(theme: str) -> pg.ColorMap:
    """The count colour map for `theme`, without its first COLORMAP_START (too close to the background)."""
    lut = pg.colormap.get(COLORMAPS[theme]).getLookupTable(COLORMAP_START, 1.0, nPts=256, alpha=False)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)


class HistogramTimePlot(pg.GraphicsLayoutWidget):
    """Histograms of one layer over training: x = step, y = value, colour = count (with a colour bar).

    Every snapshot has its own bin edges; each is resampled onto a common grid of ROWS bins spanning all the
    values seen so far (re-gridded from the kept raw snapshots when the range grows). Snapshots are unevenly
    spaced in step, so the image is drawn on a regular step grid whose cell is the smallest gap between
    snapshots: each cell shows the latest snapshot at or before it, i.e. a snapshot is as wide as the gap to
    the next one (the last one as wide as the smallest gap). Zero counts are transparent.
    """

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("histogramTimePlot")
        self._theme = get_theme(theme)
        self._layer = ""
        self._kind = "weights"
        self.ci.setContentsMargins(6, 6, 6, 6)
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(56)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.clear()
        self.set_theme(theme)

    # --- public API -------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def columns(self) -> int:
        """Number of snapshots kept."""
        return len(self._steps)

    @property
    def steps(self) -> np.ndarray:
        """Steps of the kept snapshots."""
        return np.asarray(self._steps, dtype=float)

    @property
    def grid(self) -> np.ndarray:
        """Edges (ROWS+1) of the common value grid (empty before the first snapshot)."""
        return self._grid.copy()

    @property
    def resampled(self) -> np.ndarray:
        """Counts of every kept snapshot on the common grid, (ROWS, columns)."""
        self._regridded()
        return self._data[:, : self.columns].copy()

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme (the colour map follows the background)."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        self._restyle()
        bar = self.colorbar
        for name in ("left", "right", "top", "bottom"):
            axis = bar.getAxis(name)
            axis.setPen(pg.mkPen(t.foreground, width=1))
            axis.setTextPen(pg.mkPen(t.foreground))
        bar.axis.setStyle(tickFont=font(TICK_PT), tickTextOffset=3)
        bar.axis.setLabel("count", color=t.foreground, **{"font-size": f"{pt(LABEL_PT)}pt"})
        keep_axis_title_inside(bar.axis, pt(LABEL_PT))
        bar.setColorMap(colormap(t.name))
        self._fit_colorbar()

    def _fit_colorbar(self) -> None:
        """Make the colour bar's axis as wide as its widest tick label and its rotated title side by side, so that
        the title never runs over the ticks (counts of thousands, large presentation fonts)."""
        axis = self.colorbar.axis
        lo, hi = self.colorbar.levels() if self.columns else (0.0, 1.0)
        along = max(axis.size().height(), 60.0)
        strings = [text for spacing, values in axis.tickValues(lo, hi, along)
                   for text in axis.tickStrings(values, 1.0, spacing)]
        widest = max((QFontMetricsF(font(TICK_PT)).horizontalAdvance(text) for text in strings), default=0.0)
        title = QFont()
        title.setPointSize(pt(LABEL_PT))
        need = (max(axis.style["tickLength"], 0) + axis.style["tickTextOffset"][0] + widest
                + QFontMetricsF(title).height() + 6)
        axis.setWidth(max(px(COLORBAR_AXIS_PX), math.ceil(need)))

    def set_layer(self, name: str) -> None:
        """Name the layer shown, e.g. "layer 1 (2→16)" (the title reads "… : weights over time")."""
        self._layer = name
        self._restyle()

    def set_kind(self, kind: str) -> None:
        """Show "weights" or "gradients" in the titles (the caller supplies the matching histograms)."""
        if kind not in KIND_AXIS:
            raise ValueError(f"unknown histogram kind {kind!r}; expected 'weights' or 'gradients'")
        self._kind = kind
        self._restyle()

    def append(self, step: int, edges: np.ndarray, counts: np.ndarray, draw: bool = True) -> None:
        """Add the snapshot taken at `step` (after the last one; the same step replaces the last). With ``draw``
        False the picture waits for ``draw_if_visible`` (or for the plot to be shown): a frame's several snapshots
        then cost one drawing, and a hidden plot none."""
        edges, counts = self._checked(edges, counts)
        if self._steps and step < self._steps[-1]:
            raise ValueError(f"step {step} comes before the last snapshot's step {self._steps[-1]}; clear() first")
        if self._steps and step == self._steps[-1]:
            self._steps.pop(), self._edges.pop(), self._cumulative.pop()
            if not self._regrid:
                self._peaks.pop()
        self._steps.append(step)
        self._edges.append(edges)
        self._cumulative.append(cumulative(counts))
        regrid = self._grow_to(edges, counts)
        if self.columns > MAX_COLUMNS:
            self._thin()
            regrid = True
        n = self.columns
        if regrid or self._regrid:  # every column again on the new grid: when it is drawn (a hidden plot: once)
            self._regrid = True
        else:
            if n > self._data.shape[1]:
                self._data = np.concatenate([self._data, np.zeros_like(self._data)], axis=1)
            self._data[:, n - 1] = resample(self._grid, self._on_grid([edges]), [self._cumulative[-1]])[:, 0]
            self._peaks.append(float(self._data[:, n - 1].max()))
        if draw:
            self._draw()
        else:
            self._stale = True

    @property
    def stale(self) -> bool:
        """Snapshots were appended since the picture was last drawn."""
        return self._stale

    def draw_if_visible(self) -> None:
        """Draw the snapshots appended without drawing, if the plot is on screen (else when it is shown)."""
        if self._stale and self.isVisible():
            self._draw()

    def redraw(self) -> None:
        """Draw the snapshots appended without drawing, shown or not (before an export)."""
        if self._stale:
            self._draw()

    def showEvent(self, event) -> None:  # Qt override: a hidden plot draws what it was given when it appears
        super().showEvent(event)
        self.redraw()

    def set_columns(self, steps: np.ndarray, edges_list: list[np.ndarray], counts_list: list[np.ndarray]) -> None:
        """Replace the history with these snapshots (ascending steps): the same picture as appending each."""
        steps = np.asarray(steps).ravel()
        if not (len(steps) == len(edges_list) == len(counts_list)):
            raise ValueError(f"{len(steps)} steps, {len(edges_list)} edge arrays and {len(counts_list)} count arrays")
        if np.any(np.diff(steps) < 0):
            raise ValueError("snapshot steps must be ascending")
        checked = [self._checked(e, c) for e, c in zip(edges_list, counts_list)]
        self.clear()
        for step, (edges, counts) in zip(steps.tolist(), checked):
            if self._steps and step == self._steps[-1]:
                self._steps.pop(), self._edges.pop(), self._cumulative.pop()
            self._steps.append(step)
            self._edges.append(edges)
            self._cumulative.append(cumulative(counts))
            self._grow_to(edges, counts)
            if self.columns > MAX_COLUMNS:
                self._thin()
        if self._steps:
            self._rebuild()
        self._regrid = False
        self._draw()

    def clear(self) -> None:
        """Remove every snapshot."""
        self._steps: list[float] = []
        self._edges: list[np.ndarray] = []
        self._cumulative: list[np.ndarray] = []
        self._lo, self._hi = np.inf, -np.inf
        self._has_data = False
        self._grid = np.empty(0)
        self._data = np.zeros((ROWS, 64))
        self._peaks: list[float] = []
        self._regrid = False  # the grid changed since the columns were resampled (see _regridded)
        self._stale = False
        self.image.clear()

    # --- internals --------------------------------------------------------------------------
    @staticmethod
    def _checked(edges: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        edges = np.asarray(edges, dtype=float).ravel()
        counts = np.asarray(counts, dtype=float).ravel()
        if edges.size != counts.size + 1 or counts.size == 0:
            raise ValueError(f"{edges.size} edges for {counts.size} bins (need bins + 1, at least one bin)")
        if not (np.all(np.isfinite(edges)) and np.all(np.isfinite(counts))):
            raise ValueError("histogram edges and counts must be finite")
        if np.any(np.diff(edges) < 0) or np.any(counts < 0):
            raise ValueError("histogram edges must ascend and counts must not be negative")
        return edges, counts

    def _grow_to(self, edges: np.ndarray, counts: np.ndarray) -> bool:
        """Widen the value grid to the values a histogram holds (its first to its last non-empty bin); True when the
        grid changed. Empty histograms (the gradients before the first step) count only while there is nothing
        else: they held the axis at ±1 and squeezed gradients of ±0.01 into a line."""
        full = np.flatnonzero(counts > 0)
        if full.size == 0:
            return False if self._has_data else self._grow(float(edges[0]), float(edges[-1]))
        if not self._has_data:  # the first data: forget the empty ones' range
            self._has_data = True
            self._lo, self._hi = np.inf, -np.inf
        return self._grow(float(edges[full[0]]), float(edges[full[-1] + 1]))

    def _grow(self, lo: float, hi: float) -> bool:
        """Widen the value range to [lo, hi]; True when the grid changed."""
        if lo >= self._lo and hi <= self._hi:
            return False
        self._lo, self._hi = min(self._lo, lo), max(self._hi, hi)
        low, high = self._lo, self._hi
        if high - low < 1e-12:  # one value only: a unit-wide range around it, as np.histogram does
            low, high = low - 0.5, high + 0.5
        self._grid = np.linspace(low, high, ROWS + 1)
        return True

    def _thin(self) -> None:
        """Keep every second snapshot (and the latest) once there are more than MAX_COLUMNS."""
        keep = list(range(0, self.columns - 1, 2)) + [self.columns - 1]
        self._steps = [self._steps[i] for i in keep]
        self._edges = [self._edges[i] for i in keep]
        self._cumulative = [self._cumulative[i] for i in keep]

    def _on_grid(self, edges_list: list[np.ndarray]) -> list[np.ndarray]:
        """Edges clipped to the grid: beyond it lie only empty bins (the grid spans every non-empty one), and
        resample needs every edge on the grid."""
        return [np.clip(edges, self._grid[0], self._grid[-1]) for edges in edges_list]

    def _regridded(self) -> None:
        """Resample the columns onto a grid that changed since, now that they are wanted. A run's weights widen
        the grid at almost every snapshot, and resampling every column at each cost the window ~2 ms a frame
        for a plot that is mostly on a hidden tab."""
        if self._regrid:
            self._regrid = False
            self._rebuild()

    def _rebuild(self) -> None:
        """Resample every kept snapshot onto the current grid."""
        n = self.columns
        self._data = np.zeros((ROWS, max(64, 2 * n)))
        self._data[:, :n] = resample(self._grid, self._on_grid(self._edges), self._cumulative)
        self._peaks = self._data[:, :n].max(axis=0).tolist()

    def _draw(self) -> None:
        self._stale = False
        self._regridded()
        n = self.columns
        if n == 0:
            self.image.clear()
            return
        steps = np.asarray(self._steps, dtype=float)
        gaps = np.diff(steps)
        first, span = steps[0], steps[-1] - steps[0]
        cell = float(gaps.min()) if n > 1 else 1.0
        cell = max(cell, span / (MAX_PIXELS - 1), 1e-9)
        pixels = min(int(round(span / cell)) + 1, MAX_PIXELS)
        centres = first + (np.arange(pixels) + 0.5) * cell
        index = np.clip(np.searchsorted(steps, centres, side="right") - 1, 0, n - 1)
        image = self._data[:, index]
        image[image <= 0] = np.nan
        high = float(np.percentile(self._peaks, PEAK_PERCENTILE)) if self._peaks else 1.0
        self.image.setImage(image, autoLevels=False)
        self.colorbar.setLevels((0.0, max(high, 1e-12)))
        self._fit_colorbar()
        grid = self._grid
        self.image.setRect(QRectF(first, grid[0], pixels * cell, grid[-1] - grid[0]))

    def _restyle(self) -> None:
        title = f"{self._layer}: {self._kind} over time" if self._layer else f"{self._kind} over time"
        style_plot(self.plot, self._theme, title=title, bottom="step", left=KIND_AXIS[self._kind], grid=False)
