"""Static exports of a recorded run: each view to PNG (size and DPI chosen), SVG and CSV, and the dashboard PNG.

The views are drawn by the window's own plot classes (one drawing path); ``RunExport`` reads the run file and
computes, on demand, what the file does not hold: the network at a snapshot, its decision boundary, the loss surface.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGridLayout, QWidget

from visualizer.core.errors import VisualizerError
from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    LandscapePlot,
    LossPlot,
    export_widget,
)
from visualizer.qt.plots.figures import METRIC_LABELS, histogram_layers, show_history

RUN_FILE = "run.sqlite"
STATIC_VIEWS = ("loss", "landscape", "histograms", "boundary")
VIEWS = (*STATIC_VIEWS, "dashboard")
BOUNDARY_RESOLUTION = 100
LANDSCAPE_RESOLUTION = 61
MAX_TRAJECTORY = 400  # snapshots projected onto the landscape at most (evenly spaced, the last always kept)
INCH_M = 0.0254
DASHBOARD_LAYOUT = (1400, 950)  # the smallest size the dashboard is laid out at


def run_file_of(path: str | Path) -> Path:
    """A run file given as itself (.sqlite) or as the folder holding run.sqlite."""
    path = Path(path)
    if path.is_dir():
        if not (path / RUN_FILE).is_file():
            raise VisualizerError(f"{path} has no {RUN_FILE}: give a run file (.sqlite) or a folder holding one")
        return path / RUN_FILE
    return path


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
    """A run file opened for export; the data set, network and landscape are computed when first asked for."""

    def __init__(self, path: str | Path) -> None:
        from visualizer.core.runs.file import RunReader

        self.path = run_file_of(path)
        self.reader = RunReader(self.path)
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
        from visualizer.core.data.sets import load_dataset

        return load_dataset(self.experiment.data, self.path.parent)  # standardised as the session does

    @cached_property
    def loss_info(self):
        from visualizer.core.model.losses import LOSSES

        return LOSSES[self.experiment.train.loss]

    @cached_property
    def model(self):
        """The network with its final weights (the stored ones, else the last snapshot's), CPU, eval mode."""
        from visualizer.core.model.nets import build_model

        ds = self.dataset
        model = build_model(self.experiment.model, ds.n_features,
                            self.loss_info.output_size(ds.task, ds.n_classes))
        weights = self.reader.weights()
        if weights is not None:
            try:
                model.load_state_dict(weights, strict=True)
            except RuntimeError as exc:
                raise VisualizerError(f"{self.path}: the stored weights do not fit the network") from exc
        elif self.snapshot_steps:
            self._load_flat(model, self.snapshot_at(self.snapshot_steps[-1]).params)
        else:
            raise VisualizerError(f"{self.path}: the run holds neither weights nor snapshots")
        return model.eval()

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

        steps = self.snapshot_steps
        if len(steps) > MAX_TRAJECTORY:
            keep = np.unique(np.linspace(0, len(steps) - 1, MAX_TRAJECTORY).round().astype(int))
            steps = [steps[i] for i in keep]
        params = [self.snapshot_at(s).params for s in steps]
        model, ds = self.model, self.dataset
        center = flat_parameters(model).numpy()
        traj = np.stack(params).astype(np.float32) if params else np.zeros((0, center.size), np.float32)
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


# --- files -----------------------------------------------------------------------------------------------------
def set_png_dpi(path: Path, dpi: float) -> None:
    """Rewrite a PNG with ``dpi`` in its pHYs chunk (lossless; the pixels are unchanged)."""
    image = QImage(str(path))
    dots = round(dpi / INCH_M)
    image.setDotsPerMeterX(dots)
    image.setDotsPerMeterY(dots)
    if not image.save(str(path), "PNG"):
        raise OSError(f"Qt could not write the image {path}")


def write_plot(widget: QWidget, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """A plot widget to PNG (width x height px, ``dpi`` in its metadata) or SVG, by the path's suffix."""
    path = export_widget(widget, path, width, height)
    if path.suffix.lower() == ".png":
        set_png_dpi(path, dpi)
    return path


def render_widget(widget: QWidget, width: int, height: int, scale: float = 1.0) -> QImage:
    """Lay a (composite) widget out at width x height and render it into an image of (width, height) x scale."""
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(width, height)
    if not widget.isVisible():
        widget.show()
    if widget.layout() is not None:
        widget.layout().activate()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    image = QImage(round(width * scale), round(height * scale), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    widget.render(image)
    image.setDevicePixelRatio(1.0)
    return image


def write_dashboard(run: RunExport, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """The dashboard of a run as one PNG of width x height px."""
    host = dashboard_widget(run)
    try:
        # laid out at least DASHBOARD_LAYOUT (same aspect), then drawn scaled down: small images stay unclipped
        shrink = max(1.0, DASHBOARD_LAYOUT[0] / width, DASHBOARD_LAYOUT[1] / height)
        image = render_widget(host, round(width * shrink), round(height * shrink), 1 / shrink)
        image = image.copy(0, 0, width, height) if (image.width(), image.height()) != (width, height) else image
        dots = round(dpi / INCH_M)
        image.setDotsPerMeterX(dots)
        image.setDotsPerMeterY(dots)
        if not image.save(str(path), "PNG"):
            raise OSError(f"Qt could not write the image {path}")
    finally:
        host.close()
        host.deleteLater()
    return path


def _write_rows(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _cell(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else repr(float(v))


def write_csv(run: RunExport, view: str, out: Path) -> list[Path]:
    """A view's data as CSV in ``out``: loss.csv, histograms.csv, boundary.csv or landscape(_trajectory).csv."""
    if view == "loss":
        from visualizer.core.runs.folder import metrics_csv

        path = out / "loss.csv"
        path.write_text(metrics_csv(run.history, run.dataset.task if run.reader.started is None
                                    else run.reader.started.task))
        return [path]
    if view == "histograms":
        if not run.snapshot_steps:
            raise VisualizerError(f"{run.path}: the run recorded no snapshots, so no histograms")
        snap = run.snapshot_at(run.snapshot_steps[-1])
        rows = [(layer.name, repr(float(lo)), repr(float(hi)), int(c)) for layer in snap.layers
                for lo, hi, c in zip(layer.weight_edges[:-1], layer.weight_edges[1:], layer.weight_counts)]
        return [_write_rows(out / "histograms.csv", ["layer", "bin_left", "bin_right", "count"], rows)]
    if view == "boundary":
        if not run.has_boundary:
            raise VisualizerError("boundary: the run is not a 2-D classification, so it has no decision boundary")
        g = run.boundary_at(run.snapshot_steps[-1] if run.snapshot_steps else None)
        names = list(run.dataset.class_names) or [str(k) for k in range(g.probs.shape[2])]
        rows = ([repr(float(x)), repr(float(y)), *(repr(float(p)) for p in g.probs[i, j])]
                for i, y in enumerate(g.ys) for j, x in enumerate(g.xs))
        return [_write_rows(out / "boundary.csv", ["x", "y", *(f"p_{n}" for n in names)], rows)]
    if view == "landscape":
        land = run.landscape
        rows = ((repr(float(a)), repr(float(b)), _cell(land.loss[i, j]))
                for i, b in enumerate(land.betas) for j, a in enumerate(land.alphas))
        surface = _write_rows(out / "landscape.csv", ["alpha", "beta", "loss"], rows)
        traj = ((int(s), repr(float(p[0])), repr(float(p[1])), repr(float(d)))
                for s, p, d in zip(land.steps, land.points, land.distance))
        return [surface, _write_rows(out / "landscape_trajectory.csv", ["step", "alpha", "beta", "distance"], traj)]
    raise VisualizerError(f"{view}: no CSV for this view")
