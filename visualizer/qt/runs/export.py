"""A recorded run's views as plot widgets (the window's own plot classes: one drawing path), for its still exports
(``export_files``) and animations (``animation``). The run is a ``core.runs.export.RunExport``; which views there are
and what each applies to is ``core.runs.export_registry``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.export import RunExport
from visualizer.core.scales import log_colours
from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    LandscapePlot,
    LossPlot,
)
from visualizer.qt.plots.figures import METRIC_LABELS, histogram_layers, show_history


def loss_widget(run: RunExport, upto: int | None = None, plot: LossPlot | None = None) -> LossPlot:
    """The loss/metric curves of the run, up to step ``upto`` (axes fixed to the whole run's range); on a log axis
    when the loss spans decades (a diverging run)."""
    first = plot is None
    plot = plot or LossPlot(theme="light")
    if first:
        plot.set_metric_name(METRIC_LABELS.get(run.metric, "accuracy"))
        plot.set_log_scale(run.loss_on_log_axis)
    h = run.history
    if upto is None:
        show_history(plot, h)
        return plot
    n, m = int(np.searchsorted(h.steps, upto, "right")), int(np.searchsorted(h.eval_steps, upto, "right"))
    plot.set_history(h.steps[:n], h.train_loss[:n], h.eval_steps[:m], h.val_loss[:m], h.train_metric[:m],
                     h.val_metric[:m], train_metric_at_eval=True, penalty=h.penalty[:n])
    plot.set_step_range(run.total_steps)
    values = np.concatenate([h.train_loss, h.val_loss])
    values = values[np.isfinite(values)]
    if run.loss_on_log_axis:  # the view box of a log axis is in log10 units
        values = np.log10(values[values > 0])
    if values.size:
        plot.loss_plot.enableAutoRange(y=False)
        plot.loss_plot.setYRange(float(values.min()), float(values.max()), padding=0.05)
    return plot


def histogram_widget(run: RunExport, step: int | None = None, plot: HistogramPlot | None = None) -> HistogramPlot:
    """Weight histograms of the snapshot at ``step`` (default: the last one)."""
    if not run.snapshot_steps:
        raise VisualizerError(f"{run.path}: the run recorded no snapshots, so no histograms")
    plot = plot or HistogramPlot(theme="light")
    plot.set_histograms(histogram_layers(run.snapshot_at(run.snapshot_steps[-1] if step is None else step)),
                        "weights")
    return plot


def boundary_widget(run: RunExport, step: int | None = None,
                    plot: DecisionBoundaryPlot | None = None) -> DecisionBoundaryPlot:
    """The decision boundary (class probabilities and the data) at a snapshot ``step`` or at the end."""
    grid = run.boundary_at(step)
    first = plot is None
    plot = plot or DecisionBoundaryPlot(theme="light")
    plot.set_grid(grid.xs, grid.ys, grid.probs)
    if first:
        ds = run.dataset
        P_train, P_val = ds.plane_points()
        plot.set_points(P_train, ds.y_train, P_val, ds.y_val)
    return plot


def prediction_widget(run: RunExport) -> QWidget:
    """What the model predicts, as the window draws it: the picture its task gets (boundary, fitted curve or
    confusion matrix); an empty matrix for a task that gets none."""
    from visualizer.qt.plots.figures import PREDICTION_FIGURES

    view = run.prediction_view
    if view is None:
        return ConfusionMatrixPlot(theme="light")
    return PREDICTION_FIGURES[view.name][3](run.prediction(), run.dataset, "light")


def landscape_widget(run: RunExport, upto: int | None = None, plot: LandscapePlot | None = None) -> LandscapePlot:
    """The loss surface with the path up to snapshot step ``upto`` (default: all); the range is the whole path's.
    Colours are log₁₀ when the surface spans a decade, as in the window."""
    land = run.landscape
    if plot is None:
        plot = LandscapePlot(theme="light")
        plot.set_surface(land.alphas, land.betas, land.loss, log_scale=log_colours(land.loss),
                         axis_labels=land.axis_labels)
    n = len(land.steps) if upto is None else int(np.searchsorted(land.steps, upto, "right"))
    plot.set_trajectory(land.points[: max(n, 1 if len(land.points) else 0)], None if upto is None else -1)
    da = (land.alphas[-1] - land.alphas[0]) / max(len(land.alphas) - 1, 1) / 2
    db = (land.betas[-1] - land.betas[0]) / max(len(land.betas) - 1, 1) / 2
    xs = np.concatenate([[land.alphas[0] - da, land.alphas[-1] + da], land.points[:, 0]])
    ys = np.concatenate([[land.betas[0] - db, land.betas[-1] + db], land.points[:, 1]])
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    plot.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
    return plot


def dashboard_figure(run: RunExport):
    """Loss, prediction, weight histograms and landscape in a 2 x 2 grid, as one figure; a part that cannot be
    drawn for this run (a diverged run without finite weights) is a line saying why."""
    from visualizer.qt.plots.figure_grid import FigureGrid

    makers = [loss_widget, prediction_widget, *([histogram_widget] if run.snapshot_steps else []), landscape_widget]
    parts = []
    for make in makers:
        try:
            parts.append(make(run))
        except VisualizerError as exc:
            parts.append(str(exc))
    return FigureGrid(parts, columns=2)
