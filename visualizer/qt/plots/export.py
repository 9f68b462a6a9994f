"""Write a plot widget to PNG or SVG: the same drawing code the window shows, for the CLI and the GUI."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QCoreApplication, QRectF, qFormatLogMessage, qInstallMessageHandler
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


def export_widget(
    widget: QWidget,
    path: str | Path,
    width: int = 1000,
    height: int = 650,
    theme: str | None = None,
) -> Path:
    """Render `widget`'s scene to `path` (PNG/JPG by suffix, or SVG) at width x height pixels.

    `theme` ("light" for slides and papers) restyles the plot for the export only.
    The file is written to a temporary name and renamed, so an existing file is never half-written.
    """
    if not isinstance(widget, pg.GraphicsView):
        raise TypeError(f"cannot export a {type(widget).__name__}: expected a pyqtgraph plot widget")
    if width <= 0 or height <= 0:
        raise ValueError(f"export size must be positive, got {width}x{height}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RASTER_SUFFIXES | {".svg"}:
        raise ValueError(f"cannot export to {path.name!r}: use .png, .jpg or .svg")
    path.parent.mkdir(parents=True, exist_ok=True)

    with _themed(widget, theme), _laid_out_at(widget, width, height):
        item = widget.centralWidget if widget.centralWidget is not None else widget.scene()
        if suffix == ".svg":
            exporter = SVGExporter(item)
            _set_size(exporter, float(width), float(height))
            with closed_paths_supported():
                data = exporter.export(toBytes=True)
            _write_atomically(path, lambda tmp: tmp.write_bytes(data))
        else:
            exporter = ImageExporter(item)
            _set_size(exporter, width, height)
            data = _encoded(exporter.export(toBytes=True), suffix)
            _write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return path


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
