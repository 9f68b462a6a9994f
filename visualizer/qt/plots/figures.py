"""Core results into the plot classes: the one drawing path shared by the window and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    LossPlot,
    ensure_app,
    export_widget,
)

METRIC_LABELS = {"accuracy": "accuracy", "r2": "R²"}


def show_history(plot: LossPlot, history) -> None:
    """Draw a core History (train loss per step; evaluations) on a LossPlot."""
    plot.set_history(history.steps, history.train_loss, history.eval_steps, history.val_loss,
                     history.train_metric, history.val_metric, train_metric_at_eval=True,
                     penalty=getattr(history, "penalty", None))


def loss_figure(history, metric: str, theme: str = "light") -> LossPlot:
    """The loss and metric curves of a run, on a log axis when the loss spans more than two decades (a run that
    diverged)."""
    from visualizer.core.scales import history_wants_log_axis

    plot = LossPlot(theme=theme)
    plot.set_metric_name(METRIC_LABELS[metric])
    show_history(plot, history)
    plot.set_log_scale(history_wants_log_axis(history))
    return plot


def histogram_layers(snapshot, kind: str = "weights") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, edges, counts) per layer of a Snapshot, for HistogramPlot."""
    if kind == "weights":
        return [(layer.name, layer.weight_edges, layer.weight_counts) for layer in snapshot.layers]
    return [(layer.name, layer.grad_edges, layer.grad_counts) for layer in snapshot.layers]


def show_points(plot: DecisionBoundaryPlot, dataset) -> None:
    P_train, P_val = dataset.plane_points()
    plot.set_points(P_train, dataset.y_train, P_val, dataset.y_val)


def _boundary_figure(grid, ds, theme: str) -> DecisionBoundaryPlot:
    plot = DecisionBoundaryPlot(theme=theme)
    plot.set_grid(grid.xs, grid.ys, grid.probs)
    show_points(plot, ds)
    return plot


def _curve_figure(curve, ds, theme: str) -> DecisionBoundaryPlot:
    plot = DecisionBoundaryPlot(theme=theme)
    plot.set_curve(curve[0], curve[1], ds.X_train, ds.y_train, ds.X_val, ds.y_val)
    return plot


def _confusion_figure(matrix, ds, theme: str) -> ConfusionMatrixPlot:
    from visualizer.core.model.predict import evaluation_set

    plot = ConfusionMatrixPlot(theme=theme)
    plot.set_matrix(matrix, list(ds.class_names), title=f"Confusion matrix ({evaluation_set(ds)[2]} set)")
    return plot


#: each prediction view (core.model.predict.PREDICTION_VIEWS) as a figure: file name, size, and how it is drawn
PREDICTION_FIGURES = {"boundary": ("decision_boundary.png", 800, 700, _boundary_figure),
                      "curve": ("fit.png", 900, 600, _curve_figure),
                      "confusion": ("confusion_matrix.png", 800, 700, _confusion_figure)}


def write_run_plots(out: Path, history, started, snapshot, session, theme: str = "light") -> list[Path]:
    """Write loss.png (a log axis when the loss spans decades), histograms.png and the task's prediction view
    (decision_boundary.png for 2-D classes, fit.png for 1-D regression, confusion_matrix.png for other
    classification sets) into ``out``."""
    from visualizer.core.model import predict

    ensure_app()
    written = []
    written.append(export_widget(loss_figure(history, started.metric, theme), out / "loss.png", 1000, 700))
    if snapshot is not None:
        hist = HistogramPlot(theme=theme)
        hist.set_histograms(histogram_layers(snapshot), "weights")
        written.append(export_widget(hist, out / "histograms.png", 1100, 420 if len(snapshot.layers) <= 3 else 700))
    ds = session.dataset
    view = predict.prediction_view(ds.task, ds.n_plane)
    if view is not None:
        file_name, width, height, draw = PREDICTION_FIGURES[view.name]
        plot = draw(view.compute(session.model, session.loss, ds, 200), ds, theme)
        written.append(export_widget(plot, out / file_name, width, height))
    return written


def write_evaluation_plots(out: Path, raw, splits, results, theme: str = "light", method: str = "kfold") -> list[Path]:
    """cv_indices.png (which samples each fold trains and validates on) and folds.png (each metric that means
    something per fold, for ``method``)."""
    from visualizer.core.evaluation.folds import fold_metric_names
    from visualizer.qt.plots import FoldMapPlot, FoldMetricsPlot

    ensure_app()
    classes = raw.task == "classification"
    fold_map = FoldMapPlot(theme=theme)
    fold_map.set_folds(len(raw.y), splits, raw.y if classes else None, list(raw.class_names) or None)
    strip = FoldMetricsPlot(theme=theme)
    strip.set_metrics({name: [r.metrics[name] for r in results] for name in fold_metric_names(raw.task, method)})
    return [export_widget(fold_map, out / "cv_indices.png", 1200, 520),
            export_widget(strip, out / "folds.png", 1000, 520)]
