"""Small images in a grid: the first conv layer's filters (blue positive, orange negative, white zero), or one
sample's feature maps (a sequential scale), with a colour bar."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import CLASS_COLORS, get_theme, style_plot

NEGATIVE, POSITIVE = CLASS_COLORS[0], CLASS_COLORS[1]  # the network drawing's orange and blue
GAP = 1  # pixels of background between two tiles in the mosaic


def mosaic(tiles: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Tiles (n, h, w), or filters (out, in, kh, kw) shown as the mean over their input channels, as one image: a
    grid of tiles about as wide as high, NaN in the gaps; returns (image (rows, cols) top first, grid rows, cols)."""
    t = np.asarray(tiles, dtype=float)
    t = t.mean(axis=1) if t.ndim == 4 else t
    n, kh, kw = t.shape
    cols = max(1, math.ceil(math.sqrt(n * kh / kw)))
    rows = math.ceil(n / cols)
    out = np.full((rows * (kh + GAP) - GAP, cols * (kw + GAP) - GAP), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (kh + GAP): r * (kh + GAP) + kh, c * (kw + GAP): c * (kw + GAP) + kw] = t[k]
    return out, rows, cols


class FilterPlot(pg.GraphicsLayoutWidget):
    """A mosaic of small images on one colour scale with a colour bar. ``kind`` "filters": a symmetric diverging
    scale ±max|w| (zero is white), for weights; "maps": min to max on a sequential scale, for activations."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light", kind: str = "filters",
                 label: str = "weight") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("filterPlot" if kind == "filters" else "featureMapPlot")
        self._theme = get_theme(theme)
        self.kind, self.label, self.title = kind, label, ""
        self.plot = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # row 0 of a tile at the top, as an image
        for side in ("left", "bottom"):
            self.plot.hideAxis(side)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, "#ffffff", POSITIVE]) if kind == "filters" else \
            pg.colormap.get("viridis")
        self.image.setColorMap(cmap)
        self.bar = pg.ColorBarItem(colorMap=cmap, interactive=False, width=12)
        self.bar.setImageItem(self.image)
        self.addItem(self.bar)
        self.shape: tuple[int, ...] = ()
        self.grid: tuple[int, int] = (0, 0)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for a theme; the tiles keep their colour scale."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        style_plot(self.plot, self._theme, title=self.title, grid=False)
        self.bar.axis.setTextPen(pg.mkPen(self._theme.foreground))
        self.bar.axis.setPen(pg.mkPen(self._theme.foreground))
        self.bar.axis.enableAutoSIPrefix(False)  # weights of 0.6 read as 0.6, not as 600 (x0.001)
        self.bar.axis.setLabel(self.label, color=self._theme.foreground)

    def set_tiles(self, tiles: np.ndarray, title: str) -> None:
        """Show tiles (n, h, w) or filters (out, in, kh, kw) under ``title``."""
        t = np.nan_to_num(np.asarray(tiles, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        image, rows, cols = mosaic(t)
        if self.kind == "filters":
            top = float(np.abs(t).max()) if t.size else 0.0
            levels = (-top, top) if top > 0 else (-1.0, 1.0)
        else:
            lo, hi = (float(t.min()), float(t.max())) if t.size else (0.0, 1.0)
            levels = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
        self.image.setImage(image, levels=levels, autoLevels=False)
        self.bar.setLevels(levels)
        if t.shape != self.shape or title != self.title:
            self.shape, self.grid, self.title = t.shape, (rows, cols), title
            style_plot(self.plot, self._theme, title=title, grid=False)
            self.plot.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0.02)

    def set_filters(self, filters: np.ndarray) -> None:
        """Show conv filters (out, in, kh, kw), one tile each."""
        n, _c, kh, kw = np.shape(filters)
        self.set_tiles(filters, f"conv 1: {n} filters {kh}×{kw}")

    def clear(self, title: str = "") -> None:
        """Nothing shown (a new run), ``title`` saying what will come."""
        self.image.clear()
        self.shape, self.grid, self.title = (), (0, 0), title
        style_plot(self.plot, self._theme, title=title, grid=False)
