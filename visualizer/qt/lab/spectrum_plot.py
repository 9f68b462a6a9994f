"""The Hessian's eigenvalue density (stochastic Lanczos quadrature) on a log axis, with the top eigenvalues marked."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._axes import LogFriendlyAxis
from visualizer.qt.plots._style import get_theme, line, px, style_legend, style_plot

#: the density is drawn down to this share of its peak (log axis: the far tails would stretch it for nothing)
FLOOR = 1e-7


class SpectrumPlot(pg.GraphicsLayoutWidget):
    """``set_spectrum`` takes a core.lab.spectrum.Spectrum."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("spectrumPlot")
        self._theme = get_theme(theme)
        self.plot: pg.PlotItem = self.addPlot(axisItems={"left": LogFriendlyAxis("left")})
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(62)
        self.plot.setLogMode(y=True)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        self.curve = self.plot.plot(name="density (SLQ)")
        self.top = self.plot.plot(name="top eigenvalues (Lanczos)", pen=None, symbol="t1")
        self.spectrum = None
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title="Hessian eigenvalue density", bottom="eigenvalue", left="density")
        style_legend(self.legend, t)
        self.curve.setPen(pg.mkPen(t.train, width=line(2)))
        self.top.setSymbolPen(pg.mkPen(t.validation, width=line(1.5)))
        self.top.setSymbolBrush(pg.mkBrush(t.validation))
        self.top.setSymbolSize(px(11))

    def clear(self) -> None:
        self.spectrum = None
        self.curve.setData([], [])
        self.top.setData([], [])

    def set_spectrum(self, spectrum) -> None:
        self.spectrum = spectrum
        density = np.asarray(spectrum.density, float)
        shown = np.where(density >= FLOOR * density.max(), density, np.nan)
        self.curve.setData(spectrum.grid, shown)
        floor = np.nanmin(shown)  # the top eigenvalues as marks along the bottom, under the density's tails
        self.top.setData(np.asarray(spectrum.top, float), np.full(len(spectrum.top), floor))
        self.plot.enableAutoRange()

    def write_csv(self, path: str | Path) -> None:
        """eigenvalue, density; then the top eigenvalues (rank, value)."""
        s = self.spectrum
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["eigenvalue", "density"])
            if s is not None:
                w.writerows((repr(float(x)), repr(float(d))) for x, d in zip(s.grid, s.density))
