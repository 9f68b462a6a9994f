"""Writing a view (a widget) to a file: the writers of the still and data formats of
``core.runs.export_registry.EXPORT_FORMATS`` (images by Qt's image writer, SVG, the CSV of what a plot shows), and
the dashboard of a recorded run as one image. The window's File > Export… and `visualizer export` both use them."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from visualizer.qt.plots import export_widget

INCH_M = 0.0254
DASHBOARD_LAYOUT = (1400, 950)  # the smallest size the dashboard is laid out at


def _set_dpi(image: QImage, dpi: float) -> None:
    dots = round(dpi / INCH_M)
    image.setDotsPerMeterX(dots)
    image.setDotsPerMeterY(dots)


def save_image(image: QImage, path: Path, dpi: float | None = None) -> Path:
    """Save ``image`` by Qt's image writer in the format of the path's suffix (PNG, JPG, BMP…), with ``dpi`` in
    its metadata where the format has a place for it; written to a temporary name and renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if dpi is not None:
        _set_dpi(image, dpi)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if not image.save(str(tmp), path.suffix.lstrip(".").upper() or "PNG"):
            raise OSError(f"Qt could not write the image {path}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def set_png_dpi(path: Path, dpi: float) -> None:
    """Rewrite a PNG with ``dpi`` in its pHYs chunk (lossless; the pixels are unchanged)."""
    save_image(QImage(str(path)), Path(path), dpi)


def grab_widget(widget: QWidget, scale: float = 1.0) -> QImage:
    """A widget drawn as the screen shows it (not resized) into an image of scale x its size."""
    if scale <= 0:
        raise ValueError(f"scale must be above 0, got {scale}")
    size = widget.size()
    image = QImage(round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().window().color())
    widget.render(image)
    image.setDevicePixelRatio(1.0)
    return image


def export_dashboard(widget: QWidget, path: str | Path, scale: float = 2.0) -> Path:
    """Render a whole widget (the main window's central widget, say) into one image at ``scale`` device pixels per
    pixel: the image is scale x the widget's size, drawn as the screen shows it (not resized)."""
    return save_image(grab_widget(widget, scale), Path(path), 96 * scale)  # its on-screen size at 96 DPI


def write_image(widget: QWidget, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """A view to a raster image by the path's suffix (any format Qt's image writer knows), ``dpi`` in its metadata:
    a plot at width x height pixels; a widget that is not a single plot as the screen lays it out, width pixels
    wide."""
    path = Path(path)
    if not isinstance(widget, pg.GraphicsView):
        return save_image(grab_widget(widget, width / max(widget.width(), 1)), path, dpi)
    tmp = path.with_name(f".{path.name}.draw.png")
    try:
        export_widget(widget, tmp, width, height)
        return save_image(QImage(str(tmp)), path, dpi)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_svg(widget: QWidget, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """A plot to SVG (vector graphics) of width x height; ``dpi`` does not apply."""
    if not isinstance(widget, pg.GraphicsView):
        raise ValueError(f"{Path(path).name}: only a single plot can be written as SVG")
    return export_widget(widget, Path(path), width, height)


def _plot_items(widget: QWidget) -> list[pg.PlotItem]:
    scene = widget.scene() if isinstance(widget, pg.GraphicsView) else None
    items = [i for i in scene.items() if isinstance(i, pg.PlotItem)] if scene is not None else []
    return sorted(items, key=lambda p: (p.scenePos().y(), p.scenePos().x()))


def plot_csv(widget: QWidget, path: str | Path) -> Path:
    """The data a plot widget shows, in long form: plot, series, x, y, x_right (the right edge of a histogram bin),
    value (an image's value at x, y). A widget with its own ``write_csv(path)`` writes its own."""
    path = Path(path)
    if hasattr(widget, "write_csv"):
        widget.write_csv(path)
        return path
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
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["plot", "series", "x", "y", "x_right", "value"])
        w.writerows(rows)
    return path


def render_widget(widget: QWidget, width: int, height: int, scale: float = 1.0) -> QImage:
    """Lay a (composite) widget out at width x height and render it into an image of (width, height) x scale."""
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(width, height)
    if not widget.isVisible():
        widget.show()
    if widget.layout() is not None:
        widget.layout().activate()
    QApplication.processEvents()
    image = QImage(round(width * scale), round(height * scale), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    widget.render(image)
    image.setDevicePixelRatio(1.0)
    return image


def write_dashboard(run, path: Path, width: int, height: int, dpi: float = 100) -> Path:
    """The dashboard of a run (``core.runs.export.RunExport``) as one image of width x height px."""
    from visualizer.qt.runs.export import dashboard_widget

    host = dashboard_widget(run)
    try:
        # laid out at least DASHBOARD_LAYOUT (same aspect), then drawn scaled down: small images stay unclipped
        shrink = max(1.0, DASHBOARD_LAYOUT[0] / width, DASHBOARD_LAYOUT[1] / height)
        image = render_widget(host, round(width * shrink), round(height * shrink), 1 / shrink)
        image = image.copy(0, 0, width, height) if (image.width(), image.height()) != (width, height) else image
        return save_image(image, Path(path), dpi)
    finally:
        host.close()
        host.deleteLater()
