"""Writing a view (a figure: a plot alone, or a grid of plots) to a file: the writers of the still and data formats
of ``core.runs.export_registry.EXPORT_FORMATS`` (images by Qt's image writer, SVG, the CSV of what a plot shows), and
the dashboard of a recorded run as one image. The window's File > Export… and `visualizer export` both use them.
A still is the figure drawn at the size asked for, with its titles, axes and legend: never a grab of widgets."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage

from visualizer.core.files import atomic_write_bytes
from visualizer.qt.plots import export_widget
from visualizer.qt.plots.export import figure_image
from visualizer.qt.plots.figure_grid import FigureGrid

INCH_M = 0.0254
DASHBOARD_LAYOUT = (1400, 950)  # the smallest size the dashboard is laid out at


def _set_dpi(image: QImage, dpi: float) -> None:
    dots = round(dpi / INCH_M)
    image.setDotsPerMeterX(dots)
    image.setDotsPerMeterY(dots)


def save_image(image: QImage, path: Path, dpi: float | None = None) -> Path:
    """Save ``image`` by Qt's image writer in the format of the path's suffix (PNG, JPG, BMP…), with ``dpi`` in
    its metadata where the format has a place for it: encoded in memory, then written atomically (a full disk is an
    OSError naming it, never a half-written picture)."""
    path = Path(path)
    if dpi is not None:
        _set_dpi(image, dpi)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, path.suffix.lstrip(".").upper() or "PNG")
    buffer.close()
    if not ok:
        raise OSError(f"Qt could not write the image {path}")
    return atomic_write_bytes(path, bytes(data))


def set_png_dpi(path: Path, dpi: float) -> None:
    """Rewrite a PNG with ``dpi`` in its pHYs chunk (lossless; the pixels are unchanged)."""
    save_image(QImage(str(path)), Path(path), dpi)


def write_image(figure, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """A figure to a raster image of width x height pixels by the path's suffix (any format Qt's image writer
    knows), ``dpi`` in its metadata."""
    return save_image(figure_image(figure, width, height), Path(path), dpi)


def write_svg(figure, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """A figure to SVG (vector graphics) of width x height; ``dpi`` does not apply."""
    return export_widget(figure, Path(path), width, height)


def _plot_items(widget) -> list[pg.PlotItem]:
    scene = widget.scene() if isinstance(widget, pg.GraphicsView) else None
    items = [i for i in scene.items() if isinstance(i, pg.PlotItem)] if scene is not None else []
    return sorted(items, key=lambda p: (p.scenePos().y(), p.scenePos().x()))


def plot_csv(widget, path: str | Path) -> Path:
    """The data a plot widget (or each plot of a figure grid) shows, in long form: plot, series, x, y, x_right (the
    right edge of a histogram bin), value (an image's value at x, y). A widget with its own ``write_csv(path)``
    writes its own."""
    path = Path(path)
    if hasattr(widget, "write_csv"):
        widget.write_csv(path)
        return path
    rows = []
    for figure in widget.figures if isinstance(widget, FigureGrid) else [widget]:
        rows += _csv_rows(figure)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["plot", "series", "x", "y", "x_right", "value"])
        w.writerows(rows)
    return path


def _csv_rows(widget) -> list[tuple]:
    rows = []
    for plot in _plot_items(widget):
        title = plot.titleLabel.text or ""
        for item in plot.listDataItems():
            if not item.isVisible():
                continue
            x, y = item.getData() if hasattr(item, "getData") else (None, None)
            if x is None or y is None or len(y) == 0:
                continue
            name = item.name() or ""
            if len(x) == len(y) + 1:  # stepMode="center": bin edges
                rows += [(title, name, repr(float(a)), repr(float(v)), repr(float(b)), "")
                         for a, b, v in zip(x[:-1], x[1:], y)]
            else:
                rows += [(title, name, repr(float(a)), repr(float(v)), "", "") for a, v in zip(x, y)]
        for image in (i for i in plot.items if isinstance(i, pg.ImageItem)):
            data = image.image
            if data is None or data.ndim != 2 or not image.isVisible():
                continue
            rect = image.mapRectToParent(image.boundingRect())
            ny, nx = data.shape  # row-major: row i is y
            xs = rect.left() + (np.arange(nx) + 0.5) * rect.width() / nx
            ys = rect.top() + (np.arange(ny) + 0.5) * rect.height() / ny
            rows += [(title, "image", repr(float(xs[j])), repr(float(ys[i])), "", repr(float(data[i, j])))
                     for i in range(ny) for j in range(nx)]
    return rows


def write_dashboard(run, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """The dashboard of a run (``core.runs.export.RunExport``): its plots in one figure of width x height px."""
    from visualizer.qt.runs.export import dashboard_figure

    grid = dashboard_figure(run)
    try:
        # laid out at least DASHBOARD_LAYOUT (same aspect), then drawn scaled down: small images stay unclipped
        shrink = max(1.0, DASHBOARD_LAYOUT[0] / width, DASHBOARD_LAYOUT[1] / height)
        image = figure_image(grid, round(width * shrink), round(height * shrink))
        if shrink > 1.0:
            image = image.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return save_image(image, Path(path), dpi)
    finally:
        for figure in grid.figures:
            figure.deleteLater()
