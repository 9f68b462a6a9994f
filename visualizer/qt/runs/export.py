"""A recorded run's views as plot widgets, for its static exports (``export_files``) and animations.

The views are drawn by the window's own plot classes (one drawing path); ``RunExport`` opens the run file (or the
folder holding it) and computes, on demand, what the file does not hold: the network at a snapshot, its decision
boundary, the loss surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QGridLayout, QWidget

from visualizer.core.errors import VisualizerError
from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    LandscapePlot,
    LossPlot,
)
from visualizer.qt.plots.figures import METRIC_LABELS, histogram_layers, show_history

STATIC_VIEWS = ("loss", "landscape", "histograms", "boundary")
VIEWS = (*STATIC_VIEWS, "dashboard")
BOUNDARY_RESOLUTION = 100
LANDSCAPE_RESOLUTION = 61
MAX_TRAJECTORY = 400  # snapshots projected onto the landscape at most (evenly spaced, the last always kept)


@dataclass(frozen=True, eq=False)
class Landscape:
    """A loss surface (loss[i, j] at alphas[j], betas[i]) and the run's path on its plane, one point per step."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    steps: np.ndarray      # (T,) the snapshot steps
    points: np.ndarray     # (T, 2) alpha, beta
    distance: np.ndarray   # (T,) distance of each snapshot from the plane
    plane: str             # "pca" or "random"
    axis_labels: tuple[str, str]

    @property
    def log_scale(self) -> bool:
        """log₁₀ colours (the window's default) unless the loss barely varies over the grid."""
        finite = self.loss[np.isfinite(self.loss) & (self.loss > 0)]
        return bool(finite.size and finite.max() > 3 * finite.min())


class RunExport:
    """A run opened for export (its run file, or the folder holding it); the data set, network and landscape are
    computed when first asked for."""

    def __init__(self, path: str | Path) -> None:
        from visualizer.core.runs.reader import open_run

        self.reader = open_run(path)
        self.path = self.reader.path
        self.experiment = self.reader.experiment
        self.history = self.reader.history()
        if len(self.history) == 0:
            self.reader.close()
            raise VisualizerError(f"{self.path}: the run recorded no steps; nothing to export")
        steps = self.reader.snapshot_steps()
        self.snapshot_steps = sorted(set(steps))

    def close(self) -> None:
        self.reader.close()

    @property
    def metric_label(self) -> str:
        started = self.reader.started
        return METRIC_LABELS.get(started.metric if started else "accuracy", "accuracy")

    @property
    def total_steps(self) -> int:
        started = self.reader.started
        return started.total_steps if started and started.total_steps else int(self.history.steps[-1])

    def snapshot_at(self, step: int):
        return self.reader.snapshot_at(step)

    @cached_property
    def dataset(self):
        """The run's data set, standardised as the session did (its CSV file found where it was recorded)."""
        return self.reader.dataset()

    @cached_property
    def loss_info(self):
        from visualizer.core.experiment import resolve
        from visualizer.core.model.losses import LOSSES

        return LOSSES[resolve(self.experiment, self.dataset).train.loss]

    @cached_property
    def model(self):
        """The network with its final weights (the stored ones, else the last snapshot's), CPU, eval mode."""
        return self.reader.model(self.dataset)

    @staticmethod
    def _load_flat(model, flat: np.ndarray) -> None:
        import torch

        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.as_tensor(np.asarray(flat), dtype=torch.float32),
                                                model.parameters())

    @property
    def prediction_view(self):
        """The picture the run's task gets (core.model.predict.PREDICTION_VIEWS), or None."""
        from visualizer.core.model.predict import prediction_view

        started = self.reader.started
        task, n_features = ((started.task, started.n_features) if started is not None
                            else (self.dataset.task, self.dataset.n_features))
        return prediction_view(task, n_features)

    @property
    def has_boundary(self) -> bool:
        """Whether the task is drawn as a decision boundary (2-D classification)."""
        from visualizer.core.model.predict import PREDICTION_VIEWS

        return self.prediction_view is PREDICTION_VIEWS["boundary"]

    def boundary_at(self, step: int | None = None):
        """The decision boundary at a snapshot step (recorded, or computed from its weights), or at the end."""
        import copy

        from visualizer.core.model import predict

        snap = self.snapshot_at(step) if step is not None else None
        if snap is not None and snap.boundary is not None:
            return snap.boundary
        model = self.model
        if snap is not None:
            model = copy.deepcopy(model)
            self._load_flat(model, snap.params)
        return predict.decision_grid(model, self.loss_info, self.dataset, BOUNDARY_RESOLUTION)

    @cached_property
    def landscape(self) -> Landscape:
        """The PCA plane of the recorded snapshots (3 or more), else a filter-normalised random plane."""
        import torch

        from visualizer.core.landscape import directions as ls
        from visualizer.core.model.nets import flat_parameters

        path = self.reader.trajectory(MAX_TRAJECTORY)
        steps = path.steps
        model, ds = self.model, self.dataset
        center = flat_parameters(model).numpy()
        traj = path.params if len(path) else np.zeros((0, center.size), np.float32)
        plane, labels = "random", ("α (direction 1)", "β (direction 2)")
        d1 = d2 = None
        if len(traj) >= 3:
            try:
                d1, d2, ratio = ls.pca_directions(np.vstack([traj, center[None]]))
                plane = "pca"
                labels = (f"α (PC 1, {100 * ratio[0]:.1f}% of variance)",
                          f"β (PC 2, {100 * ratio[1]:.1f}% of variance)")
            except VisualizerError:
                d1 = None
        if d1 is None:
            d1, d2 = ls.random_plane(model, 0)
        if len(traj):
            a, b, dist = ls.project(traj, center, d1, d2)
            points = np.stack([a, b], axis=1).astype(np.float64)
        else:
            points, dist = np.zeros((0, 2)), np.zeros(0)
        alphas, betas = self._grid(points, plane)
        X = torch.as_tensor(ds.X_train, dtype=torch.float32)
        y = torch.as_tensor(ds.y_train, dtype=torch.long if ds.task == "classification" else torch.float32)
        surface = ls.loss_surface(model, self.loss_info, X, y, center, d1, d2, alphas, betas)
        return Landscape(surface.alphas, surface.betas, surface.loss, np.asarray(steps, np.int64), points,
                         np.asarray(dist, np.float64), plane, labels)

    @staticmethod
    def _grid(points: np.ndarray, plane: str) -> tuple[np.ndarray, np.ndarray]:
        """A square grid: on the PCA plane, around the path's bounding box (its largest side x 1.4) so that the
        path fills the view; on a random plane, [-1, 1]² (the filter-normalised scale) widened to hold the path."""
        n = LANDSCAPE_RESOLUTION
        if plane == "pca" and len(points):
            lo, hi = points.min(axis=0), points.max(axis=0)
            half = 0.7 * float((hi - lo).max())
            if half > 0:
                mid = (lo + hi) / 2
                return np.linspace(mid[0] - half, mid[0] + half, n), np.linspace(mid[1] - half, mid[1] + half, n)
        reach = float(np.abs(points).max()) if len(points) else 0.0
        grid = np.linspace(-max(1.0, 1.1 * reach), max(1.0, 1.1 * reach), n)
        return grid, grid


# --- plot widgets of a run -----------------------------------------------------------------------------------
def loss_widget(run: RunExport, upto: int | None = None, plot: LossPlot | None = None) -> LossPlot:
    """The loss/metric curves of the run, up to step ``upto`` (axes fixed to the whole run's range)."""
    plot = plot or LossPlot(theme="light")
    plot.set_metric_name(run.metric_label)
    h = run.history
    if upto is None:
        show_history(plot, h)
        return plot
    n, m = int(np.searchsorted(h.steps, upto, "right")), int(np.searchsorted(h.eval_steps, upto, "right"))
    plot.set_history(h.steps[:n], h.train_loss[:n], h.eval_steps[:m], h.val_loss[:m], h.train_metric[:m],
                     h.val_metric[:m], train_metric_at_eval=True)
    plot.set_step_range(run.total_steps)
    values = np.concatenate([h.train_loss, h.val_loss])
    values = values[np.isfinite(values)]
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
    if not run.has_boundary:
        raise VisualizerError("boundary: the run is not a 2-D classification, so it has no decision boundary")
    first = plot is None
    plot = plot or DecisionBoundaryPlot(theme="light")
    grid = run.boundary_at(step)
    plot.set_grid(grid.xs, grid.ys, grid.probs)
    if first:
        ds = run.dataset
        plot.set_points(ds.X_train, ds.y_train, ds.X_val, ds.y_val)
    return plot


def prediction_widget(run: RunExport) -> QWidget:
    """What the model predicts, as the window draws it: the picture its task gets (boundary, fitted curve or
    confusion matrix); an empty matrix for a task that gets none."""
    from visualizer.qt.plots.figures import PREDICTION_FIGURES

    view = run.prediction_view
    if view is None:
        return ConfusionMatrixPlot(theme="light")
    draw = PREDICTION_FIGURES[view.name][3]
    return draw(view.compute(run.model, run.loss_info, run.dataset, BOUNDARY_RESOLUTION), run.dataset, "light")


def landscape_widget(run: RunExport, upto: int | None = None, plot: LandscapePlot | None = None) -> LandscapePlot:
    """The loss surface with the path up to snapshot step ``upto`` (default: all); the range is the whole path's."""
    land = run.landscape
    if plot is None:
        plot = LandscapePlot(theme="light")
        plot.set_surface(land.alphas, land.betas, land.loss, log_scale=land.log_scale, axis_labels=land.axis_labels)
    n = len(land.steps) if upto is None else int(np.searchsorted(land.steps, upto, "right"))
    plot.set_trajectory(land.points[: max(n, 1 if len(land.points) else 0)])
    da = (land.alphas[-1] - land.alphas[0]) / max(len(land.alphas) - 1, 1) / 2
    db = (land.betas[-1] - land.betas[0]) / max(len(land.betas) - 1, 1) / 2
    xs = np.concatenate([[land.alphas[0] - da, land.alphas[-1] + da], land.points[:, 0]])
    ys = np.concatenate([[land.betas[0] - db, land.betas[-1] + db], land.points[:, 1]])
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    plot.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
    return plot


VIEW_WIDGETS = {"loss": loss_widget, "landscape": landscape_widget, "histograms": histogram_widget,
                "boundary": boundary_widget}


def dashboard_widget(run: RunExport) -> QWidget:
    """Loss, prediction, weight histograms and landscape in a 2 x 2 grid, as one widget to render."""
    host = QWidget()
    host.setObjectName("exportDashboard")
    host.setStyleSheet("#exportDashboard { background: white; }")
    grid = QGridLayout(host)
    grid.setContentsMargins(4, 4, 4, 4)
    grid.setSpacing(4)
    parts = [loss_widget(run), prediction_widget(run)]
    if run.snapshot_steps:
        parts.append(histogram_widget(run))
    parts.append(landscape_widget(run))
    for i, w in enumerate(parts):
        w.setParent(host)
        w.setMinimumSize(1, 1)  # equal cells at any size: a plot's size hint must not push into its neighbour
        grid.addWidget(w, i // 2, i % 2)
    for k in (0, 1):
        grid.setColumnStretch(k, 1)
        grid.setRowStretch(k, 1)
    return host
