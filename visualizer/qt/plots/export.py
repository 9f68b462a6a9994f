"""Write a figure to PNG or SVG: a plot drawn by the same code the window shows, laid out at the size asked for,
with its titles, axes and legend and never the controls around it; for the CLI and the GUI."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QCoreApplication, QRectF, qFormatLogMessage, qInstallMessageHandler
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QGraphicsWidget, QWidget

from visualizer.qt.plots._svg_fix import closed_paths_supported

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
#: what the offscreen platform says each time a drawn widget sets its size: nothing a user can act on
OFFSCREEN_SIZE_NOTE = "This plugin does not support propagateSizeHints()"


def quiet_offscreen_notes() -> None:
    """Drop exactly the offscreen platform's size-hint note from Qt's messages; every other message goes where it
    went before (the previous handler, or stderr as Qt writes it)."""
    def handler(mode, context, message: str) -> None:
        if message.strip() == OFFSCREEN_SIZE_NOTE:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(qFormatLogMessage(mode, context, message), file=sys.stderr, flush=True)

    previous = qInstallMessageHandler(handler)


def ensure_app() -> QApplication:
    """Return the running QApplication, creating one (offscreen when there is no display, without the offscreen
    platform's size-hint notes) if needed."""
    app = QCoreApplication.instance()
    if app is None:
        headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if headless and sys.platform.startswith("linux"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        quiet_offscreen_notes()
        app = QApplication(sys.argv[:1])
    if not isinstance(app, QApplication):
        raise RuntimeError(f"a {type(app).__name__} is running; plots need a QApplication")
    return app


@contextmanager
def _laid_out_at(widget: pg.GraphicsView, width: int, height: int) -> Iterator[QRectF]:
    """Lay the central item out at width x height for the duration, then restore it.

    A hidden widget gets no resize event, and resizing a visible one would disturb the window,
    so the scene's central item is resized instead of the widget.
    """
    item = widget.centralWidget
    old = item.geometry() if item is not None else None
    rect = QRectF(0, 0, width, height)
    if item is not None:
        _relayout(item, rect)
    try:
        yield rect
    finally:
        if item is not None and old is not None:
            _relayout(item, old)


def _relayout(item: QGraphicsWidget, rect: QRectF) -> None:
    """Resize `item` and lay its children out now (not at the next event-loop turn)."""
    item.setGeometry(rect)
    layout = QGraphicsWidget.layout(item)  # pg.GraphicsLayout shadows layout() with an attribute
    if layout is not None:
        layout.activate()


@contextmanager
def _themed(widget: QWidget, theme: str | None) -> Iterator[None]:
    """Temporarily switch a plot to `theme` (when it supports themes)."""
    old = getattr(widget, "theme", None)
    if theme is None or old is None or old == theme:
        yield
        return
    widget.set_theme(theme)
    try:
        yield
    finally:
        widget.set_theme(old)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary file beside `path` (same suffix), then rename it into place."""
    # Not mkstemp: its 0600 mode would stick to the final file; os.open applies the umask as usual.
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _set_size(exporter: ImageExporter | SVGExporter, width: float, height: float) -> None:
    """Set both sizes exactly (the exporters otherwise re-derive one from the other's aspect)."""
    params = exporter.parameters()
    params.param("width").setValue(width, blockSignal=exporter.widthChanged)
    params.param("height").setValue(height, blockSignal=exporter.heightChanged)


def is_figure(figure) -> bool:
    """Whether ``figure`` can be exported: a plot widget (its scene is drawn, never the controls around it), or an
    object that draws itself as a figure (``figure_image(width, height) -> QImage``: a grid of plots, the 3-D
    landscape)."""
    return isinstance(figure, pg.GraphicsView) or callable(getattr(figure, "figure_image", None))


def _check(figure, width: int, height: int) -> None:
    if not is_figure(figure):
        raise TypeError(f"cannot export a {type(figure).__name__}: expected a plot (a pyqtgraph plot widget or a "
                        "figure), not a widget with controls")
    if width <= 0 or height <= 0:
        raise ValueError(f"export size must be positive, got {width}x{height}")


def figure_image(figure, width: int, height: int, theme: str | None = None) -> QImage:
    """The figure drawn at width x height pixels: a plot's scene laid out at that size (titles, axes, legend; no
    widget around it), or what a figure object draws. ``theme`` restyles a plot for this image only."""
    _check(figure, width, height)
    if not isinstance(figure, pg.GraphicsView):
        return figure.figure_image(width, height)
    with _themed(figure, theme), _laid_out_at(figure, width, height):
        exporter = ImageExporter(_scene_item(figure))
        _set_size(exporter, width, height)
        image = exporter.export(toBytes=True)
    return image


def figure_svg(figure, width: int, height: int, theme: str | None = None) -> bytes:
    """The figure as SVG of width x height: a plot's scene as vector graphics; a figure object's own SVG
    (``figure_svg``) or else its image embedded."""
    _check(figure, width, height)
    if not isinstance(figure, pg.GraphicsView):
        own = getattr(figure, "figure_svg", None)
        return own(width, height) if callable(own) else svg_of_image(figure.figure_image(width, height))
    with _themed(figure, theme), _laid_out_at(figure, width, height):
        exporter = SVGExporter(_scene_item(figure))
        _set_size(exporter, float(width), float(height))
        with closed_paths_supported():
            return exporter.export(toBytes=True)


def svg_of_image(image: QImage) -> bytes:
    """An SVG document of the image's size holding the image (PNG, base64): a raster figure as an SVG file."""
    png = base64.b64encode(_encoded(image, ".png")).decode("ascii")
    w, h = image.width(), image.height()
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'version="1.1"><image x="0" y="0" width="{w}" height="{h}" '
            f'xlink:href="data:image/png;base64,{png}"/></svg>\n').encode()


def _scene_item(widget: pg.GraphicsView):
    return widget.centralWidget if widget.centralWidget is not None else widget.scene()


def export_widget(
    widget,
    path: str | Path,
    width: int = 1000,
    height: int = 650,
    theme: str | None = None,
) -> Path:
    """Write a figure (a plot widget, or a figure object: see ``is_figure``) to `path` (PNG/JPG by suffix, or SVG)
    at width x height pixels.

    `theme` ("light" for slides and papers) restyles the plot for the export only.
    The file is written to a temporary name and renamed, so an existing file is never half-written.
    """
    _check(widget, width, height)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RASTER_SUFFIXES | {".svg"}:
        raise ValueError(f"cannot export to {path.name!r}: use .png, .jpg or .svg")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".svg":
        data = figure_svg(widget, width, height, theme)
    else:
        data = _encoded(figure_image(widget, width, height, theme), suffix)
    _write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return path


def export_plot_files(plot, folder: str | Path, stem: str, csv: bool = False, width: int = 1000,
                      height: int = 650) -> list[Path]:
    """``plot`` as <stem>.png and <stem>.svg in ``folder``, and <stem>.csv by the plot's own ``write_csv`` when
    ``csv``: the files a window's Export… and a command write."""
    folder = Path(folder)
    written = [export_widget(plot, folder / f"{stem}{suffix}", width, height) for suffix in (".png", ".svg")]
    if csv:
        written.append(plot.write_csv(folder / f"{stem}.csv"))
    return written


def _encoded(image, suffix: str) -> bytes:
    """A QImage as the bytes of a file of ``suffix`` (.png, .jpg, ...), written by Python afterwards: Qt's own
    save says only False, where Python's write says why (a full disk)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, suffix.lstrip(".").upper())
    buffer.close()
    if not ok:
        raise ValueError(f"Qt cannot encode a {suffix} image")
    return bytes(data.data())
