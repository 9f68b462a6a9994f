"""The map of a sweep: over two fields a heatmap of the final validation loss (or accuracy) with diverged cells
hatched and the best cell outlined; over one field the curve of the mean with min-max bars over seeds; over
three, one heatmap per value of the third. The window shows it live and the command line exports it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from visualizer.qt.plots._style import (
    LABEL_PT,
    TICK_PT,
    TITLE_PT,
    font,
    get_theme,
    pt,
    px,
    readable_on,
    style_plot,
    style_text,
)

COLORMAP = "viridis"
#: diverged cells: hatched in a colour outside viridis, with a label
DIVERGED = {"light": "#d62728", "dark": "#ff6b6b", "contrast": "#ff2d95"}
#: cells per panel up to which each cell shows its value as text
MAX_LABELLED = 144


def _axis_title(axis) -> str:
    return f"{axis.field} (log scale)" if axis.log else axis.field


class SweepMapPlot(pg.GraphicsLayoutWidget):
    """Draws a core.sweeps.sweep_map.SweepMap; ``cell_clicked(at)`` says which cell (a tuple of value indices)
    the user clicked, ``cell_compared(at)`` which one they clicked with Shift."""

    cell_clicked = Signal(tuple)
    #: a cell clicked with Shift: compare its run with the one replayed
    cell_compared = Signal(tuple)

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("sweepMapPlot")
        self._theme = get_theme(theme)
        self._map = None
        self._title = ""
        self.panels: list[pg.PlotItem] = []
        self.colorbar: pg.ColorBarItem | None = None
        self.cell_items: dict[tuple, list] = {}  # a cell's drawn items (value text, hatching, outline)
        self.best_outline: QGraphicsRectItem | None = None
        self.scene().sigMouseClicked.connect(self._on_click)
        self.ci.setContentsMargins(6, 6, 14, 6)

    @property
    def theme(self) -> str:
        return self._theme.name

    @property
    def sweep_map(self):
        return self._map

    def set_theme(self, theme: str) -> None:
        self._theme = get_theme(theme)
        self.redraw()

    def set_map(self, sweep_map, title: str = "") -> None:
        """Show ``sweep_map`` (redrawn whole; call ``redraw`` after adding rows to it)."""
        self._map = sweep_map
        self._title = title
        self.redraw()

    # --- drawing ------------------------------------------------------------------------------------------
    def redraw(self) -> None:
        self.ci.clear()
        self.panels, self.cell_items, self.colorbar, self.best_outline = [], {}, None, None
        self.setBackground(self._theme.background)
        m = self._map
        if m is None:
            return
        if len(m.axes) == 1:
            self._draw_curves(m)
        else:
            self._draw_heatmaps(m)

    def _new_panel(self, row: int, col: int, title: str | None):
        plot = self.ci.addPlot(row=row, col=col)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.getAxis("left").setWidth(56)
        self.panels.append(plot)
        return plot

    def _ticks(self, plot, side: str, axis) -> None:
        plot.getAxis(side).setTicks([list(enumerate(axis.labels))])

    def _draw_curves(self, m) -> None:
        axis = m.axes[0]
        plot = self._new_panel(0, 0, None)
        t = self._theme
        style_plot(plot, t, title=self._title or f"{m.label} over {axis.field}", bottom=_axis_title(axis),
                   left=m.label)
        mean, low, high = m.grid("mean"), m.grid("min"), m.grid("max")
        x = np.arange(len(axis.labels), dtype=float)
        ok = np.isfinite(mean)
        bars = pg.ErrorBarItem(x=x[ok], y=mean[ok], top=high[ok] - mean[ok], bottom=mean[ok] - low[ok], beam=0.15,
                               pen=pg.mkPen(t.train, width=1.5))
        plot.addItem(bars)
        legend = plot.addLegend(offset=(-10, 10))
        legend.setLabelTextColor(t.foreground)
        seeds = max((m.seeds_done((i,)) for i in range(len(x))), default=1)
        plot.addItem(pg.PlotDataItem(x[ok], mean[ok], pen=pg.mkPen(t.train, width=2.5), symbol="o", symbolSize=8,
                                     symbolBrush=t.train, symbolPen=t.foreground,
                                     name=f"mean over {seeds} seeds; bars: min–max" if seeds > 1 else "one seed"))
        for i in range(len(x)):
            status = m.status((i,))
            self.cell_items[(i,)] = []
            if status in ("diverged", "failed"):
                y = float(np.nanmin(mean)) if ok.any() else 0.0
                mark = pg.ScatterPlotItem([i], [y], symbol="x", size=14, pen=pg.mkPen(DIVERGED[t.name], width=2.5))
                text = pg.TextItem(status, anchor=(0.5, -0.2))
                style_text(text, t, TICK_PT, True, DIVERGED[t.name])
                text.setPos(i, y)
                for item in (mark, text):
                    plot.addItem(item)
                self.cell_items[(i,)] += [mark, text]
        best = m.best()
        if best is not None:
            star = pg.ScatterPlotItem([best[0]], [mean[best]], symbol="star", size=20,
                                      brush=pg.mkBrush(t.validation), pen=pg.mkPen(t.foreground))
            label = pg.TextItem("best", anchor=(-0.25, 1.1))
            style_text(label, t, TICK_PT, True)
            label.setPos(best[0], mean[best])
            for item in (star, label):
                plot.addItem(item)
            self.cell_items.setdefault(best, []).extend([star, label])
        self._ticks(plot, "bottom", axis)
        plot.setXRange(-0.5, len(x) - 0.5, padding=0.02)

    def _draw_heatmaps(self, m) -> None:
        t = self._theme
        grid = m.grid("mean")
        finite = grid[np.isfinite(grid)]
        log = bool(len(finite)) and m.lower_is_better and finite.min() > 0 and finite.max() / finite.min() > 10
        shade = np.log10(grid) if log else grid  # losses spanning decades: colours by log₁₀, the text as is
        finite = shade[np.isfinite(shade)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1e-9
        bar_label = f"log₁₀ {m.label}" if log else m.label
        cmap = pg.colormap.get(COLORMAP)
        x_axis, y_axis = m.axes[0], m.axes[1]
        pages = range(len(m.axes[2].labels)) if len(m.axes) == 3 else [None]
        cols = min(len(pages), 3)
        title = self._title or f"{m.label} over {x_axis.field} × {y_axis.field}"
        self.ci.addLabel(title, row=0, col=0, colspan=cols + 1, color=t.foreground, size=f"{pt(TITLE_PT)}pt")
        best = m.best()
        image = None
        for n, page in enumerate(pages):
            plot = self._new_panel(1 + n // cols, n % cols, None)
            sub = None if page is None else f"{m.axes[2].field} = {m.axes[2].labels[page]}"
            style_plot(plot, t, title=sub, bottom=_axis_title(x_axis), left=_axis_title(y_axis), grid=False)
            values = grid if page is None else grid[:, :, page]
            shades = shade if page is None else shade[:, :, page]
            image = pg.ImageItem(axisOrder="row-major")  # rows: y values
            image.setColorMap(cmap)
            image.setImage(shades.T.copy(), autoLevels=False, levels=(lo, hi))
            image.setRect(QRectF(-0.5, -0.5, values.shape[0], values.shape[1]))
            plot.addItem(image)
            self._ticks(plot, "bottom", x_axis)
            self._ticks(plot, "left", y_axis)
            plot.setRange(xRange=(-0.5, values.shape[0] - 0.5), yRange=(-0.5, values.shape[1] - 0.5), padding=0)
            labelled = values.size <= MAX_LABELLED
            for ix in range(values.shape[0]):
                for iy in range(values.shape[1]):
                    at = (ix, iy) if page is None else (ix, iy, page)
                    self._draw_cell(plot, m, at, values[ix, iy], shades[ix, iy], (lo, hi), cmap, labelled,
                                    at == best)
        if image is not None:
            self.colorbar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, interactive=False, width=14,
                                            colorMapMenu=False)
            self.colorbar.axis.enableAutoSIPrefix(False)
            self.colorbar.axis.setTextPen(pg.mkPen(t.foreground))
            self.colorbar.axis.setPen(pg.mkPen(t.foreground))
            self.colorbar.axis.setStyle(tickFont=font(TICK_PT))
            self.colorbar.axis.setWidth(px(62))  # tick labels and the title side by side, at any font scale
            self.colorbar.axis.setLabel(bar_label, color=t.foreground, **{"font-size": f"{pt(LABEL_PT)}pt"})
            self.ci.addItem(self.colorbar, row=1, col=cols, rowspan=max(1, -(-len(pages) // cols)))

    def _draw_cell(self, plot, m, at, value, tone, levels, cmap, labelled: bool, best: bool) -> None:
        t = self._theme
        ix, iy = at[0], at[1]
        items = []
        status = m.status(at)
        rect = QRectF(ix - 0.5, iy - 0.5, 1.0, 1.0)
        shade = cmap.map((tone - levels[0]) / (levels[1] - levels[0]), mode="qcolor") if np.isfinite(tone) \
            else QColor(t.background)
        if status in ("diverged", "failed"):
            hatch = QGraphicsRectItem(rect)
            brush = QBrush(QColor(DIVERGED[t.name]), Qt.BrushStyle.BDiagPattern)
            hatch.setBrush(brush)
            pen = QPen(QColor(DIVERGED[t.name]))
            pen.setCosmetic(True)
            hatch.setPen(pen)
            plot.addItem(hatch)
            items.append(hatch)
        if labelled and status:
            if status in ("diverged", "failed"):
                text, color = status, readable_on(QColor(t.background))
                fill = pg.mkBrush(t.readout_fill)
            else:
                text, color, fill = (f"{value:.3g}" if np.isfinite(value) else "–"), readable_on(shade), None
                text += "\nbest" if best else ""
            label = pg.TextItem(text, anchor=(0.5, 0.5), fill=fill)
            style_text(label, t, TICK_PT, best, color)
            label.setPos(QPointF(ix, iy))
            plot.addItem(label)
            items.append(label)
        if best:
            outline = QGraphicsRectItem(rect)
            pen = QPen(QColor(readable_on(shade, ("#ffffff", "#000000", "#ff8c00"))), 4)
            pen.setCosmetic(True)
            outline.setPen(pen)
            outline.setZValue(20)
            plot.addItem(outline)
            self.best_outline = outline
            items.append(outline)
        self.cell_items[at] = items

    # --- interaction -------------------------------------------------------------------------------------
    def cell_at(self, scene_pos) -> tuple | None:
        """The cell under a point of the scene, or None."""
        m = self._map
        if m is None:
            return None
        for n, plot in enumerate(self.panels):
            if not plot.sceneBoundingRect().contains(scene_pos):
                continue
            p = plot.vb.mapSceneToView(scene_pos)
            ix, iy = int(round(p.x())), int(round(p.y()))
            if len(m.axes) == 1:
                return (ix,) if 0 <= ix < m.shape[0] else None
            if 0 <= ix < m.shape[0] and 0 <= iy < m.shape[1]:
                return (ix, iy) if len(m.axes) == 2 else (ix, iy, n)
        return None

    def _on_click(self, event) -> None:
        at = self.cell_at(event.scenePos())
        if at is not None and self._map is not None and self._map.status(at):
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            (self.cell_compared if shift else self.cell_clicked).emit(at)
