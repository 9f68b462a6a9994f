"""The learning-rate range test drawn: loss against the learning rate on a log axis, the batch losses faint, the
smoothed curve over them, the two suggestions as vertical lines. The window and `visualizer lr-find` draw with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import get_theme, line, style_legend, style_plot, style_text

TITLE = "Learning-rate range test"
X_LABEL = "learning rate (log scale)"
Y_LABEL = "training loss"


class LRFinderPlot(pg.GraphicsLayoutWidget):
    """Loss against learning rate: ``set_points`` while the test runs, ``set_result`` for the finished curve with
    its suggestions."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's (which would remove the plot)
        self.setObjectName("lrFinderPlot")
        self._theme = get_theme(theme)
        self.result = None
        self._lrs = self._losses = self._average = np.zeros(0)
        self.ci.setContentsMargins(6, 6, 14, 6)
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLogMode(x=True, y=False)
        self.plot.getAxis("left").setWidth(56)
        self.legend = self.plot.addLegend(offset=(10, 10))  # top left: the flat start of the curve is low
        self.raw = self.plot.plot(name="batch loss")
        self.smoothed = self.plot.plot(name="smoothed")
        self.suggested_line = pg.InfiniteLine(angle=90, movable=False)
        self.steepest_line = pg.InfiniteLine(angle=90, movable=False)
        self.suggested_text = pg.TextItem(anchor=(0, 0))
        self.steepest_text = pg.TextItem(anchor=(1, 0))
        self._marks = ((self.suggested_line, self.suggested_text), (self.steepest_line, self.steepest_text))
        for pair in self._marks:
            for item in pair:
                self.plot.addItem(item, ignoreBounds=True)
                item.hide()
        self.plot.sigRangeChanged.connect(self._place_texts)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light", "dark" or "contrast" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title=TITLE, bottom=X_LABEL, left=Y_LABEL)
        self.raw.setPen(pg.mkPen(t.train_raw, width=line(1)))
        self.smoothed.setPen(pg.mkPen(t.train, width=line(2.4)))
        self.suggested_line.setPen(pg.mkPen(t.validation, width=line(2)))
        self.steepest_line.setPen(pg.mkPen(t.foreground, width=line(1.4), style=Qt.PenStyle.DashLine))
        for item in (self.suggested_text, self.steepest_text):  # text in the text colour: the orange reads at 2.7:1
            style_text(item, t, bold=item is self.suggested_text)
            item.fill = pg.mkBrush(t.readout_fill)
            item.update()
        style_legend(self.legend, t)

    def set_points(self, lrs, losses, average) -> None:
        """The test so far: its batch losses and their running average (no suggestions yet)."""
        self.result = None
        self._show(np.asarray(lrs, float), np.asarray(losses, float), np.asarray(average, float))
        for pair in self._marks:
            for item in pair:
                item.hide()

    def set_result(self, result) -> None:
        """The finished test (a core LRFinderResult): its curves and both suggestions marked."""
        self.result = result
        self._show(result.lrs, result.losses, result.smoothed)
        values = ((result.suggested, "suggested (minimum / 10)"), (result.steepest, "steepest descent"))
        for (line_item, text_item), (lr, text) in zip(self._marks, values):
            shown = lr is not None and not (text_item is self.steepest_text and lr == result.suggested)
            line_item.setVisible(shown)
            text_item.setVisible(shown)
            if shown:
                line_item.setPos(np.log10(lr))
                text_item.setText(f" {text}: {lr:.3g} ")
        if result.steepest is not None and result.suggested is not None:  # each label on its own side of its line
            self.steepest_text.setAnchor((1, 0) if result.steepest < result.suggested else (0, 0))
            self.suggested_text.setAnchor((0, 0) if result.steepest < result.suggested else (1, 0))
        self._place_texts()

    def marked(self) -> dict[str, float]:
        """The learning rates marked, by name (for tests): 'suggested', 'steepest'."""
        return {name: float(10 ** line_item.value()) for name, (line_item, _t) in zip(("suggested", "steepest"),
                                                                                      self._marks)
                if line_item.isVisible()}

    def _place_texts(self, *_args) -> None:
        """The labels near the top of the view, the suggestion's above the other's, beside their lines."""
        (_x0, _x1), (y0, y1) = self.plot.vb.viewRange()
        for (line_item, text_item), height in zip(self._marks, (0.98, 0.88)):
            text_item.setPos(line_item.value(), y0 + height * (y1 - y0))

    def clear(self) -> None:
        """No curve, no marks (a new test starts)."""
        self.set_points([], [], [])

    def write_csv(self, path) -> Path:
        """The curve as the command writes it (step, lr, loss, smoothed); the running curve before the test ends."""
        from visualizer.core.lab.lr_finder import LRFinderResult, write_csv

        result = self.result or LRFinderResult(self._lrs, self._losses, self._average, None, None)
        return write_csv(result, Path(path))

    def _show(self, lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray) -> None:
        self._lrs, self._losses, self._average = lrs, losses, smoothed
        self.raw.setData(lrs, losses)
        self.smoothed.setData(lrs, smoothed)
        finite = smoothed[np.isfinite(smoothed)]
        if finite.size:  # the smoothed curve decides the range: one exploding batch must not flatten the rest
            lo, hi = float(finite.min()), float(max(finite.max(), losses[0] if losses.size else finite.max()))
            pad = 0.06 * (hi - lo or 1.0)
            self.plot.setYRange(lo - pad, hi + pad, padding=0)
            self.plot.setXRange(np.log10(lrs[0]), np.log10(lrs[-1]), padding=0.02)
