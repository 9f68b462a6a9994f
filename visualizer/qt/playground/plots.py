"""The playground's plots: the exact surface with every racer's path, and f against step for each racer.

Every plot item is made once and reused (PySide6 crashes later when a painted item is removed): unused paths are
hidden, the legend is one text item whose HTML is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from visualizer.core.playground.functions import MAX_RACERS, TestFunction
from visualizer.qt.plots._axes import LogFriendlyAxis
from visualizer.qt.plots._style import LABEL_PT, TITLE_PT, get_theme, keep_axis_title_inside, pt, style_plot
from visualizer.qt.plots.landscape_plot import LandscapePlot
from visualizer.qt.plots.race_plot import RACE_COLORS, stack_shortest_on_top, visible_points

SHADOW = "#000000c0"
LOG_FLOOR = 1e-20  # on a log axis, f values below this (the exact minimum is 0) are drawn at it


THIN_FROM = 1000  # paths longer than this are drawn thinned, curves longer than this decimated (painting 6 x 20k
THIN_CELLS = 1000  # segments with shadows takes ~130 ms a frame; thinned to ~1/1000 of the domain, ~20 ms)


def thin_path(points: np.ndarray, cell: float) -> np.ndarray:
    """The points of a path that enter a new ``cell`` x ``cell`` square (and the last): what a screen can show of a
    path that has converged, with the zig-zags wider than a cell kept."""
    if len(points) <= 2 or cell <= 0:
        return points
    cells = np.floor(points / cell)
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(cells[1:] != cells[:-1], axis=1)
    keep[-1] = True
    return points[keep]


def decimate_curve(y: np.ndarray, target: int = 2 * THIN_FROM) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of ``y`` reduced to about ``target`` points: the min and the max of each bin, so that spikes
    stay visible (what pyqtgraph's peak downsampling does, but before the data reaches the item)."""
    n = len(y)
    if n <= target:
        return np.arange(n, dtype=np.float64), y
    k = int(np.ceil(2 * n / target))
    m = n // k * k
    bins = y[:m].reshape(-1, k)
    lo, hi = bins.argmin(axis=1), bins.argmax(axis=1)
    base = np.arange(0, m, k)
    idx = np.sort(np.concatenate([base + lo, base + hi, np.arange(m, n)]))
    return idx.astype(np.float64), y[idx]


def racer_color(index: int) -> str:
    """Colour of pool slot ``index``: the same palette as the optimizer race window."""
    return RACE_COLORS[index % len(RACE_COLORS)]


class SurfacePlot(LandscapePlot):
    """f over the function's domain (heatmap, contours, colour bar), the global minima (stars), the common start
    (white circle), each racer's path and current position in its colour, and a legend. Clicks emit the point."""

    start_clicked = Signal(float, float)

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        self._title = "Test function"
        self._ready = False
        super().__init__(parent, theme)
        self.setObjectName("playgroundSurface")
        self.plot.setMouseEnabled(x=False, y=False)  # a click places the start; dragging would pan away
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.paths: list[pg.PlotDataItem] = []
        self.heads: list[pg.ScatterPlotItem] = []
        for i in range(MAX_RACERS):
            path = pg.PlotDataItem(pen=pg.mkPen(racer_color(i), width=2.5), shadowPen=pg.mkPen(SHADOW, width=5))
            head = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush(racer_color(i)),
                                      pen=pg.mkPen("#000000", width=1.5))
            path.setZValue(30 + i)
            head.setZValue(50 + i)
            for item in (path, head):
                self.plot.addItem(item)
                item.hide()
            self.paths.append(path)
            self.heads.append(head)
        self.minima = pg.ScatterPlotItem(symbol="star", size=18, brush=pg.mkBrush("#ffffff"),
                                         pen=pg.mkPen("#000000", width=1.2))
        self.minima.setZValue(45)  # above the paths, beneath the racers' current positions
        self.start = pg.ScatterPlotItem(symbol="o", size=13, brush=pg.mkBrush("#ffffff"),
                                        pen=pg.mkPen("#000000", width=2))
        self.start.setZValue(60)
        for item in (self.minima, self.start):
            self.plot.addItem(item)
        self.legend_text = pg.TextItem(anchor=(1, 1))  # bottom right: the paths of the presets stay clear of it
        self.legend_text.setParentItem(self.plot.getViewBox())
        self.legend_text.setZValue(70)
        self.plot.getViewBox().sigResized.connect(self._place_legend)
        self._legend_html = ""
        self._legend_rows: tuple[list[str], list[str]] = ([], [])
        self._ready = True
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.set_theme(theme)

    # --- public API -------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        if self._ready:
            t = get_theme(theme)
            self.plot.setTitle(self._title, color=t.foreground, size=f"{pt(TITLE_PT)}pt")
            self._label_f()
            self.legend_text.fill = pg.mkBrush(t.legend_fill)
            self.legend_text.border = pg.mkPen(t.foreground, width=0.5)
            self.legend_text.setColor(t.foreground)
            if self._legend_html:
                self._draw_legend()
            self.legend_text.update()

    def set_function(self, fn: TestFunction, xs: np.ndarray, ys: np.ndarray, z: np.ndarray) -> None:
        """Show the exact surface ``z`` (z[i, j] = f(xs[j], ys[i])) of ``fn`` with its minima marked."""
        self._title = fn.label
        self.set_surface(xs, ys, z, log_scale=fn.log_scale, axis_labels=("x", "y"))
        self.plot.setTitle(self._title, color=get_theme(self.theme).foreground, size=f"{pt(TITLE_PT)}pt")
        self._label_f()
        pts = np.asarray(fn.minima, dtype=np.float64).reshape(-1, 2)
        self.minima.setData(pts[:, 0], pts[:, 1])
        self.minima.setVisible(bool(len(pts)))

    def set_race(self, start: Sequence[float], paths: Sequence[np.ndarray], labels: Sequence[str],
                 colors: Sequence[str], stopped: Sequence[bool] = ()) -> None:
        """Draw the start, and path i (T_i, 2) with its head in ``colors[i]`` (a cross where ``stopped[i]``:
        it diverged there); the legend names ``labels``."""
        self.start.setData([start[0]], [start[1]])
        for i, (path, head) in enumerate(zip(self.paths, self.heads)):
            if i < len(paths):
                pts = np.asarray(paths[i], dtype=np.float64)
                if len(pts) > THIN_FROM:
                    pts = thin_path(pts, self._cell())
                pen = path.opts["pen"]
                if pg.mkColor(colors[i]) != pen.color():
                    path.setPen(pg.mkPen(colors[i], width=2.5))
                    head.setBrush(pg.mkBrush(colors[i]))
                path.setData(pts[:, 0], pts[:, 1])
                symbol = "x" if i < len(stopped) and stopped[i] else "o"
                if head.opts["symbol"] != symbol:
                    head.setSymbol(symbol)
                head.setData(pts[-1:, 0], pts[-1:, 1])
                path.show()
                head.show()
            else:
                path.hide()
                head.hide()
        stack_shortest_on_top(paths, self.paths, self.heads)
        self._legend_rows = (list(labels), list(colors))
        self._draw_legend()

    def _draw_legend(self) -> None:
        """The legend of the racers, the start and the minimum, in the current font scale."""
        labels, colors = self._legend_rows
        rows = [f'<span style="color:{c}; font-size:{pt(14)}pt">●</span>&nbsp;{escape(label)}'
                for label, c in zip(labels, colors)]
        rows.append(f'<span style="font-size:{pt(13)}pt">○</span>&nbsp;start (click to move)')
        if self.minima.isVisible():
            rows.append(f'<span style="font-size:{pt(13)}pt">☆</span>&nbsp;global minimum')
        html = f'<div style="font-size:{pt(10)}pt">{"<br>".join(rows)}</div>'
        if html != self._legend_html:
            self._legend_html = html
            self.legend_text.setHtml(html)

    def path_points(self) -> list[np.ndarray]:
        """The (T, 2) points of every visible path, in order."""
        return visible_points(self.paths)

    # --- internals ----------------------------------------------------------------------------------
    def _cell(self) -> float:
        rect = self._grid_rect()
        return 0.0 if rect is None else max(rect.width(), rect.height()) / THIN_CELLS

    def _label_f(self) -> None:
        self.colorbar.axis.setLabel("log₁₀ f(x, y)" if self.log_scale else "f(x, y)",
                                    color=get_theme(self.theme).foreground, **{"font-size": f"{pt(LABEL_PT)}pt"})
        keep_axis_title_inside(self.colorbar.axis, pt(LABEL_PT))

    def _place_legend(self, *_args) -> None:
        rect = self.plot.getViewBox().boundingRect()
        self.legend_text.setPos(rect.width() - 8, rect.height() - 8)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        self.start_clicked.emit(float(point.x()), float(point.y()))


class LossCurves(pg.PlotWidget):
    """f(x, y) against step for each racer, overlaid, on a log y axis when the function's values span decades."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent, axisItems={"left": LogFriendlyAxis("left")})
        self.setObjectName("playgroundLoss")
        self._theme = get_theme(theme)
        self._log = True
        item = self.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getAxis("left").setWidth(72)  # room for "0.0001" beside the axis title
        self.curves: list[pg.PlotDataItem] = []
        for i in range(MAX_RACERS):
            curve = item.plot(pen=pg.mkPen(racer_color(i), width=2))
            curve.hide()
            self.curves.append(curve)
        item.setLogMode(x=False, y=True)
        self.set_theme(theme)

    @property
    def log_y(self) -> bool:
        return self._log

    def set_theme(self, theme: str) -> None:
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.getPlotItem(), t, title="f at each step", bottom="step",
                   left="f(x, y) (log scale)" if self._log else "f(x, y)")

    def set_log_y(self, on: bool) -> None:
        if on != self._log:
            self._log = on
            self.getPlotItem().setLogMode(x=False, y=on)
            self.set_theme(self._theme.name)

    def set_curves(self, losses: Sequence[np.ndarray], colors: Sequence[str]) -> None:
        """Curve i: ``losses[i]`` against step 0, 1, ... in ``colors[i]``; unused curves hidden."""
        for i, curve in enumerate(self.curves):
            if i < len(losses):
                y = np.asarray(losses[i], dtype=np.float64)
                if self._log:
                    y = np.maximum(y, LOG_FLOOR)
                if pg.mkColor(colors[i]) != curve.opts["pen"].color():
                    curve.setPen(pg.mkPen(colors[i], width=2))
                curve.setData(*decimate_curve(y))
                curve.show()
            else:
                curve.hide()
