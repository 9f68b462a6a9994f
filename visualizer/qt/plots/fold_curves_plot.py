"""The loss curves of the folds, one after another or overlaid, up to a replayed step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._folds import MAX_COLOURED_FOLDS, _with_alpha, fold_color
from visualizer.qt.plots._style import get_theme, style_legend, style_plot
from visualizer.qt.plots.smoothing import ema


@dataclass(frozen=True)
class FoldCurve:
    """One fold's recorded loss curves: train loss per step, validation loss per evaluation."""

    steps: np.ndarray
    train_loss: np.ndarray
    eval_steps: np.ndarray
    val_loss: np.ndarray


@dataclass
class _Pair:
    train: pg.PlotDataItem
    val: pg.PlotDataItem


def _upto(x: np.ndarray, y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    n = int(np.searchsorted(x, step, side="right"))
    return x[:n], y[:n]


class FoldCurvesPlot(pg.GraphicsLayoutWidget):
    """Train and validation loss against step, drawn up to the replayed step: one fold in the train/validation
    colours, or several overlaid with a colour per fold (train solid, validation dashed)."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)
        self.setObjectName("foldCurvesPlot")
        self._theme = get_theme(theme)
        self._curves: list[FoldCurve] = []
        self._smooth: list[np.ndarray] = []
        self._shown: tuple[int, ...] = ()
        self._highlight: int | None = None
        self._step = 0.0
        self._legend_key: tuple = ()
        self.ci.setContentsMargins(6, 6, 12, 6)
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.getAxis("left").setWidth(56)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        # one fold: raw per-step train loss, its EMA and validation
        self.train_raw = pg.PlotDataItem(connect="finite")
        self.train_smooth = pg.PlotDataItem(connect="finite", antialias=True)
        self.val = pg.PlotDataItem(connect="finite", antialias=True, symbol="o", symbolSize=5)
        # overlaid: a pair per coloured fold, the others as one bundle
        self._pairs: list[_Pair] = []
        self.bundle = _Pair(pg.PlotDataItem(connect="finite"), pg.PlotDataItem(connect="finite"))
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.heads = pg.ScatterPlotItem(size=8, antialias=True)
        for item in (self.bundle.train, self.bundle.val, self.train_raw, self.train_smooth, self.val):
            self.plot.addItem(item)
        self.note = pg.TextItem("No fold has finished yet", anchor=(0.5, 0.5))
        for item in (self.cursor, self.heads, self.note):
            item.setZValue(20)
            self.plot.addItem(item, ignoreBounds=True)
        self.note.setPos(0.5, 0.5)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def shown(self) -> tuple[int, ...]:
        """Indices of the folds drawn."""
        return self._shown

    @property
    def step(self) -> float:
        """The step the curves are drawn up to."""
        return self._step

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, bottom="step", left="loss")
        style_legend(self.legend, t)
        self.cursor.setPen(pg.mkPen(t.foreground, width=1, style=Qt.PenStyle.DashLine))
        self.heads.setPen(pg.mkPen(t.background, width=1.2))
        self.note.setColor(t.foreground)
        self._legend_key = ()
        if self._shown:
            self.show_folds(self._shown, self._step, self._highlight)

    def set_curves(self, curves: list[FoldCurve]) -> None:
        """The recorded curves of every fold (index i = fold i + 1); nothing is drawn until `show_folds`."""
        curves = list(curves)
        same = 0  # folds added one by one: smooth only the new ones
        while (same < min(len(curves), len(self._curves))
               and curves[same].train_loss is self._curves[same].train_loss):
            same += 1
        self._smooth = self._smooth[:same] + [ema(c.train_loss, 0.9) for c in curves[same:]]
        self._curves = curves
        self._shown = tuple(i for i in self._shown if i < len(self._curves))
        self._legend_key = ()

    def show_folds(self, folds, step: float, highlight: int | None = None) -> None:
        """Draw folds `folds` (indices) up to `step`; one fold in train/validation colours, several overlaid with
        `highlight` drawn on top."""
        folds = tuple(i for i in folds if 0 <= i < len(self._curves))
        refit = folds != self._shown
        self._shown, self._step, self._highlight = folds, float(step), highlight
        single = len(folds) == 1
        self._draw_single(folds[0] if single else None, step)
        self._draw_overlay(() if single else folds, step, highlight)
        if not folds:
            self.heads.setData([], [])
        self.cursor.setPos(step)
        self.cursor.setVisible(bool(folds))
        self.note.setVisible(not folds)
        self.legend.setVisible(bool(folds))
        self._sync_legend(folds, highlight)
        if refit:
            self._fit_range(folds)
        if single:
            self.plot.setTitle(f"Loss — fold {folds[0] + 1}", color=self._theme.foreground, size="12pt")
        elif folds:
            self.plot.setTitle(f"Loss — {len(folds)} folds overlaid", color=self._theme.foreground, size="12pt")
        else:
            self.plot.setTitle("Loss", color=self._theme.foreground, size="12pt")

    def clear(self) -> None:
        """Remove every curve."""
        self.set_curves([])
        self.show_folds((), 0)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def visible_train(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Fold index -> the (steps, train loss) drawn: raw per step for one fold, smoothed when overlaid."""
        if len(self._shown) == 1:
            x, y = self.train_raw.getData()
            return {self._shown[0]: (x, y)}
        out = {}
        for i, pair in zip(self._coloured(self._shown, self._highlight), self._pairs):
            out[i] = pair.train.getData()
        return out

    # --- internals ----------------------------------------------------------------------------------
    def _draw_single(self, i: int | None, step: float) -> None:
        t = self._theme
        if i is None:
            for item in (self.train_raw, self.train_smooth, self.val):
                item.setData([], [])
            return
        c = self._curves[i]
        self.train_raw.setPen(pg.mkPen(t.train_raw, width=1))
        self.train_smooth.setPen(pg.mkPen(t.train, width=2))
        self.val.setPen(pg.mkPen(t.validation, width=2))
        self.val.setSymbolPen(pg.mkPen(t.validation))
        self.val.setSymbolBrush(pg.mkBrush(t.validation))
        self.train_raw.setData(*_upto(c.steps, c.train_loss, step))
        self.train_smooth.setData(*_upto(c.steps, self._smooth[i], step))
        vx, vy = _upto(c.eval_steps, c.val_loss, step)
        self.val.setData(vx, vy)
        sx, sy = _upto(c.steps, self._smooth[i], step)
        heads = [(sx[-1], sy[-1], t.train)] if sx.size else []
        if vx.size:
            heads.append((vx[-1], vy[-1], t.validation))
        self.heads.setData([h[0] for h in heads], [h[1] for h in heads], brush=[pg.mkBrush(h[2]) for h in heads])

    @staticmethod
    def _coloured(folds: tuple[int, ...], highlight: int | None) -> list[int]:
        """The folds drawn in their own colour: all of them, or the first few and the highlighted one."""
        if len(folds) <= MAX_COLOURED_FOLDS:
            return list(folds)
        chosen = [highlight] if highlight in folds else []
        return chosen

    def _draw_overlay(self, folds: tuple[int, ...], step: float, highlight: int | None) -> None:
        t = self._theme
        coloured = self._coloured(folds, highlight)
        while len(self._pairs) < len(coloured):
            pair = _Pair(pg.PlotDataItem(connect="finite", antialias=True),
                         pg.PlotDataItem(connect="finite", antialias=True))
            self.plot.addItem(pair.train)
            self.plot.addItem(pair.val)
            self._pairs.append(pair)
        hx, hy, hb = [], [], []
        for pair, i in zip(self._pairs, coloured):
            c = self._curves[i]
            color = fold_color(i) if len(folds) <= MAX_COLOURED_FOLDS else t.validation
            strong = highlight is None or i == highlight
            width = 2.6 if (i == highlight and len(folds) > 1) else 1.6
            alpha = 0xff if strong else 0x90
            pair.train.setPen(pg.mkPen(_with_alpha(color, alpha), width=width))
            pair.val.setPen(pg.mkPen(_with_alpha(color, alpha), width=width, style=Qt.PenStyle.DashLine))
            z = 5 if i == highlight else 1
            pair.train.setZValue(z)
            pair.val.setZValue(z)
            sx, sy = _upto(c.steps, self._smooth[i], step)
            vx, vy = _upto(c.eval_steps, c.val_loss, step)
            pair.train.setData(sx, sy)
            pair.val.setData(vx, vy)
            for x, y in ((sx, sy), (vx, vy)):
                if x.size:
                    hx.append(x[-1])
                    hy.append(y[-1])
                    hb.append(pg.mkBrush(color))
        for pair in self._pairs[len(coloured):]:
            pair.train.setData([], [])
            pair.val.setData([], [])
        self._draw_bundle([i for i in folds if i not in coloured], step)
        if folds:
            self.heads.setData(hx, hy, brush=hb)

    def _draw_bundle(self, folds: list[int], step: float) -> None:
        """Many folds as two curves (train, validation) with NaN gaps between folds: cheap for leave-one-out."""
        t = self._theme
        self.bundle.train.setPen(pg.mkPen(_with_alpha(t.train, 0x50), width=1))
        self.bundle.val.setPen(pg.mkPen(_with_alpha(t.foreground, 0x40), width=1, style=Qt.PenStyle.DashLine))
        for item, get in ((self.bundle.train, lambda i: (self._curves[i].steps, self._smooth[i])),
                          (self.bundle.val, lambda i: (self._curves[i].eval_steps, self._curves[i].val_loss))):
            xs, ys = [], []
            for i in folds:
                x, y = _upto(*get(i), step)
                xs += [x, [np.nan]]
                ys += [y, [np.nan]]
            if xs:
                item.setData(np.concatenate(xs), np.concatenate(ys), connect="finite")
            else:
                item.setData([], [])

    def _sync_legend(self, folds: tuple[int, ...], highlight: int | None) -> None:
        if len(folds) == 1:  # the same three entries whichever fold is shown
            key = ("one fold", self._theme.name)
        else:
            key = (folds, highlight if len(folds) > MAX_COLOURED_FOLDS else None, self._theme.name)
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        if len(folds) == 1:
            self.legend.addItem(self.train_raw, "train (per step)")
            self.legend.addItem(self.train_smooth, "train (smoothed)")
            self.legend.addItem(self.val, "validation")
            return
        if not folds:
            return
        t = self._theme
        self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(t.foreground, width=1.6)), "train (smoothed)")
        self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(t.foreground, width=1.6, style=Qt.PenStyle.DashLine)),
                            "validation")
        coloured = self._coloured(folds, highlight)
        for pair, i in zip(self._pairs, coloured):
            self.legend.addItem(pair.train, f"fold {i + 1}")
        if len(folds) > len(coloured):
            self.legend.addItem(self.bundle.train, f"other {len(folds) - len(coloured)} folds")

    def _fit_range(self, folds: tuple[int, ...]) -> None:
        """Fix the axes to the shown folds' whole curves so they stay still while the replay draws them."""
        if not folds:
            return
        last = max(float(self._curves[i].steps[-1]) if self._curves[i].steps.size else 1.0 for i in folds)
        highs = []
        for i in folds:
            c = self._curves[i]
            for arr in (self._smooth[i], c.val_loss, c.train_loss if len(folds) == 1 else self._smooth[i]):
                finite = arr[np.isfinite(arr)]
                if finite.size:
                    highs.append(float(np.percentile(finite, 99)) if arr is c.train_loss else float(finite.max()))
        high = max(highs) if highs else 1.0
        self.plot.setXRange(0, max(last, 1.0), padding=0.02)
        self.plot.setYRange(0, high * 1.05 if high > 0 else 1.0, padding=0.02)
