"""File > Export…: the window's views to PNG (size and DPI chosen), SVG or CSV, and the whole window as one PNG."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.plots import export_widget
from visualizer.qt.runs.export_files import INCH_M, set_png_dpi
from visualizer.qt.widgets.controls import button, spin

FORMATS = ("PNG", "SVG", "CSV")
MIN_SIZE, MAX_SIZE = 64, 8000
MIN_DPI, MAX_DPI = 10, 2400


def file_stem(name: str) -> str:
    """A view's name as a file name: "Loss landscape" -> "loss_landscape"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "view"


def export_dashboard(widget: QWidget, path: str | Path, scale: float = 2.0) -> Path:
    """Render a whole widget (the main window's central widget, say) into one PNG at ``scale`` device pixels per
    pixel: the image is scale x the widget's size, drawn as the screen shows it (not resized)."""
    if scale <= 0:
        raise ValueError(f"scale must be above 0, got {scale}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = widget.size()
    image = QImage(round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().window().color())
    widget.render(image)
    image.setDevicePixelRatio(1.0)
    dots = round(96 * scale / INCH_M)  # shown at its on-screen size at 96 DPI
    image.setDotsPerMeterX(dots)
    image.setDotsPerMeterY(dots)
    if not image.save(str(path), "PNG"):
        raise OSError(f"Qt could not write the image {path}")
    return path


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


def export_view(widget: QWidget, path: Path, width: int, height: int, dpi: float) -> Path:
    """One view to ``path`` by its suffix: .png (width x height px, ``dpi`` in the metadata), .svg or .csv.
    A widget that is not a single plot is written as PNG at its on-screen layout, width pixels wide."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return plot_csv(widget, path)
    if isinstance(widget, pg.GraphicsView):
        export_widget(widget, path, width, height)
    elif suffix == ".png":
        export_dashboard(widget, path, width / max(widget.width(), 1))
    else:
        raise ValueError(f"{path.name}: only a single plot can be written as {suffix[1:].upper()}")
    if suffix == ".png":
        set_png_dpi(path, dpi)
    return path


class ExportDialog(QDialog):
    """Pick views, a format (PNG, SVG or CSV), the size in pixels and the DPI, and a folder; Export writes
    FOLDER/<view>.<format> for each view chosen and keeps the dialog open on an error, with the message shown."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("exportFormat", "exportFolder")

    def __init__(self, views: dict[str, QWidget], parent: QWidget | None = None,
                 folder: str | Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self._views = dict(views)
        self.written: list[Path] = []

        self.view_list = QListWidget()
        self.view_list.setObjectName("exportViews")
        for name in self._views:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.view_list.addItem(item)
        self.view_list.setMaximumHeight(22 * max(3, min(len(self._views), 8)) + 8)
        self.view_list.itemChanged.connect(self._on_choice_changed)

        self.format_box = QComboBox()
        self.format_box.addItems(FORMATS)
        self.format_box.setObjectName("exportFormat")
        self.format_box.setToolTip("PNG: an image of the size below; SVG: vector graphics; CSV: the data shown")
        self.format_box.currentTextChanged.connect(self._on_choice_changed)
        self.width_box = spin("exportWidth", MIN_SIZE, MAX_SIZE, 1000, "image width in pixels", " px")
        self.height_box = spin("exportHeight", MIN_SIZE, MAX_SIZE, 700, "image height in pixels", " px")
        self.dpi_box = spin("exportDpi", MIN_DPI, MAX_DPI, 100, "resolution written into the PNG's metadata "
                            "(the pixel size stays width x height)", " dpi")
        self.folder_edit = QLineEdit(str(folder) if folder else str(Path.home()))
        self.folder_edit.setObjectName("exportFolder")
        self.folder_edit.setToolTip("The folder the files are written into (created if missing)")
        self.folder_edit.textChanged.connect(self._on_choice_changed)
        browse = button("Browse…", "exportBrowse", "choose the folder to write into")
        browse.clicked.connect(self._on_browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Views", self.view_list)
        form.addRow("Format", self.format_box)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("DPI", self.dpi_box)
        form.addRow("Folder", folder_row)
        self.message = QLabel()
        self.message.setObjectName("exportMessage")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setToolTip("Write the chosen views into the folder (files of the same name are replaced)")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without writing anything")
        self.buttons.accepted.connect(self._on_export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._on_choice_changed()

    # --- public API ----------------------------------------------------------------------------------
    def selected_views(self) -> list[str]:
        """Names of the views ticked, in order."""
        return [self.view_list.item(i).text() for i in range(self.view_list.count())
                if self.view_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_selected_views(self, names: list[str]) -> None:
        for i in range(self.view_list.count()):
            item = self.view_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def set_options(self, fmt: str | None = None, width: int | None = None, height: int | None = None,
                    dpi: int | None = None, folder: str | Path | None = None) -> None:
        """Set any of the choices (as the user would)."""
        if fmt is not None:
            self.format_box.setCurrentText(fmt.upper())
        for box, value in ((self.width_box, width), (self.height_box, height), (self.dpi_box, dpi)):
            if value is not None:
                box.setValue(value)
        if folder is not None:
            self.folder_edit.setText(str(folder))

    def export(self) -> list[Path]:
        """Write the chosen views in the chosen format into the folder; returns the files written."""
        fmt = self.format_box.currentText().lower()
        folder = Path(self.folder_edit.text()).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.selected_views():
            written.append(export_view(self._views[name], folder / f"{file_stem(name)}.{fmt}",
                                       self.width_box.value(), self.height_box.value(), self.dpi_box.value()))
        self.written = written
        return written

    # --- slots -----------------------------------------------------------------------------------------
    def _on_choice_changed(self, *_args) -> None:
        raster = self.format_box.currentText() == "PNG"
        sized = self.format_box.currentText() != "CSV"
        self.width_box.setEnabled(sized)
        self.height_box.setEnabled(sized)
        self.dpi_box.setEnabled(raster)
        self.export_button.setEnabled(bool(self.selected_views()) and bool(self.folder_edit.text().strip()))

    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _on_export(self) -> None:
        try:
            written = self.export()
        except (OSError, ValueError, TypeError) as exc:
            self.message.setText(f"Could not export: {exc}")
            return
        self.message.setText(f"Wrote {len(written)} file{'s' if len(written) != 1 else ''}.")
        self.accept()
