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
                     history.train_metric, history.val_metric, train_metric_at_eval=True)


def histogram_layers(snapshot, kind: str = "weights") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, edges, counts) per layer of a Snapshot, for HistogramPlot."""
    if kind == "weights":
        return [(layer.name, layer.weight_edges, layer.weight_counts) for layer in snapshot.layers]
    return [(layer.name, layer.grad_edges, layer.grad_counts) for layer in snapshot.layers]


def show_points(plot: DecisionBoundaryPlot, dataset) -> None:
    plot.set_points(dataset.X_train, dataset.y_train, dataset.X_val, dataset.y_val)


def write_run_plots(out: Path, history, started, snapshot, session, theme: str = "light") -> list[Path]:
    """Write loss.png, histograms.png and the task's prediction view (decision_boundary.png for 2-D classes,
    fit.png for 1-D regression, confusion_matrix.png for other classification sets) into ``out``."""
    from visualizer.core.model import predict

    ensure_app()
    written = []
    loss = LossPlot(theme=theme)
    loss.set_metric_name(METRIC_LABELS[started.metric])
    show_history(loss, history)
    written.append(export_widget(loss, out / "loss.png", 1000, 700))
    if snapshot is not None:
        hist = HistogramPlot(theme=theme)
        hist.set_histograms(histogram_layers(snapshot), "weights")
        written.append(export_widget(hist, out / "histograms.png", 1100, 420 if len(snapshot.layers) <= 3 else 700))
    ds, model = session.dataset, session.model
    if ds.task == "classification" and ds.n_features == 2:
        plot = DecisionBoundaryPlot(theme=theme)
        grid = predict.decision_grid(model, session.loss, ds, 200)
        plot.set_grid(grid.xs, grid.ys, grid.probs)
        show_points(plot, ds)
        written.append(export_widget(plot, out / "decision_boundary.png", 800, 700))
    elif ds.task == "regression" and ds.n_features == 1:
        plot = DecisionBoundaryPlot(theme=theme)
        x, y = predict.fitted_curve(model, ds)
        plot.set_curve(x, y, ds.X_train, ds.y_train, ds.X_val, ds.y_val)
        written.append(export_widget(plot, out / "fit.png", 900, 600))
    elif ds.task == "classification":
        X, y = (ds.X_val, ds.y_val) if len(ds.X_val) else (ds.X_train, ds.y_train)
        pred = session.loss.predict_classes(predict.outputs(model, X)).cpu().numpy()
        plot = ConfusionMatrixPlot(theme=theme)
        part = "validation" if len(ds.X_val) else "training"
        plot.set_matrix(
            predict.confusion_matrix(y, pred, ds.n_classes),
            list(ds.class_names),
            title=f"Confusion matrix ({part} set)",
        )
        written.append(export_widget(plot, out / "confusion_matrix.png", 800, 700))
    return written


def write_evaluation_plots(out: Path, raw, splits, results, theme: str = "light") -> list[Path]:
    """cv_indices.png (which samples each fold trains and validates on) and folds.png (each metric per fold)."""
    from visualizer.core.evaluation.folds import metric_names
    from visualizer.qt.plots import FoldMapPlot, FoldMetricsPlot

    ensure_app()
    classes = raw.task == "classification"
    fold_map = FoldMapPlot(theme=theme)
    fold_map.set_folds(len(raw.y), splits, raw.y if classes else None, list(raw.class_names) or None)
    strip = FoldMetricsPlot(theme=theme)
    strip.set_metrics({name: [r.metrics[name] for r in results] for name in metric_names(raw.task)})
    return [export_widget(fold_map, out / "cv_indices.png", 1200, 520),
            export_widget(strip, out / "folds.png", 1000, 520)]
