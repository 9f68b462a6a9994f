"""The optimizer race drawn: every path on the shared loss landscape (a LandscapePlot with pooled path items of
its own) and the loss curves overlaid, one colour per optimizer in both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import TICK_PT, TITLE_PT, get_theme, pt, style_legend, style_plot
from visualizer.qt.plots.landscape_plot import LandscapePlot

#: one colour per entry, readable on the viridis heatmap (with a dark shadow) and on light and dark backgrounds
RACE_COLORS: tuple[str, ...] = ("#ff3b30", "#00c2ff", "#ff9f0a", "#e040fb", "#34c759", "#ffd60a")
SHADOW = "#000000c0"
LANDSCAPE_TITLE = "Training loss on the shared plane"
MAX_PATHS = len(RACE_COLORS)


def race_color(index: int) -> str:
    return RACE_COLORS[index % len(RACE_COLORS)]


def axis_labels(explained: Sequence[float]) -> tuple[str, str]:
    """Axis titles with each PCA axis's share of the variance of all the paths."""
    return (f"PCA 1 ({100 * explained[0]:.1f}% of variance)", f"PCA 2 ({100 * explained[1]:.1f}% of variance)")


def visible_points(items) -> list[np.ndarray]:
    """The (T, 2) points of every visible curve among pooled ``items``, in order (what a test checks is drawn)."""
    return [np.column_stack(item.getData()) for item in items if item.isVisible()]



def stack_shortest_on_top(paths, lines, markers, line_z: float = 30, marker_z: float = 50) -> None:
    """Order overlapping paths so that the shortest is drawn on top: a long path never hides a short one (SGD's
    few steps under momentum's long swing)."""
    lengths = [float(np.sum(np.linalg.norm(np.diff(np.asarray(p, np.float64).reshape(-1, 2), axis=0), axis=1)))
               for p in paths]
    for rank, i in enumerate(np.argsort(lengths, kind="stable")[::-1]):
        lines[i].setZValue(line_z + rank)
        markers[i].setZValue(marker_z + rank)

class RaceLandscapePlot(LandscapePlot):
    """The loss on the shared plane with one path per optimizer (its colour, a square at its end) from the common
    start (white circle); the items are made once and reused, unused ones hidden."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        self.paths: list[pg.PlotDataItem] = []
        self.ends: list[pg.ScatterPlotItem] = []
        self.race_start: pg.ScatterPlotItem | None = None
        self.race_legend: pg.LegendItem | None = None
        super().__init__(parent, theme)
        self.setObjectName("raceLandscapePlot")
        self.colorbar.axis.enableAutoSIPrefix(False)  # log₁₀ losses of ±0.6 are not "±600 (x0.001)"
        self._title()
        for i, color in enumerate(RACE_COLORS):
            path = pg.PlotDataItem(pen=pg.mkPen(color, width=2.5), shadowPen=pg.mkPen(SHADOW, width=5))
            end = pg.ScatterPlotItem(symbol="s", size=11, brush=pg.mkBrush(color), pen=pg.mkPen("#000000", width=1.2))
            path.setZValue(30 + i)
            end.setZValue(50 + i)
            self.plot.addItem(path)
            self.plot.addItem(end)
            path.hide()
            end.hide()
            self.paths.append(path)
            self.ends.append(end)
        self.race_start = pg.ScatterPlotItem(symbol="o", size=12, brush=pg.mkBrush("#ffffff"),
                                             pen=pg.mkPen("#000000", width=1.5))
        self.race_start.setZValue(60)
        self.plot.addItem(self.race_start)
        self.race_legend = pg.LegendItem(offset=(8, 8), horSpacing=6)
        self.race_legend.setParentItem(self.plot.getViewBox())
        self.race_legend.setZValue(70)
        self._legend_key: tuple = ()
        self.race_legend.hide()
        self._style_race_legend()

    @property
    def path_points(self) -> list[np.ndarray]:
        """The (T, 2) points of every visible path, in order."""
        return visible_points(self.paths)

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        if self.race_legend is not None:
            self._style_race_legend()
            self._title()

    def _title(self) -> None:
        self.plot.setTitle(LANDSCAPE_TITLE, color=get_theme(self.theme).foreground, size=f"{pt(TITLE_PT)}pt")

    def set_race(self, alphas: np.ndarray, betas: np.ndarray, loss: np.ndarray, paths: Sequence[np.ndarray],
                 labels: Sequence[str], explained: Sequence[float], log_scale: bool = True) -> None:
        """Show the surface and one path (T_i, 2) per label, coloured RACE_COLORS[i]; at most MAX_PATHS."""
        if len(paths) != len(labels) or len(paths) > MAX_PATHS:
            raise ValueError(f"need as many labels as paths, at most {MAX_PATHS}; got {len(paths)} paths, "
                             f"{len(labels)} labels")
        self.set_surface(alphas, betas, loss, log_scale=log_scale, axis_labels=axis_labels(explained))
        stack_shortest_on_top(paths, self.paths, self.ends)
        alphas, betas = np.asarray(alphas, np.float64), np.asarray(betas, np.float64)
        wa, wb = alphas[-1] - alphas[0], betas[-1] - betas[0]
        box = (alphas[0] - wa, alphas[-1] + wa, betas[0] - wb, betas[-1] + wb)
        for i, (path, end) in enumerate(zip(self.paths, self.ends)):
            if i < len(paths):  # a diverged path leaves the view along its direction, clipped to a box around it
                pts = np.asarray(paths[i], dtype=np.float64).copy()
                pts[:, 0] = np.clip(pts[:, 0], box[0], box[1])
                pts[:, 1] = np.clip(pts[:, 1], box[2], box[3])
                path.setData(pts[:, 0], pts[:, 1])
                end.setData(pts[-1:, 0], pts[-1:, 1])
                path.show()
                end.show()
            else:
                path.hide()
                end.hide()
        if len(paths):
            start = np.asarray(paths[0], dtype=np.float64)[0]
            self.race_start.setData([start[0]], [start[1]])
            self.race_start.show()
        else:
            self.race_start.hide()
        key = tuple(labels)
        if key != self._legend_key:
            self._legend_key = key
            self.race_legend.clear()
            for path, label in zip(self.paths, labels):
                self.race_legend.addItem(path, label)
            self.race_legend.addItem(self.race_start, "start (all)")
            self._style_race_legend()
        self.race_legend.setVisible(bool(len(paths)))

    def clear_race(self) -> None:
        """Hide the paths and the surface (a new race is starting)."""
        for item in (*self.paths, *self.ends, self.race_start, self.race_legend):
            item.hide()
        self.clear()

    def _style_race_legend(self) -> None:
        style_legend(self.race_legend, get_theme(self.theme))
        for _sample, label in self.race_legend.items:
            label.setText(label.text)


class RaceLossPlot(pg.PlotWidget):
    """Training loss against epoch (steps / steps per epoch, so that full-batch and mini-batch runs line up), one
    colour per optimizer: the per-epoch mean, and (optionally) each batch's loss faint behind it."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("raceLossPlot")
        self.plot = self.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(56)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        self.raw: list[pg.PlotDataItem] = []
        self.mean: list[pg.PlotDataItem] = []
        for color in RACE_COLORS:
            raw = pg.PlotDataItem(pen=pg.mkPen(color + "40", width=1))
            mean = pg.PlotDataItem(pen=pg.mkPen(color, width=2.5), symbol="o", symbolSize=4,
                                   symbolBrush=pg.mkBrush(color), symbolPen=None)
            for item in (raw, mean):
                item.setClipToView(True)
                self.plot.addItem(item)
                item.hide()
            self.raw.append(raw)
            self.mean.append(mean)
        self._labels: list[str] = []
        self._log = False
        self._show_raw = False
        self._theme = theme
        self.set_theme(theme)
        self.legend.setVisible(False)  # an empty legend would draw its box alone before the first race

    @property
    def log_y(self) -> bool:
        return self._log

    @property
    def curve_count(self) -> int:
        return sum(item.isVisible() for item in self.mean)

    def set_theme(self, theme: str) -> None:
        t = get_theme(theme)
        self._theme = theme
        self.setBackground(t.background)
        style_plot(self.plot, t, title="Training loss", bottom="epoch", left=self._left_title())
        style_legend(self.legend, t)
        for _sample, label in self.legend.items:
            label.setText(label.text)

    @property
    def show_batches(self) -> bool:
        return self._show_raw

    def set_show_batches(self, on: bool) -> None:
        """Show (or hide) the faint curves of every batch's loss behind the per-epoch means."""
        self._show_raw = bool(on)
        for raw, mean in zip(self.raw, self.mean):
            raw.setVisible(self._show_raw and mean.isVisible())

    def set_log_y(self, on: bool) -> None:
        self._log = bool(on)
        self.plot.setLogMode(y=self._log)
        self.plot.setLabel("left", self._left_title())

    def _left_title(self) -> str:
        """What the curves are (beside the landscape's colour bar, titled 'loss' too, a bare 'loss' read as one
        'loss loss' title), and the scale."""
        return "mean loss per epoch" + (" (log scale)" if self._log else "")

    def set_curves(self, runs: Sequence) -> None:
        """Draw the RaceRuns given (their order gives the colours); hide the rest."""
        if len(runs) > MAX_PATHS:
            raise ValueError(f"at most {MAX_PATHS} curves; got {len(runs)}")
        labels = [run.label for run in runs]
        new_race = labels != self._labels
        for i, (raw, mean) in enumerate(zip(self.raw, self.mean)):
            if i < len(runs):
                run = runs[i]
                per = float(max(run.steps_per_epoch, 1))
                ok = np.isfinite(run.losses) & (run.losses > 0)
                raw.setData(run.steps[ok] / per, run.losses[ok])
                keep = np.isfinite(run.eval_losses) & (run.eval_losses > 0)
                steps = np.concatenate([[0], run.eval_steps[keep]])
                mean.setData(steps / per, np.concatenate([run.losses[:1], run.eval_losses[keep]]))
                if new_race:  # the same race's next frame: one hidden from its legend entry stays hidden
                    mean.show()
                raw.setVisible(self._show_raw and mean.isVisible())
            else:
                raw.hide()
                mean.hide()
        if new_race:
            self._labels = labels
            self.legend.clear()
            for item, label in zip(self.mean, labels):
                self.legend.addItem(item, label)
            self.legend.setLabelTextSize(f"{TICK_PT + 1}pt")
            self.set_theme(self._theme)
        self.legend.setVisible(bool(runs))
        self.plot.enableAutoRange()

    def clear_curves(self) -> None:
        self._labels = []  # the next curves are a new race: each shown, the legend made again
        for item in (*self.raw, *self.mean):
            item.hide()
        self.legend.setVisible(False)

