"""Loss and accuracy (or R²) against training step, fast enough to redraw at 30 Hz."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._axes import LogFriendlyAxis
from visualizer.qt.plots._style import TICK_PT, get_theme, px, style_legend, style_plot, style_text
from visualizer.qt.plots._style import line as line_width
from visualizer.qt.plots.curves import fast_curve as _curve
from visualizer.qt.plots.curves import markers_apart
from visualizer.qt.plots.edit_marks import EditMarks
from visualizer.qt.plots.legend_place import place_legend
from visualizer.qt.plots.loss_readout import LossReadout
from visualizer.qt.plots.smoothing import Smoother, ema
from visualizer.qt.plots.steady import steady_range

_EMPTY = np.empty(0)
LINE_WIDTH = 1.5  # antialiased width-2 lines cost ~30% more paint time per frame
LEGEND_EVERY_S = 0.5  # how often the legend looks for the corner with the fewest points
MAX_MARKERS = 150  # draw a marker at each evaluation only while they are this few, and 3 sizes apart or more
PENALTY_NAME = "regularization"  # the penalty's curve in the legend
SETTLE_ROUNDS = 3  # fits of the range, then of the clipped data it shows, then the linked axis: stable after 3


def _as_float(values: np.ndarray | None) -> np.ndarray:
    return _EMPTY if values is None else np.asarray(values, dtype=float).ravel()


class LossPlot(LossReadout, pg.GraphicsLayoutWidget):
    """Train/validation loss (top) and accuracy or R² (bottom) against step, x axes linked.

    The per-step train curve is drawn thin and translucent under its EMA, as TensorBoard does; with
    regularisation the penalty inside the train loss is its own dotted curve.
    """

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        # GraphicsLayoutWidget binds `clear` to the layout's (removes every item); ours clears data.
        vars(self).pop("clear", None)
        self.setObjectName("lossPlot")
        self._theme = get_theme(theme)
        self._metric_name = "accuracy"
        self._log = False
        self._loss_smoother = Smoother(0.9)
        self._metric_smoother = Smoother(0.9)
        self._steps = _EMPTY
        self._eval_steps = _EMPTY
        self._series: dict[str, np.ndarray] = {}
        self._has_data: dict[pg.PlotDataItem, bool] = {}  # per curve, whether it had a finite value when last set
        self._metric_at_eval = False
        self._step_range: int | None = None  # set_step_range's fixed step axis (None: it follows the data)
        self._loss_range: tuple[float, float] | None = None  # the loss axis's steady range (see _steady_loss_axis)

        self.loss_plot: pg.PlotItem = self.addPlot(row=0, col=0, axisItems={"left": LogFriendlyAxis("left")})
        self.metric_plot: pg.PlotItem = self.addPlot(row=1, col=0)
        self.metric_plot.setXLink(self.loss_plot)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        for plot in (self.loss_plot, self.metric_plot):
            plot.setDownsampling(mode="peak", auto=True)
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(62)
            plot.hideButtons()
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)
        self._loss_axis_ours = True  # until a user zooms or pans it (their range is kept then)
        self.loss_plot.vb.sigRangeChangedManually.connect(lambda *_: setattr(self, "_loss_axis_ours", False))

        self.loss_legend = self.loss_plot.addLegend(offset=(-8, 8))
        self.loss_legend.setVisible(False)  # shown with its first entry (an empty box teaches nothing)
        self._legend_placed_at = -1e9
        self.train_loss_raw = _curve(self.loss_plot, "train (per step)", noisy=True)
        self.train_loss_smooth = _curve(self.loss_plot, "train (smoothed)")
        self.val_loss_curve = _curve(self.loss_plot, "validation")
        self.penalty_curve = _curve(self.loss_plot, PENALTY_NAME)
        self.train_metric_raw = _curve(self.metric_plot, noisy=True)
        self.train_metric_smooth = _curve(self.metric_plot)
        self.val_metric_curve = _curve(self.metric_plot)
        # One legend (on the loss plot) explains the colours of both plots.
        self._legend_names = {
            self.train_loss_raw: "train (per step)",
            self.train_loss_smooth: "train (smoothed)",
            self.val_loss_curve: "validation",
            self.penalty_curve: PENALTY_NAME,
        }
        self._curves = (
            self.train_loss_raw, self.train_loss_smooth, self.val_loss_curve, self.penalty_curve,
            self.train_metric_raw, self.train_metric_smooth, self.val_metric_curve,
        )  # fmt: skip

        self._cursor_lines = [pg.InfiniteLine(angle=90, movable=False) for _ in range(2)]
        self._marker = pg.ScatterPlotItem(size=8)
        self.readout = pg.TextItem(anchor=(0, 0))
        for item in (self._cursor_lines[0], self._marker, self.readout):
            self.loss_plot.addItem(item, ignoreBounds=True)
        self.metric_plot.addItem(self._cursor_lines[1], ignoreBounds=True)
        for item in (*self._cursor_lines, self._marker, self.readout):
            item.setZValue(20)
        # the replay's step cursor (a line in each plot) and a compared run's dashed curves: made once, reused
        self._step_lines = [pg.InfiniteLine(angle=90, movable=False) for _ in range(2)]
        for line, plot in zip(self._step_lines, (self.loss_plot, self.metric_plot)):
            plot.addItem(line, ignoreBounds=True)
            line.setZValue(15)
            line.hide()
        self.overlay_loss = _curve(self.loss_plot)
        self.overlay_val_loss = _curve(self.loss_plot)
        self.overlay_metric = _curve(self.metric_plot)
        self.overlay_val_metric = _curve(self.metric_plot)
        self._overlays = (self.overlay_loss, self.overlay_val_loss, self.overlay_metric, self.overlay_val_metric)
        for curve in self._overlays:
            curve.setZValue(-1)
            curve.hide()
        self._overlay_name = ""
        self.edit_marks = EditMarks(self.loss_plot)  # where weights were set by hand
        self._hide_readout()
        self._mouse_proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved)

        self.set_theme(theme)
        self.set_metric_name("accuracy")
        self.clear()

    # --- public API -------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.loss_plot, t, title="Loss", left="loss")
        style_plot(self.metric_plot, t, bottom="step", left=self._metric_name)
        style_legend(self.loss_legend, t)
        for raw, smooth, val in (
            (self.train_loss_raw, self.train_loss_smooth, self.val_loss_curve),
            (self.train_metric_raw, self.train_metric_smooth, self.val_metric_curve),
        ):
            raw.setPen(pg.mkPen(t.train_raw, width=1))
            smooth.setPen(pg.mkPen(t.train, width=line_width(LINE_WIDTH)))
            val.setPen(pg.mkPen(t.validation, width=line_width(LINE_WIDTH)))
            val.setSymbolPen(pg.mkPen(t.validation, width=1))
            val.setSymbolSize(px(5))
            val.setSymbolBrush(pg.mkBrush(t.validation))
        self.penalty_curve.setPen(pg.mkPen(t.foreground, width=line_width(LINE_WIDTH), style=Qt.PenStyle.DotLine))
        cursor_pen = pg.mkPen(t.foreground, width=1, style=Qt.PenStyle.DashLine)
        for line in self._cursor_lines:
            line.setPen(cursor_pen)
        for line in self._step_lines:
            line.setPen(pg.mkPen(t.foreground, width=1.5))
        dash = Qt.PenStyle.DashLine
        for curve, color in zip(self._overlays, (t.train, t.validation, t.train, t.validation)):
            curve.setPen(pg.mkPen(color, width=line_width(LINE_WIDTH), style=dash))
        self._marker.setSize(px(8))
        self._marker.setPen(pg.mkPen(t.background, width=1.5))
        self._marker.setBrush(pg.mkBrush(t.train))
        self.readout.fill = pg.mkBrush(t.readout_fill)
        self.readout.border = pg.mkPen(t.foreground, width=0.5)
        style_text(self.readout, t, TICK_PT + 1)
        self.edit_marks.set_theme(t)

    def set_step_range(self, total_steps: int | None) -> None:
        """Fix the step axis to [0, total_steps] for a run of known length (it then stays still while the
        curves grow, and its labels need not be redrawn every frame); None follows the data again."""
        self._step_range = total_steps or None
        for plot in (self.loss_plot, self.metric_plot):
            if total_steps:
                plot.enableAutoRange(x=False)
                plot.setXRange(0, total_steps, padding=0.01)
            else:
                plot.enableAutoRange(x=True)

    def set_metric_name(self, name: str) -> None:
        """Name the lower plot's metric: "accuracy" (y fixed to [0, 1]) or "R²" (y up to 1)."""
        self._metric_name = name
        style_plot(self.metric_plot, self._theme, bottom="step", left=name)
        self.metric_plot.enableAutoRange(y=False)
        self.metric_plot.setYRange(0.0, 1.0, padding=0.06)

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 1) for the train curves (0 = no smoothing; default 0.9)."""
        self._loss_smoother = Smoother(weight)
        self._metric_smoother = Smoother(weight)
        if self._steps.size:
            self.set_history(
                self._steps,
                self._series["train_loss"],
                self._eval_steps,
                self._series["val_loss"],
                self._series["train_metric"],
                self._series["val_metric"],
                penalty=self._series.get("penalty"),
            )

    def set_history(
        self,
        steps: np.ndarray,
        train_loss: np.ndarray,
        eval_steps: np.ndarray,
        val_loss: np.ndarray | None,
        train_metric: np.ndarray | None,
        val_metric: np.ndarray | None,
        train_metric_at_eval: bool = False,
        penalty: np.ndarray | None = None,
    ) -> None:
        """Show the whole history so far; cheap to call every frame as the arrays grow.

        `train_loss` aligns with `steps`, `val_*` with `eval_steps` (ValueError otherwise), and
        `train_metric` with `steps`, or with `eval_steps` when `train_metric_at_eval` (a metric already
        averaged over the batches between evaluations: drawn as measured, not smoothed). NaN marks a
        missing value; an all-NaN (or None) series is hidden, e.g. validation without a validation set.
        ``penalty`` (aligned with ``steps``) is the regularisation term inside the train loss.
        """
        self._metric_at_eval = train_metric_at_eval
        steps, eval_steps = _as_float(steps), _as_float(eval_steps)
        train_loss, train_metric = _as_float(train_loss), _as_float(train_metric)
        val_loss, val_metric = _as_float(val_loss), _as_float(val_metric)
        for name, values, x, x_name in (
            ("train_loss", train_loss, steps, "steps"),
            ("train_metric", train_metric, *((eval_steps, "eval_steps") if train_metric_at_eval
                                             else (steps, "steps"))),
            ("val_loss", val_loss, eval_steps, "eval_steps"),
            ("val_metric", val_metric, eval_steps, "eval_steps"),
            ("penalty", _as_float(penalty), steps, "steps"),
        ):
            if values.size not in (0, x.size) or (name == "train_loss" and values.size != x.size):
                raise ValueError(f"{name} has {values.size} values for {x.size} {x_name}")
        self._steps, self._eval_steps = steps, eval_steps
        self._series = {
            "train_loss": train_loss,
            "val_loss": val_loss,
            "train_metric": train_metric,
            "val_metric": val_metric,
            "penalty": _as_float(penalty),
        }
        loss_smooth = self._loss_smoother(train_loss)
        metric_smooth = (train_metric if train_metric_at_eval
                         else self._metric_smoother(train_metric) if train_metric.size else _EMPTY)
        self._series["loss_smooth"], self._series["metric_smooth"] = loss_smooth, metric_smooth
        self._show(self.train_loss_raw, steps, train_loss)
        self._show(self.train_loss_smooth, steps, loss_smooth)
        apart = markers_apart(eval_steps, self.loss_plot, self.val_loss_curve.opts["symbolSize"])
        markers = "o" if eval_steps.size <= MAX_MARKERS and apart else None
        for curve in (self.val_loss_curve, self.val_metric_curve):
            if curve.opts["symbol"] != markers:
                curve.setSymbol(markers)
        self._show(self.val_loss_curve, eval_steps, val_loss)
        self._show(self.penalty_curve, steps, self._series["penalty"])
        metric_x = eval_steps if train_metric_at_eval else steps
        self._show(self.train_metric_raw, steps, _EMPTY if train_metric_at_eval else train_metric)
        self._show(self.train_metric_smooth, metric_x, metric_smooth)
        self._show(self.val_metric_curve, eval_steps, val_metric)
        if self._metric_name != "accuracy":
            self._fit_metric_range()
        now = time.monotonic()
        if now - self._legend_placed_at >= LEGEND_EVERY_S:  # not every frame: counting points costs a little
            self._legend_placed_at = now
            place_legend(self.loss_legend, self._curves[:3])
        self._steady_loss_axis()
        self._settle_ranges()

    def _steady_loss_axis(self) -> None:
        """Give the loss axis a steady range (plots/steady.py: kept while the curves stay inside it and fill 60 %
        of it) instead of pyqtgraph's auto-range, which refits it, and so redraws its labels, at every frame. A range
        a user zoomed or panned to is theirs; auto-range turned back on (the plot's menu, the log switch) is ours."""
        vb = self.loss_plot.vb
        if vb.state["autoRange"][1]:
            self._loss_axis_ours, self._loss_range = True, None
        if not self._loss_axis_ours:
            return
        bounds = vb.childrenBounds()[1]  # of the curves shown, in the axis's units (log10 on a log axis)
        if bounds is None or not all(np.isfinite(bounds)):
            return
        wanted = steady_range(self._loss_range, float(bounds[0]), float(bounds[1]))
        if wanted != self._loss_range:
            self._loss_range = wanted
            self.loss_plot.setYRange(*wanted, padding=0)  # (turns pyqtgraph's auto-range off for y)

    def _settle_ranges(self) -> None:
        """Fit the auto-ranges to the new data now, not in the paint: pyqtgraph fits them while painting, and a fit
        there (with clip-to-view and the linked x axes) asks for another paint, so each new frame of data was
        painted 2-6 times (measured at full speed: the GUI thread busy ~10 ms per paint). Hidden plots wait."""
        if not self.isVisible():
            return
        for _ in range(SETTLE_ROUNDS):
            for plot in (self.loss_plot, self.metric_plot):
                plot.vb.prepareForPaint()

    def set_cursor(self, step: float | None) -> None:
        """Mark ``step`` with a vertical line across both plots (the replay's position); None hides it."""
        for line in self._step_lines:
            if step is None:
                line.hide()
            else:
                line.setPos(float(step))
                line.show()

    @property
    def cursor(self) -> float | None:
        """The step the cursor marks, or None when hidden."""
        line = self._step_lines[0]
        return float(line.value()) if line.isVisible() else None

    def set_overlay(self, name: str | None, steps: np.ndarray | None = None, train_loss: np.ndarray | None = None,
                    eval_steps: np.ndarray | None = None, val_loss: np.ndarray | None = None,
                    train_metric: np.ndarray | None = None, val_metric: np.ndarray | None = None) -> None:
        """Draw another run's curves dashed under this one's (``train_metric`` and ``val_metric`` at
        ``eval_steps``), named ``name`` in the legend; None removes them. Kept by ``clear()``."""
        steps, eval_steps = _as_float(steps), _as_float(eval_steps)
        smooth = ema(_as_float(train_loss), self._loss_smoother.weight) if name else _EMPTY
        # one legend entry: the colours already say train and validation, the dashes say which run
        series = ((self.overlay_loss, steps, smooth, "dashed"),
                  (self.overlay_val_loss, eval_steps, _as_float(val_loss), None),
                  (self.overlay_metric, eval_steps, _as_float(train_metric), None),
                  (self.overlay_val_metric, eval_steps, _as_float(val_metric), None))
        for curve, x, y, label in series:
            visible = bool(name) and y.size == x.size and y.size > 0 and bool(np.isfinite(y).any())
            if visible:
                curve.setData(x, y, connect="finite")
            else:
                curve.setData(_EMPTY, _EMPTY)
            if label is not None:
                in_legend = self.loss_legend.getLabel(curve) is not None
                if visible and not in_legend:
                    self.loss_legend.addItem(curve, f"{name} ({label})")
                elif visible:
                    self.loss_legend.getLabel(curve).setText(f"{name} ({label})")
                elif in_legend:
                    self.loss_legend.removeItem(curve)
            curve.setVisible(visible)
        self.loss_legend.setVisible(bool(self.loss_legend.items))
        self._overlay_name = name or ""
        self._steady_loss_axis()

    @property
    def overlay_name(self) -> str:
        """The name of the compared run ('' when none)."""
        return self._overlay_name

    def set_log_scale(self, on: bool) -> None:
        """Show loss on a logarithmic axis."""
        self._log = bool(on)
        self.loss_plot.setLogMode(y=self._log)  # (pyqtgraph turns every auto-range back on: the steps stay fixed)
        self._loss_range = None  # in other units now
        self.set_step_range(self._step_range)
        self._hide_readout()

    def clear(self) -> None:
        """Remove all data (the plots and their styling stay)."""
        self._loss_smoother.reset()
        self._metric_smoother.reset()
        self._steps = self._eval_steps = _EMPTY
        self._series = {}
        self._loss_range, self._loss_axis_ours = None, True
        self.loss_plot.enableAutoRange(y=True)
        for curve in self._curves:
            self._show(curve, _EMPTY, _EMPTY)
        self.set_cursor(None)
        self.edit_marks.set([])
        self._hide_readout()

    # --- internals --------------------------------------------------------------------------
    def _show(self, curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        """Set data, hiding the curve (and its legend entry) while it has no finite value. A curve hidden by a click
        on its legend entry stays hidden while it has data (it was shown again, with a second entry, at the next
        live frame)."""
        has_data = y.size > 0 and y.size == x.size and bool(np.isfinite(y).any())
        if has_data:
            curve.setData(x, y, connect="finite")
        elif curve.xData is not None and len(curve.xData):  # (an empty curve stays so without a new setData)
            curve.setData(_EMPTY, _EMPTY)
        if has_data != self._has_data.get(curve):
            self._has_data[curve] = has_data
            curve.setVisible(has_data)
            name = self._legend_names.get(curve)
            if name is not None and has_data:
                self.loss_legend.addItem(curve, name)
            elif name is not None:
                self.loss_legend.removeItem(curve)
            self.loss_legend.setVisible(bool(self.loss_legend.items))

    def _fit_metric_range(self) -> None:
        """R² can be very negative early on: show [max(min, -1), 1] so the useful part is visible."""
        finite = [a[np.isfinite(a)] for a in (self._series["metric_smooth"], self._series["val_metric"])]
        lows = [a.min() for a in finite if a.size]
        low = max(min([0.0, *lows]), -1.0)
        self.metric_plot.setYRange(low, 1.0, padding=0.06)

    def _hide_readout(self) -> None:
        for item in (*self._cursor_lines, self._marker, self.readout):
            item.hide()

    def leaveEvent(self, event: QEvent) -> None:  # Qt override: hide the readout with the mouse
        self._hide_readout()
        super().leaveEvent(event)
