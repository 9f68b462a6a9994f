"""Static exports of a recorded run: each view to PNG (size and DPI chosen), SVG and CSV, and the dashboard PNG,
drawn by the widgets of ``export`` (the window's own plot classes)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from visualizer.core.errors import VisualizerError
from visualizer.qt.plots import export_widget
from visualizer.qt.runs.export import RunExport, dashboard_widget

INCH_M = 0.0254
DASHBOARD_LAYOUT = (1400, 950)  # the smallest size the dashboard is laid out at


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
