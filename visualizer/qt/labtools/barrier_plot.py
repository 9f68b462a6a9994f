"""The loss along the straight line between two runs' weights: training and validation loss against t (0 = run A,
1 = run B), the straight line between the end losses dashed, the barrier marked. `visualizer barrier` and the window
draw with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import get_theme, line, style_legend, style_plot, style_text

TITLE = "Loss between two runs"
X_LABEL = "t along θ_A + t·(θ_B − θ_A)  (0 = run A, 1 = run B)"
Y_LABEL = "loss"


class BarrierPlot(pg.GraphicsLayoutWidget):
    """``set_line(interpolation)`` draws a core Interpolation."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # the layout's clear() would remove the plot
        self.setObjectName("barrierPlot")
        self._theme = get_theme(theme)
        self.line = None
        self.ci.setContentsMargins(6, 6, 14, 6)
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(56)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.train = self.plot.plot(name="training loss", symbol="o", symbolSize=5)
        self.val = self.plot.plot(name="validation loss", symbol="o", symbolSize=5)
        self.chord = self.plot.plot(name="straight line between the ends")
        self.ends = [pg.InfiniteLine(angle=90, movable=False, pos=p) for p in (0.0, 1.0)]
        self.barrier_bar = pg.PlotDataItem()
        self.barrier_text = pg.TextItem(anchor=(0, 1))
        for item in (*self.ends, self.barrier_bar, self.barrier_text):
            self.plot.addItem(item, ignoreBounds=True)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light", "dark" or "contrast" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title=TITLE, bottom=X_LABEL, left=Y_LABEL)
        for item, colour in ((self.train, t.train), (self.val, t.validation)):
            item.setPen(pg.mkPen(colour, width=line(2)))
            item.setSymbolPen(pg.mkPen(colour))
            item.setSymbolBrush(pg.mkBrush(colour))
        self.chord.setPen(pg.mkPen(t.foreground, width=line(1.2), style=Qt.PenStyle.DashLine))
        for item in self.ends:
            item.setPen(pg.mkPen(t.foreground, width=line(1), style=Qt.PenStyle.DotLine))
        self.barrier_bar.setPen(pg.mkPen(t.foreground, width=line(2.4)))
        style_text(self.barrier_text, t, bold=True)
        self.barrier_text.fill = pg.mkBrush(t.readout_fill)
        self.barrier_text.update()
        style_legend(self.legend, t)

    def set_line(self, interpolation) -> None:
        """Draw the losses of an Interpolation with its training barrier."""
        r = self.line = interpolation
        self.train.setData(r.t, r.train_loss)
        self.val.setData(r.t, r.val_loss if r.val_loss is not None else [])
        self.val.setVisible(r.val_loss is not None)
        la, lb = r.end_losses("train")
        self.chord.setData([0.0, 1.0], [la, lb])
        tb = r.train_barrier_t
        base = la + tb * (lb - la)
        self.barrier_bar.setData([tb, tb], [base, base + r.train_barrier])
        self.barrier_text.setText(f" barrier {r.train_barrier:.3g} at t = {tb:.2f} ")
        self.barrier_text.setPos(tb, base + r.train_barrier)
        self.plot.enableAutoRange()

    def write_csv(self, path) -> Path:
        """t, train_loss, val_loss: what the command writes."""
        from visualizer.core.files import atomic_write_text

        return atomic_write_text(Path(path), self.line.csv_text() if self.line is not None else "t,train_loss,"
                                                                                               "val_loss\n")

    def shown(self) -> dict[str, np.ndarray]:
        """The curves as drawn (for tests)."""
        return {name: np.asarray(item.getData()[1]) for name, item in (("train", self.train), ("val", self.val))}
