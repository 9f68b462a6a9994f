"""The first conv layer's filters, each as a small image in a grid: blue positive, orange negative, white zero."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import CLASS_COLORS, get_theme, style_plot

NEGATIVE, POSITIVE = CLASS_COLORS[0], CLASS_COLORS[1]  # the network drawing's orange and blue

GAP = 1  # pixels of background between two filters in the mosaic


def mosaic(filters: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The filters (out, in, kh, kw) as one image: a grid of kh x kw tiles (a filter over several input channels
    shows their mean), NaN in the gaps; returns (image (rows, cols) in pixel rows top first, grid rows, grid cols)."""
    f = np.asarray(filters, dtype=float)
    tiles = f.mean(axis=1) if f.ndim == 4 else f
    n, kh, kw = tiles.shape
    cols = max(1, math.ceil(math.sqrt(n * kh / kw)))  # about square
    rows = math.ceil(n / cols)
    out = np.full((rows * (kh + GAP) - GAP, cols * (kw + GAP) - GAP), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (kh + GAP): r * (kh + GAP) + kh, c * (kw + GAP): c * (kw + GAP) + kw] = tiles[k]
    return out, rows, cols


class FilterPlot(pg.GraphicsLayoutWidget):
    """Every filter of the first conv layer as a kh x kw image, on one symmetric colour scale with a colour bar;
    ``set_filters`` redraws from a snapshot's weights (live while training)."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("filterPlot")
        self._theme = get_theme(theme)
        self.plot = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # row 0 of a filter at the top, as an image
        for side in ("left", "bottom"):
            self.plot.hideAxis(side)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, "#ffffff", POSITIVE])
        self.image.setColorMap(cmap)
        self.bar = pg.ColorBarItem(colorMap=cmap, interactive=False, width=12, label="weight")
        self.bar.setImageItem(self.image)
        self.addItem(self.bar)
        self.shape: tuple[int, ...] = ()
        self.grid: tuple[int, int] = (0, 0)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for a theme; the filters keep Playground's colours (white is zero)."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        style_plot(self.plot, self._theme, title=self._title(), grid=False)
        self.bar.axis.setTextPen(pg.mkPen(self._theme.foreground))
        self.bar.axis.setPen(pg.mkPen(self._theme.foreground))
        self.bar.axis.setLabel("weight", color=self._theme.foreground)

    def _title(self) -> str:
        if not self.shape:
            return "Filters of the first conv layer (after the first snapshot)"
        n, _c, kh, kw = self.shape
        return f"conv 1: {n} filters {kh}×{kw}"

    def set_filters(self, filters: np.ndarray) -> None:
        """Show filters (out, in, kh, kw): one tile each, the colour scale ±max|w| (zero is white)."""
        f = np.nan_to_num(np.asarray(filters, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        image, rows, cols = mosaic(f)
        top = float(np.abs(f).max()) if f.size else 0.0
        top = top if top > 0 else 1.0
        self.image.setImage(image, levels=(-top, top), autoLevels=False)
        self.bar.setLevels((-top, top))
        if f.shape != self.shape:
            self.shape, self.grid = f.shape, (rows, cols)
            style_plot(self.plot, self._theme, title=self._title(), grid=False)
            self.plot.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0.02)

    def clear(self) -> None:
        """Nothing shown (a new run)."""
        self.image.clear()
        self.shape, self.grid = (), (0, 0)
        style_plot(self.plot, self._theme, title=self._title(), grid=False)
